"""The intrinsic functions themselves, HOT's and CFN's, one class per behaviour.

Each class reads its arguments when the snippet is parsed (`check`: heat's parse-time
errors), checks more when the stack is validated (`validate`) and computes its value in
`result`. Behaviour and error texts follow heat's heat/engine/hot/functions.py and
heat/engine/cfn/functions.py; which name maps to which class per version is versions.py's.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar
from urllib import parse as urlparse

from stacklab.orchestration.template.errors import (
    InvalidTemplateReference,
    StackValidationFailed,
)
from stacklab.orchestration.template.intrinsics import (
    OMIT,
    Context,
    Function,
    Scope,
    _dumps,
    _is_list,
    _join,
    _resolve,
    _static_name,
    attribute_references,
    dependencies,
    select_path,
    unparse,
    validate,
)

# --------------------------------------------------------------------------- references


class GetParam(Function):
    """get_param: a parameter's value, optionally followed down a path into it."""

    def result(self, ctx: Context) -> Any:
        args = _resolve(self.args, ctx)
        if not args:
            raise ValueError(f'Function "{self.name}" must have arguments')
        if isinstance(args, str):
            name, path = args, []
        elif isinstance(args, Sequence):
            name, path = args[0], list(args[1:])
        else:
            raise TypeError(f'Argument to "{self.name}" must be string or list')
        if not isinstance(name, str):
            raise TypeError(f'Parameter name in "{self.name}" must be string')
        value = ctx.param(name)
        for key in path:
            if not isinstance(value, Mapping | Sequence) or not isinstance(key, str | int):
                return ""
            if isinstance(value, Sequence) and isinstance(key, str):
                try:
                    key = int(key)
                except ValueError:
                    return ""
            try:
                value = value[key]
            except (KeyError, IndexError, TypeError):
                return ""
        return value


class ParamRef(Function):
    """CFN's Ref to a parameter."""

    def result(self, ctx: Context) -> Any:
        name = _resolve(self.args, ctx)
        try:
            return ctx.resolver.param(name)
        except KeyError:
            raise InvalidTemplateReference(name, "unknown") from None


class GetResource(Function):
    """get_resource: the physical id of another resource in the stack."""

    def result(self, ctx: Context) -> Any:
        name = _resolve(self.args, ctx)
        try:
            return ctx.resolver.resource_ref(name)
        except KeyError:
            raise InvalidTemplateReference(name, "unknown") from None

    def dependencies(self, path: str, ctx: Context | None) -> Iterator[tuple[str, str]]:
        yield from super().dependencies(path, ctx)
        name = _static_name(self.args, ctx)
        if isinstance(name, str):
            yield name, path


def make_ref(scope: Scope, name: str, args: Any, path: str) -> Function:
    """CFN's Ref: a resource's id when the template has such a resource, else a parameter."""
    if isinstance(args, str) and scope.has_resource(args):
        return GetResource(scope, name, args, path)
    return ParamRef(scope, name, args, path)


class GetAttThenSelect(Function):
    """get_attr as HOT 2013-05-23 had it: the attribute, then the path selected from it."""

    def check(self) -> None:
        self.resource, self.attribute, self.attr_path = self.parse_args()

    def parse_args(self) -> tuple[Any, Any, list[Any]]:
        if not _is_list(self.args):
            raise TypeError(f'Argument to "{self.name}" must be a list')
        if len(self.args) < 2:
            raise ValueError(
                f'Arguments to "{self.name}" must be of the form '
                "[resource_name, attribute, (path), ...]"
            )
        return self.args[0], self.args[1], list(self.args[2:])

    def _resource_name(self, ctx: Context) -> Any:
        return _resolve(self.resource, ctx)

    def _attr(self, ctx: Context, name: Any, attr: Any, path: list[Any]) -> Any:
        try:
            return ctx.resolver.resource_attr(name, attr, *path)
        except KeyError:
            raise InvalidTemplateReference(name, "unknown") from None

    def result(self, ctx: Context) -> Any:
        name = self._resource_name(ctx)
        attr = _resolve(self.attribute, ctx)
        value = self._attr(ctx, name, attr, [])
        if value is None:
            return None
        return select_path(value, _resolve(self.attr_path, ctx))

    def dependencies(self, path: str, ctx: Context | None) -> Iterator[tuple[str, str]]:
        yield from super().dependencies(path, ctx)
        name = _static_name(self.resource, ctx)
        if isinstance(name, str):
            yield name, path

    def validate(self) -> None:
        # heat checks the resource exists here (the attribute name is the plugin's matter).
        super().validate()
        if isinstance(self.resource, str) and not self.scope.has_resource(self.resource):
            raise InvalidTemplateReference(self.resource, "unknown")

    def attribute_references(self, ctx: Context | None) -> Iterator[tuple[str, Any]]:
        yield from super().attribute_references(ctx)
        name = _static_name(self.resource, ctx)
        attr = _static_name(self.attribute, ctx)
        if isinstance(name, str) and (attr is None or isinstance(attr, str)):
            yield name, self._attr_key(attr, ctx)

    def _attr_key(self, attr: Any, ctx: Context | None) -> Any:
        return attr


class GetAtt(GetAttThenSelect):
    """get_attr from HOT 2014-10-16: the resource is handed the path itself."""

    def result(self, ctx: Context) -> Any:
        name = self._resource_name(ctx)
        attr = _resolve(self.attribute, ctx)
        path = _resolve(self.attr_path, ctx)
        return self._attr(ctx, name, attr, path)

    def _attr_key(self, attr: Any, ctx: Context | None) -> Any:
        path = _static_name(self.attr_path, ctx) if self.attr_path else []
        if path:
            return (attr, *path)
        return attr


class GetAttAllAttributes(GetAtt):
    """get_attr from HOT 2015-10-15: `[resource]` alone is the map of all its attributes."""

    def parse_args(self) -> tuple[Any, Any, list[Any]]:
        if not self.args:
            raise ValueError(
                f'Arguments to "{self.name}" can be of the next forms: '
                "[resource_name] or [resource_name, attribute, (path), ...]"
            )
        if isinstance(self.args, Sequence):
            if len(self.args) > 1:
                return super().parse_args()
            return self.args[0], None, []
        raise TypeError(f'Argument to "{self.name}" must be a list')


class CfnGetAtt(GetAttThenSelect):
    """Fn::GetAtt: exactly [resource, attribute]."""

    def parse_args(self) -> tuple[Any, Any, list[Any]]:
        if not _is_list(self.args) or len(self.args) != 2:
            raise ValueError(
                f'Arguments to "{self.name}" must be of the form [resource_name, attribute]'
            )
        return self.args[0], self.args[1], []


class GetFile(Function):
    """get_file: the content the client sent in `files` under a name."""

    def result(self, ctx: Context) -> Any:
        key = _resolve(self.args, ctx)
        if not isinstance(key, str):
            raise TypeError(f'Argument to "{self.name}" must be a string')
        content = ctx.resolver.file(key)
        if content is None:
            raise ValueError(f'No content found in the "files" section for {self.name} path: {key}')
        return content


class ResourceFacade(Function):
    """resource_facade: metadata or policies of the resource a provider template stands for."""

    KINDS: ClassVar[tuple[str, ...]] = ("metadata", "deletion_policy", "update_policy")

    def check(self) -> None:
        if self.args not in self.KINDS:
            raise ValueError(
                f'Incorrect arguments to "{self.name}" should be one of: {", ".join(self.KINDS)}'
            )

    def result(self, ctx: Context) -> Any:
        kind = self.KINDS.index(self.args)
        return ctx.resolver.facade(ResourceFacade.KINDS[kind])


class CfnResourceFacade(ResourceFacade):
    KINDS: ClassVar[tuple[str, ...]] = ("Metadata", "DeletionPolicy", "UpdatePolicy")


# --------------------------------------------------------------------------- strings


_STR_REPLACE_EXAMPLE = (
    "{0}:\n"
    "              template: This is var1 template var2\n"
    "              params:\n"
    "                var1: a\n"
    "                var2: string"
)


class Replace(Function):
    """str_replace as HOT had it until 2015-04-30: only scalars may be substituted."""

    strict: ClassVar[bool] = False
    allow_empty: ClassVar[bool] = True

    def check(self) -> None:
        self.mapping, self.template = self.parse_args()
        if not isinstance(self.mapping, Mapping | Function):
            raise TypeError(f'"{self.name}" parameters must be a mapping')

    def parse_args(self) -> tuple[Any, Any]:
        if not isinstance(self.args, Mapping):
            raise TypeError(f'Arguments to "{self.name}" must be a map')
        try:
            return self.args["params"], self.args["template"]
        except KeyError:
            raise KeyError(
                f'"{self.name}" syntax should be ' + _STR_REPLACE_EXAMPLE.format(self.name)
            ) from None

    def replacement(self, value: Any, param: str) -> str:
        if value is None:
            return ""
        if not isinstance(value, str | int | float | bool):
            raise TypeError(
                f'"{self.name}" params must be strings or numbers, param {param} is not valid'
            )
        return str(value)

    def result(self, ctx: Context) -> Any:
        template = _resolve(self.template, ctx)
        mapping = _resolve(self.mapping, ctx)
        if not isinstance(template, str):
            raise TypeError(f'"{self.name}" template must be a string')
        if not isinstance(mapping, Mapping):
            raise TypeError(f'"{self.name}" params must be a map')
        unreplaced = set(mapping) if self.strict else set()
        # Longest placeholders first, equal lengths in lexicographic order (as heat).
        keys = sorted(sorted(mapping, key=str), key=lambda k: len(str(k)), reverse=True)

        def replace(strings: list[str], remaining: list[Any]) -> list[str]:
            if not remaining:
                return strings
            placeholder = remaining[0]
            if not isinstance(placeholder, str):
                raise TypeError(f'"{self.name}" param placeholders must be strings')
            value = self.replacement(mapping[placeholder], placeholder)
            out = []
            for s in strings:
                parts = s.split(placeholder)
                if len(parts) > 1:
                    unreplaced.discard(placeholder)
                out.append(value.join(replace(parts, remaining[1:])))
            return out

        text = replace([template], keys)[0]
        if self.strict and unreplaced:
            missing = sorted(sorted(unreplaced), key=len, reverse=True)
            raise ValueError(
                "The following params were not found in the template: " + ",".join(missing)
            )
        return text


class ReplaceJson(Replace):
    """str_replace from HOT 2015-10-15: lists and maps are substituted as JSON."""

    def _empty(self, param: str) -> ValueError:
        return ValueError(
            f"{self.name} has an undefined or empty value for param {param}, "
            "must be a defined non-empty value"
        )

    def replacement(self, value: Any, param: str) -> str:
        if value is None:
            if self.allow_empty:
                return ""
            raise self._empty(param)
        if not isinstance(value, str | int | float | bool):
            if isinstance(value, Mapping | Sequence):
                if not self.allow_empty and len(value) == 0:
                    raise self._empty(param)
                try:
                    return _dumps(value)
                except TypeError:
                    raise TypeError(
                        f'"{self.name}" params must be strings, numbers, list or map. '
                        f"Failed to json serialize {value}"
                    ) from None
            raise TypeError(f'"{self.name}" params must be strings, numbers, list or map.')
        text = str(value)
        if not self.allow_empty and not text:
            raise self._empty(param)
        return text


class ReplaceJsonStrict(ReplaceJson):
    """str_replace_strict: as str_replace, and every param must occur in the template."""

    strict = True


class ReplaceJsonVeryStrict(ReplaceJsonStrict):
    """str_replace_vstrict: as str_replace_strict, and no param may be empty."""

    allow_empty = False


class CfnReplace(Replace):
    """Fn::Replace: [ {placeholder: value}, template ]."""

    def parse_args(self) -> tuple[Any, Any]:
        example = f'{{"{self.name}": [ {{"$var1": "foo", "%var2%": "bar"}}, "$var1 is %var2%"]}}'
        message = f'Incorrect arguments to "{self.name}" should be: {example}'
        if isinstance(self.args, str | Mapping):
            raise TypeError(message)
        try:
            mapping, template = self.args
        except (ValueError, TypeError):
            raise ValueError(message) from None
        return mapping, template


class Join(Function):
    """list_join until HOT 2015-04-30 (and Fn::Join): one list of strings."""

    def example(self) -> str:
        return f'"{self.name}" : [ " ", [ "str1", "str2"]]'

    def check(self) -> None:
        message = f'Incorrect arguments to "{self.name}" should be: {self.example()}'
        if not isinstance(self.args, list):
            raise TypeError(message)
        if len(self.args) != 2:
            raise ValueError(message)
        self.delim, self.strings = self.args

    def result(self, ctx: Context) -> Any:
        strings = _resolve(self.strings, ctx)
        if strings is None:
            strings = []
        if not _is_list(strings):
            raise TypeError(f'"{self.name}" must operate on a list')
        delim = _resolve(self.delim, ctx)
        if not isinstance(delim, str):
            raise TypeError(f'"{self.name}" delimiter must be a string')

        def text(s: Any) -> str:
            if s is None:
                return ""
            if not isinstance(s, str):
                raise TypeError(f"Items to join must be strings not {repr(s)[:200]}")
            return s

        return delim.join(text(s) for s in strings)


class JoinMultiple(Function):
    """list_join from HOT 2015-10-15: several lists; maps and lists joined as JSON."""

    def check(self) -> None:
        example = f'"{self.name}" : [ " ", [ "str1", "str2"] ...]'
        message = f'Incorrect arguments to "{self.name}" should be: {example}'
        if not isinstance(self.args, list):
            raise TypeError(message)
        if len(self.args) < 2:
            raise ValueError(message)
        self.delim, self.lists = self.args[0], self.args[1:]

    def result(self, ctx: Context) -> Any:
        strings: list[Any] = []
        for items in _resolve(self.lists, ctx):
            if items:
                if not _is_list(items):
                    raise TypeError(f'"{self.name}" must operate on a list')
                strings += items
        delim = _resolve(self.delim, ctx)
        if not isinstance(delim, str):
            raise TypeError(f'"{self.name}" delimiter must be a string')

        def text(s: Any) -> str:
            if s is None:
                return ""
            if isinstance(s, str):
                return s
            if isinstance(s, Mapping | Sequence):
                try:
                    return _dumps(s)
                except TypeError:
                    raise TypeError(
                        "Items to join must be string, map or list. "
                        f"{repr(s)[:200]} failed json serialization"
                    ) from None
            raise TypeError(f"Items to join must be string, map or list not {repr(s)[:200]}")

        return delim.join(text(s) for s in strings)


class StrSplit(Function):
    """str_split: [delimiter, string, (index)]."""

    def check(self) -> None:
        if isinstance(self.args, str | Mapping):
            raise TypeError(self._message("arguments"))

    def _message(self, what: str) -> str:
        example = f'"{self.name}" : [ ",", "apples,pears", <index>]'
        return f'Incorrect {what} to "{self.name}" should be: {example}'

    def result(self, ctx: Context) -> Any:
        args = _resolve(self.args, ctx)
        if not isinstance(args, list) or len(args) < 2:
            raise ValueError(self._message("arguments"))
        delim, text, rest = args[0], args[1], args[2:]
        if text is None:
            return None
        parts = text.split(delim)
        if not rest:
            return parts
        try:
            index = int(rest[0])
        except ValueError:
            raise ValueError(self._message("index")) from None
        try:
            return parts[index]
        except IndexError:
            raise ValueError(
                f'Incorrect index to "{self.name}" should be between 0 and {len(parts) - 1}'
            ) from None


class Digest(Function):
    """digest: [algorithm, value] hashed with one of hashlib's algorithms."""

    def result(self, ctx: Context) -> Any:
        args = _resolve(self.args, ctx)
        if not (isinstance(args, list) and all(isinstance(a, str) for a in args)):
            raise TypeError(f'Argument to function "{self.name}" must be a list of strings')
        if len(args) != 2:
            raise ValueError(f'Function "{self.name}" usage: ["<algorithm>", "<value>"]')
        algorithms = hashlib.algorithms_available
        if args[0].lower() not in algorithms:
            raise ValueError(f"Algorithm must be one of {algorithms}")
        digest = hashlib.new(args[0])
        digest.update(args[1].encode("latin-1"))
        return digest.hexdigest()


class MakeURL(Function):
    """make_url: a URL, correctly escaped, from its parts."""

    KEYS: ClassVar[tuple[str, ...]] = (
        "scheme",
        "username",
        "password",
        "host",
        "port",
        "path",
        "query",
        "fragment",
    )

    def _check_parts(self, args: Mapping[str, Any]) -> None:
        for key in self.KEYS:
            if key not in args:
                continue
            value = args[key]
            if key == "query":
                if not isinstance(value, Function | Mapping):
                    raise TypeError(f'The "{key}" argument to "{self.name}" must be a map')
                # heat stops checking at the query (its loop returns there).
                return
            if key == "port":
                if isinstance(value, Function):
                    continue
                port = value
                if not isinstance(port, int):
                    try:
                        port = int(port)
                    except ValueError:
                        raise ValueError(
                            f'Invalid URL port "{port}" for {self.name} called with {args}'
                        ) from None
                if not 0 < port <= 65535:
                    raise ValueError(f"Invalid URL port {port}, must be in range 1-65535")
            elif not isinstance(value, Function | str):
                raise TypeError(f'The "{key}" argument to "{self.name}" must be a string')

    def validate(self) -> None:
        super().validate()
        if not isinstance(self.args, Mapping):
            raise TypeError(f'The arguments to "{self.name}" must be a map')
        invalid = set(self.args) - set(self.KEYS)
        if invalid:
            raise ValueError(f'Invalid arguments to "{self.name}": {", ".join(sorted(invalid))}')
        self._check_parts(self.args)

    def result(self, ctx: Context) -> Any:
        args = _resolve(self.args, ctx)
        if not isinstance(args, Mapping):
            raise TypeError(f'The arguments to "{self.name}" must be a map')
        self._check_parts(args)
        scheme = args.get("scheme", "")
        if ":" in scheme:
            raise ValueError("URL \"scheme\" should not contain ':'")
        netloc = ""
        username = urlparse.quote(args.get("username", ""), safe="")
        password = urlparse.quote(args.get("password", ""), safe="")
        if username or password:
            netloc += username
            if password:
                netloc += ":" + password
            netloc += "@"
        host = args.get("host", "")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        host = urlparse.quote(host, safe=":")
        if ":" in host:
            host = f"[{host}]"
        netloc += host
        port = args.get("port", "")
        if port:
            netloc += f":{port}"
        path = urlparse.quote(args.get("path", ""))
        query = urlparse.urlencode(args.get("query", {})).replace("%2F", "/")
        fragment = urlparse.quote(args.get("fragment", ""))
        return urlparse.urlunsplit((scheme, netloc, path, query, fragment))


class Yaql(Function):
    """yaql: a YAQL expression evaluated over `data`."""

    _engine: ClassVar[Any] = None
    _root_context: ClassVar[Any] = None
    # heat's [yaql] limit_iterators and memory_quota defaults.
    LIMIT_ITERATORS: ClassVar[int] = 200
    MEMORY_QUOTA: ClassVar[int] = 10000

    def check(self) -> None:
        if not isinstance(self.args, Mapping):
            raise TypeError(f'Arguments to "{self.name}" must be a map.')
        if "expression" not in self.args or set(self.args) - {"expression", "data"}:
            example = (
                f"{self.name}:\n"
                "              expression: $.data.var1.sum()\n"
                "              data:\n"
                "                var1: [3, 2, 1]"
            )
            raise KeyError(f'"{self.name}" syntax should be {example}')
        self.expression = self.args["expression"]
        self.data = self.args.get("data", {})

    @classmethod
    def _parser(cls) -> Any:
        if cls._engine is None:
            # yaql 3.x reads collections.abc without importing it.
            import collections.abc  # noqa: F401

            import yaql

            cls._engine = yaql.YaqlFactory().create(
                {
                    "yaql.limitIterators": cls.LIMIT_ITERATORS,
                    "yaql.memoryQuota": cls.MEMORY_QUOTA,
                }
            )
            cls._root_context = yaql.create_context()
        return cls._engine

    def _parse(self, expression: Any) -> Any:
        if not isinstance(expression, str):
            raise TypeError(f'The "expression" argument to {self.name} must contain a string.')
        parser = self._parser()
        from yaql.language import exceptions as yaql_exceptions

        try:
            return parser(expression)
        except yaql_exceptions.YaqlException as exc:
            raise ValueError(f"Bad expression {exc}.") from exc

    def validate(self) -> None:
        super().validate()
        if not isinstance(self.expression, Function):
            self._parse(self.expression)

    def result(self, ctx: Context) -> Any:
        statement = self._parse(_resolve(self.expression, ctx))
        data = _resolve(self.data, ctx)
        from yaql.language import exceptions as yaql_exceptions

        try:
            return statement.evaluate({"data": data}, self._root_context.create_child_context())
        except yaql_exceptions.YaqlException as exc:
            raise ValueError(str(exc)) from exc


class Base64(Function):
    """Fn::Base64: heat passes user data in plain text, so this only checks a string."""

    def result(self, ctx: Context) -> Any:
        value = _resolve(self.args, ctx)
        if not isinstance(value, str):
            raise TypeError(f'"{self.name}" argument must be a string')
        return value


class CfnSplit(Function):
    """Fn::Split: [delimiter, string]."""

    def check(self) -> None:
        example = f'"{self.name}" : [ ",", "str1,str2"]]'
        message = f'Incorrect arguments to "{self.name}" should be: {example}'
        if isinstance(self.args, str | Mapping):
            raise TypeError(message)
        try:
            self.delim, self.strings = self.args
        except (ValueError, TypeError):
            raise ValueError(message) from None

    def result(self, ctx: Context) -> Any:
        strings = _resolve(self.strings, ctx)
        if not isinstance(self.delim, str):
            raise TypeError(f"Delimiter for {self.name} must be string")
        if not isinstance(strings, str):
            raise TypeError(f"String to split must be string; got {type(strings)}")
        return strings.split(self.delim)


# --------------------------------------------------------------------------- collections


class Select(Function):
    """Fn::Select: [index, list or map]; '' where nothing is found."""

    def check(self) -> None:
        try:
            self.lookup, self.collection = self.args
        except (ValueError, TypeError):
            raise ValueError(
                f'Arguments to "{self.name}" must be of the form [index, collection]'
            ) from None

    def result(self, ctx: Context) -> Any:
        index = _resolve(self.lookup, ctx)
        collection = _resolve(self.collection, ctx)
        if collection == "":
            return ""
        if isinstance(collection, str):
            try:
                collection = json.loads(collection)
            except ValueError as exc:
                raise ValueError(f'"{self.name}": {exc}') from None
        if isinstance(collection, Mapping):
            if not isinstance(index, str):
                raise TypeError(f'Index to "{self.name}" must be a string')
            return collection.get(index, "")
        with contextlib.suppress(ValueError, TypeError):
            index = int(index)
        if _is_list(collection):
            if not isinstance(index, int):
                raise TypeError(f'Index to "{self.name}" must be an integer')
            try:
                return collection[index]
            except IndexError:
                return ""
        if collection is None:
            return ""
        raise TypeError(f"Arguments to {self.name} not fully resolved")


class MapMerge(Function):
    """map_merge: maps merged left to right."""

    def result(self, ctx: Context) -> Any:
        args = _resolve(self.args, ctx)
        if not isinstance(args, Sequence):
            example = f'"{self.name}" : [ {{ "key1": "val1" }}, {{ "key2": "val2" }} ]'
            raise TypeError(f'Incorrect arguments to "{self.name}" should be: {example}')
        merged: dict[Any, Any] = {}
        for item in args:
            if item is None:
                continue
            if not isinstance(item, Mapping):
                raise TypeError(
                    "Incorrect arguments: Items to merge must be maps. "
                    f"{repr(item)[:200]} is type {type(item)} instead of a dict"
                )
            merged.update(item)
        return merged


class MapReplace(Function):
    """map_replace: [map, {keys: {old: new}, values: {old: new}}]."""

    def result(self, ctx: Context) -> Any:
        example = (
            f'"{self.name}" : [ {{ "key1": "val1" }}, '
            '{"keys": {"key1": "key2"}, "values": {"val1": "val2"}}]'
        )
        usage = f'Incorrect arguments to "{self.name}" should be: {example}'
        args = _resolve(self.args, ctx)

        def as_map(value: Any) -> Mapping[Any, Any]:
            if value is None:
                return {}
            if isinstance(value, Mapping):
                return value
            raise TypeError(
                f'Incorrect arguments: to "{self.name}", arguments must be a list of maps. '
                f"Example:  {example}"
            )

        if not isinstance(args, list) or len(args) != 2:
            raise TypeError(usage)
        source, replacements = as_map(args[0]), as_map(args[1])
        for key in replacements:
            if key not in ("keys", "values"):
                raise ValueError(usage)
        new_keys = as_map(replacements.get("keys", {}))
        new_values = as_map(replacements.get("values", {}))
        out: dict[Any, Any] = {}
        for k, v in source.items():
            key = new_keys.get(k)
            if key is None:
                key = k
            elif key in source and key != k:
                raise ValueError(f"key replacement {key} collides with a key in the input map")
            elif key in out:
                raise ValueError(f"key replacement {key} collides with a key in the output map")
            try:
                out[key] = new_values.get(v, v)
            except TypeError:  # an unhashable value is kept as it is
                out[key] = v
        return out


class ListConcat(Function):
    """list_concat: lists joined into one."""

    unique: ClassVar[bool] = False

    def result(self, ctx: Context) -> Any:
        args = _resolve(self.args, ctx)
        if not _is_list(args):
            example = f'"{self.name}" : [ [ <value 1>, <value 2> ], [ <value 3>, <value 4> ] ]'
            raise TypeError(f'Incorrect arguments to "{self.name}" should be: {example}')
        out: list[Any] = []
        for item in args:
            if item is None:
                continue
            if not _is_list(item):
                raise TypeError(
                    "Incorrect arguments: Items to concat must be lists. "
                    f"{json.dumps(args)} contains an item that is not a list: {json.dumps(item)}"
                )
            out.extend(item)
        if not self.unique:
            return out
        seen: list[Any] = []
        for item in out:
            if item not in seen:
                seen.append(item)
        return seen


class ListConcatUnique(ListConcat):
    """list_concat_unique: list_concat without repeated items."""

    unique = True


class Contains(Function):
    """contains: [value, sequence]."""

    def check(self) -> None:
        example = f'"{self.name}" : [ "value1", [ "value1", "value2"]]'
        if not self.args or not isinstance(self.args, list):
            raise TypeError(f'Incorrect arguments to "{self.name}" should be: {example}')
        if len(self.args) != 2:
            raise ValueError(
                f'Arguments to "{self.name}" must be of the form: [value1, [value1, value2]]'
            )
        self.value, self.sequence = self.args

    def result(self, ctx: Context) -> Any:
        value = _resolve(self.value, ctx)
        sequence = _resolve(self.sequence, ctx)
        if not isinstance(sequence, Sequence):
            raise TypeError(f'Second argument to "{self.name}" should be a sequence.')
        return value in sequence


class Filter(Function):
    """filter: [values, list] — the list without those values."""

    def check(self) -> None:
        if not _is_list(self.args):
            raise TypeError(f'Argument to "{self.name}" must be a list')
        if len(self.args) != 2:
            raise ValueError(
                f'"{self.name}" expected 2 arguments of the form [values, sequence] '
                f"but got {len(self.args)} arguments instead"
            )
        self.values, self.sequence = self.args

    def result(self, ctx: Context) -> Any:
        sequence = _resolve(self.sequence, ctx)
        if not sequence:
            return sequence
        if not isinstance(sequence, list):
            raise TypeError(f'"{self.name}" only works with lists')
        values = _resolve(self.values, ctx)
        if not values:
            return sequence
        if not isinstance(values, list):
            raise TypeError(f'"{self.name}" filters a list of values')
        return [item for item in sequence if item not in values]


class Repeat(Function):
    """repeat as HOT 2015-04-30 had it: for_each over lists, every combination."""

    accepts_maps: ClassVar[bool] = False
    takes_permutations: ClassVar[bool] = False

    def check(self) -> None:
        if not isinstance(self.args, Mapping):
            raise TypeError(f'Arguments to "{self.name}" must be a map')
        if "for_each" not in self.args or "template" not in self.args:
            example = (
                "repeat:\n"
                "              template: This is %var%\n"
                "              for_each:\n"
                "                %var%: ['a', 'b', 'c']"
            )
            raise KeyError(f'"repeat" syntax should be {example}')
        self.for_each = self.args["for_each"]
        self.template = self.args["template"]
        self.nested = True
        if self.takes_permutations:
            self.nested = self.args.get("permutations", True)
            if not isinstance(self.nested, bool):
                raise TypeError(f'"permutations" should be boolean type for {self.name} function.')

    def validate(self) -> None:
        super().validate()
        if not isinstance(self.for_each, Function | Mapping):
            raise TypeError(f'The "for_each" argument to "{self.name}" must contain a map')

    def _check_values(self, value: Any) -> None:
        if self.accepts_maps and self.nested:
            if not isinstance(value, Sequence | Mapping | Function) or isinstance(value, str):
                raise TypeError(
                    f'The values of the "for_each" argument to "{self.name}" must be lists or maps'
                )
        elif not isinstance(value, Sequence | Function) or isinstance(value, str):
            raise TypeError(f'The values of the "for_each" argument to "{self.name}" must be lists')

    def _substitute(self, keys: Sequence[str], values: Sequence[Any], template: Any) -> Any:
        if isinstance(template, str):
            for key, value in zip(keys, values, strict=True):
                template = template.replace(key, value)
            return template
        if isinstance(template, Mapping):
            return {
                self._substitute(keys, values, k): self._substitute(keys, values, v)
                for k, v in template.items()
            }
        if _is_list(template):
            return [self._substitute(keys, values, item) for item in template]
        return template

    def result(self, ctx: Context) -> Any:
        for_each = _resolve(self.for_each, ctx)
        if not isinstance(for_each, Mapping):
            raise TypeError(f'The "for_each" argument to "{self.name}" must contain a map')
        keys = list(for_each.keys())
        lists: list[Any] = []
        lengths = []
        for value in for_each.values():
            if value is None:
                lists.append([])
                continue
            self._check_values(value)
            lists.append(value)
            lengths.append(len(value))
        if not self.nested and lengths and len(set(lengths)) != 1:
            raise ValueError(
                f"For {self.name}, the length of for_each values should be equal if no nested loop."
            )
        template = _resolve(self.template, ctx)
        combos: Iterator[tuple[Any, ...]] = (
            itertools.product(*lists) if self.nested else zip(*lists, strict=False)
        )
        return [self._substitute(keys, combo, template) for combo in combos]


class RepeatWithMap(Repeat):
    """repeat from HOT 2016-10-14: a for_each value may be a map (its keys are used)."""

    accepts_maps = True


class RepeatWithNestedLoop(RepeatWithMap):
    """repeat from HOT 2017-09-01: `permutations: false` pairs the lists instead."""

    takes_permutations = True


class FindInMap(Function):
    """Fn::FindInMap: [mapping, key, value] in the template's Mappings."""

    def check(self) -> None:
        try:
            self.map_name, self.key, self.value = self.args
        except (ValueError, TypeError) as exc:
            raise KeyError(str(exc)) from None

    def result(self, ctx: Context) -> Any:
        mapping = self.scope.mapping(_resolve(self.map_name, ctx))
        return mapping[_resolve(self.key, ctx)][_resolve(self.value, ctx)]


class GetAZs(Function):
    """Fn::GetAZs: the availability zones (the resolver's, else heat's stackless ['nova'])."""

    def result(self, ctx: Context) -> Any:
        zones = getattr(ctx.resolver, "availability_zones", None)
        if zones is None:
            return ["nova"]
        return zones()


class MemberListToMap(Function):
    """Fn::MemberListToMap: AWS query-style member lists to a map."""

    def check(self) -> None:
        try:
            self.key_name, self.value_name, self.members = self.args
        except (ValueError, TypeError):
            correct = (
                "\n            {'Fn::MemberListToMap': ['Name', 'Value',\n"
                "                                     ['.member.0.Name=key',\n"
                "                                      '.member.0.Value=door']]}\n            "
            )
            raise TypeError(f'Wrong Arguments try: "{correct}"') from None
        if not isinstance(self.key_name, str):
            raise TypeError(f"{self.name} Key Name must be a string")
        if not isinstance(self.value_name, str):
            raise TypeError(f"{self.name} Value Name must be a string")

    def result(self, ctx: Context) -> Any:
        members = _resolve(self.members, ctx)
        if not _is_list(members):
            raise TypeError("Member list must be a list")
        fields: dict[int, dict[str, str]] = {}
        for item in members:
            if not isinstance(item, str):
                raise TypeError("Member list items must be strings")
            name, _, value = item.partition("=")
            prefix = ".member."
            if not name.startswith(prefix):
                continue
            index, _, field = name[len(prefix) :].partition(".")
            if not index.isdigit() or not field:
                continue
            fields.setdefault(int(index), {})[field] = value
        return {
            entry[self.key_name]: entry[self.value_name]
            for _, entry in sorted(fields.items())
            if self.key_name in entry and self.value_name in entry
        }


# --------------------------------------------------------------------------- conditions


class Equals(Function):
    """equals: [value_1, value_2]."""

    def check(self) -> None:
        if not self.args or not isinstance(self.args, list) or len(self.args) != 2:
            raise ValueError(f'Arguments to "{self.name}" must be of the form: [value_1, value_2]')
        self.left, self.right = self.args

    def result(self, ctx: Context) -> Any:
        return _resolve(self.left, ctx) == _resolve(self.right, ctx)


class _ConditionBoolean(Function):
    def check(self) -> None:
        if not _is_list(self.args):
            raise ValueError(f'Arguments to "{self.name}" must be a list of conditions')
        if len(self.args) < 2:
            raise ValueError(f'The minimum number of condition arguments to "{self.name}" is 2.')

    def _condition(self, ctx: Context, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        return ctx.conditions(self.scope).is_enabled(value)


class Not(_ConditionBoolean):
    """not: a condition (name, boolean or condition function) negated."""

    def check(self) -> None:
        if self.args is None:
            raise ValueError(f'Argument to "{self.name}" must be a condition')
        self.condition = self.args

    def result(self, ctx: Context) -> Any:
        return not self._condition(ctx, _resolve(self.condition, ctx))


class CfnNot(Not):
    """Fn::Not: [condition]."""

    def check(self) -> None:
        if not self.args or not _is_list(self.args) or len(self.args) != 1:
            raise ValueError(f'Arguments to "{self.name}" must be of the form: [condition]')
        self.condition = self.args[0]


class And(_ConditionBoolean):
    """and: true when every condition is."""

    def result(self, ctx: Context) -> Any:
        return all(self._condition(ctx, c) for c in _resolve(self.args, ctx))


class Or(_ConditionBoolean):
    """or: true when any condition is."""

    def result(self, ctx: Context) -> Any:
        return any(self._condition(ctx, c) for c in _resolve(self.args, ctx))


class If(Function):
    """if: [condition, value_if_true, value_if_false]."""

    nullable: ClassVar[bool] = False

    def __init__(self, scope: Scope, name: str, args: Any, path: str) -> None:
        super().__init__(scope, name, args, path)
        # The condition is read with the condition functions (heat parses it as such).
        self.condition = scope.parse_condition(self._raw_condition, name)

    def check(self) -> None:
        usage = (
            f'Arguments to "{self.name}" must be of the form: '
            "[condition_name, value_if_true, value_if_false]"
        )
        if not self.args or not _is_list(self.args):
            raise ValueError(usage)
        if self.nullable and len(self.args) == 2:
            condition, self.if_true = self.args
            self.if_false: Any = OMIT
        elif len(self.args) == 3:
            condition, self.if_true, self.if_false = self.args
        else:
            raise ValueError(usage)
        self._raw_condition = unparse(condition)

    def chosen(self, ctx: Context) -> Any:
        value = _resolve(self.condition, ctx)
        if not isinstance(value, bool):
            try:
                value = ctx.conditions(self.scope).is_enabled(value)
            except ValueError as exc:
                # heat picks the branch while parsing, so its path names the `if` itself
                raise StackValidationFailed(str(exc), path=_join(self.path, self.name)) from exc
        return self.if_true if value else self.if_false

    def result(self, ctx: Context) -> Any:
        branch = self.chosen(ctx)
        if branch is OMIT:
            return OMIT
        return _resolve(branch, ctx, nullable=True)

    def dependencies(self, path: str, ctx: Context | None) -> Iterator[tuple[str, str]]:
        inner = f"{path}.{self.name}"
        if ctx is not None:
            branch = self.chosen(ctx)
            if branch is not OMIT:
                yield from dependencies(branch, inner, ctx)
            return
        yield from dependencies(self.if_true, inner, ctx)
        if self.if_false is not OMIT:
            yield from dependencies(self.if_false, inner, ctx)

    def attribute_references(self, ctx: Context | None) -> Iterator[tuple[str, Any]]:
        if ctx is not None:
            branch = self.chosen(ctx)
            if branch is not OMIT:
                yield from attribute_references(branch, ctx)
            return
        yield from attribute_references(self.if_true, ctx)
        if self.if_false is not OMIT:
            yield from attribute_references(self.if_false, ctx)

    def validate(self) -> None:
        validate(self.condition)
        known = getattr(self.scope, "condition_definitions", None)
        if isinstance(self.condition, str) and known is not None and self.condition not in known:
            raise ValueError(f'Invalid condition "{self.condition}"')
        validate(self.if_true)
        if self.if_false is not OMIT:
            validate(self.if_false)

    def raw(self) -> dict[str, Any]:
        args = [self._raw_condition, unparse(self.if_true)]
        if self.if_false is not OMIT:
            args.append(unparse(self.if_false))
        return {self.name: args}


class IfNullable(If):
    """if from HOT 2021-04-16: without value_if_false a false condition drops the item."""

    nullable = True
