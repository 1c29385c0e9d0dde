"""``stacklab up`` with its bus on RabbitMQ ([DEFAULT] transport_url = rabbit://…, the
embedded shape otherwise), driven by the real ``openstack`` CLI: a server built over the
broker goes ACTIVE, and a real oslo.messaging notification listener on the ``nova``
exchange sees nova's notifications of it: compute.instance.create.start/.end (legacy
payload) and compute.instance.update, and with ``[notifications] notification_format =
both`` the versioned instance.create.end on ``versioned_notifications``; on the neutron
exchange neutron's of its network and port; on the cinder and heat exchanges cinder's
volume.create.end of a volume and heat's orchestration.stack.create.end of a stack
(docs/bus.md)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from acceptance.conftest import start_cloud, stop_cloud, wait_for
from support.broker import oslo_conf, scratch_vhost

pytestmark = [pytest.mark.acceptance,
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]

CIRROS = "cirros-0.6.2-x86_64-disk"


class Notifications:
    """An oslo.messaging notification endpoint that keeps what it is sent."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = []

    def info(self, ctxt: dict[str, Any], publisher_id: str, event_type: str, payload: Any,
             metadata: dict[str, Any]) -> None:
        with self.lock:
            self.seen.append((publisher_id, event_type, payload, ctxt))

    def events(self, event_type: str) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
        with self.lock:
            return [entry for entry in self.seen if entry[1] == event_type]

    def of(self, uuid: str) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
        with self.lock:
            return [entry for entry in self.seen
                    if uuid in (entry[2].get("uuid"), entry[2].get("instance_id"),
                                entry[2].get("nova_object.data", {}).get("uuid"))]


def test_up_on_rabbitmq_builds_a_server_and_nova_notifies_an_oslo_listener(
        tmp_path: Path) -> None:
    om = pytest.importorskip("oslo_messaging")
    with scratch_vhost() as url:
        transport = om.get_notification_transport(oslo_conf(), url=url)
        endpoint = Notifications()
        listener = om.get_notification_listener(
            transport, [om.Target(topic="notifications", exchange="nova"),
                        om.Target(topic="versioned_notifications", exchange="nova"),
                        om.Target(topic="notifications", exchange="neutron"),
                        om.Target(topic="notifications", exchange="cinder"),
                        om.Target(topic="notifications", exchange="heat")], [endpoint],
            executor="threading")
        listener.start()
        conf = tmp_path / "stacklab.conf"
        conf.write_text(f"[DEFAULT]\ntransport_url = {url}\n"
                        "[oslo_messaging_notifications]\ndriver = messagingv2\n"
                        "[notifications]\nnotification_format = both\n")
        template = tmp_path / "stack.yaml"
        template.write_text("heat_template_version: 2018-08-31\n"
                            "description: told over the broker\n"
                            "resources:\n  r:\n    type: OS::Heat::RandomString\n")
        cloud = start_cloud(tmp_path, "--config", str(conf), "--seed", "16")
        try:
            network = cloud.openstack_json("network", "create", "rabbit-net")
            cloud.openstack_json("subnet", "create", "--network", network["id"],
                                 "--subnet-range", "10.16.0.0/24", "rabbit-subnet")
            server = cloud.openstack_json("server", "create", "--flavor", "m1.small",
                                          "--image", CIRROS, "--network", network["id"],
                                          "--wait", "rabbit-server")
            assert server["status"] == "ACTIVE"
            assert server["addresses"]["rabbit-net"][0].startswith("10.16.0.")
            # nova-compute's notifications of the build reach the oslo listener on the
            # nova exchange: the legacy create.start and create.end, from compute.<host>,
            # and compute.instance.update from building to active.
            host = cloud.openstack_json("server", "show", server["id"])[
                "OS-EXT-SRV-ATTR:host"]
            ended = wait_for(
                "compute.instance.create.end",
                lambda: [(publisher, payload, ctxt)
                         for publisher, event, payload, ctxt in endpoint.of(server["id"])
                         if event == "compute.instance.create.end"],
                bool, timeout=10)
            publisher, payload, ctxt = ended[0]
            assert publisher == f"compute.{host}"
            assert ctxt["request_id"].startswith("req-") and ctxt["project_id"]
            assert (payload["state"], payload["display_name"], payload["message"],
                    payload["instance_type"]) == ("active", "rabbit-server", "Success",
                                                  "m1.small")
            assert [ip["address"] for ip in payload["fixed_ips"]] == (
                server["addresses"]["rabbit-net"])
            events = [event for _, event, _, _ in endpoint.of(server["id"])]
            assert events.index("compute.instance.create.start") < events.index(
                "compute.instance.create.end")
            # The versioned one, on versioned_notifications, from nova-compute:<host>, with
            # nova's payload object.
            versioned = wait_for(
                "instance.create.end",
                lambda: [(publisher, payload) for publisher, event, payload, _
                         in endpoint.of(server["id"]) if event == "instance.create.end"],
                bool, timeout=10)
            publisher, payload = versioned[0]
            assert publisher == f"nova-compute:{host}"
            assert (payload["nova_object.name"], payload["nova_object.namespace"]) == (
                "InstanceCreatePayload", "nova")
            data = payload["nova_object.data"]
            assert (data["state"], data["power_state"], data["display_name"]) == (
                "active", "running", "rabbit-server")
            assert data["flavor"]["nova_object.data"]["name"] == "m1.small"
            assert [ip["nova_object.data"]["address"] for ip in data["ip_addresses"]] == (
                server["addresses"]["rabbit-net"])
            updates = [payload for _, event, payload, _ in endpoint.of(server["id"])
                       if event == "compute.instance.update"]
            assert updates[0]["vm_state"] == "building"
            assert any(p["vm_state"] == "active" and p["task_state"] is None
                       for p in updates)
            # neutron's notifications of the API's writes, on the neutron exchange: the
            # network the CLI made, the port nova made for the server.
            created = endpoint.events("network.create.end")
            assert [payload["network"]["id"] for _, _, payload, _ in created] == [
                network["id"]]
            assert created[0][0].startswith("network.")
            ports = [payload["port"] for _, event, payload, _ in endpoint.seen
                     if event in ("port.create.end", "port.update.end")]
            assert any(port["device_id"] == server["id"] for port in ports)
            # cinder's of a volume, from volume.<host@backend>, on the cinder exchange, and
            # heat's of a stack, from orchestration.<host>, on the heat exchange.
            volume = cloud.openstack_json("volume", "create", "--size", "1", "rabbit-vol")
            made = wait_for("volume.create.end", lambda: [
                (publisher, payload) for publisher, event, payload, _ in endpoint.seen
                if event == "volume.create.end" and payload["volume_id"] == volume["id"]],
                bool, timeout=10)
            assert made[0][0].startswith("volume.") and made[0][1]["status"] == "available"
            stack = cloud.openstack_json("stack", "create", "-t", str(template),
                                         "rabbit-stack")
            told = wait_for("orchestration.stack.create.end", lambda: [
                (publisher, payload) for publisher, event, payload, _ in endpoint.seen
                if event == "orchestration.stack.create.end"], bool, timeout=10)
            assert told[0][0].startswith("orchestration.")
            assert (told[0][1]["stack_identity"], told[0][1]["state"]) == (
                stack["id"], "CREATE_COMPLETE")
            cloud.openstack("server", "delete", "--wait", server["id"])
            wait_for("compute.instance.delete.end",
                     lambda: [event for _, event, _, _ in endpoint.of(server["id"])],
                     lambda events: "compute.instance.delete.end" in events, timeout=10)
        finally:
            code = stop_cloud(cloud)
            listener.stop()
            listener.wait()
            transport.cleanup()
        assert code == 0
