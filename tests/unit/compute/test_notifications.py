"""nova's versioned notifications beside its legacy ones ([notifications]
notification_format: unversioned, nova's default, versioned or both): ``instance.create.start``
and ``.end`` with InstanceCreatePayload, ``instance.update``, the power actions, reboot and
delete with InstanceActionPayload, from ``nova-compute:<host>``, in the request's context;
on a broker they go to the ``versioned_notifications`` topic (docs/bus.md)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from stacklab.api.app import build_app
from stacklab.bus.interface import Notification
from stacklab.cloud import Cloud
from stacklab.compute import notification_objects as objects
from stacklab.compute.notifications import Notifier
from support.inprocess import admin_token, ephemeral_config
from unit.compute.nova_calls import BASE, at

# The fields of nova's InstancePayload (nova/notifications/objects/instance.py, 1.9).
INSTANCE_FIELDS = {
    "uuid", "user_id", "tenant_id", "reservation_id", "display_name", "display_description",
    "host_name", "host", "node", "os_type", "architecture", "availability_zone", "flavor",
    "image_uuid", "key_name", "kernel_id", "ramdisk_id", "created_at", "launched_at",
    "terminated_at", "deleted_at", "updated_at", "state", "power_state", "task_state",
    "progress", "ip_addresses", "block_devices", "metadata", "locked", "auto_disk_config",
    "request_id", "action_initiator_user", "action_initiator_project", "locked_reason",
    "shares"}
# FlavorPayload 1.4's.
FLAVOR_FIELDS = {
    "flavorid", "memory_mb", "vcpus", "root_gb", "ephemeral_gb", "name", "swap",
    "rxtx_factor", "vcpu_weight", "disabled", "is_public", "extra_specs", "projects",
    "description"}


class Seen:
    def __init__(self, cloud: Cloud) -> None:
        self.items: list[Notification] = []
        cloud.bus.subscribe("*instance.*", self.items.append)

    def until(self, event_type: str, uuid: str, count: int = 1) -> list[Notification]:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            found = self.of(uuid, event_type)
            if len(found) >= count:
                return found
            time.sleep(0.01)
        raise AssertionError(f"no {event_type} of {uuid}: {[n.event_type for n in self.items]}")

    def of(self, uuid: str, event_type: str | None = None) -> list[Notification]:
        return [n for n in list(self.items) if _uuid(n.payload) == uuid
                and (event_type is None or n.event_type == event_type)]


def _uuid(payload: Any) -> Any:
    if "nova_object.data" in payload:
        return payload["nova_object.data"]["uuid"]
    return payload.get("instance_id") or payload.get("uuid")


def _cloud(notification_format: str) -> Iterator[tuple[Cloud, TestClient]]:
    config = ephemeral_config()
    config.notifications.notification_format = notification_format
    cloud = Cloud(config)
    cloud.start("http://testserver")
    try:
        with TestClient(build_app(cloud), raise_server_exceptions=False) as client:
            yield cloud, client
    finally:
        cloud.stop()


@pytest.fixture
def both() -> Iterator[tuple[Cloud, TestClient]]:
    yield from _cloud("both")


def _boot(client: TestClient, token: str, name: str, **fields: Any) -> str:
    headers = at(token, "2.96")
    image = client.get("/image/v2/images", headers=headers).json()["images"][0]["id"]
    response = client.post(f"{BASE}/servers", headers=headers, json={"server": {
        "name": name, "imageRef": image, "flavorRef": "1", "networks": "none", **fields}})
    assert response.status_code == 202, response.text
    return str(response.json()["server"]["id"])


def _action(client: TestClient, token: str, uuid: str, body: dict[str, Any]) -> None:
    answer = client.post(f"{BASE}/servers/{uuid}/action", headers=at(token, "2.96"),
                         json=body)
    assert answer.status_code == 202, answer.text


def test_a_build_sends_both_formats_with_novas_payload_objects(
        both: tuple[Cloud, TestClient]) -> None:
    cloud, client = both
    seen = Seen(cloud)
    token = admin_token(client)
    headers = at(token, "2.96")
    # Before 2.92 nova still generates the key.
    assert client.post(f"{BASE}/os-keypairs", headers=at(token, "2.91"), json={
        "keypair": {"name": "k1"}}).status_code == 201
    uuid = _boot(client, token, "versioned", key_name="k1", metadata={"role": "web"},
                 tags=["blue"])
    end = seen.until("instance.create.end", uuid)[0]
    shown = client.get(f"{BASE}/servers/{uuid}", headers=headers).json()["server"]
    host = shown["OS-EXT-SRV-ATTR:host"]
    kinds = [n.event_type for n in seen.of(uuid) if n.event_type.endswith(
        ("create.start", "create.end"))]
    assert kinds == ["compute.instance.create.start", "instance.create.start",
                     "compute.instance.create.end", "instance.create.end"]
    assert (end.publisher_id, end.priority) == (f"nova-compute:{host}", "INFO")
    payload = end.payload
    assert {key: payload[key] for key in ("nova_object.name", "nova_object.namespace",
                                          "nova_object.version")} == {
        "nova_object.name": "InstanceCreatePayload", "nova_object.namespace": "nova",
        "nova_object.version": "1.13"}
    data = payload["nova_object.data"]
    assert set(data) == INSTANCE_FIELDS | {
        "fault", "keypairs", "tags", "trusted_image_certificates", "instance_name"}
    assert {key: data[key] for key in (
        "uuid", "display_name", "host", "node", "state", "power_state", "task_state",
        "tenant_id", "user_id", "image_uuid", "key_name", "metadata", "tags", "fault",
        "ip_addresses", "locked", "auto_disk_config", "instance_name")} == {
        "uuid": uuid, "display_name": "versioned", "host": host, "node": host,
        "state": "active", "power_state": "running", "task_state": None,
        "tenant_id": shown["tenant_id"], "user_id": shown["user_id"],
        "image_uuid": shown["image"]["id"], "key_name": "k1", "metadata": {"role": "web"},
        "tags": ["blue"], "fault": None, "ip_addresses": [], "locked": False,
        "auto_disk_config": "MANUAL", "instance_name": shown["OS-EXT-SRV-ATTR:instance_name"]}
    # Who asked: the request's context, as nova's RequestContext gives it.
    assert data["request_id"] == end.ctxt["request_id"]
    assert data["request_id"].startswith("req-")
    assert data["action_initiator_project"] == shown["tenant_id"]
    assert data["action_initiator_user"] == shown["user_id"]
    # oslo.versionedobjects' DateTimeField: whole seconds, Z.
    assert data["created_at"].endswith("Z") and data["launched_at"][10] == "T"
    flavor = data["flavor"]
    assert (flavor["nova_object.name"], flavor["nova_object.version"]) == ("FlavorPayload",
                                                                           "1.4")
    assert set(flavor["nova_object.data"]) == FLAVOR_FIELDS
    assert {key: flavor["nova_object.data"][key] for key in (
        "name", "flavorid", "memory_mb", "vcpus", "root_gb")} == {
        "name": "m1.tiny", "flavorid": "1", "memory_mb": 512, "vcpus": 1, "root_gb": 1}
    [keypair] = data["keypairs"]
    assert keypair["nova_object.name"] == "KeypairPayload"
    assert keypair["nova_object.data"]["name"] == "k1"
    start = seen.of(uuid, "instance.create.start")[0].payload["nova_object.data"]
    assert (start["state"], start["task_state"], start["launched_at"]) == (
        "building", None, None)
    # instance.update: each state change, with the state before and after.
    updates = [n.payload for n in seen.of(uuid, "instance.update")]
    assert all(u["nova_object.name"] == "InstanceUpdatePayload"
               and u["nova_object.version"] == "2.1" for u in updates)
    changes = [u["nova_object.data"]["state_update"]["nova_object.data"] for u in updates]
    assert changes[-1] == {"old_state": "building", "state": "active",
                           "old_task_state": "spawning", "new_task_state": None}
    audit = updates[-1]["nova_object.data"]["audit_period"]["nova_object.data"]
    assert audit["audit_period_beginning"][8:] == "01T00:00:00Z"


def test_power_actions_reboot_and_delete_send_instance_action_payloads(
        both: tuple[Cloud, TestClient]) -> None:
    cloud, client = both
    seen = Seen(cloud)
    token = admin_token(client)
    uuid = _boot(client, token, "acted")
    seen.until("instance.create.end", uuid)
    _action(client, token, uuid, {"os-stop": None})
    off = seen.until("instance.power_off.end", uuid)[0].payload["nova_object.data"]
    assert (off["state"], off["power_state"], off["task_state"]) == (
        "stopped", "shutdown", None)
    _action(client, token, uuid, {"os-start": None})
    seen.until("instance.power_on.end", uuid)
    _action(client, token, uuid, {"reboot": {"type": "SOFT"}})
    seen.until("instance.reboot.end", uuid)
    assert client.delete(f"{BASE}/servers/{uuid}",
                         headers=at(token, "2.96")).status_code == 204
    gone = seen.until("instance.delete.end", uuid)[0]
    host = gone.payload["nova_object.data"]["host"]
    versioned = [n.event_type for n in seen.of(uuid) if n.event_type.startswith("instance.")
                 and n.event_type != "instance.update"]
    assert versioned == ["instance.create.start", "instance.create.end",
                         "instance.power_off.start", "instance.power_off.end",
                         "instance.power_on.start", "instance.power_on.end",
                         "instance.reboot.start", "instance.reboot.end",
                         "instance.delete.start", "instance.delete.end"]
    # The legacy ones of the same steps, from compute.<host>.
    legacy = [n.event_type for n in seen.of(uuid) if n.event_type.startswith("compute.")
              and n.event_type != "compute.instance.update"]
    assert legacy == ["compute." + event for event in versioned]
    assert {n.publisher_id for n in seen.of(uuid) if n.event_type.startswith("instance.")} == {
        f"nova-compute:{host}"}
    for event in versioned[2:]:
        payload = seen.of(uuid, event)[0].payload
        assert payload["nova_object.name"] == "InstanceActionPayload"
        assert set(payload["nova_object.data"]) == INSTANCE_FIELDS | {"fault"}
    data = gone.payload["nova_object.data"]
    assert data["state"] == "deleted" and data["deleted_at"] and data["terminated_at"]


@pytest.mark.parametrize(("notification_format", "prefixes"), [
    ("unversioned", {"compute."}), ("versioned", {"instance."})])
def test_the_format_sends_one_kind_only(notification_format: str,
                                        prefixes: set[str]) -> None:
    for cloud, client in _cloud(notification_format):
        seen = Seen(cloud)
        uuid = _boot(client, admin_token(client), "one-kind")
        seen.until(("compute." if "compute." in prefixes else "") + "instance.create.end",
                   uuid)
        assert {n.event_type.split("instance.")[0] or "instance." for n in seen.of(uuid)} == (
            prefixes)


class RecordingBus:
    def __init__(self) -> None:
        self.sent: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    async def notify(self, *args: Any, **kwargs: Any) -> None:
        self.sent.append((args, kwargs))


def test_the_versioned_notifier_sends_on_its_own_topics() -> None:
    import asyncio

    bus = RecordingBus()
    notifier = Notifier(bus, "both", ("versioned_notifications", "audit"))  # type: ignore[arg-type]
    asyncio.run(notifier.versioned("nova-compute", "compute1", "instance.update", {}))
    asyncio.run(notifier.legacy("compute.compute1", "compute.instance.update", {}))
    assert bus.sent == [
        (("nova-compute:compute1", "instance.update", {}, "INFO"),
         {"ctxt": None, "topics": ("versioned_notifications", "audit")}),
        (("compute.compute1", "compute.instance.update", {}, "INFO"), {"ctxt": None})]
    with pytest.raises(ValueError, match=r"\[notifications\] notification_format"):
        Notifier(bus, "json")  # type: ignore[arg-type]


def test_ip_payloads_list_the_fixed_addresses_by_network() -> None:
    addresses = {"private": [
        {"addr": "10.0.0.5", "version": 4, "OS-EXT-IPS:type": "fixed",
         "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:00:01"},
        {"addr": "192.168.100.7", "version": 4, "OS-EXT-IPS:type": "floating",
         "OS-EXT-IPS-MAC:mac_addr": "fa:16:3e:00:00:01"}]}
    assert objects.ip_payloads(addresses) == [{
        "nova_object.name": "IpPayload", "nova_object.namespace": "nova",
        "nova_object.version": "1.0", "nova_object.data": {
            "label": "private", "mac": "fa:16:3e:00:00:01", "meta": {}, "port_uuid": None,
            "version": 4, "address": "10.0.0.5", "device_name": None}}]


def test_a_resize_sends_novas_resize_steps_under_both_names(
        both: tuple[Cloud, TestClient]) -> None:
    cloud, client = both
    seen = Seen(cloud)
    token = admin_token(client)
    uuid = _boot(client, token, "grown")
    seen.until("instance.create.end", uuid)
    _action(client, token, uuid, {"resize": {"flavorRef": "2"}})
    seen.until("instance.resize_finish.end", uuid)
    steps = ("resize_prep.start", "resize_prep.end", "resize.start", "resize.end",
             "resize_finish.start", "resize_finish.end")
    assert [n.event_type for n in seen.of(uuid) if n.event_type.startswith("instance.resize")
            ] == [f"instance.{step}" for step in steps]
    # The legacy names of the same steps are nova's older ones.
    assert [n.event_type for n in seen.of(uuid)
            if n.event_type.startswith(("compute.instance.resize",
                                        "compute.instance.finish_resize"))] == [
        "compute.instance.resize.prep.start", "compute.instance.resize.prep.end",
        "compute.instance.resize.start", "compute.instance.resize.end",
        "compute.instance.finish_resize.start", "compute.instance.finish_resize.end"]
    prep = seen.of(uuid, "instance.resize_prep.start")[0].payload
    assert (prep["nova_object.name"], prep["nova_object.version"]) == (
        "InstanceActionResizePrepPayload", "1.4")
    data = prep["nova_object.data"]
    assert (data["flavor"]["nova_object.data"]["name"],
            data["new_flavor"]["nova_object.data"]["name"]) == ("m1.tiny", "m1.small")
    finished = seen.of(uuid, "instance.resize_finish.end")[0].payload["nova_object.data"]
    assert (finished["state"], finished["flavor"]["nova_object.data"]["name"]) == (
        "resized", "m1.small")
