"""glance's image JSON patch: both dialects, one reader, glance's refusals."""

from __future__ import annotations

from typing import Any

import pytest

from stacklab.api.errors import BadRequest, Conflict, Forbidden, UnsupportedMediaType
from stacklab.api.validation import Schema
from stacklab.image import schemas
from stacklab.image.patch import V2_0, V2_1, Change, apply_changes, draft_of, read_changes

VALUES = {name: Schema(sub) for name, sub in schemas.WRITABLE.items()}
EXTRA = Schema({"type": "string"})
ATTRS: dict[str, Any] = {"name": "n", "visibility": "private", "protected": False,
                         "os_hidden": False, "owner": "p1", "min_ram": 0, "min_disk": 0,
                         "disk_format": None, "container_format": None, "tags": []}


def read(body: Any, draft: int) -> list[Change]:
    return read_changes(body, draft, VALUES, EXTRA)


def test_media_types_pick_the_dialect() -> None:
    assert draft_of(V2_0) == 4
    assert draft_of(f"{V2_1}; charset=UTF-8") == 10
    with pytest.raises(UnsupportedMediaType) as caught:
        draft_of("application/json")
    assert caught.value.headers["Accept-Patch"] == f"{V2_0}, {V2_1}"


def test_both_dialects_read_the_same_changes() -> None:
    v21 = read([{"op": "replace", "path": "/name", "value": "x"},
                {"op": "add", "path": "/hw_disk_bus", "value": "virtio"},
                {"op": "remove", "path": "/old"}], 10)
    v20 = read([{"replace": "/name", "value": "x"}, {"add": "/hw_disk_bus", "value": "virtio"},
                {"remove": "/old"}], 4)
    assert v20 == v21 == [Change("replace", "name", "x"), Change("add", "hw_disk_bus", "virtio"),
                          Change("remove", "old")]


def test_pointer_escapes_are_decoded() -> None:
    assert read([{"add": "/a~1b~0c", "value": "v"}], 4) == [Change("add", "a/b~c", "v")]


@pytest.mark.parametrize(("body", "draft", "message"), [
    ([{"path": "/name", "value": "x"}], 10, "Unable to find `op`"),
    ([{"op": "move", "path": "/name"}], 10, "Invalid operation: `move`"),
    ([{"op": "add", "value": "x"}], 10, "Unable to find 'path'"),
    ([{"path": "/name", "value": "x"}], 4, "exactly one member"),
    ([{"add": "/a", "replace": "/b", "value": "x"}], 4, "only one member"),
    ([{"op": "add", "path": "name", "value": "x"}], 10, 'does not start with "/"'),
    ([{"add": "/a//b", "value": "x"}], 4, "adjacent"),
    ([{"add": "/a/", "value": "x"}], 4, 'end with "/"'),
    ([{"add": "/a~2", "value": "x"}], 4, "recognized escape"),
    ([{"add": "/tags/x", "value": "x"}], 4, "Invalid JSON pointer"),
    ([{"replace": "/name"}], 4, 'Operation "replace" requires a member named "value"'),
    ([{"replace": "/min_ram", "value": "lots"}], 4, "'min_ram'"),
    ([{"add": "/custom", "value": 3}], 4, "'custom'"),
    (["not an object"], 10, "Operations must be JSON objects"),
    ({"op": "add"}, 10, "JSON array"),
])
def test_bad_documents_are_400(body: Any, draft: int, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        read(body, draft)


@pytest.mark.parametrize(("name", "message"), [
    ("status", "read-only"), ("id", "read-only"), ("stores", "read-only"),
    ("deleted", "reserved"), ("os_glance_import_task", "reserved"),
])
def test_read_only_and_reserved_names_are_403(name: str, message: str) -> None:
    for draft, body in ((10, {"op": "replace", "path": f"/{name}", "value": "x"}),
                        (4, {"replace": f"/{name}", "value": "x"})):
        with pytest.raises(Forbidden, match=message):
            read([body], draft)


def test_add_of_a_present_property_replaces_in_v21_and_conflicts_in_v20() -> None:
    changes = [Change("add", "os_distro", "rhel")]
    patched = apply_changes(ATTRS, {"os_distro": "windows"}, changes, 10, is_admin=False)
    assert patched.properties == {"os_distro": "rhel"}
    with pytest.raises(Conflict, match="Property os_distro already present"):
        apply_changes(ATTRS, {"os_distro": "windows"}, changes, 4, is_admin=False)
    with pytest.raises(Conflict, match="Property name already present"):
        apply_changes(ATTRS, {}, [Change("add", "name", "x")], 4, is_admin=False)


def test_replace_and_remove_rules() -> None:
    with pytest.raises(Conflict, match="Property ghost does not exist"):
        apply_changes(ATTRS, {}, [Change("replace", "ghost", "x")], 4, is_admin=False)
    with pytest.raises(Conflict, match="Property ghost does not exist"):
        apply_changes(ATTRS, {}, [Change("remove", "ghost")], 10, is_admin=False)
    with pytest.raises(Forbidden, match="Property name may not be removed"):
        apply_changes(ATTRS, {}, [Change("remove", "name")], 10, is_admin=False)
    with pytest.raises(Forbidden, match="Owner can't be updated by non admin"):
        apply_changes(ATTRS, {}, [Change("replace", "owner", "p2")], 10, is_admin=False)
    assert apply_changes(ATTRS, {}, [Change("replace", "owner", "p2")], 10,
                         is_admin=True).attributes["owner"] == "p2"


def test_changes_apply_in_order_on_copies() -> None:
    properties = {"a": "1"}
    patched = apply_changes(ATTRS, properties, [
        Change("add", "b", "2"), Change("replace", "b", "3"), Change("remove", "a"),
        Change("replace", "name", "new")], 4, is_admin=False)
    assert patched.properties == {"b": "3"}
    assert patched.attributes["name"] == "new"
    assert patched.changed == {"a", "b", "name"}
    assert properties == {"a": "1"} and ATTRS["name"] == "n"
