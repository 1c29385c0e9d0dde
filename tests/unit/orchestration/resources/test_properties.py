"""A resource's properties checked as heat checks them before acting."""

from __future__ import annotations

import pytest

from stacklab.orchestration.resources import registry
from stacklab.orchestration.resources.properties import (
    BOOLEAN,
    INTEGER,
    LIST,
    MAP,
    NUMBER,
    STRING,
    Property,
    check_properties,
)
from stacklab.orchestration.template.errors import StackValidationFailed
from stacklab.orchestration.template.parameters import AllowedValues, Range

PATH: list[str | int] = ["resources", "net", "properties"]
SCHEMA = {
    "name": Property(STRING, required=True),
    "size": Property(INTEGER, constraints=(Range(1, 5),)),
    "ratio": Property(NUMBER),
    "shared": Property(BOOLEAN, default=False),
    "tags": Property(LIST, schema=Property(STRING, constraints=(AllowedValues(["a", "b"]),))),
    "fixed": Property(MAP, schema={"ip": Property(STRING, required=True)}),
}


def test_values_are_typed_and_defaults_filled() -> None:
    out = check_properties(SCHEMA, {"name": 7, "size": "3", "ratio": "0.5", "shared": "yes",
                                    "tags": "a,b", "fixed": '{"ip": "10.0.0.3"}'}, path=PATH)
    assert out == {"name": "7", "size": 3, "ratio": 0.5, "shared": True, "tags": ["a", "b"],
                   "fixed": {"ip": "10.0.0.3"}}
    assert check_properties(SCHEMA, {"name": "n"}, path=PATH)["shared"] is False


@pytest.mark.parametrize(("values", "message"), [
    ({}, "Property error: resources.net.properties: Property name not assigned"),
    ({"name": "n", "colour": 1},
     "Property error: resources.net.properties: Unknown Property colour"),
    ({"name": "n", "size": 9},
     "Property error: resources.net.properties.size: 9 is out of range (min: 1, max: 5)"),
    ({"name": "n", "size": "many"},
     "Property error: resources.net.properties.size: Value 'many' is not an integer"),
    ({"name": "n", "tags": ["a", "c"]}, "Property error: resources.net.properties.tags[1]: "),
    ({"name": "n", "fixed": {}},
     "Property error: resources.net.properties.fixed: Property ip not assigned"),
    ({"name": {"a": 1}}, "Property error: resources.net.properties.name: Value must be a string"),
])
def test_bad_values_name_the_property(values: dict[str, object], message: str) -> None:
    with pytest.raises(StackValidationFailed) as caught:
        check_properties(SCHEMA, values, path=PATH)
    assert str(caught.value).startswith(message), str(caught.value)


def test_a_schema_describes_itself_as_resource_type_show_prints_it() -> None:
    shown = SCHEMA["size"].describe()
    assert shown["type"] == "integer" and shown["update_allowed"] is False
    assert shown["constraints"] == [{"range": {"min": 1, "max": 5}}]
    assert SCHEMA["tags"].describe()["schema"]["*"]["type"] == "string"


def _schema(type_name: str) -> dict[str, Property]:
    found = registry.get(type_name)
    assert found is not None
    return dict(found.PROPERTIES)


def test_an_older_name_s_value_moves_to_its_property() -> None:
    port = _schema("OS::Neutron::Port")
    checked = check_properties(port, {"network_id": "net-1",
                                      "fixed_ips": [{"subnet_id": "sub-1"}]}, path=PATH)
    assert checked["network"] == "net-1" and "network_id" not in checked
    assert checked["fixed_ips"][0]["subnet"] == "sub-1"
    # The older names are not part of the schema that resource type show prints.
    assert "network_id" not in port and "subnet_id" not in port["fixed_ips"].describe()[
        "schema"]["*"]["schema"]


def test_both_names_at_once_is_heat_s_property_conflict() -> None:
    with pytest.raises(StackValidationFailed) as caught:
        check_properties(_schema("OS::Neutron::Subnet"),
                         {"network": "a", "network_id": "b", "cidr": "10.0.0.0/24"}, path=PATH)
    assert str(caught.value) == ("Property error: resources.net.properties: Cannot define the "
                                 "following properties at the same time: network, network_id.")
