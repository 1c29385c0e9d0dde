"""The template formats heat knows, each with its sections and its functions.

Per version, exactly what heat's template classes allow (heat/engine/hot/template.py,
heat/engine/cfn/template.py, and the entry points of its setup.cfg): the function table,
the condition functions, the sections, the keys of a resource and of an output, the deletion
policy spellings and what a parameter schema may say.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from stacklab.orchestration.template import intrinsic_functions as fn
from stacklab.orchestration.template.errors import InvalidTemplateVersion
from stacklab.orchestration.template.intrinsics import FunctionClass, Removed

Kind = Literal["hot", "cfn"]

HOT_KEY = "heat_template_version"
AWS_KEY = "AWSTemplateFormatVersion"
HEAT_CFN_KEY = "HeatTemplateFormatVersion"


@dataclass(frozen=True)
class TemplateVersion:
    key: str
    date: str
    kind: Kind
    aliases: tuple[str, ...]
    functions: dict[str, FunctionClass]
    condition_functions: dict[str, FunctionClass]
    sections: tuple[str, ...]
    resource_keys: tuple[str, ...]
    output_keys: tuple[str, ...]
    deletion_policies: dict[str, str]
    parameter_keys: tuple[str, ...] = ()
    has_conditions: bool = False
    modulo_constraint: bool = False
    parameter_tags: bool = False
    description: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """`heat_template_version.2016-10-14`, as heat's versions list names it."""
        return f"{self.key}.{self.date}"

    @property
    def is_hot(self) -> bool:
        return self.kind == "hot"

    # Section names (HOT's lower case, CFN's capitalised).
    @property
    def resources_section(self) -> str:
        return "resources" if self.is_hot else "Resources"

    @property
    def outputs_section(self) -> str:
        return "outputs" if self.is_hot else "Outputs"

    @property
    def parameters_section(self) -> str:
        return "parameters" if self.is_hot else "Parameters"

    @property
    def conditions_section(self) -> str:
        return "conditions" if self.is_hot else "Conditions"

    @property
    def description_section(self) -> str:
        return "description" if self.is_hot else "Description"

    def available_functions(self, with_conditions: bool = False) -> list[str]:
        """Names of the functions a template of this version may use (not the removed)."""
        table = dict(self.functions)
        if with_conditions:
            table.update(self.condition_functions)
        return [name for name, cls in table.items() if cls is not Removed]


_REMOVED_2014 = {
    "Fn::GetAZs": Removed,
    "Fn::Join": Removed,
    "Fn::Split": Removed,
    "Fn::Replace": Removed,
    "Fn::Base64": Removed,
    "Fn::MemberListToMap": Removed,
    "Fn::ResourceFacade": Removed,
    "Ref": Removed,
}

_HOT_20130523: dict[str, FunctionClass] = {
    "Fn::GetAZs": fn.GetAZs,
    "get_param": fn.GetParam,
    "get_resource": fn.GetResource,
    "Ref": fn.make_ref,
    "get_attr": fn.GetAttThenSelect,
    "Fn::Select": fn.Select,
    "Fn::Join": fn.Join,
    "list_join": fn.Join,
    "Fn::Split": fn.CfnSplit,
    "str_replace": fn.Replace,
    "Fn::Replace": fn.CfnReplace,
    "Fn::Base64": fn.Base64,
    "Fn::MemberListToMap": fn.MemberListToMap,
    "resource_facade": fn.ResourceFacade,
    "Fn::ResourceFacade": fn.CfnResourceFacade,
    "get_file": fn.GetFile,
}

_HOT_20141016: dict[str, FunctionClass] = {
    "get_attr": fn.GetAtt,
    "get_file": fn.GetFile,
    "get_param": fn.GetParam,
    "get_resource": fn.GetResource,
    "list_join": fn.Join,
    "resource_facade": fn.ResourceFacade,
    "str_replace": fn.Replace,
    "Fn::Select": fn.Select,
    **_REMOVED_2014,
}

_HOT_20150430 = {**_HOT_20141016, "repeat": fn.Repeat, "digest": fn.Digest}

_HOT_20151015 = {
    **_HOT_20150430,
    "get_attr": fn.GetAttAllAttributes,
    "list_join": fn.JoinMultiple,
    "str_replace": fn.ReplaceJson,
    "str_split": fn.StrSplit,
    "Fn::Select": Removed,
}

_HOT_20160408 = {**_HOT_20151015, "map_merge": fn.MapMerge}

_HOT_20161014 = {
    **_HOT_20160408,
    "repeat": fn.RepeatWithMap,
    "yaql": fn.Yaql,
    "map_replace": fn.MapReplace,
    "if": fn.If,
}

_HOT_20170224 = {
    **_HOT_20161014,
    "filter": fn.Filter,
    "str_replace_strict": fn.ReplaceJsonStrict,
}

_HOT_20170901 = {
    **_HOT_20170224,
    "repeat": fn.RepeatWithNestedLoop,
    "make_url": fn.MakeURL,
    "list_concat": fn.ListConcat,
    "str_replace_vstrict": fn.ReplaceJsonVeryStrict,
    "list_concat_unique": fn.ListConcatUnique,
    "contains": fn.Contains,
}

_HOT_20210416 = {**_HOT_20170901, "if": fn.IfNullable}

_HOT_CONDITIONS_20161014: dict[str, FunctionClass] = {
    "get_param": fn.GetParam,
    "equals": fn.Equals,
    "not": fn.Not,
    "and": fn.And,
    "or": fn.Or,
}

_HOT_CONDITIONS_20170901 = {**_HOT_CONDITIONS_20161014, "yaql": fn.Yaql, "contains": fn.Contains}

_HOT_SECTIONS = (
    "heat_template_version",
    "description",
    "parameter_groups",
    "parameters",
    "resources",
    "outputs",
)
_HOT_RESOURCE_KEYS = (
    "type",
    "properties",
    "metadata",
    "depends_on",
    "deletion_policy",
    "update_policy",
    "description",
)
_HOT_PARAMETER_KEYS = (
    "type",
    "description",
    "default",
    "schema",
    "constraints",
    "hidden",
    "label",
    "immutable",
)
_POLICIES = {"Delete": "Delete", "Retain": "Retain", "Snapshot": "Snapshot"}
_POLICIES_LOWER = {**_POLICIES, "delete": "Delete", "retain": "Retain", "snapshot": "Snapshot"}


def _hot(
    date: str,
    aliases: tuple[str, ...],
    functions: dict[str, FunctionClass],
    *,
    conditions: dict[str, FunctionClass] | None = None,
    modulo: bool = False,
    tags: bool = False,
    description: str = "",
) -> TemplateVersion:
    has_conditions = conditions is not None
    return TemplateVersion(
        key=HOT_KEY,
        date=date,
        kind="hot",
        aliases=aliases,
        functions=functions,
        condition_functions=conditions or {},
        sections=_HOT_SECTIONS + (("conditions",) if has_conditions else ()),
        resource_keys=_HOT_RESOURCE_KEYS + (("external_id", "condition") if has_conditions else ()),
        output_keys=("description", "value") + (("condition",) if has_conditions else ()),
        deletion_policies=_POLICIES_LOWER if has_conditions else _POLICIES,
        parameter_keys=_HOT_PARAMETER_KEYS + (("tags",) if tags else ()),
        has_conditions=has_conditions,
        modulo_constraint=modulo,
        parameter_tags=tags,
        description=description,
    )


_CFN_SECTIONS = (
    AWS_KEY,
    HEAT_CFN_KEY,
    "Description",
    "Mappings",
    "Parameters",
    "Resources",
    "Outputs",
)
_CFN_RESOURCE_KEYS = (
    "Type",
    "Properties",
    "Metadata",
    "DependsOn",
    "DeletionPolicy",
    "UpdatePolicy",
    "Description",
)
_CFN_PARAMETER_KEYS = (
    "Type",
    "Default",
    "NoEcho",
    "AllowedValues",
    "AllowedPattern",
    "MaxLength",
    "MinLength",
    "MaxValue",
    "MinValue",
    "Description",
    "ConstraintDescription",
    "Label",
)
_CFN_BASE_FUNCTIONS: dict[str, FunctionClass] = {
    "Fn::FindInMap": fn.FindInMap,
    "Fn::GetAZs": fn.GetAZs,
    "Ref": fn.make_ref,
    "Fn::GetAtt": fn.CfnGetAtt,
    "Fn::Select": fn.Select,
    "Fn::Join": fn.Join,
    "Fn::Split": fn.CfnSplit,
    "Fn::Replace": fn.CfnReplace,
    "Fn::Base64": fn.Base64,
    "Fn::MemberListToMap": fn.MemberListToMap,
    "Fn::ResourceFacade": fn.CfnResourceFacade,
}

CFN_2010 = TemplateVersion(
    key=AWS_KEY,
    date="2010-09-09",
    kind="cfn",
    aliases=(),
    functions={**_CFN_BASE_FUNCTIONS, "Fn::If": fn.If},
    condition_functions={
        "Fn::Equals": fn.Equals,
        "Ref": fn.ParamRef,
        "Fn::FindInMap": fn.FindInMap,
        "Fn::Not": fn.CfnNot,
        "Fn::And": fn.And,
        "Fn::Or": fn.Or,
    },
    sections=(*_CFN_SECTIONS, "Conditions"),
    resource_keys=(*_CFN_RESOURCE_KEYS, "Condition"),
    output_keys=("Description", "Value", "Condition"),
    deletion_policies=_POLICIES,
    parameter_keys=_CFN_PARAMETER_KEYS,
    has_conditions=True,
    description="AWS CloudFormation template format",
)

HEAT_CFN_2012 = TemplateVersion(
    key=HEAT_CFN_KEY,
    date="2012-12-12",
    kind="cfn",
    aliases=(),
    functions=dict(_CFN_BASE_FUNCTIONS),
    condition_functions={},
    sections=_CFN_SECTIONS,
    resource_keys=_CFN_RESOURCE_KEYS,
    output_keys=("Description", "Value"),
    deletion_policies=_POLICIES,
    parameter_keys=_CFN_PARAMETER_KEYS,
    description="heat's CloudFormation-compatible template format",
)

HOT_VERSIONS: tuple[TemplateVersion, ...] = (
    _hot("2013-05-23", (), _HOT_20130523, description="Icehouse"),
    _hot("2014-10-16", (), _HOT_20141016, description="Juno"),
    _hot("2015-04-30", (), _HOT_20150430, description="Kilo"),
    _hot("2015-10-15", (), _HOT_20151015, description="Liberty"),
    _hot("2016-04-08", (), _HOT_20160408, description="Mitaka"),
    _hot(
        "2016-10-14",
        ("newton",),
        _HOT_20161014,
        conditions=_HOT_CONDITIONS_20161014,
        description="Newton",
    ),
    _hot(
        "2017-02-24",
        ("ocata",),
        _HOT_20170224,
        conditions=_HOT_CONDITIONS_20161014,
        modulo=True,
        description="Ocata",
    ),
    _hot(
        "2017-09-01",
        ("pike",),
        _HOT_20170901,
        conditions=_HOT_CONDITIONS_20170901,
        modulo=True,
        description="Pike",
    ),
    _hot(
        "2018-03-02",
        ("queens",),
        _HOT_20170901,
        conditions=_HOT_CONDITIONS_20170901,
        modulo=True,
        tags=True,
        description="Queens",
    ),
    _hot(
        "2018-08-31",
        ("rocky",),
        _HOT_20170901,
        conditions=_HOT_CONDITIONS_20170901,
        modulo=True,
        tags=True,
        description="Rocky",
    ),
    _hot(
        "2021-04-16",
        ("wallaby",),
        _HOT_20210416,
        conditions=_HOT_CONDITIONS_20170901,
        modulo=True,
        tags=True,
        description="Wallaby",
    ),
)

ALL_VERSIONS: tuple[TemplateVersion, ...] = (CFN_2010, HEAT_CFN_2012, *HOT_VERSIONS)

# (key, value) -> version; aliases included, as heat registers them.
_BY_KEY: dict[tuple[str, str], TemplateVersion] = {}
for _v in ALL_VERSIONS:
    _BY_KEY[(_v.key, _v.date)] = _v
    for _alias in _v.aliases:
        _BY_KEY[(_v.key, _alias)] = _v

VERSION_KEYS = frozenset(key for key, _ in _BY_KEY)


def lookup(name: str) -> TemplateVersion | None:
    """A version by heat's name for it: `heat_template_version.2016-10-14` (or `.newton`)."""
    key, _, value = name.partition(".")
    return _BY_KEY.get((key, value))


def version_of(template: dict[str, object]) -> TemplateVersion:
    """The version a template declares, or heat's InvalidTemplateVersion."""
    present = {k for k, v in template.items() if k in VERSION_KEYS and isinstance(v, str)}
    if len(present) > 1:
        raise InvalidTemplateVersion(f"Ambiguous versions ({', '.join(sorted(present))})")
    if not present:
        raise InvalidTemplateVersion("Template version was not provided")
    key = present.pop()
    value = template[key]
    assert isinstance(value, str)
    version = _BY_KEY.get((key, value))
    if version is None:
        available = sorted(v for k, v in _BY_KEY if k == key)
        if len(available) > 1:
            explanation = f'"{key}: {value}". "{key}" should be one of: {", ".join(available)}'
        else:
            explanation = f'"{key}: {value}". "{key}" should be: {", ".join(available)}'
        raise InvalidTemplateVersion(explanation)
    return version


def default_version() -> TemplateVersion:
    return HOT_VERSIONS[-1]
