"""Intrinsic functions: parsing snippets into function nodes, resolving them lazily.

A snippet is plain data (dicts, lists, scalars) in which a one-key mapping whose key names a
function of the template's version (`{get_param: flavor}`) becomes a `Function` node when the
snippet is parsed. Nothing is resolved at parse time: `resolve(node, resolver)` asks the
engine's `Resolver` for parameter values, physical ids, attributes and files only when a
value is needed, and `dependencies(node)` lists the resources a snippet names without asking
anything.

Behaviour (argument forms, results, and the text of every error) follows heat's
`heat/engine/hot/functions.py` and `heat/engine/cfn/functions.py`; the code is our own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from stacklab.orchestration.template.errors import (
    InvalidTemplateVersion,
    StackValidationFailed,
    TemplateError,
    UserParameterMissing,
)

if TYPE_CHECKING:
    from stacklab.orchestration.template.conditions import Conditions
    from stacklab.orchestration.template.versions import TemplateVersion


class _Omit:
    """The value of a 2021-04-16 `if` with no else branch whose condition is false."""

    _instance: ClassVar[_Omit | None] = None

    def __new__(cls) -> _Omit:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "OMIT"


OMIT = _Omit()


@runtime_checkable
class Resolver(Protocol):
    """What the engine answers while a snippet is resolved.

    Each method raises KeyError for a name it does not know (the library turns that into
    heat's error). `resource_attr` gets `attr=None` for `get_attr: [name]` (all attributes,
    HOT 2015-10-15 on) and, from HOT 2014-10-16 on, the path after the attribute name: it
    applies it itself (`select_path` does it as heat does), since some resources (nested
    stacks, groups) read paths their own way. It returns None while the resource has no
    value yet. An optional `availability_zones()` serves CFN's Fn::GetAZs (default
    `["nova"]`).
    """

    def param(self, name: str) -> Any: ...

    def resource_ref(self, name: str) -> str | None: ...

    def resource_attr(self, name: str, attr: str | None, *path: Any) -> Any: ...

    def file(self, name: str) -> str | None: ...

    def facade(self, kind: str) -> Any: ...


class Scope(Protocol):
    """What a function learns at parse time from the template that holds it."""

    @property
    def version(self) -> TemplateVersion: ...

    def has_resource(self, name: str) -> bool: ...

    def mapping(self, name: str) -> Any: ...

    def conditions(self, context: Context) -> Conditions: ...

    def parse_condition(self, snippet: Any, path: str) -> Any: ...


class Context:
    """One resolution's state: the resolver, and conditions already evaluated."""

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self._conditions: dict[int, Conditions] = {}

    def param(self, name: str) -> Any:
        try:
            return self.resolver.param(name)
        except KeyError:
            raise UserParameterMissing(name) from None

    def conditions(self, scope: Scope) -> Conditions:
        key = id(scope)
        if key not in self._conditions:
            self._conditions[key] = scope.conditions(self)
        return self._conditions[key]


def as_context(resolver: Resolver | Context) -> Context:
    return resolver if isinstance(resolver, Context) else Context(resolver)


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str)


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


class Function:
    """A parsed `{name: args}`; `args` is itself parsed (may hold functions)."""

    def __init__(self, scope: Scope, name: str, args: Any, path: str) -> None:
        self.scope = scope
        self.name = name
        self.args = args
        self.path = path
        self.check()

    # -- what subclasses define
    def check(self) -> None:
        """Argument checks heat makes when it parses the function (raise Type/Value/KeyError)."""

    def validate(self) -> None:
        """Deeper checks heat makes when it validates a stack."""
        validate(self.args, self.path)

    def result(self, ctx: Context) -> Any:
        raise NotImplementedError

    def dependencies(self, path: str, ctx: Context | None) -> Iterator[tuple[str, str]]:
        """(resource name, heat-style location) of every resource this function names."""
        return dependencies(self.args, f"{path}.{self.name}", ctx)

    def attribute_references(self, ctx: Context | None) -> Iterator[tuple[str, Any]]:
        return attribute_references(self.args, ctx)

    # -- shared
    def evaluate(self, ctx: Context) -> Any:
        try:
            return self.result(ctx)
        except StackValidationFailed:
            raise
        except TemplateError as exc:
            raise StackValidationFailed(exc.message, path=self.path) from exc
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            raise StackValidationFailed(str(exc), path=self.path) from exc

    def raw(self) -> dict[str, Any]:
        """The function back as template data."""
        return {self.name: unparse(self.args)}

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}: {self.args!r}>"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Function):
            return type(self) is type(other) and self.raw() == other.raw()
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


FunctionClass = Callable[[Scope, str, Any, str], Function]


# --------------------------------------------------------------------------- walking


def parse(
    functions: Mapping[str, FunctionClass], scope: Scope, snippet: Any, path: str = ""
) -> Any:
    """Turn one-key mappings that name a function into Function nodes, depth first."""
    if isinstance(snippet, Mapping):
        if len(snippet) == 1:
            name, args = next(iter(snippet.items()))
            factory = functions.get(name)
            if factory is not None:
                fn_path = f"{path}.{name}" if path else name
                parsed_args = parse(functions, scope, args, fn_path)
                try:
                    return factory(scope, name, parsed_args, path)
                except (ValueError, TypeError, KeyError) as exc:
                    raise StackValidationFailed(str(exc), path=fn_path) from exc
        return {
            k: parse(functions, scope, v, f"{path}.{k}" if path else str(k))
            for k, v in snippet.items()
        }
    if isinstance(snippet, list | tuple):
        return [parse(functions, scope, v, f"{path}[{i}]") for i, v in enumerate(snippet)]
    return snippet


def unparse(snippet: Any) -> Any:
    if isinstance(snippet, Function):
        return snippet.raw()
    if isinstance(snippet, Mapping):
        return {k: unparse(v) for k, v in snippet.items()}
    if _is_list(snippet):
        return [unparse(v) for v in snippet]
    return snippet


def _resolve(snippet: Any, ctx: Context, nullable: bool = False) -> Any:
    if isinstance(snippet, Function):
        value = snippet.evaluate(ctx)
        if value is OMIT and not nullable:
            return None
        return value
    if isinstance(snippet, Mapping):
        out = {}
        for k, v in snippet.items():
            value = _resolve(v, ctx, nullable=True)
            if value is not OMIT:
                out[k] = value
        return out
    if _is_list(snippet):
        items = (_resolve(v, ctx, nullable=True) for v in snippet)
        return [v for v in items if v is not OMIT]
    return snippet


def resolve(snippet: Any, resolver: Resolver | Context) -> Any:
    """The snippet's value, every function in it evaluated through `resolver`."""
    return _resolve(snippet, as_context(resolver))


def validate(snippet: Any, path: str = "") -> None:
    """Run every function's static checks (heat's validate pass); StackValidationFailed."""
    if isinstance(snippet, Function):
        try:
            snippet.validate()
        except StackValidationFailed:
            raise
        except TemplateError as exc:
            where = _join(snippet.path, snippet.name)
            raise StackValidationFailed(exc.message, path=where) from exc
        except (ValueError, TypeError, KeyError) as exc:
            where = _join(snippet.path, snippet.name)
            raise StackValidationFailed(str(exc), path=where) from exc
    elif isinstance(snippet, Mapping):
        for v in snippet.values():
            validate(v)
    elif _is_list(snippet):
        for v in snippet:
            validate(v)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def dependencies(
    snippet: Any, path: str = "", ctx: Context | None = None
) -> Iterator[tuple[str, str]]:
    """(resource name, location) for each get_resource/get_attr/Ref/Fn::GetAtt in a snippet.

    Without a context, both branches of an `if` count and names computed by functions are
    skipped; with one (parameters known), only the branch the condition picks.
    """
    if isinstance(snippet, Function):
        yield from snippet.dependencies(path, ctx)
    elif isinstance(snippet, Mapping):
        for k, v in snippet.items():
            yield from dependencies(v, f"{path}.{k}", ctx)
    elif _is_list(snippet):
        for i, v in enumerate(snippet):
            yield from dependencies(v, f"{path}[{i}]", ctx)


def referenced_resources(snippet: Any, resolver: Resolver | Context | None = None) -> set[str]:
    """Names of the resources a parsed snippet refers to, resolving nothing but conditions
    (and names computed by functions) when a resolver is given."""
    ctx = None if resolver is None else as_context(resolver)
    return {name for name, _ in dependencies(snippet, "", ctx)}


def attribute_references(snippet: Any, ctx: Context | None = None) -> Iterator[tuple[str, Any]]:
    """(resource name, attribute) pairs a snippet reads; attribute None means all of them,
    a tuple an attribute with a path (HOT 2014-10-16 on)."""
    if isinstance(snippet, Function):
        yield from snippet.attribute_references(ctx)
    elif isinstance(snippet, Mapping):
        for v in snippet.values():
            yield from attribute_references(v, ctx)
    elif _is_list(snippet):
        for v in snippet:
            yield from attribute_references(v, ctx)


def _static_name(value: Any, ctx: Context | None) -> Any:
    if isinstance(value, Function):
        if ctx is None:
            return None
        try:
            return _resolve(value, ctx)
        except TemplateError:
            return None
    return value


def select_path(value: Any, path: Sequence[Any]) -> Any:
    """An attribute's value followed down `path` as heat does: None where it does not lead."""
    for key in path:
        if not isinstance(value, Mapping | Sequence):
            return None
        if not isinstance(key, str | int):
            return None
        try:
            value = value[key]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            return None
    return value


class Removed(Function):
    """A function an older version had; only validation (heat's) reports it."""

    def validate(self) -> None:
        raise InvalidTemplateVersion(
            f"The function {self.name} is not supported in this version of HOT."
        )

    def result(self, ctx: Context) -> Any:
        return {self.name: _resolve(self.args, ctx)}


class Invalid(Function):
    """A function that may not appear in a condition definition."""

    def check(self) -> None:
        raise ValueError(f'The function "{self.name}" is invalid in this context')

    def result(self, ctx: Context) -> Any:  # pragma: no cover - never constructed
        raise ValueError(self.name)
