"""Check response bodies against upstream OpenStack's own API descriptions.

The data lives outside the repository, in ``shared/api-ref`` beside the checkout (its README
says what is where). Three oracles, most exact first:

* ``derived/``: the JSON Schemas that nova and keystone attach to their own API methods and
  enforce in their test suites (``keystone_*_schema``, ``nova_*_schema``);
* the codegenerator OpenAPI specs (``openapi_*_schema``): complete but loose, with known bugs
  that are repaired here in a short, documented allow-list (``_SPEC_FIXES``);
* the api-ref samples (``sample``, ``nova_sample``, ``assert_shape_like_sample``).

A fresh clone has no ``shared/`` beside it, and its tests must still pass: there, everything
that reads the data skips the test that asked, with a reason naming where it looked (``-ra``
lists it). Where the checks must run (CI sets ``STACKLAB_REQUIRE_API_REF=1``) a missing oracle
fails the test instead: it can never turn into a silently skipped check. Loaded files are
cached; every schema or sample handed out is a private copy, so a test may mutate what it gets.
"""

from __future__ import annotations

import copy
import datetime
import functools
import hashlib
import ipaddress
import json
import os
import re
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError, ValidationError, best_match
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT202012

__all__ = [
    "API_REF",
    "ENV_VAR",
    "FORMAT_CHECKER",
    "REQUIRE_ENV_VAR",
    "SPEC_FILES",
    "ApiRefNotFoundError",
    "InvalidSchemaError",
    "api_ref",
    "assert_keystone_response",
    "assert_nova_response",
    "assert_shape_like_sample",
    "assert_valid",
    "keystone_request_schema",
    "keystone_response_schema",
    "nova_request_schema",
    "nova_response_schema",
    "nova_sample",
    "nova_success_code",
    "openapi_request_schema",
    "openapi_response_schema",
    "report_line",
    "sample",
    "select_action",
    "select_microversion",
]

Schema = dict[str, Any]

ENV_VAR: Final = "STACKLAB_API_REF"
# Set (to anything but "" or "0") where the comparisons must run: missing data then fails.
REQUIRE_ENV_VAR: Final = "STACKLAB_REQUIRE_API_REF"


class ApiRefNotFoundError(FileNotFoundError):
    """The upstream API reference data (``shared/api-ref``) is not where it should be."""


class InvalidSchemaError(Exception):
    """A schema taken from upstream is not valid JSON Schema (draft 2020-12)."""


# --------------------------------------------------------------------------- locating the data


def _locate_api_ref() -> Path:
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override).expanduser().resolve()
    here = Path(__file__).resolve().parent
    for folder in (here, *here.parents):
        candidate = folder / "shared" / "api-ref"
        if candidate.is_dir():
            return candidate
    # Not found. Keep the conventional place (shared/ beside the checkout: this file is
    # <repo>/tests/support/apiref.py) so that the error raised on first use names it.
    beside_repo = here.parents[min(2, len(here.parents) - 1)]
    return beside_repo / "shared" / "api-ref"


API_REF: Path = _locate_api_ref()


def _required() -> bool:
    return os.environ.get(REQUIRE_ENV_VAR, "") not in ("", "0")


def _present(root: Path) -> bool:
    return (root / "derived").is_dir() and (root / "openstack-openapi").is_dir()


def report_line() -> str:
    """One line for the test session's header: where the data is, and what its absence does."""
    if _present(API_REF):
        return f"api-ref: {API_REF}"
    if _required():
        return f"api-ref: MISSING at {API_REF}; ${REQUIRE_ENV_VAR} is set: tests using it fail"
    return f"api-ref: not found at {API_REF}; tests that compare with it are skipped"


def _root() -> Path:
    root = API_REF
    if _present(root):
        return root
    found_by = (
        f"${ENV_VAR}"
        if os.environ.get(ENV_VAR)
        else f"searching upward from {Path(__file__).resolve().parent} for shared/api-ref"
    )
    missing = (
        f"upstream API reference data not found at {root} (located by {found_by}). "
        f"Put the shared/ folder beside the stacklab checkout, or set {ENV_VAR} to its "
        "api-ref folder."
    )
    if _required():
        raise ApiRefNotFoundError(f"{missing} ${REQUIRE_ENV_VAR} is set: these checks must run.")
    # Module level too: a test module that builds its cases from the data is skipped whole
    # rather than failing to collect.
    pytest.skip(
        f"{missing} (Skipped; ${REQUIRE_ENV_VAR}=1 makes this a failure.)",
        allow_module_level=True,
    )


def api_ref() -> Path:
    """The data's folder, for tests that read its files themselves.

    Like every reader here: skips the calling test (or, at import, its whole module) when the
    data is absent, and raises ApiRefNotFoundError instead when $STACKLAB_REQUIRE_API_REF is set.
    """
    return _root()


@functools.cache
def _load_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


# Path templates compare equal whatever their parameter names: keystone's derived index says
# {user_id}, nova's says {id} where the spec says {flavor_id}, and so on.
_PARAM = re.compile(r"\{[^}]*\}")


def _template_key(path: str) -> str:
    return _PARAM.sub("{}", path.rstrip("/") or "/")


def _version(text: str) -> tuple[int, int]:
    major, dot, minor = text.partition(".")
    if not dot or not major.isdigit() or not minor.isdigit():
        raise ValueError(f"not a microversion: {text!r} (expected MAJOR.MINOR, e.g. '2.96')")
    return int(major), int(minor)


def _in_range(version: tuple[int, int], low: str | None, high: str | None) -> bool:
    return (low is None or _version(low) <= version) and (high is None or version <= _version(high))


def _body_schema(op: dict[str, Any], key: str) -> Schema | None:
    if key not in op:
        return None
    schema = op[key]
    # Upstream spells "declared: no body" as null; hand it out as a schema that only an absent
    # body (None) satisfies, the way nova's own dump spells it.
    return {"type": "null"} if schema is None else copy.deepcopy(schema)


# --------------------------------------------------------------------------- derived: keystone


@functools.cache
def _keystone_ops(root: Path) -> dict[tuple[str, str], dict[str, Any]]:
    doc = _load_json(root / "derived" / "keystone" / "identity-v3.schemas.json")
    return {(_template_key(op["path"]), op["method"]): op for op in doc["operations"]}


def _keystone_op(path_template: str, method: str) -> dict[str, Any]:
    key = (_template_key(path_template), method.upper())
    op = _keystone_ops(_root()).get(key)
    if op is None:
        raise LookupError(
            f"keystone has no route {key[1]} {path_template} in derived/keystone "
            "(paths carry the /v3 prefix, e.g. /v3/users/{user_id})"
        )
    return op


def keystone_response_schema(path_template: str, method: str) -> Schema | None:
    """Keystone's own response-body schema for a route, or None where upstream has none yet.

    ``{"type": "null"}`` means upstream declares an empty body. An unknown route raises
    LookupError: a typo must not read as "no schema".
    """
    return _body_schema(_keystone_op(path_template, method), "response_body")


def keystone_request_schema(path_template: str, method: str) -> Schema | None:
    """Keystone's own request-body schema for a route, or None where upstream has none yet."""
    return _body_schema(_keystone_op(path_template, method), "request_body")


# --------------------------------------------------------------------------- derived: nova


@functools.cache
def _nova_doc(root: Path) -> dict[str, Any]:
    doc: dict[str, Any] = _load_json(root / "derived" / "nova" / "compute-v2.1.schemas.json")
    return doc


@functools.cache
def _nova_ops(root: Path) -> dict[tuple[str, str, str | None], dict[str, Any]]:
    return {
        (_template_key(op["path"]), op["method"], op.get("action")): op
        for op in _nova_doc(root)["operations"]
    }


def _nova_op(path_template: str, method: str, action: str | None) -> dict[str, Any]:
    path = path_template
    if path == "/v2.1" or path.startswith("/v2.1/"):
        path = path[len("/v2.1") :] or "/"
    key = (_template_key(path), method.upper(), action)
    ops = _nova_ops(_root())
    op = ops.get(key)
    if op is not None:
        return op
    actions = sorted(a for (p, m, a) in ops if p == key[0] and m == key[1] and a is not None)
    if actions:
        raise LookupError(
            f"nova {key[1]} {path_template} is an action endpoint; pass action= one of {actions}"
            + ("" if action is None else f" (not {action!r})")
        )
    raise LookupError(
        f"nova has no route {key[1]} {path_template} in derived/nova "
        "(paths are relative to /v2.1, e.g. /servers/{id})"
    )


def _nova_version(microversion: str) -> tuple[int, int]:
    doc = _nova_doc(_root())
    if microversion == "latest":
        microversion = doc["max_microversion"]
    version = _version(microversion)
    if not _in_range(version, doc["min_microversion"], doc["max_microversion"]):
        raise ValueError(
            f"microversion {microversion} is outside derived/nova's range "
            f"{doc['min_microversion']}..{doc['max_microversion']}"
        )
    return version


def _nova_schema(
    path_template: str, method: str, microversion: str, action: str | None, key: str
) -> Schema | None:
    op = _nova_op(path_template, method, action)
    version = _nova_version(microversion)
    for entry in op.get(key, []):
        if _in_range(version, entry["min_version"], entry["max_version"]):
            return copy.deepcopy(entry["schema"])  # type: ignore[no-any-return]
    return None


def nova_response_schema(
    path_template: str, method: str, microversion: str, *, action: str | None = None
) -> Schema | None:
    """Nova's own response-body schema at a microversion ("2.1".."2.104" or "latest").

    Paths are relative to /v2.1 (a leading /v2.1 is accepted and dropped). Returns None when
    the route has no response schema at that microversion (it does not exist there yet or any
    more). ``{"type": "null"}`` means no body: check the api-ref for the status code.
    """
    return _nova_schema(path_template, method, microversion, action, "response_body")


def nova_request_schema(
    path_template: str, method: str, microversion: str, *, action: str | None = None
) -> Schema | None:
    """Nova's own request-body schema at a microversion, or None if it takes none there."""
    return _nova_schema(path_template, method, microversion, action, "request_body")


def nova_success_code(
    path_template: str, method: str, microversion: str, *, action: str | None = None
) -> int:
    """The status nova declares for success at a microversion (200 when it declares none).

    Handlers that choose their code in their own body (volume attach's 202 from 2.101 on) are
    not captured upstream; their response schema is then ``{"type": "null"}``.
    """
    op = _nova_op(path_template, method, action)
    version = _nova_version(microversion)
    for entry in op.get("success_codes", []):
        if _in_range(version, entry["min_version"], entry["max_version"]):
            return int(entry["code"])
    return 200


# --------------------------------------------------------------------------- OpenAPI specs

SPEC_FILES: Final[dict[str, str]] = {
    "identity": "v3.14.yaml",
    "compute": "v2.96.yaml",
    "image": "v2.16.yaml",
    "network": "v2.yaml",
    "block-storage": "v3.70.yaml",
    "placement": "v1.yaml",
    "load-balancing": "v2.yaml",
    "object-store": "v1.yaml",
}

# Schemas handed out for the specs are {"$ref": "<this prefix><service>:<file>#<pointer>"}, so
# the spec's own "#/components/..." references keep resolving, through _REGISTRY.
_URN: Final = "urn:stacklab:openapi:"

_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Keywords whose values are subschemas: the spec repairs below must only touch schema
# positions (a *property* may well be named "examples" or "type").
_SCHEMA_MAPS: Final = (
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
)
_SCHEMA_LISTS: Final = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_SINGLE: Final = (
    "items",
    "additionalItems",
    "additionalProperties",
    "unevaluatedItems",
    "unevaluatedProperties",
    "propertyNames",
    "contains",
    "not",
    "if",
    "then",
    "else",
)


def _repair_schema(node: Any) -> None:
    """Rewrite the three draft-4-isms that make 21 component schemas invalid 2020-12."""
    if isinstance(node, list):
        for item in node:
            _repair_schema(item)
        return
    if not isinstance(node, dict):
        return
    if isinstance(node.get("type"), dict):
        # load-balancing insert_headers: `additionalProperties: {type: {type: string}}`, the
        # intended subschema nested one level too deep.
        inner = node.pop("type")
        for key, value in inner.items():
            node.setdefault(key, value)
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        flag = node.get(exclusive)
        if isinstance(flag, bool):
            # compute rxtx_factor: draft-4 boolean qualifying `minimum`; 2020-12 wants the number.
            del node[exclusive]
            if flag and bound in node:
                node[exclusive] = node.pop(bound)
    if isinstance(node.get("examples"), dict):
        # compute extra specs / AZ detail: examples keyed by title. Annotation only; 2020-12
        # wants a list.
        node["examples"] = list(node["examples"].values())
    for key in _SCHEMA_MAPS:
        children = node.get(key)
        if isinstance(children, dict):
            for child in children.values():
                _repair_schema(child)
    for key in (*_SCHEMA_LISTS, *_SCHEMA_SINGLE):
        _repair_schema(node.get(key))


def _repair_spec(spec: dict[str, Any]) -> None:
    for schema in (spec.get("components") or {}).get("schemas", {}).values():
        _repair_schema(schema)
    for item in (spec.get("paths") or {}).values():
        for op in item.values():
            if not isinstance(op, dict):
                continue
            for parameter in op.get("parameters", []):
                _repair_schema(parameter.get("schema"))
            for message in (op.get("requestBody") or {}, *(op.get("responses") or {}).values()):
                for media in (message.get("content") or {}).values():
                    _repair_schema(media.get("schema"))


_Fix = tuple[str, Callable[[Any], None], str]


def _drop_format(node: Any) -> None:
    node.pop("format", None)


def _or_null(node: Any) -> None:
    kind = node["type"]
    kinds = [kind] if isinstance(kind, str) else list(kind)
    node["type"] = [*kinds, "null"] if "null" not in kinds else kinds


def _replace_with(schema: Schema) -> Callable[[Any], None]:
    def fix(node: Any) -> None:
        node.clear()
        node.update(copy.deepcopy(schema))

    return fix


def _rename_issues_at(node: Any) -> None:
    node["issued_at"] = node.pop("issues_at")


_COLLECTION_LINKS: Final[Schema] = {
    "type": "object",
    "properties": {
        "self": {"type": "string", "format": "uri"},
        "previous": {"type": ["string", "null"]},
        "next": {"type": ["string", "null"]},
    },
}
_ENTITY_LINKS: Final[Schema] = {
    "type": "object",
    "properties": {"self": {"type": "string", "format": "uri"}},
}

_DEFAULT_DOMAIN = "keystone's default domain id is 'default', which is not UUID-like"


def _identity_fixes() -> list[_Fix]:
    fixes: list[_Fix] = []
    for name in ("AuthTokensPostResponse", "AuthTokensGetResponse"):
        token = f"/components/schemas/{name}/properties/token/properties"
        fixes += [
            (token, _rename_issues_at, "typo: keystone sends issued_at"),
            (f"{token}/user/properties/domain/properties/id", _drop_format, _DEFAULT_DOMAIN),
            (f"{token}/domain/properties/id", _drop_format, _DEFAULT_DOMAIN),
            (
                f"{token}/user/properties/password_expires_at",
                _or_null,
                "null when the password never expires (keystone's own samples)",
            ),
        ]
    for name, plural, id_key in (
        ("AuthProjectsGetResponse", "projects", "domain_id"),
        ("AuthDomainsGetResponse", "domains", "id"),
    ):
        top = f"/components/schemas/{name}/properties"
        fixes += [
            (f"{top}/links", _replace_with(_COLLECTION_LINKS), "keystone links are an object"),
            (
                f"{top}/{plural}/items/properties/links",
                _replace_with(_ENTITY_LINKS),
                "keystone links are an object",
            ),
            (f"{top}/{plural}/items/properties/{id_key}", _drop_format, _DEFAULT_DOMAIN),
        ]
    return fixes


def _block_storage_fixes() -> list[_Fix]:
    fixes: list[_Fix] = []
    # cinder's own samples show "qos_specs_id": null (a type without QoS) and a type made
    # without a description has a null one (volume_types.create stores None).
    for pointer in ("TypesCreateResponse/properties/volume_type",
                    "TypeUpdateResponse/properties/volume_type",
                    "TypeShowResponse/properties/volume_type",
                    "TypesListResponse/properties/volume_types/items"):
        for name in ("qos_specs_id", "description"):
            fixes.append((f"/components/schemas/{pointer}/properties/{name}", _or_null,
                          "null when unset (cinder's own samples)"))
    # cinder's volume samples (v3.65/volume-show-response.json) show these null on a new
    # volume: no source, no group, no migration, no owner yet, never updated.
    for pointer in ("VolumeShowResponse/properties/volume",
                    "VolumesDetailResponse/properties/volumes/items",
                    "VolumesCreateResponse/properties/volume"):
        for name in ("snapshot_id", "source_volid", "consistencygroup_id", "migration_status",
                     "updated_at", "replication_status", "group_id", "service_uuid",
                     "cluster_name"):
            fixes.append((f"/components/schemas/{pointer}/properties/{name}", _or_null,
                          "null when unset (cinder's own samples)"))
    for pointer in ("SnapshotsDetailResponse/properties/snapshots/items",
                    "SnapshotShowResponse/properties/snapshot"):
        fixes.append((f"/components/schemas/{pointer}/properties/group_snapshot_id",
                      _or_null, "null outside a group snapshot (cinder's own samples)"))
    # cinder's attachment view (api/v3/views/attachments.py) shows an unset time as "",
    # stores attach_mode as the text "null" until a mode is asked (volume/api.py
    # attachment_create), and has no connection_info for an os-attach attachment.
    for pointer in ("AttachmentsCreateResponse/properties/attachment",
                    "AttachmentShowResponse/properties/attachment",
                    "AttachmentUpdateResponse/properties/attachment",
                    "AttachmentsDetailResponse/properties/attachments/items"):
        for name in ("attached_at", "detached_at"):
            fixes.append((f"/components/schemas/{pointer}/properties/{name}", _drop_format,
                          "'' when unset (cinder's attachment view)"))
        fixes.append((f"/components/schemas/{pointer}/properties/attach_mode",
                      _enum_with("null"), "'null' until a mode is set (cinder's code)"))
        fixes.append((f"/components/schemas/{pointer}/properties/connection_info",
                      _or_null, "null for an os-attach attachment (cinder's code)"))
    # cinder's v3.57 transfer samples: no destination until a project accepts.
    for pointer in ("Volume_TransfersDetailResponse/properties/transfers/items",
                    "Volume_TransfersCreateResponse/properties/transfer",
                    "Volume_TransferShowResponse/properties/transfer"):
        fixes.append((f"/components/schemas/{pointer}/properties/destination_project_id",
                      _or_null, "null until accepted (cinder's own samples)"))
    return fixes


def _enum_with(value: str) -> Callable[[Any], None]:
    def fix(node: Any) -> None:
        node["enum"] = [*node["enum"], value]

    return fix


# Known spec bugs, repaired by JSON pointer when the spec is loaded: (service, file) -> fixes.
# Each was found by validating upstream's own samples; a pointer that no longer exists fails
# the load, so the list cannot rot silently.
_SPEC_FIXES: Final[dict[tuple[str, str], list[_Fix]]] = {
    ("identity", "v3.14.yaml"): _identity_fixes(),
    ("block-storage", "v3.70.yaml"): _block_storage_fixes(),
}

# Statuses the spec gets wrong: (service, path key, METHOD, status asked) -> status declared.
_STATUS_FIXES: Final[dict[tuple[str, str, str, str], str]] = {
    # keystone answers 201 Created to POST /v3/auth/tokens; the spec declares 200.
    ("identity", "/v3/auth/tokens", "POST", "201"): "200",
}


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _walk_pointer(doc: Any, pointer: str, where: str) -> Any:
    node = doc
    if not pointer:
        return node
    for raw in pointer.split("/")[1:]:
        token = unquote(raw).replace("~1", "/").replace("~0", "~")
        try:
            node = node[int(token)] if isinstance(node, list) else node[token]
        except (KeyError, IndexError, ValueError, TypeError):
            raise LookupError(f"{where} has nothing at {pointer}") from None
    return node


@functools.cache
def _spec(root: Path, service: str, spec_file: str) -> dict[str, Any]:
    path = root / "openstack-openapi" / "specs" / service / spec_file
    if not path.is_file():
        raise LookupError(
            f"no OpenAPI spec {service}/{spec_file} under {path.parent.parent} "
            f"(services: {sorted(SPEC_FILES)}; orchestration/heat has none)"
        )
    with path.open("rb") as handle:
        spec: dict[str, Any] = yaml.load(handle, Loader=_YAML_LOADER)
    _repair_spec(spec)
    for pointer, fix, _why in _SPEC_FIXES.get((service, spec_file), []):
        fix(_walk_pointer(spec, pointer, f"spec {service}/{spec_file} (fix: {_why})"))
    return spec


def _spec_uri(service: str, spec_file: str | None) -> str:
    if spec_file is None:
        if service not in SPEC_FILES:
            raise LookupError(
                f"no OpenAPI spec for service {service!r}; services: {sorted(SPEC_FILES)} "
                "(orchestration/heat has none: use the heat samples)"
            )
        spec_file = SPEC_FILES[service]
    return f"{_URN}{service}:{spec_file}"


def _spec_at(uri: str) -> dict[str, Any]:
    if not uri.startswith(_URN):
        raise LookupError(f"not a stacklab OpenAPI reference: {uri}")
    service, _, spec_file = uri[len(_URN) :].partition(":")
    return _spec(_root(), service, spec_file)


def _resolve(ref: str) -> tuple[str, str, Any]:
    """(base uri, pointer, node) for an absolute spec reference, following $ref chains."""
    base, _, pointer = ref.partition("#")
    spec = _spec_at(base)
    node = _walk_pointer(spec, pointer, base)
    for _ in range(64):
        inner = node.get("$ref") if isinstance(node, dict) else None
        if not (isinstance(inner, str) and inner.startswith("#")):
            break
        pointer = inner[1:]
        node = _walk_pointer(spec, pointer, base)
    return base, pointer, node


def _retrieve(uri: str) -> Resource[Any]:
    if not uri.startswith(_URN):
        raise NoSuchResource(ref=uri)  # type: ignore[call-arg]
    return DRAFT202012.create_resource(_spec_at(uri))


_REGISTRY: Final[Registry[Any]] = Registry(retrieve=_retrieve)  # type: ignore[call-arg]


def _operation(
    service: str, path_template: str, method: str, spec_file: str | None
) -> tuple[str, str, dict[str, Any]]:
    uri = _spec_uri(service, spec_file)
    spec = _spec_at(uri)
    wanted = _template_key(path_template)
    actual = next((p for p in spec["paths"] if _template_key(p) == wanted), None)
    if actual is None:
        raise LookupError(
            f"{service} spec has no path {path_template} (spec paths carry the version "
            "prefix: /v3/auth/tokens, /v2.1/servers/{id}, /v2.0/networks, ...)"
        )
    op = spec["paths"][actual].get(method.lower())
    if not isinstance(op, dict):
        methods = sorted(m.upper() for m, o in spec["paths"][actual].items() if isinstance(o, dict))
        raise LookupError(f"{service} spec has no {method.upper()} {actual}; it has {methods}")
    return uri, f"/paths/{_escape(actual)}/{method.lower()}", op


def _json_media(message: dict[str, Any], where: str) -> str:
    content = message.get("content") or {}
    if "application/json" in content:
        return "application/json"
    json_like = [kind for kind in content if "json" in kind]
    if len(json_like) == 1:
        return str(json_like[0])
    raise LookupError(f"{where} declares no JSON body (content types: {sorted(content)})")


def openapi_response_schema(
    service: str,
    path_template: str,
    method: str,
    status: str = "200",
    *,
    spec_file: str | None = None,
) -> Schema:
    """The spec's response schema, as a ``$ref`` that `assert_valid` resolves.

    ``service`` is a folder of openstack-openapi/specs (see SPEC_FILES for the file used);
    paths include the version prefix; parameter names need not match the spec's. Statuses the
    spec gets wrong are mapped (``_STATUS_FIXES``); any other undeclared status raises.
    """
    uri, op_pointer, op = _operation(service, path_template, method, spec_file)
    where = f"{service} spec {method.upper()} {path_template}"
    responses = {str(code): code for code in op.get("responses") or {}}
    declared = status
    if status not in responses:
        alias = _STATUS_FIXES.get((service, _template_key(path_template), method.upper(), status))
        if alias is None or alias not in responses:
            raise LookupError(f"{where} declares no {status} response; it has {sorted(responses)}")
        declared = alias
    message = op["responses"][responses[declared]]
    media = _json_media(message, f"{where} {declared}")
    pointer = f"{op_pointer}/responses/{declared}/content/{_escape(media)}/schema"
    return {"$ref": f"{uri}#{pointer}"}


def openapi_request_schema(
    service: str,
    path_template: str,
    method: str,
    *,
    microversion: str | None = None,
    action: str | None = None,
    spec_file: str | None = None,
) -> Schema:
    """The spec's request-body schema, narrowed to one action and/or microversion if asked."""
    uri, op_pointer, op = _operation(service, path_template, method, spec_file)
    where = f"{service} spec {method.upper()} {path_template}"
    body = op.get("requestBody")
    if not isinstance(body, dict):
        raise LookupError(f"{where} declares no request body")
    media = _json_media(body, where)
    schema: Schema = {"$ref": f"{uri}#{op_pointer}/requestBody/content/{_escape(media)}/schema"}
    if action is not None:
        schema = select_action(schema, action)
    if microversion is not None:
        schema = select_microversion(schema, microversion)
    return schema


def _open(schema: Schema) -> tuple[str | None, str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(_URN):
        return _resolve(ref)
    return None, "", schema


def _branches(schema: Schema, discriminator: str) -> tuple[str | None, str, list[Any]] | None:
    base, pointer, node = _open(schema)
    marker = node.get("x-openstack") if isinstance(node, dict) else None
    if not (isinstance(marker, dict) and marker.get("discriminator") == discriminator):
        return None
    one_of = node.get("oneOf")
    if not isinstance(one_of, list):
        return None
    resolved = []
    for branch in one_of:
        ref = branch.get("$ref") if isinstance(branch, dict) else None
        if isinstance(ref, str) and ref.startswith("#"):
            if base is None:
                raise LookupError(f"cannot resolve {ref} outside its spec; pass the spec's $ref")
            branch = _resolve(base + ref)[2]
        resolved.append(branch)
    return base, pointer, resolved


def _pick(base: str | None, pointer: str, schema: Schema, index: int) -> Schema:
    if base is None:
        return copy.deepcopy(schema["oneOf"][index])
    return {"$ref": f"{base}#{pointer}/oneOf/{index}"}


def _marker(node: Any) -> dict[str, Any]:
    marker = node.get("x-openstack") if isinstance(node, dict) else None
    return marker if isinstance(marker, dict) else {}


def select_microversion(schema: Schema, microversion: str) -> Schema:
    """Narrow a ``oneOf`` marked ``x-openstack: {discriminator: microversion}`` to one branch.

    The branch whose ``min-ver <= microversion <= max-ver`` wins (a missing bound is open; the
    block-storage v2 spec spells them min_ver/max_ver). A schema without that marker is
    returned unchanged: most spec schemas are one union over all microversions.
    """
    found = _branches(schema, "microversion")
    if found is None:
        return schema
    base, pointer, branches = found
    version = _version(microversion)
    ranges = []
    for index, branch in enumerate(branches):
        marker = _marker(branch)
        low = marker.get("min-ver", marker.get("min_ver"))
        high = marker.get("max-ver", marker.get("max_ver"))
        ranges.append(f"{low}..{high}")
        if _in_range(version, low, high):
            return _pick(base, pointer, _open(schema)[2], index)
    raise LookupError(f"no branch covers microversion {microversion} (branches: {ranges})")


def select_action(schema: Schema, action: str) -> Schema:
    """Narrow an ``…/action`` body (``x-openstack: {discriminator: action}``) to one action.

    The branch may itself be a microversion union: narrow it with `select_microversion`.
    """
    found = _branches(schema, "action")
    if found is None:
        raise LookupError("not an action body: no oneOf with x-openstack discriminator action")
    base, pointer, branches = found
    names = []
    for index, branch in enumerate(branches):
        name = _marker(branch).get("action-name")
        if name is None and isinstance(branch, dict):
            # A microversion union of one action carries the name on its own branches.
            inner = [
                _marker(_resolve(base + b["$ref"])[2]) if base and "$ref" in b else {}
                for b in branch.get("oneOf", [])
            ]
            name = next((m["action-name"] for m in inner if "action-name" in m), None)
        if name is None and isinstance(branch, dict):
            keys = list(branch.get("properties", {}))
            name = keys[0] if len(keys) == 1 else None
        names.append(name)
        if name == action:
            return _pick(base, pointer, _open(schema)[2], index)
    raise LookupError(f"no branch for action {action!r}; actions: {sorted(map(str, names))}")


# --------------------------------------------------------------------------- validation

# Nova and keystone validate with jsonschema's FormatChecker but override two formats (see the
# api-ref README): without the same overrides keystone's 32-hex ids and timezone-less times give
# false failures. Formats stay on: the compute spec's `oneOf: [ipv4, ipv6]` needs them.
FORMAT_CHECKER: Final = FormatChecker()


def _iso8601(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _uuid_like(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        return uuid.UUID(value).hex == value.replace("-", "").lower()
    except ValueError:
        return False


def _cidr(value: object) -> bool:
    """nova's own "cidr" format: an address, a slash and a prefix length (unknown to
    jsonschema, which would let any string through and make a ``oneOf`` with it ambiguous)."""
    if not isinstance(value, str):
        return True
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return "/" in value


FORMAT_CHECKER.checks("date-time")(_iso8601)
FORMAT_CHECKER.checks("uuid")(_uuid_like)
FORMAT_CHECKER.checks("cidr")(_cidr)


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def _pointer_of(parts: Iterable[Any]) -> str:
    return "/" + "/".join(_escape(str(part)) for part in parts)


_CHECKED_SPEC_REFS: set[str] = set()


_CHECKED_SCHEMAS: set[str] = set()


def _check_schema(schema: Any, where: str) -> None:
    # Checking against the metaschema costs far more than validating a body (30 ms for nova's
    # server schema), and the same schemas come back in every test: remember the good ones.
    text = json.dumps(schema, sort_keys=True, default=repr)
    fingerprint = hashlib.sha256(text.encode()).hexdigest()
    if fingerprint not in _CHECKED_SCHEMAS:
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as error:
            raise InvalidSchemaError(
                f"{where} is not valid JSON Schema 2020-12 at "
                f"{_pointer_of(error.absolute_path)}: {_short(error.message)}"
            ) from None
        _CHECKED_SCHEMAS.add(fingerprint)
    pending = [ref for ref in _refs(schema) if ref.startswith(_URN)]
    while pending:
        ref = pending.pop()
        if ref in _CHECKED_SPEC_REFS:
            continue
        base, pointer, node = _resolve(ref)
        try:
            Draft202012Validator.check_schema(node)
        except SchemaError as error:
            raise InvalidSchemaError(
                f"{where}: {base}#{pointer} is not valid JSON Schema 2020-12 at "
                f"{_pointer_of(error.absolute_path)}: {_short(error.message)} (a spec bug: "
                "repair it in support/apiref.py, or use derived/ where it exists)"
            ) from None
        _CHECKED_SPEC_REFS.add(ref)
        pending.extend(base + inner for inner in _refs(node) if inner.startswith("#"))


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_:@-]+$")


def _join(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if _PLAIN_KEY.match(str(key)) else f"{path}[{str(key)!r}]"


def _json_path(parts: Iterable[Any]) -> str:
    path = "$"
    for part in parts:
        path = _join(path, part)
    return path


def _describe(error: ValidationError) -> str:
    line = f"  - {_json_path(error.absolute_path)}: {_short(error.message)}"
    if error.context:
        # oneOf/anyOf: say why the closest branch failed, not just "not valid under any".
        closest = best_match(error.context)
        line += f"\n      closest branch: {_json_path(closest.absolute_path)}: "
        line += _short(closest.message)
    return line


def assert_valid(body: Any, schema: Schema, *, where: str = "") -> None:
    """Validate ``body`` against ``schema``; on failure raise AssertionError listing every error.

    Works for derived schemas and for the ``$ref`` schemas of ``openapi_*_schema``. The
    schema (and every spec schema it references) is checked first: an invalid one raises
    InvalidSchemaError rather than a confusing validation result.
    """
    label = where or "body"
    _check_schema(schema, f"schema for {label}")
    validator = Draft202012Validator(schema, registry=_REGISTRY, format_checker=FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(body), key=lambda e: _json_path(e.absolute_path))
    if errors:
        lines = [f"{label} does not match its schema ({len(errors)} error(s)):"]
        lines.extend(_describe(error) for error in errors)
        raise AssertionError("\n".join(lines))


def assert_keystone_response(
    body: Any, path_template: str, method: str, *, status: str | None = None
) -> None:
    """Validate a keystone response body with the best schema upstream has.

    Keystone's own (derived) schema when it has one; otherwise the identity spec's schema for
    ``status`` (default: 201 then 200 for POST, 200 otherwise). /v3/auth/* is only in the
    spec. Raises LookupError when neither describes the body.
    """
    verb = method.upper()
    where = f"keystone {verb} {path_template}"
    try:
        derived = keystone_response_schema(path_template, verb)
    except LookupError:
        derived = None
    if derived is not None:
        assert_valid(body, derived, where=f"{where} (derived keystone schema)")
        return
    statuses = [status] if status else (["201", "200"] if verb == "POST" else ["200"])
    for candidate in statuses:
        try:
            schema = openapi_response_schema("identity", path_template, verb, candidate)
        except LookupError:
            continue
        assert_valid(body, schema, where=f"{where} {candidate} (identity OpenAPI spec)")
        return
    raise LookupError(
        f"no response schema for {where}: none in derived/keystone, and the identity spec "
        f"has no JSON response for {statuses}"
    )


def assert_nova_response(
    body: Any,
    path_template: str,
    method: str,
    microversion: str,
    *,
    action: str | None = None,
) -> None:
    """Validate a nova response body with nova's own schema at ``microversion``."""
    schema = nova_response_schema(path_template, method, microversion, action=action)
    where = f"nova {method.upper()} {path_template} at {microversion}"
    if action is not None:
        where += f" ({action})"
    if schema is None:
        raise LookupError(f"derived/nova has no response schema for {where}")
    assert_valid(body, schema, where=where)


# --------------------------------------------------------------------------- samples


def sample(service: str, relpath: str) -> Any:
    """A JSON sample, by its path inside the service folder of shared/api-ref.

    For example ``sample("keystone", "api-ref/source/v3/samples/admin/project-show-response.json")``
    or ``sample("nova", "doc/api_samples/flavors/flavor-get-resp.json")``.
    """
    path = _root() / service / relpath
    if not path.is_file():
        raise FileNotFoundError(f"no sample {service}/{relpath} (looked at {path})")
    return copy.deepcopy(_load_json(path))


def nova_sample(area: str, filename: str, microversion: str = "2.1") -> Any:
    """A nova sample as served at ``microversion``: the highest ``v2.NN/`` copy at or below it.

    ``area`` is a folder of doc/api_samples (``"flavors"``, ``"servers"``, ...).
    """
    base = _root() / "nova" / "doc" / "api_samples" / area
    wanted = _version(microversion)
    best: tuple[tuple[int, int], Path] | None = None
    for folder in base.glob("v2.*"):
        if not (folder / filename).is_file():
            continue
        version = _version(folder.name[1:])
        if version <= wanted and (best is None or version > best[0]):
            best = (version, folder)
    folder = base if best is None else best[1]
    return sample("nova", str((folder / filename).relative_to(_root() / "nova")))


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


_INDEX = re.compile(r"\[\d+\]")


def _ignore_key(path: str) -> str:
    return _INDEX.sub("[*]", path)


def _compare_shape(
    body: Any,
    expected: Any,
    path: str,
    allow_extra: bool,
    ignore: frozenset[str],
    problems: list[str],
) -> None:
    if _ignore_key(path) in ignore or expected is None:
        # null in a sample says nothing about the type the field has when set.
        return
    want, got = _json_type(expected), _json_type(body)
    if want != got:
        problems.append(f"{path}: {got} where the sample has {want} ({_short(repr(body), 80)})")
        return
    if isinstance(expected, dict):
        for key, value in expected.items():
            child = _join(path, key)
            if key in body:
                _compare_shape(body[key], value, child, allow_extra, ignore, problems)
            elif _ignore_key(child) not in ignore:
                problems.append(f"{child}: missing (the sample has it)")
        if not allow_extra:
            for key in body:
                child = _join(path, key)
                if key not in expected and _ignore_key(child) not in ignore:
                    problems.append(f"{child}: not in the sample")
    elif isinstance(expected, list) and expected:
        for index, item in enumerate(body):
            _compare_shape(item, expected[0], f"{path}[{index}]", allow_extra, ignore, problems)


def assert_shape_like_sample(
    body: Any,
    sample_body: Any,
    *,
    allow_extra: bool = True,
    ignore: Collection[str] = (),
) -> None:
    """Assert ``body`` has the sample's shape: its keys, recursively, with the same JSON types.

    Every item of a list is compared with the sample's first item; null in the sample matches
    anything; int and float are both "number". Extra keys pass unless ``allow_extra`` is false
    (newer microversions add keys). ``ignore`` takes paths as the errors print them, with
    ``[*]`` for any index: ``{"$.flavor.extra_specs", "$.servers[*].metadata"}``.
    """
    patterns = frozenset(p if p.startswith("$") else f"$.{p}" for p in ignore)
    problems: list[str] = []
    _compare_shape(body, sample_body, "$", allow_extra, patterns, problems)
    if problems:
        lines = [f"body does not have the sample's shape ({len(problems)} difference(s)):"]
        lines.extend(f"  - {problem}" for problem in problems)
        raise AssertionError("\n".join(lines))
