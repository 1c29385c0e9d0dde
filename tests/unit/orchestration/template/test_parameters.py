"""Parameters: types, defaults, constraints, custom constraints, groups, pseudo parameters."""

from __future__ import annotations

import pytest

from stacklab.orchestration.template import (
    ImmutableParameterModified,
    InvalidSchemaError,
    StackValidationFailed,
    UnknownUserParameter,
    UserParameterMissing,
    parse,
)

TEMPLATE = """
heat_template_version: 2018-08-31
parameters:
  flavor:
    type: string
    label: Flavor
    description: The flavor
    constraints:
      - custom_constraint: nova.flavor
  count:
    type: number
    default: 2
    constraints:
      - range: {min: 1, max: 5}
        description: between one and five
  name:
    type: string
    default: srv
    constraints:
      - length: {min: 2, max: 8}
      - allowed_pattern: "[a-z]+"
  zones: {type: comma_delimited_list, default: "a,b"}
  meta: {type: json, default: {"k": "v"}}
  debug: {type: boolean, default: false}
  password: {type: string, hidden: true, default: secret}
  size:
    type: string
    immutable: true
    default: small
    constraints: [{allowed_values: [small, big]}]
  tagged: {type: string, default: x, tags: [role]}
"""


def known_flavors(name: str, value: object) -> bool | str | None:
    if name != "nova.flavor":
        return None
    if value == "m1.tiny":
        return True
    return f"Error validating value '{value}': The Flavor ({value}) could not be found."


def test_values_are_typed_and_pseudo_parameters_added():
    t = parse(TEMPLATE)
    params = t.validate_parameters(
        {"flavor": "m1.tiny", "count": "3", "debug": "yes"},
        custom=known_flavors,
        stack_name="web",
        stack_id="abc",
        project_id="p1",
    )
    assert params["count"] == 3
    assert params["zones"] == ["a", "b"]
    assert params["meta"] == {"k": "v"}
    assert params["debug"] is True
    assert params["OS::stack_name"] == "web"
    assert params["OS::stack_id"] == "abc"
    assert params["OS::project_id"] == "p1"
    assert params.shown("password") == "******"
    assert params.as_shown()["zones"] == "a,b"
    assert t.parameters_schema["tagged"].tags == ["role"]


def test_missing_and_unknown_parameters():
    t = parse(TEMPLATE)
    with pytest.raises(UserParameterMissing) as err:
        t.validate_parameters({}, custom=known_flavors)
    assert err.value.message == "The Parameter (flavor) was not provided."
    with pytest.raises(UnknownUserParameter) as err:
        t.validate_parameters({"flavor": "m1.tiny", "nope": 1})
    assert err.value.message == "The Parameter (nope) was not defined in template."


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"flavor": "m1.huge"},
            "Parameter 'flavor' is invalid: Error validating value 'm1.huge': "
            "The Flavor (m1.huge) could not be found.",
        ),
        ({"count": 9}, "Parameter 'count' is invalid: between one and five"),
        ({"count": "many"}, "Parameter 'count' is invalid: could not convert string to float"),
        ({"name": "x"}, "Parameter 'name' is invalid: length (1) is out of range (min: 2, max: 8)"),
        ({"name": "ABC"}, "Parameter 'name' is invalid: \"ABC\" does not match pattern \"[a-z]+\""),
        (
            {"size": "huge"},
            "Parameter 'size' is invalid: \"huge\" is not an allowed value [\"small\", \"big\"]",
        ),
        ({"meta": "{bad"}, "Parameter 'meta' is invalid: Value must be valid JSON: "),
        ({"debug": "maybe"}, "Parameter 'debug' is invalid: Unrecognized value 'maybe'"),
    ],
)  # fmt: skip
def test_constraint_messages(values, message):
    t = parse(TEMPLATE)
    with pytest.raises(StackValidationFailed) as err:
        t.validate_parameters({"flavor": "m1.tiny", **values}, custom=known_flavors)
    assert str(err.value).startswith(message)


def test_unknown_custom_constraint():
    t = parse(TEMPLATE)
    with pytest.raises(StackValidationFailed) as err:
        t.validate_parameters({"flavor": "m1.tiny"})
    assert str(err.value) == (
        "Parameter 'flavor' is invalid: \"m1.tiny\" does not validate nova.flavor "
        "(constraint not found)"
    )


def test_parameter_defaults_from_the_environment():
    t = parse(TEMPLATE)
    params = t.validate_parameters(
        {"flavor": "m1.tiny"}, defaults={"count": 4, "other": 1}, custom=known_flavors
    )
    assert params["count"] == 4


def test_schema_errors():
    def schema_error(body: str) -> str:
        with pytest.raises(InvalidSchemaError) as err:
            parse("heat_template_version: 2016-10-14\nparameters:\n" + body)
        return err.value.message

    assert schema_error("  p: {type: string, defualt: 1}") == (
        "Invalid key 'defualt' for parameter (p)"
    )
    assert schema_error("  p: {default: 1}") == "Missing parameter type for parameter: p"
    assert schema_error("  p: {type: strin}") == "Invalid type (strin)"
    assert schema_error("  p: {type: number, constraints: {range: {min: 1}}}") == (
        "Invalid parameter constraints for parameter p, expected a list"
    )
    assert schema_error("  p: {type: number, constraints: [{range: {}}]}") == (
        "A range constraint must have a min value and/or a max value specified."
    )
    # modulo exists from 2017-02-24; tags from 2018-03-02
    assert schema_error("  p: {type: number, constraints: [{modulo: {step: 2, offset: 1}}]}") == (
        "No constraint expressed"
    )
    assert schema_error("  p: {type: string, tags: [a]}") == "Invalid key 'tags' for parameter (p)"


def test_constraint_must_fit_type_and_default_must_satisfy_it():
    t = parse(
        "heat_template_version: 2016-10-14\n"
        "parameters: {p: {type: string, constraints: [{range: {min: 1}}]}}"
    )
    with pytest.raises(InvalidSchemaError) as err:
        t.validate_parameters({"p": "x"})
    assert err.value.message == "Parameter 'p' is invalid: Range constraint invalid for string"
    t = parse(
        "heat_template_version: 2016-10-14\n"
        "parameters: {p: {type: number, default: 9, constraints: [{range: {max: 5}}]}}"
    )
    with pytest.raises(InvalidSchemaError) as err:
        t.validate_parameters({"p": 1})
    assert err.value.message == (
        "Parameter 'p' is invalid: Invalid default 9 (9 is out of range (min: None, max: 5))"
    )


def test_modulo():
    t = parse(
        "heat_template_version: 2017-02-24\n"
        "parameters: {p: {type: number, constraints: [{modulo: {step: 2, offset: 1}}]}}"
    )
    assert t.validate_parameters({"p": 7})["p"] == 7
    with pytest.raises(StackValidationFailed) as err:
        t.validate_parameters({"p": 4})
    assert (
        str(err.value) == "Parameter 'p' is invalid: 4 is not a multiple of 2 with an offset of 1"
    )


def test_immutable_parameters():
    t = parse(TEMPLATE)
    old = t.validate_parameters({"flavor": "m1.tiny"}, custom=known_flavors)
    new = t.validate_parameters({"flavor": "m1.tiny", "size": "big"}, custom=known_flavors)
    with pytest.raises(ImmutableParameterModified) as err:
        old.check_immutable(new)
    assert err.value.message == (
        "The following parameters are immutable and may not be updated: size"
    )


def test_parameter_groups():
    body = "heat_template_version: 2016-10-14\nparameters: {a: {type: string, default: x}}\n"
    parse(body + "parameter_groups: [{label: g, parameters: [a]}]").validate_parameters()

    def group_error(groups: str) -> str:
        with pytest.raises(StackValidationFailed) as err:
            parse(body + "parameter_groups: " + groups).validate_parameters()
        return str(err.value)

    assert group_error("[{label: g, parameters: [b]}]") == (
        "Parameter Groups error: parameter_groups.g: "
        "The grouped parameter b does not reference a valid parameter."
    )
    assert group_error("[{label: g, parameters: [a]}, {label: h, parameters: [a]}]") == (
        "Parameter Groups error: parameter_groups.h: "
        "The a parameter must be assigned to one parameter group only."
    )
    assert group_error("{label: g}") == (
        "Parameter Groups error: parameter_groups: The parameter_groups should be a list."
    )


def test_validate_format_of_a_parameter():
    t = parse(TEMPLATE)
    assert t.parameters_schema["count"].describe() == {
        "Type": "Number",
        "Description": "",
        "NoEcho": "false",
        "Label": "count",
        "Default": 2,
        "MinValue": 1,
        "MaxValue": 5,
        "ConstraintDescription": "between one and five",
    }
    assert t.parameters_schema["flavor"].describe()["CustomConstraint"] == "nova.flavor"
    assert t.parameters_schema["password"].describe()["NoEcho"] == "true"


def test_parameters_serve_a_resolver(resolver):
    t = parse(
        "heat_template_version: 2021-04-16\n"
        "parameters: {n: {type: comma_delimited_list, default: 'x,y'}}\n"
        "resources: {r: {type: T, properties: "
        "{a: {get_param: [n, 1]}, s: {get_param: OS::stack_name}}}}"
    )
    params = t.validate_parameters(stack_name="st")
    r = resolver()
    r.param = params.param  # type: ignore[method-assign]
    assert t.resources["r"].properties_value(r) == {"a": "y", "s": "st"}


def test_a_value_of_the_wrong_kind_is_a_validation_error_not_a_crash():
    t = parse(
        "heat_template_version: 2016-10-14\n"
        "parameters: {p: {type: string, constraints: [{length: {max: 3}}]}}"
    )
    with pytest.raises(StackValidationFailed) as err:
        t.validate_parameters({"p": 12345})
    assert str(err.value).startswith("Parameter 'p' is invalid: ")
