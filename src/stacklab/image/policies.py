"""glance's default policy rules, as data for oslo.policy.

Read from openstack/glance master at commit c76abb08e2bc82582389059dcbbc234293ce13b9
(2026-07-22): all 67 rules of ``glance/policies/``, in glance's order, names and check
strings character for character. What the check strings read, how glance builds each
target and what it refuses outside policy is in docs/policies/image.md.
"""

from __future__ import annotations

from stacklab.api.policy import PolicyRule

PROJECT: tuple[str, ...] = ("project",)
NO_SCOPE: tuple[str, ...] = ()

# ---- check-string building blocks, spelled as glance/policies/base.py composes them ----

_ADMIN = "rule:context_is_admin"
_SERVICE = "rule:service_api"
_PROJECT_MEMBER = "role:member and project_id:%(project_id)s"
_PROJECT_READER = "role:reader and project_id:%(project_id)s"
# member_id is the caller's own project when it reached a shared image as a sharee.
_IMAGE_MEMBER = "project_id:%(member_id)s"
_COMMUNITY = "'community':%(visibility)s"
_PUBLIC = "'public':%(visibility)s"
_SHARED = "'shared':%(visibility)s"
_OWN_OR_VISIBLE = (
    f"(project_id:%(project_id)s or {_IMAGE_MEMBER} or {_COMMUNITY} or {_PUBLIC} "
    f"or {_SHARED})"
)

ADMIN_OR_PROJECT_MEMBER = f"{_ADMIN} or ({_PROJECT_MEMBER})"
ADMIN_OR_PROJECT_READER = f"{_ADMIN} or ({_PROJECT_READER})"
ADMIN_OR_PROJECT_READER_GET_IMAGE = f"{_ADMIN} or (role:reader and {_OWN_OR_VISIBLE})"
ADMIN_OR_PROJECT_MEMBER_DOWNLOAD_IMAGE = f"{_ADMIN} or (role:member and {_OWN_OR_VISIBLE})"
# Creating for another project: the proposal's owner must be the caller's project too.
ADMIN_OR_PROJECT_MEMBER_CREATE_IMAGE = f"{_ADMIN} or ({_PROJECT_MEMBER} and project_id:%(owner)s)"
ADMIN_OR_PROJECT_READER_GET_NAMESPACE = (
    f"{_ADMIN} or (role:reader and (project_id:%(project_id)s or {_PUBLIC}))"
)
ADMIN_OR_SHARED_MEMBER = f"{_ADMIN} or (role:member and {_IMAGE_MEMBER})"
# glance leaves the "and" clause unbracketed here; oslo.policy binds "and" tighter than
# "or", so it reads as admin or (reader and (...)). Kept unbracketed to match upstream.
ADMIN_OR_PROJECT_READER_OR_SHARED_MEMBER = (
    f"{_ADMIN} or role:reader and (project_id:%(project_id)s or {_IMAGE_MEMBER})"
)
SERVICE_OR_PROJECT_MEMBER = f"{_SERVICE} or ({_PROJECT_MEMBER} and project_id:%(owner)s)"
ADMIN_OR_SERVICE_ROLE = f"{_ADMIN} or {_SERVICE}"
_METADEF_ADMIN = "rule:metadef_admin"
_METADEF_READ = ADMIN_OR_PROJECT_READER_GET_NAMESPACE


def _project(name: str, check_str: str, description: str) -> PolicyRule:
    return PolicyRule(name, check_str, PROJECT, description)


BASE_RULES: list[PolicyRule] = [
    # Empty since Ussuri: a rule an operator's file leaves out no longer falls back to
    # admin-only unless the file sets "default" itself.
    PolicyRule("default", "", NO_SCOPE,
               "Fallback for rules missing from a policy file; empty means allowed."),
    PolicyRule("context_is_admin", "role:admin", NO_SCOPE,
               "Who glance treats as an administrator (its context's is_admin)."),
    # glance keeps role:admin here only until services send service-role tokens;
    # upstream plans to drop it after the 2026.1 release.
    PolicyRule("service_api", "role:service or role:admin", NO_SCOPE,
               "Calls made by other OpenStack services on a user's behalf."),
]

IMAGE_RULES: list[PolicyRule] = [
    _project("add_image", ADMIN_OR_PROJECT_MEMBER_CREATE_IMAGE,
             "POST /v2/images: register a new image record."),
    _project("delete_image", ADMIN_OR_PROJECT_MEMBER,
             "DELETE /v2/images/{image_id}: remove an image."),
    _project("get_image", ADMIN_OR_PROJECT_READER_GET_IMAGE,
             "GET /v2/images/{image_id}: show one image; also filters listings."),
    _project("get_images", ADMIN_OR_PROJECT_READER,
             "GET /v2/images: list the images visible to the caller."),
    _project("modify_image", ADMIN_OR_PROJECT_MEMBER,
             "PATCH /v2/images/{image_id}, tags, staging and import: change an image."),
    _project("publicize_image", _ADMIN,
             "Give an image public visibility, on create or update."),
    _project("communitize_image", ADMIN_OR_PROJECT_MEMBER,
             "Give an image community visibility, on create or update."),
    _project("download_image", ADMIN_OR_PROJECT_MEMBER_DOWNLOAD_IMAGE,
             "GET /v2/images/{image_id}/file: read an image's data."),
    _project("download_from_store", ADMIN_OR_PROJECT_MEMBER_DOWNLOAD_IMAGE,
             "GET /v2/images/{image_id}/file with a chosen store: read data from it."),
    _project("upload_image", ADMIN_OR_PROJECT_MEMBER,
             "PUT /v2/images/{image_id}/file: write an image's data."),
    _project("delete_image_location", _ADMIN,
             "Remove a location from an image (PATCH or store deletion)."),
    _project("get_image_location", ADMIN_OR_PROJECT_READER,
             "See an image's locations in its representation."),
    _project("set_image_location", ADMIN_OR_PROJECT_MEMBER,
             "Add or replace an image's locations through PATCH."),
    _project("add_image_location", SERVICE_OR_PROJECT_MEMBER,
             "POST /v2/images/{image_id}/locations: attach a location to a queued image."),
    _project("fetch_image_location", _SERVICE,
             "GET /v2/images/{image_id}/locations: list locations, for services."),
    _project("add_member", ADMIN_OR_PROJECT_MEMBER,
             "POST /v2/images/{image_id}/members: share an image with a project."),
    _project("delete_member", ADMIN_OR_PROJECT_MEMBER,
             "DELETE /v2/images/{image_id}/members/{member_id}: stop sharing."),
    _project("get_member", ADMIN_OR_PROJECT_READER_OR_SHARED_MEMBER,
             "GET /v2/images/{image_id}/members/{member_id}: show one membership."),
    _project("get_members", ADMIN_OR_PROJECT_READER_OR_SHARED_MEMBER,
             "GET /v2/images/{image_id}/members: list an image's memberships."),
    _project("modify_member", ADMIN_OR_SHARED_MEMBER,
             "PUT /v2/images/{image_id}/members/{member_id}: accept or reject a share."),
    _project("manage_image_cache", _ADMIN,
             "The legacy /v2/cached_images and cache-manage routes."),
    _project("deactivate", ADMIN_OR_PROJECT_MEMBER,
             "POST /v2/images/{image_id}/actions/deactivate: block data downloads."),
    _project("reactivate", ADMIN_OR_PROJECT_MEMBER,
             "POST /v2/images/{image_id}/actions/reactivate: allow downloads again."),
    # glance keeps copy-image for admins for now, on purpose (comment in image.py).
    _project("copy_image", _ADMIN,
             "POST /v2/images/{image_id}/import with copy-image: copy to more stores."),
    _project("list_cached_nodes", _ADMIN,
             "GET /v2/cache/nodes/{image_id}: which nodes cache an image."),
]

TASK_RULES: list[PolicyRule] = [
    _project("get_task", "rule:default", "Registered for compatibility; not enforced."),
    _project("get_tasks", "rule:default", "Registered for compatibility; not enforced."),
    _project("add_task", "rule:default", "Registered for compatibility; not enforced."),
    _project("modify_task", "rule:default", "Never enforced; deprecated for removal."),
    _project("tasks_api_access", _ADMIN, "Every call of the /v2/tasks API."),
]


def _metadef(name: str, check_str: str, what: str) -> PolicyRule:
    return _project(name, check_str, f"Metadata definitions: {what}.")


METADEF_RULES: list[PolicyRule] = [
    PolicyRule("metadef_default", "", NO_SCOPE, "Unused by the defaults; kept for overrides."),
    PolicyRule("metadef_admin", _ADMIN, NO_SCOPE,
               "Who may change metadata definitions."),
    _metadef("get_metadef_namespace", _METADEF_READ, "show a namespace"),
    _metadef("get_metadef_namespaces", ADMIN_OR_PROJECT_READER, "list namespaces"),
    _metadef("modify_metadef_namespace", _METADEF_ADMIN, "update a namespace"),
    _metadef("add_metadef_namespace", _METADEF_ADMIN, "create a namespace"),
    _metadef("delete_metadef_namespace", _METADEF_ADMIN,
             "delete a namespace or everything in it"),
    _metadef("get_metadef_object", _METADEF_READ, "show an object"),
    _metadef("get_metadef_objects", _METADEF_READ, "list a namespace's objects"),
    _metadef("modify_metadef_object", _METADEF_ADMIN, "update an object"),
    _metadef("add_metadef_object", _METADEF_ADMIN, "create an object"),
    _metadef("delete_metadef_object", _METADEF_ADMIN, "delete an object"),
    _metadef("list_metadef_resource_types", _METADEF_READ, "list resource types"),
    _metadef("get_metadef_resource_type", _METADEF_READ,
             "show a namespace's resource-type associations"),
    _metadef("add_metadef_resource_type_association", _METADEF_ADMIN,
             "associate a resource type with a namespace"),
    _metadef("remove_metadef_resource_type_association", _METADEF_ADMIN,
             "dissociate a resource type from a namespace"),
    _metadef("get_metadef_property", _METADEF_READ, "show a property"),
    _metadef("get_metadef_properties", _METADEF_READ, "list a namespace's properties"),
    _metadef("modify_metadef_property", _METADEF_ADMIN, "update a property"),
    _metadef("add_metadef_property", _METADEF_ADMIN, "create a property"),
    _metadef("remove_metadef_property", _METADEF_ADMIN, "delete a property"),
    _metadef("get_metadef_tag", _METADEF_READ, "show a tag"),
    _metadef("get_metadef_tags", _METADEF_READ, "list a namespace's tags"),
    _metadef("modify_metadef_tag", _METADEF_ADMIN, "rename a tag"),
    _metadef("add_metadef_tag", _METADEF_ADMIN, "create a tag"),
    _metadef("add_metadef_tags", _METADEF_ADMIN, "create several tags at once"),
    _metadef("delete_metadef_tag", _METADEF_ADMIN, "delete a tag"),
    _metadef("delete_metadef_tags", _METADEF_ADMIN, "delete all of a namespace's tags"),
]

CACHE_RULES: list[PolicyRule] = [
    _project("cache_image", _ADMIN, "PUT /v2/cache/{image_id}: queue an image for caching."),
    _project("cache_list", _ADMIN, "GET /v2/cache: show what is cached and queued."),
    _project("cache_delete", _ADMIN, "DELETE /v2/cache[/{image_id}]: evict from the cache."),
    _project("cache_clean", _ADMIN, "POST /v2/cache/clean: drop invalid and stalled entries."),
    _project("cache_prune", _ADMIN, "POST /v2/cache/prune: shrink the cache to its limit."),
]

DISCOVERY_RULES: list[PolicyRule] = [
    _project("stores_info_detail", ADMIN_OR_SERVICE_ROLE,
             "GET /v2/info/stores/detail: backend details of each store."),
]

RULES: list[PolicyRule] = [
    *BASE_RULES, *IMAGE_RULES, *TASK_RULES, *METADEF_RULES, *CACHE_RULES, *DISCOVERY_RULES,
]
RULES_BY_NAME: dict[str, PolicyRule] = {rule.name: rule for rule in RULES}
