"""Block device mappings as nova reads them (nova/block_device.py): a request's
``block_device_mapping_v2`` and legacy ``block_device_mapping`` entries, and those an
image defines (nova's ``_get_image_defined_bdms``), each as a mapping row.

An image made by createImage of a volume-backed server carries a ``block_device_mapping``
property (JSON text in glance, with ``bdm_v2``) naming a cinder snapshot where the server
had each volume. A server booted from such an image gets those mappings, the ones its
request names overriding them device by device (nova's ``_merge_bdms_lists``): its root
is then a new volume made from the root snapshot, and the image's own (empty) data is
never used. An image without ``bdm_v2`` holds legacy (v1) mappings.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from stacklab.api.errors import BadRequest

_VOLUME_SOURCES = ("volume", "snapshot")


def invalid_bdm(details: str) -> BadRequest:
    return BadRequest(f"Block Device Mapping is Invalid: {details}")


def strip_dev(name: str | None) -> str:
    return (name or "").removeprefix("/dev/")


def _boot_index(value: Any) -> int | None:
    """nova's boot index: a number (a string of one too); None or negative: not bootable."""
    if value is None or value == "":
        return None
    try:
        index = int(value)
    except (TypeError, ValueError):
        raise invalid_bdm("Boot index is invalid.") from None
    return index if index >= 0 else None


def from_api(bdm: Mapping[str, Any]) -> dict[str, Any]:
    """A ``block_device_mapping_v2`` entry as a mapping row (nova's BlockDeviceDict.from_api)."""
    source = bdm.get("source_type")
    uuid = bdm.get("uuid")
    if source not in ("volume", "image", "snapshot", "blank"):
        raise invalid_bdm("Some required fields are missing")
    destination = bdm.get("destination_type") or (
        "volume" if source in _VOLUME_SOURCES else "local")
    if source == "blank" and uuid:
        raise invalid_bdm("Invalid device UUID.")
    if source != "blank" and not uuid:
        raise invalid_bdm("Missing device UUID.")
    volume_type = bdm.get("volume_type")
    if destination == "local" and volume_type:
        raise invalid_bdm("Specifying a volume_type with destination_type=local is not "
                          "supported.")
    if source == "volume" and volume_type:
        raise invalid_bdm("Specifying volume type to existing volume is not supported.")
    size = bdm.get("volume_size")
    return {"source_type": source, "destination_type": destination,
            "boot_index": _boot_index(bdm.get("boot_index")),
            "device_name": bdm.get("device_name"),
            "volume_id": uuid if source == "volume" else None,
            "snapshot_id": uuid if source == "snapshot" else None,
            "image_id": uuid if source == "image" else None,
            "volume_size": int(size) if size not in (None, "") else None,
            "volume_type": volume_type, "tag": bdm.get("tag"),
            "guest_format": bdm.get("guest_format"), "disk_bus": bdm.get("disk_bus"),
            "device_type": bdm.get("device_type"),
            "delete_on_termination": bdm.get("delete_on_termination") in _TRUE}


def from_legacy(bdm: Mapping[str, Any], image_ref: str) -> dict[str, Any]:
    """A ``block_device_mapping`` (v1) entry: a volume or a snapshot's new volume; without
    an image, the one on the root device (vda) boots (nova's from_legacy_mapping)."""
    snapshot, volume = bdm.get("snapshot_id"), bdm.get("volume_id")
    if not snapshot and not volume:
        raise invalid_bdm("Missing device UUID.")
    size = bdm.get("volume_size")
    root = not image_ref and strip_dev(bdm.get("device_name")) == "vda"
    return {"source_type": "snapshot" if snapshot else "volume",
            "destination_type": "volume", "boot_index": 0 if root else None,
            "device_name": bdm.get("device_name"), "volume_id": None if snapshot else volume,
            "snapshot_id": snapshot or None, "image_id": None,
            "volume_size": int(size) if size not in (None, "") else None,
            "volume_type": None, "tag": None, "guest_format": None, "disk_bus": None,
            "device_type": None,
            "delete_on_termination": bdm.get("delete_on_termination") in _TRUE}


_TRUE = (True, 1, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes")


def check_boot_sequence(mappings: list[dict[str, Any]]) -> None:
    """Boot indexes are 0, 1, 2... with no gap (nova's InvalidBDMBootSequence)."""
    indexes = sorted(b["boot_index"] for b in mappings if b["boot_index"] is not None)
    if not indexes or indexes != list(range(len(indexes))):
        raise invalid_bdm("Boot sequence for the instance and image/block device mapping "
                          "combination is not valid.")


def from_image_v2(bdm: Mapping[str, Any]) -> dict[str, Any]:
    """A mapping an image defines (bdm v2, as nova's get_image_mapping wrote it): its ids
    are named by their own keys, not by ``uuid``."""
    source = bdm.get("source_type")
    uuid = bdm.get(f"{source}_id") if source in ("volume", "snapshot", "image") else None
    return from_api({**{k: v for k, v in bdm.items() if k not in ("volume_id", "snapshot_id",
                                                                   "image_id")},
                     "uuid": uuid})


def image_defined_mappings(properties: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The mapping rows an image's properties define (none for most images)."""
    raw = properties.get("block_device_mapping")
    if raw in (None, "", []):
        return []
    try:
        given = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise invalid_bdm("the image's block_device_mapping is not valid JSON.") from None
    if not isinstance(given, list) or not all(isinstance(b, dict) for b in given):
        raise invalid_bdm("the image's block_device_mapping is not a list of mappings.")
    given = [bdm for bdm in given if not bdm.get("no_device")]
    # nova takes any value of bdm_v2 as true (glance keeps it as text).
    if properties.get("bdm_v2"):
        return [from_image_v2(bdm) for bdm in given]
    return [from_legacy(bdm, "") for bdm in given]


def merge(image_defined: list[dict[str, Any]],
          requested: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The request's mappings, then the image's on devices the request does not name."""
    named = {bdm["device_name"] for bdm in requested if bdm.get("device_name")}
    return [*requested, *(bdm for bdm in image_defined if bdm.get("device_name") not in named)]


def without_image_root(requested: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For an image that defines its root: the request's image root mapping goes (a client
    inserts one for the image it names)."""
    return [bdm for bdm in requested
            if not (bdm["boot_index"] == 0 and bdm["source_type"] == "image")]
