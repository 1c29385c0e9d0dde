"""glance's default policy rules, as data for oslo.policy.

Read from openstack/glance master (``glance/policies/base.py`` and
``glance/policies/image.py``). Rule names and check strings are kept as glance
registers them, since operators override them by name.

Targets, as glance's ImageTarget presents an image: ``project_id`` is the
image's owner, ``owner`` the same, ``visibility`` its visibility, and
``member_id`` the caller's project when the image is shared with it (so
``project_id:%(member_id)s`` holds exactly for members). For a member
accepting or rejecting a share, the member's own project stands as
``project_id``. glance's rules use ``role:admin`` without scope checks, so an
admin on any project administers every image.
"""

from __future__ import annotations

from stacklab.api.policy import PolicyRule

SYSTEM_OR_PROJECT = ("system", "project")

_PROJECT_MEMBER = "role:member and project_id:%(project_id)s"
_PROJECT_READER = "role:reader and project_id:%(project_id)s"
_IMAGE_MEMBER = "project_id:%(member_id)s"
_VISIBLE_TO_ALL = ('"community":%(visibility)s or "public":%(visibility)s or '
                   '"shared":%(visibility)s')
ADMIN_OR_PROJECT_MEMBER = f"role:admin or ({_PROJECT_MEMBER})"
ADMIN_OR_PROJECT_READER = f"role:admin or ({_PROJECT_READER})"
ADMIN_OR_READER_GET_IMAGE = (
    f"role:admin or (role:reader and (project_id:%(project_id)s or {_IMAGE_MEMBER} "
    f"or {_VISIBLE_TO_ALL}))")
ADMIN_OR_MEMBER_DOWNLOAD_IMAGE = (
    f"role:admin or (role:member and (project_id:%(project_id)s or {_IMAGE_MEMBER} "
    f"or {_VISIBLE_TO_ALL}))")


def _rule(name: str, check_str: str, description: str) -> PolicyRule:
    return PolicyRule(name, check_str, SYSTEM_OR_PROJECT, description)


RULES: list[PolicyRule] = [
    PolicyRule("default", "", (), "The rule of any policy a policy file leaves out."),
    PolicyRule("context_is_admin", "role:admin", (), "Who counts as an administrator."),
    _rule("add_image", ADMIN_OR_PROJECT_MEMBER, "Create an image."),
    _rule("delete_image", ADMIN_OR_PROJECT_MEMBER, "Delete an image."),
    _rule("get_image", ADMIN_OR_READER_GET_IMAGE, "Show an image."),
    _rule("get_images", ADMIN_OR_PROJECT_READER, "List the images one may see."),
    _rule("modify_image", ADMIN_OR_PROJECT_MEMBER, "Update an image."),
    _rule("publicize_image", "role:admin", "Make an image public."),
    _rule("communitize_image", ADMIN_OR_PROJECT_MEMBER, "Make an image a community image."),
    _rule("download_image", ADMIN_OR_MEMBER_DOWNLOAD_IMAGE, "Download an image's data."),
    _rule("upload_image", ADMIN_OR_PROJECT_MEMBER, "Upload an image's data."),
    _rule("delete_image_location", "role:admin", "Remove a location of an image."),
    _rule("get_image_location", ADMIN_OR_PROJECT_READER, "Read an image's locations."),
    _rule("set_image_location", ADMIN_OR_PROJECT_MEMBER, "Set an image's location."),
    _rule("add_member", ADMIN_OR_PROJECT_MEMBER, "Share an image with a project."),
    _rule("delete_member", ADMIN_OR_PROJECT_MEMBER, "Stop sharing an image with a project."),
    _rule("get_member", ADMIN_OR_PROJECT_READER, "Show one membership of an image."),
    _rule("get_members", ADMIN_OR_PROJECT_READER, "List an image's members."),
    _rule("modify_member", ADMIN_OR_PROJECT_MEMBER, "Accept or reject a shared image."),
    _rule("manage_image_cache", "role:admin", "Manage the image cache."),
    _rule("deactivate", ADMIN_OR_PROJECT_MEMBER, "Deactivate an image."),
    _rule("reactivate", ADMIN_OR_PROJECT_MEMBER, "Reactivate an image."),
    _rule("copy_image", "role:admin", "Copy an image to other stores."),
]
