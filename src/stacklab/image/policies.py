"""glance's default policy rules, as data for oslo.policy.

Read from openstack/glance master at commit c76abb08e2bc82582389059dcbbc234293ce13b9
(2026-07-22, "Merge 'Remove disabling the scope enforcement'"): ``glance/policies/``
(``base``, ``image``, ``tasks``, ``metadef``, ``cache``, ``discovery``; 67 rules, all of
them, in the order glance registers them), and, for the targets, ``glance/api/policy.py``
(``ImageTarget``), ``glance/api/v2/policy.py`` and the v2 controllers that call it.
Names and check strings are kept character for character as glance registers them, since
operators override them by name. Every documented rule has ``scope_types=['project']``;
``default``, ``context_is_admin``, ``service_api``, ``metadef_default`` and
``metadef_admin`` have none. glance's ``deprecated_rule`` entries are not carried (most
were ``rule:default``, i.e. "anyone", from before Wallaby's project personas).

What the check strings read
---------------------------
Credentials: only ``roles`` (``admin``, ``member``, ``reader``, ``service``) and
``project_id``. ``context_is_admin`` is ``role:admin`` with no scope of its own, so an
admin on any project administers every image; a system- or domain-scoped token fails
every documented rule on scope (oslo raises InvalidScope, glance answers 403). ``role:``
checks see only the token's role list, so a member must carry ``reader`` too, as
keystone's implied roles give it.

Target keys read by the defaults: ``project_id``, ``owner``, ``member_id``,
``visibility``. Nothing else. Rules that are only ``rule:context_is_admin``,
``rule:service_api``, ``rule:metadef_admin`` or ``rule:default`` read no target key.
Visibility is tested against literals (``'public':%(visibility)s``), so it must be the
exact API string. A missing key makes that one check False.

How glance builds the target, by family (stacklab must build the same flat dict):

* An existing image -- get_image, modify_image (PATCH of any property, tag add/delete,
  ``PUT /file`` staging, and ``/import`` with any method but copy-image), delete_image,
  upload_image, download_image (also the cache middleware), download_from_store,
  deactivate, reactivate, copy_image, get_image_location, set_image_location,
  delete_image_location, add_image_location, fetch_image_location, and publicize_image /
  communitize_image when a PATCH sets visibility: glance's ``ImageTarget`` over the
  stored image, whose keys the defaults read are

  - ``project_id``: the image's ``owner`` (an alias; glance maps the key to ``owner``);
  - ``owner``: the same (read by add_image_location);
  - ``visibility``: the stored visibility, ``public|community|shared|private``; on a
    PATCH that changes it, publicize/communitize see the *old* value (glance checks
    before it applies the change; neither default reads it);
  - ``member_id``: glance maps it to the image's ``member`` attribute, which its DB
    layer sets to the *caller's* project when the image's visibility is ``shared`` and
    the caller's project is not the owner, and to None otherwise. It is never the
    ``{member_id}`` of a URL. Because glance's DB lookup refuses a shared image to a
    non-admin non-owner without a membership row (of any status: pending, accepted or
    rejected), in practice ``member_id`` = caller's project iff the caller is a member
    of that shared image (or a non-owning admin). Leave it out (or None) otherwise.

  ``ImageTarget`` also answers ``id``/``image_id``, ``name``, ``status``, ``protected``,
  ``os_hidden``, ``min_disk``, ``min_ram``, ``size``, ``virtual_size``, ``checksum``,
  ``os_hash_algo``, ``os_hash_value``, ``disk_format``, ``container_format``, ``tags``,
  ``created_at``, ``updated_at`` and every custom property by its own name (never
  ``locations``); no default reads them, but an operator's rule may.

* Creating an image (add_image, and publicize_image / communitize_image when the body
  asks for that visibility): a plain dict of the proposal,
  ``{"project_id": owner, "owner": owner, "visibility": requested or "private"}``, where
  ``owner`` is the body's ``owner`` or else the caller's project. add_image demands
  ``project_id:%(owner)s``, so only an admin may create an image for another project.
  (The target defaults visibility to ``private`` even though a new image is ``shared``.)

* Listing images (get_images): ``{"project_id": caller's project}`` -- any reader with a
  project passes; each listed image is then kept only if ``get_image`` passes on its
  own ``ImageTarget``.

* Members (add_member, get_members, get_member, modify_member, delete_member): the
  *image's* ``ImageTarget``, exactly as above; the member in the URL is not in the
  target. Before each member rule glance also enforces ``get_image`` on that target. So
  add/delete_member pass for the owning project's members (and admins), modify_member
  only for the sharee (``project_id:%(member_id)s``: the owner is refused), and
  get_member(s) for the owner's readers and the sharee. Restrictions outside policy:
  the image must be ``shared`` (else 403, 404 on show); a non-admin only ever sees
  membership rows of images it owns or rows naming its own project (DB filter), so a
  sharee can read and update only its own membership; listing filters each row through
  ``get_member`` on the same image target.

* Tasks: only ``tasks_api_access`` is enforced, with an empty target ``{}``, on every
  ``/v2/tasks`` call. ``get_task``, ``get_tasks``, ``add_task`` and ``modify_task`` are
  registered but not enforced anywhere since Xena.

* Metadefs: ``{"project_id": ns.owner, "visibility": ns.visibility}`` of the namespace
  concerned (for objects, properties, tags and resource-type associations, their parent
  namespace); with no namespace at hand (listing or creating namespaces, listing all
  resource types) just ``{"project_id": caller's project}``. A refusal turns into 404
  when the caller also fails ``get_metadef_namespace`` on the same target.

* Cache: ``{}`` for cache_list, cache_clean, cache_prune, list_cached_nodes,
  cache_delete of the whole cache and the legacy ``/cached_images`` routes
  (manage_image_cache); the image's ``ImageTarget`` for cache_image and cache_delete of
  one image. Every default here is admin only, so the target does not matter.

* Discovery: stores_info_detail with ``{}``.

Things the defaults allow that glance stops elsewhere: ``get_image`` and
``download_image`` pass for *any* reader/member when visibility is ``shared`` (the DB
lookup hides shared images from non-members first, answering 404); download of a
``deactivated`` image is refused to non-admins before policy; replacing ``owner`` in a
PATCH needs ``is_admin`` (``context_is_admin``) outside policy.
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
