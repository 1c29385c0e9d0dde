"""cinder's notifications: ``volume.create.start``/``.end``, ``volume.attach.*``,
``volume.delete.*``, ``snapshot.create.*`` and ``snapshot.delete.*``, sent by the owning
cinder-volume as ``volume.<host@backend>`` (``snapshot.<host@backend>``) with the usage
payload of cinder's ``_usage_from_volume`` (``_usage_from_snapshot``), in the request's
context; on a broker they go to the ``cinder`` exchange (docs/bus.md)."""

from __future__ import annotations

from stacklab.bus.interface import Notification
from stacklab.cloud import SERVICES, control_exchanges
from stacklab.config import Config
from unit.block_storage.cinder_calls import Lab, run_lab

SERVER = "4b1d5a04-8c5e-4f34-9b0f-3d1c3b1d2a10"
# cinder/volume/volume_utils.py _usage_from_volume's keys (and the attachments it lists).
VOLUME_USAGE = {
    "tenant_id", "host", "user_id", "availability_zone", "volume_id", "volume_type",
    "display_name", "launched_at", "created_at", "status", "snapshot_id", "size",
    "replication_status", "replication_extended_status", "replication_driver_data",
    "metadata", "volume_attachment"}
SNAPSHOT_USAGE = {
    "tenant_id", "user_id", "availability_zone", "volume_id", "volume_size", "snapshot_id",
    "display_name", "created_at", "status", "deleted", "metadata"}


def test_a_volume_and_its_snapshot_are_notified_by_their_cinder_volume() -> None:
    async def scenario(lab: Lab) -> None:
        seen: list[Notification] = []
        lab.cloud.bus.subscribe("volume.*", seen.append)
        lab.cloud.bus.subscribe("snapshot.*", seen.append)
        volume = (await lab.create(name="told", metadata={"tier": "gold"}))["volume"]["id"]
        shown = await lab.until_status(volume, "available")
        backend = shown["os-vol-host-attr:host"].partition("#")[0]
        await lab.call("POST", f"/volumes/{volume}/action", {"os-attach": {
            "instance_uuid": SERVER, "mountpoint": "/dev/vdc"}}, expect=202)
        await lab.call("POST", f"/volumes/{volume}/action", {"os-detach": {}}, expect=202)
        snapshot = (await lab.call("POST", "/snapshots", {"snapshot": {
            "volume_id": volume, "name": "snap"}}, expect=202))["snapshot"]["id"]
        await lab.settle()
        await lab.call("DELETE", f"/snapshots/{snapshot}", expect=202)
        await lab.settle()
        await lab.call("DELETE", f"/volumes/{volume}", expect=202)
        await lab.settle()
        assert [(n.event_type, n.publisher_id, n.priority) for n in seen] == [
            (f"{kind}.{action}.{phase}", f"{kind}.{backend}", "INFO")
            for kind, action in (("volume", "create"), ("volume", "attach"),
                                 ("volume", "detach"), ("snapshot", "create"),
                                 ("snapshot", "delete"), ("volume", "delete"))
            for phase in ("start", "end")]
        by_type = {n.event_type: n for n in seen}
        created = by_type["volume.create.end"].payload
        assert set(created) == VOLUME_USAGE
        assert {key: created[key] for key in (
            "volume_id", "display_name", "status", "size", "host", "tenant_id",
            "availability_zone", "metadata", "volume_attachment", "snapshot_id")} == {
            "volume_id": volume, "display_name": "told", "status": "available", "size": 1,
            "host": shown["os-vol-host-attr:host"],
            "tenant_id": shown["os-vol-tenant-attr:tenant_id"], "availability_zone": "nova",
            "metadata": {"tier": "gold"}, "volume_attachment": [], "snapshot_id": None}
        assert created["launched_at"].endswith("+00:00")
        assert by_type["volume.create.start"].payload["status"] == "creating"
        attached = by_type["volume.attach.end"].payload
        assert attached["status"] == "in-use"
        assert [a["instance_uuid"] for a in attached["volume_attachment"]] == [SERVER]
        snap = by_type["snapshot.create.end"].payload
        assert set(snap) == SNAPSHOT_USAGE
        assert {key: snap[key] for key in ("snapshot_id", "volume_id", "display_name",
                                           "status", "volume_size", "deleted",
                                           "metadata")} == {
            "snapshot_id": snapshot, "volume_id": volume, "display_name": "snap",
            "status": "available", "volume_size": 1, "deleted": "", "metadata": ""}
        # The delete's end carries what its start read (the row is gone by then).
        assert by_type["volume.delete.end"].payload == by_type["volume.delete.start"].payload
        assert by_type["volume.delete.end"].payload["status"] == "deleting"
        # In the request's context: the request id cinder-api gave the create.
        assert by_type["volume.create.end"].ctxt["request_id"].startswith("req-")

    run_lab(scenario)


def test_cinders_publishers_go_to_its_exchange() -> None:
    _, publishers = control_exchanges(Config(), SERVICES)
    assert publishers["volume"] == publishers["snapshot"] == "cinder"
