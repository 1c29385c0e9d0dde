"""Whatever a client sends, the library answers with a TemplateError (a 4xx), never a crash."""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stacklab.orchestration.template import (
    Environment,
    StackResolver,
    TemplateError,
    parse,
    resolve,
)
from stacklab.orchestration.template.versions import HOT_VERSIONS

FUNCTION_NAMES = sorted(
    {name for v in HOT_VERSIONS for name in v.functions}
    | {"equals", "not", "and", "or", "condition"}
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from(["a", "b", "", "x,y", "%v%", "net", "p", "c", "metadata", "sha256"]),
)
snippets = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["a", "b", "template", "params", "for_each"]), inner,
                        max_size=3),
        st.builds(lambda n, a: {n: a}, st.sampled_from(FUNCTION_NAMES), inner),
    ),
    max_leaves=12,
)  # fmt: skip
resources = st.dictionaries(
    st.sampled_from(["net", "srv", "p"]),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["T", "T", "T", "", 1])},
        optional={
            "properties": snippets,
            "depends_on": st.one_of(st.sampled_from(["net", "srv", "x"]), snippets),
            "condition": snippets,
            "deletion_policy": snippets,
            "metadata": snippets,
        },
    ),
    max_size=3,
)
parameters = st.dictionaries(
    st.sampled_from(["p", "q"]),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["string", "number", "json", "boolean", "comma_delimited_list"])},
        optional={"default": snippets, "constraints": snippets, "hidden": snippets},
    ),
    max_size=2,
)
# Mostly versions with conditions, where most of the language is.
DATES = [v.date for v in HOT_VERSIONS[4:]] * 3 + [v.date for v in HOT_VERSIONS[:4]]
templates = st.fixed_dictionaries(
    {"heat_template_version": st.sampled_from(DATES)},
    optional={
        "parameters": parameters,
        "conditions": st.dictionaries(st.sampled_from(["c", "d"]), snippets, max_size=2),
        "resources": resources,
        "outputs": st.dictionaries(st.sampled_from(["o"]), st.fixed_dictionaries(
            {"value": snippets}, optional={"condition": snippets}), max_size=1),
        "parameter_groups": st.one_of(st.just([]), snippets),
    },
)  # fmt: skip


def exercise(data: dict[str, Any], values: dict[str, Any]) -> None:
    t = parse(data)
    params = t.validate_parameters(values, custom=lambda name, value: True, stack_name="s")
    r = StackResolver(params, {"a": "file"}, resource_ref=lambda n: f"id-{n}")
    t.validate(r)
    t.dependencies(r).create_order()
    for defn in t.enabled_resources(r).values():
        defn.properties_value(r)
        defn.deletion_policy_value(r)
    for output in t.enabled_outputs(r).values():
        resolve(output.value, r)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(templates, st.dictionaries(st.sampled_from(["p", "q"]), snippets, max_size=2))
def test_templates_fail_only_with_template_errors(data, values):
    with contextlib.suppress(TemplateError):
        exercise(data, values)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "parameters": st.dictionaries(st.sampled_from(["a", "b"]), snippets),
                "resource_registry": st.dictionaries(
                    st.sampled_from(["X::*", "X::Y", "resources", "a.yaml"]), snippets
                ),
            },
        ),
        max_size=3,
    )
)
def test_environments_fail_only_with_template_errors(envs):
    with contextlib.suppress(TemplateError):
        env = Environment.merge(*envs)
        env.resolve_type("X::Y", "a")
        env.hooks_for("a")
