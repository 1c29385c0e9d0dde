"""What `template versions` and `template functions` show (descriptions in our words)."""

from __future__ import annotations

from typing import Any

from stacklab.orchestration.template.errors import NotFound
from stacklab.orchestration.template.versions import ALL_VERSIONS, lookup

DESCRIPTIONS: dict[str, str] = {
    # HOT
    "get_param": "A parameter's value, optionally followed down a path into it.",
    "get_resource": "The physical id of another resource of the stack.",
    "get_attr": "An attribute of another resource, optionally followed down a path.",
    # heat's own wording: heat-tempest-plugin's API tests compare this one.
    "get_file": "A function for including a file inline.",
    "list_join": "Lists of strings joined into one string with a delimiter.",
    "str_replace": "A string with placeholders substituted by the given values.",
    "str_replace_strict": "str_replace that fails when a placeholder is not in the template.",
    "str_replace_vstrict": "str_replace_strict that also fails on an empty value.",
    "str_split": "A string split on a delimiter into a list, or one item of it.",
    "repeat": "A list made by repeating a template once per item of the for_each lists.",
    "digest": "The hex digest of a string with a hashlib algorithm.",
    "resource_facade": "Metadata or a policy of the resource a provider template stands for.",
    "map_merge": "Maps merged into one, later keys winning.",
    "map_replace": "A map with keys and values renamed through replacement maps.",
    "yaql": "The result of a YAQL expression evaluated over the given data.",
    "if": "One of two values, picked by a condition.",
    "filter": "A list without the given values.",
    "make_url": "A correctly escaped URL built from its parts.",
    "list_concat": "Lists joined into one list.",
    "list_concat_unique": "Lists joined into one list, each item once.",
    "contains": "Whether a value is in a sequence.",
    "equals": "Whether two values are equal.",
    "not": "The negation of a condition.",
    "and": "Whether all the conditions hold.",
    "or": "Whether any of the conditions holds.",
    # CFN
    "Ref": "A parameter's value, or the physical id of a resource.",
    "Fn::GetAtt": "An attribute of another resource.",
    "Fn::GetAZs": "The availability zones.",
    "Fn::Join": "A list of strings joined into one string with a delimiter.",
    "Fn::Select": "One item of a list or map.",
    "Fn::Split": "A string split on a delimiter into a list.",
    "Fn::Replace": "A string with placeholders substituted by the given values.",
    "Fn::Base64": "The string itself (user data is passed in plain text).",
    "Fn::MemberListToMap": "A map built from AWS query-style member lists.",
    "Fn::ResourceFacade": "Metadata or a policy of the resource a provider template stands for.",
    "Fn::FindInMap": "A value from the template's Mappings.",
    "Fn::If": "One of two values, picked by a condition.",
    "Fn::Equals": "Whether two values are equal.",
    "Fn::Not": "The negation of a condition.",
    "Fn::And": "Whether all the conditions hold.",
    "Fn::Or": "Whether any of the conditions holds.",
}


def versions() -> list[dict[str, Any]]:
    """Every version heat lists, dated names first, with their code-name aliases."""
    out = [
        {
            "version": v.name,
            "type": v.kind,
            "aliases": [f"{v.key}.{alias}" for alias in v.aliases],
        }
        for v in ALL_VERSIONS
    ]
    return sorted(out, key=lambda item: item["version"])


def functions(version: str, with_condition_functions: bool = False) -> list[dict[str, str]]:
    """The functions a version offers (not the removed ones), as heat's API lists them."""
    found = lookup(version)
    if found is None:
        raise NotFound(f"Template with version {version} not found")
    return [
        {"functions": name, "description": DESCRIPTIONS.get(name, "")}
        for name in found.available_functions(with_condition_functions)
    ]
