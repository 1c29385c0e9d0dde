"""Intrinsic functions: results and heat's error texts, version by version."""

from __future__ import annotations

import hashlib

import pytest

from stacklab.orchestration.template import StackValidationFailed, parse, resolve


def test_get_param_with_path_and_missing_parameter(value_of, resolver):
    r = resolver(params={"net": {"ids": ["a", "b"]}, "flavor": "m1.tiny"})
    assert value_of({"get_param": "flavor"}, r=r) == "m1.tiny"
    assert value_of({"get_param": ["net", "ids", "1"]}, r=r) == "b"
    assert value_of({"get_param": ["net", "nope"]}, r=r) == ""
    with pytest.raises(StackValidationFailed) as err:
        value_of({"get_param": "image"}, r=r)
    assert str(err.value) == ("resources.x.properties.v: The Parameter (image) was not provided.")


def test_get_resource_and_get_attr_forms(value_of, resolver):
    r = resolver(
        refs={"net": "net-id"},
        attrs={"server": {"addresses": {"private": [{"addr": "10.0.0.5"}]}, "name": "s"}},
    )
    assert value_of({"get_resource": "net"}, r=r) == "net-id"
    path = ["server", "addresses", "private", 0, "addr"]
    assert value_of({"get_attr": path}, r=r) == "10.0.0.5"
    # From 2014-10-16 the path goes to the resource itself.
    assert r.attr_calls[-1] == ("server", "addresses", "private", 0, "addr")
    # 2013-05-23 selects the path from the attribute itself.
    assert value_of({"get_attr": path}, version="2013-05-23", r=r) == "10.0.0.5"
    assert r.attr_calls[-1] == ("server", "addresses")
    # All attributes from 2015-10-15; not before.
    assert value_of({"get_attr": ["server"]}, r=r)["name"] == "s"
    with pytest.raises(StackValidationFailed) as err:
        value_of({"get_attr": ["server"]}, version="2015-04-30", r=r)
    assert "must be of the form [resource_name, attribute, (path), ...]" in str(err.value)
    assert str(err.value).startswith("resources.x.properties.v.get_attr: ")


def test_get_file(value_of, resolver):
    r = resolver(files={"a.sh": "#!/bin/sh"})
    assert value_of({"get_file": "a.sh"}, r=r) == "#!/bin/sh"
    with pytest.raises(StackValidationFailed) as err:
        value_of({"get_file": "b.sh"}, r=r)
    assert 'No content found in the "files" section for get_file path: b.sh' in str(err.value)


def test_list_join_single_and_multiple(value_of):
    assert value_of({"list_join": [",", ["a", "b"]]}, version="2013-05-23") == "a,b"
    assert value_of({"list_join": [",", ["a"], ["b", {"k": 1}]]}) == 'a,b,{"k": 1}'
    with pytest.raises(StackValidationFailed) as err:
        value_of({"list_join": [",", ["a"], ["b"]]}, version="2015-04-30")
    assert 'Incorrect arguments to "list_join" should be' in str(err.value)
    with pytest.raises(StackValidationFailed) as err:
        value_of({"list_join": [",", ["a", 1]]}, version="2013-05-23")
    assert "Items to join must be strings not 1" in str(err.value)


def test_str_replace_longest_placeholder_first_and_json_values(value_of):
    snippet = {
        "str_replace": {
            "template": "$var1 $var $var1x",
            "params": {"$var": "short", "$var1": "long", "$var1x": [1, 2]},
        }
    }
    assert value_of(snippet) == "long short [1, 2]"
    with pytest.raises(StackValidationFailed) as err:
        value_of(snippet, version="2015-04-30")
    assert '"str_replace" params must be strings or numbers, param $var1x is not valid' in str(
        err.value
    )


def test_str_replace_strict_and_vstrict(value_of):
    strict = {"str_replace_strict": {"template": "a", "params": {"b": "c", "dd": "e"}}}
    with pytest.raises(StackValidationFailed) as err:
        value_of(strict)
    assert err.value.error_message == ("The following params were not found in the template: dd,b")
    vstrict = {"str_replace_vstrict": {"template": "a b", "params": {"b": ""}}}
    with pytest.raises(StackValidationFailed) as err:
        value_of(vstrict)
    assert err.value.error_message == (
        "str_replace_vstrict has an undefined or empty value for param b, "
        "must be a defined non-empty value"
    )
    bad = {"str_replace": {"template": "x"}}
    with pytest.raises(StackValidationFailed) as err:
        value_of(bad)
    assert '"str_replace" syntax should be str_replace:' in str(err.value)


def test_str_split(value_of):
    assert value_of({"str_split": [",", "a,b,c"]}) == ["a", "b", "c"]
    assert value_of({"str_split": [",", "a,b,c", 1]}) == "b"
    with pytest.raises(StackValidationFailed) as err:
        value_of({"str_split": [",", "a,b", 5]})
    assert 'Incorrect index to "str_split" should be between 0 and 1' in str(err.value)


def test_repeat_permutations_and_maps(value_of):
    snippet = {
        "repeat": {
            "template": {"port": "%p%", "net": "%n%"},
            "for_each": {"%p%": ["80", "443"], "%n%": ["a", "b"]},
        }
    }
    assert len(value_of(snippet)) == 4
    paired = {"repeat": {**snippet["repeat"], "permutations": False}}
    assert value_of(paired) == [{"port": "80", "net": "a"}, {"port": "443", "net": "b"}]
    uneven = {
        "repeat": {
            "template": "%a%%b%",
            "for_each": {"%a%": ["1"], "%b%": ["1", "2"]},
            "permutations": False,
        }
    }
    with pytest.raises(StackValidationFailed) as err:
        value_of(uneven)
    assert "the length of for_each values should be equal if no nested loop" in str(err.value)
    # permutations is only known from 2017-09-01; map values from 2016-10-14.
    with pytest.raises(StackValidationFailed):
        value_of({"repeat": {**snippet["repeat"], "permutations": "no"}})
    by_keys = {"repeat": {"template": "k-%k%", "for_each": {"%k%": {"x": 1, "y": 2}}}}
    assert value_of(by_keys) == ["k-x", "k-y"]
    with pytest.raises(StackValidationFailed) as err:
        value_of(by_keys, version="2016-04-08")
    assert 'The values of the "for_each" argument to "repeat" must be lists' in str(err.value)


def test_maps_and_lists(value_of):
    assert value_of({"map_merge": [{"a": 1, "b": 2}, {"b": 3}, None]}) == {"a": 1, "b": 3}
    replaced = value_of(
        {"map_replace": [{"k1": "v1", "k2": "v2"}, {"keys": {"k1": "K1"}, "values": {"v2": "V2"}}]}
    )
    assert replaced == {"K1": "v1", "k2": "V2"}
    with pytest.raises(StackValidationFailed) as err:
        value_of({"map_replace": [{"a": 1, "b": 2}, {"keys": {"a": "b"}}]})
    assert "key replacement b collides with a key in the input map" in str(err.value)
    assert value_of({"list_concat": [[1, 2], [2, 3]]}) == [1, 2, 2, 3]
    assert value_of({"list_concat_unique": [[1, 2], [2, 3]]}) == [1, 2, 3]
    assert value_of({"filter": [[2], [1, 2, 3]]}) == [1, 3]
    assert value_of({"contains": ["a", ["a", "b"]]}) is True
    with pytest.raises(StackValidationFailed) as err:
        value_of({"list_concat": [[1], "x"]})
    assert "Items to concat must be lists" in str(err.value)


def test_digest_and_make_url(value_of):
    assert value_of({"digest": ["sha256", "abc"]}) == hashlib.sha256(b"abc").hexdigest()
    url = value_of(
        {
            "make_url": {
                "scheme": "https",
                "username": "me",
                "host": "fe80::1",
                "port": 8080,
                "path": "/a b",
                "query": {"q": "x/y"},
                "fragment": "f",
            }
        }
    )
    assert url == "https://me@[fe80::1]:8080/a%20b?q=x/y#f"
    with pytest.raises(StackValidationFailed) as err:
        value_of({"make_url": {"port": 70000}})
    assert "Invalid URL port 70000, must be in range 1-65535" in str(err.value)


def test_yaql(value_of):
    assert value_of({"yaql": {"expression": "$.data.l.sum()", "data": {"l": [1, 2, 3]}}}) == 6
    with pytest.raises(StackValidationFailed) as err:
        value_of({"yaql": {"expression": "$.data.l.sum(", "data": {}}})
    assert "Bad expression" in str(err.value)


def test_resource_facade(value_of, resolver):
    r = resolver(facade={"metadata": {"a": 1}})
    assert value_of({"resource_facade": "metadata"}, r=r) == {"a": 1}
    with pytest.raises(StackValidationFailed) as err:
        value_of({"resource_facade": "tags"}, r=r)
    assert (
        'Incorrect arguments to "resource_facade" should be one of: '
        "metadata, deletion_policy, update_policy"
    ) in str(err.value)


def test_functions_of_later_versions_are_plain_data(value_of):
    # heat leaves an unknown one-key map as data (a property's type check then fails).
    assert value_of({"str_replace_strict": {"template": "a", "params": {}}}, "2016-10-14") == {
        "str_replace_strict": {"template": "a", "params": {}}
    }


def test_removed_function_fails_validation():
    t = parse(
        {
            "heat_template_version": "2015-10-15",
            "resources": {"x": {"type": "T", "properties": {"v": {"Fn::Select": [0, ["a"]]}}}},
        }
    )
    with pytest.raises(StackValidationFailed) as err:
        t.validate()
    assert str(err.value) == (
        "resources.x.properties.v.Fn::Select: The template version is invalid: "
        "The function Fn::Select is not supported in this version of HOT."
    )


def test_if_and_nullable_if(hot, resolver):
    t = hot(
        "2021-04-16",
        """
parameters:
  env: {type: string}
conditions:
  prod: {equals: [{get_param: env}, prod]}
  not_prod: {not: prod}
resources:
  x:
    type: T
    properties:
      size: {if: [prod, 10, 1]}
      extra: {if: [not_prod, dev]}
      items: [a, {if: [prod, b]}]
""",
    )
    prod = resolve(t.resources["x"].properties, resolver(params={"env": "prod"}))
    assert prod == {"size": 10, "items": ["a", "b"]}
    dev = resolve(t.resources["x"].properties, resolver(params={"env": "dev"}))
    assert dev == {"size": 1, "extra": "dev", "items": ["a"]}


def test_two_argument_if_needs_wallaby(hot):
    with pytest.raises(StackValidationFailed) as err:
        hot(
            "2018-08-31",
            "conditions: {c: true}\nresources: {x: {type: T, properties: {v: {if: [c, 1]}}}}",
        )
    assert str(err.value) == (
        'resources.x.properties.v.if: Arguments to "if" must be of the form: '
        "[condition_name, value_if_true, value_if_false]"
    )


def test_condition_functions_in_conditions(hot, resolver):
    with pytest.raises(StackValidationFailed) as err:
        hot("2016-10-14", "conditions: {c: {get_attr: [a, b]}}\nresources: {}")
    assert str(err.value) == (
        'conditions.c.get_attr: The function "get_attr" is invalid in this context'
    )
    # contains is a condition function from 2017-09-01 only (before, it is plain data).
    t = hot(
        "2017-09-01",
        """
parameters: {z: {type: string}}
conditions:
  c: {contains: [{get_param: z}, [a, b]]}
  d: {and: [c, {or: [true, false]}]}
resources: {}
""",
    )
    assert t.evaluate_conditions(resolver(params={"z": "a"})) == {"c": True, "d": True}


def test_cfn_functions_in_hot_2013(value_of):
    assert value_of({"Fn::Replace": [{"$a": "x"}, "$a-$a"]}, "2013-05-23") == "x-x"
    assert value_of({"Fn::Split": [",", "a,b"]}, "2013-05-23") == ["a", "b"]
    assert value_of({"Fn::Select": ["1", ["a", "b"]]}, "2013-05-23") == "b"
    assert value_of({"Fn::Select": ["k", {"k": "v"}]}, "2014-10-16") == "v"
    assert value_of({"Fn::Select": [5, ["a"]]}, "2014-10-16") == ""
    members = [".member.0.Name=key", ".member.0.Value=door", ".member.1.Name=k2"]
    assert value_of({"Fn::MemberListToMap": ["Name", "Value", members]}, "2013-05-23") == {
        "key": "door"
    }


def test_referenced_resources_and_stack_resolver():
    from stacklab.orchestration.template import (
        StackResolver,
        attribute_from,
        referenced_resources,
    )

    t = parse(
        """
heat_template_version: 2021-04-16
parameters: {enabled: {type: boolean, default: true}}
conditions: {c: {get_param: enabled}}
resources:
  a: {type: T}
  b: {type: T}
  x:
    type: T
    properties:
      v: {if: [c, {get_attr: [a, name]}, {get_resource: b}]}
      f: {get_file: script.sh}
"""
    )
    props = t.resources["x"].properties
    assert referenced_resources(props) == {"a", "b"}
    params = t.validate_parameters()
    r = StackResolver(
        params,
        {"script.sh": "echo"},
        resource_attr=lambda name, attr, *path: attribute_from({"name": "A"}, attr, *path),
    )
    assert referenced_resources(props, r) == {"a"}
    assert t.resources["x"].properties_value(r) == {"v": "A", "f": "echo"}
    # with no resource callables every resource answers None (preview)
    assert StackResolver(params).resource_ref("a") is None


def test_if_with_an_unknown_condition(hot, resolver):
    t = hot(
        "2016-10-14", "conditions: {}\nresources: {x: {type: T, properties: {v: {if: [c, 1, 2]}}}}"
    )
    with pytest.raises(StackValidationFailed) as err:
        t.validate()
    assert str(err.value) == 'resources.x.properties.v.if: Invalid condition "c"'
    with pytest.raises(StackValidationFailed) as err:
        t.resources["x"].properties_value(resolver())
    assert str(err.value) == 'resources.x.properties.v.if: Invalid condition "c"'
