"""The Networking API object and what every neutron operation shares: the policy target,
attribute policies, the body checked by the attribute map, and an in-memory list for the
collections that have no table (the generic controller is ``resource``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from stacklab.api.db_retry import NEUTRON as NEUTRON_DB_RETRY
from stacklab.api.errors import ApiError, BadRequest, neutron_error, neutron_internal_error
from stacklab.api.pagination import Neutron, page_items
from stacklab.api.service import Call, ServiceApi
from stacklab.api.tag_filters import PARAMETERS as TAG_FILTERS
from stacklab.api.tag_filters import TagFilter
from stacklab.api.validation import describe_neutron
from stacklab.network import attributes

if TYPE_CHECKING:
    from stacklab.network.service import NetworkService

api = ServiceApi("network", errors=neutron_error,
                 malformed_json_message="Malformed request body",
                 describe_error=describe_neutron, internal_error=neutron_internal_error,
                 db_retry=NEUTRON_DB_RETRY)

NEUTRON = Neutron()  # the list dialect of every neutron collection


def network(call: Call) -> NetworkService:
    return cast("NetworkService", call.service)


def policy_failure(check: str) -> ApiError:
    """oslo.policy's PolicyNotAuthorized, printing the check neutron enforced."""
    return ApiError(f"{check} is disallowed by policy", status=403, kind="PolicyNotAuthorized")


def authorize(call: Call, rule: str, target: Mapping[str, Any]) -> None:
    if not call.allows(rule, target):
        raise policy_failure(f"rule:{rule}")


# The attributes neutron's default rules read (%(...)s and field: checks). Keeping the target
# to them lets one verdict serve every resource of a project: a list of 10,000 ports asks
# the same dozen questions, not 100,000.
_TARGET_KEYS = frozenset({
    "project_id", "tenant_id", "shared", "router:external", "device_owner",
    "network:project_id", "network:tenant_id", "network:shared", "network:router:external",
    "security_group:project_id", "ext_parent:project_id", "target_project", "target_tenant",
    "belongs_to_default_sg"})


def target_of(resource: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """neutron's policy target: the attributes its rules read, plus ``tenant_id``."""
    target: dict[str, Any] = {k: v for k, v in resource.items()
                              if k in _TARGET_KEYS and isinstance(v, (str, bool, int))}
    target["tenant_id"] = resource.get("project_id") or resource.get("tenant_id")
    target["project_id"] = target["tenant_id"]
    target.update(extra)
    return target


def check_attributes(call: Call, action: str, resource: str, body: Mapping[str, Any],
                     target: Mapping[str, Any]) -> None:
    """Attribute policies of a create or update (``create_network:shared`` and the like)."""
    engine = call.policy
    for name, value in body.items():
        # A value equal to the default is not policy-checked (neutron's
        # _is_attribute_explicitly_set): `network create --no-share` is a member's right.
        if value == attributes.default_of(resource, name):
            continue
        rule = f"{action}_{resource}:{name}"
        checks = [rule] if engine.has_rule(rule) else []
        items = value if isinstance(value, list) else [value]
        checks += [f"{rule}:{key}" for item in items if isinstance(item, dict)
                   for key in item if engine.has_rule(f"{rule}:{key}")]
        for check in checks:
            if not call.allows(check, {**target, name: value}):
                raise policy_failure(f"(rule:{action}_{resource} and rule:{check})")


# References to kinds of resources stacklab does not serve: none exists, so any id given is
# not found (rather than accepted and ignored).
_UNSERVED = {"qos_policy_id": ("QosPolicyNotFound", "QoS policy {} could not be found."),
             "flavor_id": ("FlavorNotFound", "Flavor {} could not be found."),
             "address_scope_id": ("AddressScopeNotFound",
                                  "Address scope {} could not be found.")}


def request_body(call: Call, resource: str, *, create: bool) -> dict[str, Any]:
    """The ``{resource: {...}}`` body, checked and converted by the resource's attribute map
    (``stacklab.network.attributes``), with the project it names checked as neutron does."""
    body = call.body
    if not isinstance(body, dict) or not isinstance(body.get(resource), dict):
        raise BadRequest(f"Resource body required: {resource} expected in the body")
    return checked_fields(call, resource, body[resource], create=create)


def checked_fields(call: Call, resource: str, item: dict[str, Any], *,
                   create: bool) -> dict[str, Any]:
    """One resource's attributes (a body's, or one item of a bulk create), checked and
    converted by its attribute map, with the project it names checked as neutron does."""
    fields = attributes.prepare(resource, item, create=create)
    named = {fields[k] for k in ("project_id", "tenant_id") if k in fields}
    if len(named) > 1:
        raise attributes.http_bad_request("'project_id' and 'tenant_id' do not match")
    if named and named != {call.context.project_id} and not call.context.is_admin:
        raise attributes.http_bad_request(
            "Specifying 'project_id' or 'tenant_id' other than the authenticated project in "
            "request is not allowed for current user.")
    for name, (kind, message) in _UNSERVED.items():
        if fields.get(name) is not None:
            raise ApiError(message.format(fields[name]), status=404, kind=kind)
    return fields


def _query_filters(call: Call, skip: frozenset[str]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for key, value in call.query.multi_items():
        if key in skip:
            continue
        filters.setdefault(key, []).append(value)
    return filters


def _matches(value: Any, wanted: list[str]) -> bool:
    if isinstance(value, bool):
        return any(str(value).lower() == w.lower() for w in wanted)
    if isinstance(value, list):
        return any(w in [str(v) for v in value] for w in wanted)
    if value is None:
        return any(w in ("", "None", "null") for w in wanted)
    return str(value) in wanted


# The parameters of a list that are not attribute filters.
LIST_CONTROLS = frozenset({"fields", "limit", "marker", "page_reverse", "sort_key", "sort_dir",
                           *TAG_FILTERS})


def _value_as_shown(item: dict[str, Any], key: str) -> Any:
    return item.get(key)


def _id_or_name(item: dict[str, Any]) -> str:
    # Resources without an id (availability zones) page by name.
    return str(item.get("id", item.get("name")))


def list_response(call: Call, collection: str, items: list[dict[str, Any]], *,
                  path: str = "") -> dict[str, Any]:
    """Filter, sort, paginate and trim rendered items as neutron's list controller does, in
    memory: for what has no table of its own (availability zones, service providers).
    Resources with a table go through ``resource.list_collection``, in SQL."""
    filters = _query_filters(call, LIST_CONTROLS)
    tags = TagFilter.read(call.query, repeatable=True)
    chosen = [item for item in items
              if not any(k in item and not _matches(item[k], v)
                         for k, v in filters.items())
              and tags.matches(item.get("tags", []))]
    # Without items every key is accepted, as neutron's checks read the attributes shown.
    known = set().union(*(item.keys() for item in items)) if items else None
    request = NEUTRON.request(call.query, known)
    page = page_items(chosen, request, NEUTRON, id_of=_id_or_name, value_of=_value_as_shown)
    body = NEUTRON.links(page, query=call.query, url=call.url_for(f"/v2.0/{path or collection}"),
                         collection=collection, id_of=_id_or_name)
    body[collection] = [only_fields(call, item) for item in page.items]
    return body


def only_fields(call: Call, item: dict[str, Any]) -> dict[str, Any]:
    fields = call.query.getlist("fields")
    return {k: v for k, v in item.items() if k in fields} if fields else item
