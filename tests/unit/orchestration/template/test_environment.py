"""Environments: reading, merging, the resource registry, environment_files."""

from __future__ import annotations

import pytest

from stacklab.orchestration.template import (
    Environment,
    StackValidationFailed,
    TemplateFormatError,
    merge_environment_files,
    parse,
)
from stacklab.orchestration.template.errors import (
    ConflictingMergeStrategyForParam,
    InvalidBreakPointHook,
)

PLUGINS = {"OS::Neutron::Net", "OS::Neutron::FloatingIP", "OS::Heat::None", "OS::Nova::Server"}


def is_plugin(name: str) -> bool:
    return name in PLUGINS


def test_reading_environments():
    env = Environment.from_text(
        """
parameters: {flavor: m1.tiny}
parameter_defaults: {image: cirros}
encrypted_param_names: [password]
event_sinks: [{type: zaqar-queue, target: q}]
resource_registry:
  "My::Server": "OS::Nova::Server"
"""
    )
    assert env.parameters == {"flavor": "m1.tiny"}
    assert env.parameter_defaults == {"image": "cirros"}
    assert env.encrypted_param_names == ["password"]
    assert env.event_sinks == [{"type": "zaqar-queue", "target": "q"}]
    with pytest.raises(TemplateFormatError) as err:
        Environment.from_text("paramaters: {}")
    assert err.value.message == 'environment has wrong section "paramaters"'
    with pytest.raises(TemplateFormatError) as err:
        Environment.from_text("parameters:\n")
    assert err.value.message == 'environment has empty section "parameters"'
    # heat's old flat form: the whole dict is parameters
    assert Environment.from_dict({"a": 1}).parameters == {"a": 1}


def test_merge_in_order_deeply():
    first = {
        "parameters": {"a": 1, "b": 1},
        "resource_registry": {"X::A": "a.yaml", "resources": {"srv": {"hooks": "pre-create"}}},
    }
    second = {
        "parameters": {"b": 2},
        "resource_registry": {"resources": {"db": {"hooks": ["pre-delete"]}}},
    }
    merged = Environment.merge(first, Environment.from_dict(second))
    assert merged.parameters == {"a": 1, "b": 2}
    assert merged.resource_registry["X::A"] == "a.yaml"
    assert set(merged.resource_registry["resources"]) == {"srv", "db"}
    assert merged.hooks_for("srv") == {"pre-create"}
    assert merged.hooks_for("db") == {"pre-delete"}


def test_registry_resolution():
    env = Environment.from_dict(
        {
            "resource_registry": {
                "My::Net": "OS::Neutron::Net",
                "OS::Networking::*": "OS::Neutron::*",
                "My::Stack": "file:///tmp/stack.yaml",
                "OS::Cinder::*": "OS::Heat::None",
                "resources": {"special": {"My::Net": "special.yaml"}},
            }
        }
    )
    assert env.resolve_type("My::Net", "n", is_plugin).type == "OS::Neutron::Net"
    assert env.resolve_type("My::Net", "n", is_plugin).via == ("My::Net", "OS::Neutron::Net")
    fip = env.resolve_type("OS::Networking::FloatingIP", "f", is_plugin)
    assert (fip.kind, fip.type) == ("plugin", "OS::Neutron::FloatingIP")
    stack = env.resolve_type("My::Stack", "s", is_plugin)
    assert (stack.kind, stack.template) == ("template", "file:///tmp/stack.yaml")
    assert env.resolve_type("My::Net", "special", is_plugin).template == "special.yaml"
    assert env.resolve_type("OS::Cinder::Volume", "v", is_plugin).type == "OS::Heat::None"
    assert env.resolve_type("nested.yaml", "x", is_plugin).kind == "template"
    with pytest.raises(StackValidationFailed) as err:
        env.resolve_type("OS::Nope::Thing", "x", is_plugin)
    assert str(err.value) == "The Resource Type (OS::Nope::Thing) could not be found."
    with pytest.raises(StackValidationFailed) as err:
        env.resolve_type("", "x", is_plugin)
    assert str(err.value) == 'Resource "x" has no type'
    assert env.template_resources() == {
        "My::Stack": "file:///tmp/stack.yaml",
        "My::Net": "special.yaml",
    }


def test_hooks_and_restricted_actions_are_checked():
    with pytest.raises(InvalidBreakPointHook) as err:
        Environment.from_dict({"resource_registry": {"resources": {"a": {"hooks": "pre-lunch"}}}})
    assert err.value.message.startswith(
        'Invalid hook type "pre-lunch" for resource breakpoint, acceptable hook types are: '
    )
    env = Environment.from_dict(
        {"resource_registry": {"resources": {"db_*": {"restricted_actions": "replace"}}}}
    )
    assert env.restricted_actions("db_main") == {"replace"}
    assert env.restricted_actions("web") == set()


def test_environment_files_with_merge_strategies():
    t = parse(
        """
heat_template_version: 2017-09-01
parameters:
  names: {type: comma_delimited_list}
  conf: {type: json}
  flavor: {type: string}
"""
    )
    files = {
        "one.yaml": "parameters: {names: a, conf: {x: {y: 1}}, flavor: m1.tiny}",
        "two.yaml": (
            "parameter_merge_strategies: {names: merge, conf: deep_merge}\n"
            "parameters: {names: b, conf: {x: {z: 2}}, flavor: m1.small}\n"
            "resource_registry: {My::T: t.yaml}"
        ),
    }
    # one.yaml sets the strategies of its parameters (overwrite by default) ...
    with pytest.raises(ConflictingMergeStrategyForParam) as err:
        merge_environment_files(["one.yaml", "two.yaml"], files, {}, t.parameters_schema)
    assert err.value.message == (
        "Conflicting merge strategy 'merge' for parameter 'names' in file 'two.yaml'."
    )
    # ... so strategies declared in the first file that names the parameter win.
    files["one.yaml"] = (
        "parameter_merge_strategies: {names: merge, conf: deep_merge}\n" + files["one.yaml"]
    )
    env = merge_environment_files(["one.yaml", "two.yaml"], files, {}, t.parameters_schema)
    assert env["parameters"] == {
        "names": "a,b",
        "conf": {"x": {"y": 1, "z": 2}},
        "flavor": "m1.small",
    }
    assert env["resource_registry"] == {"My::T": "t.yaml"}


def test_child_environment_keeps_registry_not_parameters():
    env = Environment.from_dict(
        {
            "parameters": {"a": 1},
            "resource_registry": {
                "X::Y": "y.yaml",
                "resources": {"grp": {"hooks": "pre-create"}, "other": {"hooks": "pre-update"}},
            },
        }
    )
    child = env.child({"b": 2}, resource_name="grp")
    assert child.parameters == {"b": 2}
    assert child.resource_registry["X::Y"] == "y.yaml"
    assert child.resource_registry["resources"] == {"hooks": "pre-create"}


def test_template_reads_its_environment_and_nested_parameters():
    env = Environment.from_dict({"parameters": {"a": "x"}, "parameter_defaults": {"b": "y"}})
    t = parse(
        "heat_template_version: 2021-04-16\n"
        "parameters: {a: {type: string}, b: {type: string}}\n"
        "resources: {n: {type: nested.yaml}}",
        files={
            "nested.yaml": "heat_template_version: 2021-04-16\nparameters: {c: {type: number}}",
            "script.sh": "echo [",
        },
        environment=env,
    )
    params = t.validate_parameters()
    assert (params["a"], params["b"]) == ("x", "y")
    assert set(t.all_parameters_schema()) == {"a", "b", "c"}
