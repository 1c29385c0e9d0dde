"""Loading, versions, sections, resource and output definitions, graph, diff, catalog."""

from __future__ import annotations

import pytest

from stacklab.orchestration.template import (
    REPLACED,
    UNCHANGED,
    UPDATED,
    CircularDependencyException,
    InvalidTemplateReference,
    InvalidTemplateSection,
    InvalidTemplateVersion,
    StackValidationFailed,
    TemplateFormatError,
    changed_resources,
    functions,
    parse,
    update_kind,
    versions,
)
from stacklab.orchestration.template.errors import NotFound, RequestLimitExceeded
from stacklab.orchestration.template.loading import load_template


def test_text_must_be_a_mapping_with_a_version():
    with pytest.raises(TemplateFormatError) as err:
        parse("- a\n- b\n")
    assert err.value.message == "The template is not a JSON object or YAML mapping."
    assert err.value.status == 400
    with pytest.raises(TemplateFormatError) as err:
        parse("resources: {}\n")
    assert err.value.message == "Template format version not found."
    with pytest.raises(TemplateFormatError) as err:
        parse("heat_template_version: [\n")
    assert err.value.message.startswith("Error parsing template [root stack] ")
    with pytest.raises(RequestLimitExceeded):
        load_template("x" * 10, max_size=5)


def test_unquoted_version_date_stays_text_and_json_is_read():
    assert parse("heat_template_version: 2016-10-14\n").version.date == "2016-10-14"
    assert parse('{"heat_template_version": "2015-04-30"}').version.kind == "hot"
    assert parse("heat_template_version: newton\n").version.date == "2016-10-14"


def test_unknown_and_ambiguous_versions():
    with pytest.raises(InvalidTemplateVersion) as err:
        parse("heat_template_version: 2016-10-15\n")
    assert err.value.message == (
        'The template version is invalid: "heat_template_version: 2016-10-15". '
        '"heat_template_version" should be one of: 2013-05-23, 2014-10-16, 2015-04-30, '
        "2015-10-15, 2016-04-08, 2016-10-14, 2017-02-24, 2017-09-01, 2018-03-02, "
        "2018-08-31, 2021-04-16, newton, ocata, pike, queens, rocky, wallaby"
    )
    with pytest.raises(InvalidTemplateVersion) as err:
        parse({"AWSTemplateFormatVersion": "2011-01-01"})
    assert err.value.message.endswith('"AWSTemplateFormatVersion" should be: 2010-09-09')
    with pytest.raises(InvalidTemplateVersion) as err:
        parse({"heat_template_version": "2015-04-30", "AWSTemplateFormatVersion": "2010-09-09"})
    assert "Ambiguous versions" in err.value.message


def test_sections_by_version():
    with pytest.raises(InvalidTemplateSection) as err:
        parse("heat_template_version: 2016-04-08\nconditions: {}\n")
    assert err.value.message == "The template section is invalid: conditions"
    parse("heat_template_version: 2016-10-14\nconditions: {}\n")
    with pytest.raises(InvalidTemplateSection):
        parse("heat_template_version: 2021-04-16\nresource: {}\n")


def test_resource_definition_checks():
    def fails(body: str) -> str:
        with pytest.raises(StackValidationFailed) as err:
            parse("heat_template_version: 2016-10-14\n" + body)
        return str(err.value)

    assert fails("resources: {a: {}}") == "Each resource must contain a type key."
    assert fails("resources: {a: {properties: {}}}") == "Each resource must contain a type key."
    assert fails("resources: {a: {type: T, propertys: {}}}") == (
        '"propertys" is not a valid keyword inside a resource definition'
    )
    assert fails("resources: {a: {type: T, properties: [1]}}") == (
        "Resource a properties type must be object"
    )
    assert fails("resources: {a: {type: T, depends_on: {b: 1}}}") == (
        "Resource a depends_on type must be list or string"
    )
    assert fails("resources: {a: {type: T, deletion_policy: Keep}}") == (
        'Invalid deletion policy "Keep"'
    )
    # external_id and condition are keys from 2016-10-14 only.
    with pytest.raises(StackValidationFailed) as err:
        parse("heat_template_version: 2016-04-08\nresources: {a: {type: T, condition: c}}")
    assert str(err.value) == '"condition" is not a valid keyword inside a resource definition'


def test_deletion_policies_lowercase_from_newton():
    t = parse(
        "heat_template_version: 2016-10-14\n"
        "resources: {a: {type: T, deletion_policy: retain}, b: {type: T}}"
    )
    assert t.resources["a"].deletion_policy_value() == "Retain"
    assert t.resources["b"].deletion_policy_value() == "Delete"
    with pytest.raises(StackValidationFailed):
        parse(
            "heat_template_version: 2016-04-08\nresources: {a: {type: T, deletion_policy: retain}}"
        )


def test_outputs_checks_and_conditions(resolver):
    with pytest.raises(StackValidationFailed) as err:
        parse("heat_template_version: 2016-04-08\noutputs: {o: {description: d}}")
    assert str(err.value) == "Each output must contain a value key."
    with pytest.raises(StackValidationFailed) as err:
        parse("heat_template_version: 2016-04-08\noutputs: {o: {value: 1, condition: c}}")
    assert str(err.value) == '"condition" is not a valid keyword inside a output definition'
    t = parse(
        "heat_template_version: 2016-10-14\n"
        "conditions: {off: false}\n"
        "outputs: {o: {value: 1, condition: off}, p: {value: 2}}"
    )
    shown = t.enabled_outputs(resolver())
    assert shown["o"].value is None
    assert shown["p"].value == 2


def test_dependencies_order_and_references():
    t = parse(
        """
heat_template_version: 2018-08-31
resources:
  net: {type: OS::Neutron::Net}
  subnet: {type: OS::Neutron::Subnet, properties: {network: {get_resource: net}}}
  router: {type: OS::Neutron::Router}
  iface:
    type: OS::Neutron::RouterInterface
    properties: {router: {get_resource: router}, subnet: {get_attr: [subnet, name]}}
  server: {type: OS::Nova::Server, depends_on: [iface]}
"""
    )
    graph = t.dependencies()
    order = graph.create_order()
    assert order.index("net") < order.index("subnet") < order.index("iface") < order.index("server")
    assert order.index("router") < order.index("iface")
    delete = graph.delete_order()
    assert delete.index("server") < delete.index("iface") < delete.index("subnet")
    assert graph.requires("iface") == {"router", "subnet"}
    assert graph.required_by("net") == {"subnet"}


def test_unknown_references_as_heat_words_them():
    t = parse(
        "heat_template_version: 2021-04-16\n"
        "resources: {s: {type: T, properties: {nets: [{network: {get_resource: nope}}]}}}"
    )
    with pytest.raises(InvalidTemplateReference) as err:
        t.validate()
    assert err.value.message == (
        'The specified reference "nope" (in s.Properties.nets[0].network) is incorrect.'
    )
    t = parse("heat_template_version: 2021-04-16\nresources: {s: {type: T, depends_on: x}}")
    with pytest.raises(InvalidTemplateReference) as err:
        t.dependencies()
    assert err.value.message == 'The specified reference "x" (in s) is incorrect.'


def test_circular_dependency():
    t = parse(
        """
heat_template_version: 2021-04-16
resources:
  a: {type: T, properties: {x: {get_resource: b}}}
  b: {type: T, depends_on: a}
  c: {type: T}
"""
    )
    with pytest.raises(CircularDependencyException) as err:
        t.validate()
    assert err.value.message == "Circular Dependency Found: {a: {b}, b: {a}}"
    with pytest.raises(CircularDependencyException) as err:
        t.dependencies(label=lambda n: f'Resource "{n}"').check()
    assert err.value.message == (
        'Circular Dependency Found: {Resource "a": {Resource "b"}, Resource "b": {Resource "a"}}'
    )


def test_conditions_disable_resources_and_their_depends_on(resolver):
    t = parse(
        """
heat_template_version: 2016-10-14
parameters: {env: {type: string}}
conditions: {prod: {equals: [{get_param: env}, prod]}}
resources:
  vol: {type: T, condition: prod}
  srv:
    type: T
    depends_on: vol
    properties: {v: {if: [prod, {get_resource: vol}, none]}}
"""
    )
    dev = resolver(params={"env": "dev"})
    assert list(t.enabled_resources(dev)) == ["srv"]
    assert t.dependencies(dev).create_order() == ["srv"]
    prod = resolver(params={"env": "prod"})
    assert t.dependencies(prod).create_order() == ["vol", "srv"]
    # statically, both branches of the `if` count
    assert t.resources["srv"].required_resource_names() == {"vol"}


def test_invalid_and_circular_conditions(resolver):
    t = parse(
        "heat_template_version: 2016-10-14\n"
        "conditions: {a: {not: b}, b: {not: a}}\n"
        "resources: {x: {type: T, condition: a}}"
    )
    with pytest.raises(StackValidationFailed) as err:
        t.enabled_resources(resolver())
    assert 'Circular definition for condition "' in str(err.value)
    t = parse(
        "heat_template_version: 2016-10-14\nconditions: {}\nresources: {x: {type: T, condition: z}}"
    )
    with pytest.raises(StackValidationFailed) as err:
        t.enabled_resources(resolver())
    assert str(err.value) == 'resources.x.condition: Invalid condition "z"'


def test_changed_resources_with_property_names(resolver):
    old = parse(
        """
heat_template_version: 2021-04-16
parameters: {flavor: {type: string}}
resources:
  net: {type: OS::Neutron::Net, properties: {name: a}}
  srv: {type: OS::Nova::Server, properties: {flavor: {get_param: flavor}, image: cirros}}
  gone: {type: T}
"""
    )
    new = parse(
        """
heat_template_version: 2021-04-16
parameters: {flavor: {type: string}}
resources:
  net: {type: OS::Neutron::Net, properties: {name: b, shared: true}}
  srv: {type: OS::Nova::Server, properties: {flavor: {get_param: flavor}, image: cirros}}
  added: {type: T}
"""
    )
    diff = changed_resources(old, new)
    assert diff.added == ["added"]
    assert diff.removed == ["gone"]
    assert diff.changed["net"].properties_changed == {"name", "shared"}
    assert diff.unchanged == ["srv"]
    resolved = changed_resources(
        old, new, resolver(params={"flavor": "m1.tiny"}), resolver(params={"flavor": "m1.small"})
    )
    assert resolved.changed["srv"].properties_changed == {"flavor"}


def test_versions_and_functions_catalog():
    listed = versions()
    names = [v["version"] for v in listed]
    assert "heat_template_version.2013-05-23" in names
    assert "AWSTemplateFormatVersion.2010-09-09" in names
    wallaby = next(v for v in listed if v["version"] == "heat_template_version.2021-04-16")
    assert wallaby == {
        "version": "heat_template_version.2021-04-16",
        "type": "hot",
        "aliases": ["heat_template_version.wallaby"],
    }
    cfn = next(v for v in listed if v["version"] == "HeatTemplateFormatVersion.2012-12-12")
    assert cfn["type"] == "cfn"

    def names_of(version: str, conditions: bool = False) -> set[str]:
        return {f["functions"] for f in functions(version, conditions)}

    assert names_of("heat_template_version.2014-10-16") == {
        "get_attr", "get_file", "get_param", "get_resource", "list_join",
        "resource_facade", "str_replace", "Fn::Select",
    }  # fmt: skip
    ocata = names_of("heat_template_version.ocata")
    assert {"filter", "str_replace_strict", "if", "yaql"} <= ocata
    assert "str_replace_vstrict" not in ocata and "make_url" not in ocata
    assert {"contains", "make_url", "list_concat"} <= names_of("heat_template_version.pike")
    assert {"equals", "and", "or", "not"} <= names_of("heat_template_version.2016-10-14", True)
    assert all(f["description"] for f in functions("heat_template_version.2021-04-16", True))
    with pytest.raises(NotFound) as err:
        functions("heat_template_version.2000-01-01")
    assert err.value.status == 404


def test_cfn_template(resolver):
    t = parse(
        {
            "AWSTemplateFormatVersion": "2010-09-09",
            "Parameters": {"Size": {"Type": "Number", "Default": "2", "MaxValue": 4}},
            "Mappings": {"M": {"k": {"v": "found"}}},
            "Conditions": {"Big": {"Fn::Equals": [{"Ref": "Size"}, "4"]}},
            "Resources": {
                "Vol": {"Type": "OS::Cinder::Volume", "Properties": {"size": {"Ref": "Size"}}},
                "Srv": {
                    "Type": "AWS::EC2::Instance",
                    "DependsOn": "Vol",
                    "Properties": {
                        "UserData": {"Fn::Base64": {"Fn::Join": ["-", ["a", {"Ref": "Vol"}]]}},
                        "Az": {"Fn::Select": ["0", {"Fn::GetAZs": ""}]},
                        "M": {"Fn::FindInMap": ["M", "k", "v"]},
                        "Att": {"Fn::GetAtt": ["Vol", "size"]},
                        "Big": {"Fn::If": ["Big", "y", "n"]},
                    },
                },
            },
            "Outputs": {"Out": {"Value": {"Ref": "Vol"}}},
        }
    )
    params = t.validate_parameters({}, stack_name="s")
    assert params["Size"] == 2
    assert params["AWS::StackName"] == "s"
    r = resolver(params=dict(params), refs={"Vol": "vol-1"}, attrs={"Vol": {"size": 2}})
    props = t.resources["Srv"].properties_value(r)
    assert props == {"UserData": "a-vol-1", "Az": "nova", "M": "found", "Att": 2, "Big": "n"}
    assert t.dependencies().create_order() == ["Vol", "Srv"]
    with pytest.raises(StackValidationFailed) as err:
        parse({"HeatTemplateFormatVersion": "2012-12-12", "Outputs": {"O": {"x": 1}}})
    assert str(err.value) == (
        "Output validation error: Outputs.O: Each output definition must contain a Value key."
    )


def test_validate_duplicate_names_and_output_references():
    t = parse(
        "heat_template_version: 2021-04-16\n"
        "parameters: {net: {type: string, default: x}}\n"
        "resources: {net: {type: T}}"
    )
    with pytest.raises(StackValidationFailed) as err:
        t.validate()
    assert str(err.value) == "Duplicate names {'net'}"
    t = parse(
        "heat_template_version: 2021-04-16\n"
        "resources: {net: {type: T}}\n"
        "outputs: {o: {value: {k: {get_attr: [srv, first_address]}}}}"
    )
    with pytest.raises(StackValidationFailed) as err:
        t.validate()
    assert str(err.value) == (
        'outputs.o.value.k.get_attr: The specified reference "srv" (in unknown) is incorrect.'
    )


def test_update_kind_is_the_updates_verdict_on_a_kept_resource():
    allowed = {"name"}.__contains__
    assert update_kind({"name": "a"}, {"name": "a"}, update_allowed=allowed) == (
        UNCHANGED, frozenset())
    assert update_kind({"name": "a"}, {"name": "b"}, update_allowed=allowed) == (
        UPDATED, frozenset({"name"}))
    # One property that may not change in place replaces the resource.
    assert update_kind({"name": "a", "size": 1}, {"name": "b", "size": 2},
                       update_allowed=allowed) == (REPLACED, frozenset({"name", "size"}))
    # A property dropped from the new definition changed too.
    assert update_kind({"size": 1}, {}, update_allowed=allowed)[0] == REPLACED
    assert update_kind({}, {}, update_allowed=allowed, replace=True)[0] == REPLACED
    # A resource over a nested stack is always updated (its stack finds what changed).
    assert update_kind({}, {}, update_allowed=allowed, always_update=True)[0] == UPDATED
