"""``stacklab up --processes``: one OS process per service on MariaDB and RabbitMQ, driven
by the real ``openstack`` CLI; a killed process is started again and the work sent to it
meanwhile is done (docs/processes.md).

Run them alone with ``pytest -m processes``."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from acceptance.conftest import BIN, LiveCloud, free_port, stop_cloud, wait_for
from support.broker import scratch_vhost
from support.engines import scratch_database

pytestmark = [pytest.mark.acceptance, pytest.mark.engines, pytest.mark.processes]

CIRROS = "cirros-0.6.2-x86_64-disk"
CONTROLLER1 = "controller1.openstack.local"
CONTROLLER2 = "controller2.openstack.local"
READY = "stacklab is up"
# The nodes whose neutron agents run in a process of their own (neutron-agents@<node>).
NETWORK_NODES = ("network1.openstack.local", "network2.openstack.local")
AGENT_NODES = (*NETWORK_NODES, "compute1.openstack.local", "compute2.openstack.local")
PROCESS = re.compile(r"^  process\s+(\S+) \(pid (\d+)\)$", re.MULTILINE)


def _up(tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "stacklab"), "up", "--processes", "--port", str(free_port()),
         "--state-dir", str(tmp / "state"), "--no-clouds-yaml", *extra],
        capture_output=True, text=True, timeout=60)


def test_processes_need_a_server_database_and_a_broker(tmp_path: Path) -> None:
    result = _up(tmp_path)
    assert result.returncode == 2
    assert "[database] connection" in result.stderr
    assert "[DEFAULT] transport_url" in result.stderr
    conf = tmp_path / "db-only.conf"
    conf.write_text("[database]\nconnection = mysql+pymysql://root@127.0.0.1:3306/x\n")
    result = _up(tmp_path, "--config", str(conf))
    assert result.returncode == 2
    assert "[DEFAULT] transport_url" in result.stderr
    assert "[database] connection naming" not in result.stderr
    conf.write_text("[DEFAULT]\ntransport_url = rabbit://guest:guest@127.0.0.1:1/\n"
                    "[database]\nconnection = mysql+pymysql://root@127.0.0.1:3306/x\n")
    result = _up(tmp_path, "--config", str(conf))
    assert result.returncode == 2
    assert "[DEFAULT] transport_url: cannot connect" in result.stderr


def _start(tmp: Path, conf: Path, *extra: str) -> LiveCloud:
    port = free_port()
    log = tmp / "stacklab.log"
    clouds_yaml = tmp / "clouds.yaml"
    process = subprocess.Popen(
        [str(BIN / "stacklab"), "up", "--processes", "--port", str(port), "--state-dir",
         str(tmp / "state"), "--clouds-yaml", str(clouds_yaml), "--config", str(conf),
         *extra],
        stdout=log.open("ab"), stderr=subprocess.STDOUT)
    # Ten processes on a shared machine: the supervisor says when every one is ready.
    deadline = time.monotonic() + 120
    while READY not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"stacklab up --processes not ready:\n{log.read_text()}")
        time.sleep(0.1)
    return LiveCloud(f"http://127.0.0.1:{port}", tmp / "state", clouds_yaml, process, log)


def _pids(cloud: LiveCloud) -> dict[str, int]:
    return {name: int(pid) for name, pid in PROCESS.findall(cloud.log.read_text())}


def _status(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"X-Auth-Token": token})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return error.code


def _json(url: str, token: str) -> Any:
    request = urllib.request.Request(url, headers={"X-Auth-Token": token})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def _put(url: str, token: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="PUT",
        headers={"X-Auth-Token": token, "Content-Type": "application/json",
                 "OpenStack-API-Version": "volume 3.32"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read() or b"null")


def _available(cloud: LiveCloud, volume: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while volume["status"] != "available":
        assert volume["status"] in ("creating", "downloading", "available"), volume
        assert time.monotonic() < deadline, volume
        time.sleep(0.3)
        volume = cloud.openstack_json("volume", "show", volume["id"])
    return volume


def _restarted(cloud: LiveCloud, label: str, pid: int) -> None:
    deadline = time.monotonic() + 60
    while f"{label} (pid {pid}) exited with -9; starting it again" not in cloud.log.read_text():
        assert time.monotonic() < deadline, cloud.log.read_text()[-3000:]
        time.sleep(0.1)


def _ha_active(cloud: LiveCloud, router_id: str, among: set[str]) -> str:
    """The one host whose L3 agent holds the router active, once it is one of ``among``
    and the other hosting agent is standby."""
    deadline = time.monotonic() + 90
    while True:
        rows = cloud.openstack_json("network", "agent", "list", "--router", router_id,
                                    "--long")
        states = sorted((row["HA State"], row["Host"]) for row in rows)
        if [state for state, _ in states] == ["active", "standby"] and states[0][1] in among:
            return str(states[0][1])
        assert time.monotonic() < deadline, states
        time.sleep(0.5)


def test_processes_serve_the_cli_and_survive_kill_9(tmp_path: Path) -> None:
    with scratch_database("mysql") as url, scratch_vhost() as transport_url:
        conf = tmp_path / "stacklab.conf"
        # cinder's and heat's own options: two cinder-api, one heat-api.
        conf.write_text(f"[DEFAULT]\ntransport_url = {transport_url}\napi_workers = 2\n"
                        "osapi_volume_workers = 2\n[heat_api]\nworkers = 1\n"
                        f"[database]\nconnection = {url}\n")
        hooks = tmp_path / "hooks"
        hooks.mkdir()
        (hooks / "10-flavor.openstack").write_text(
            "flavor create --ram 64 --disk 1 --vcpus 1 hooked\n")
        cloud = _start(tmp_path, conf, "--init-hooks", str(hooks))
        try:
            pids = _pids(cloud)
            # The init hooks run once every process is ready; the cloud's health says
            # ready once they have (what `stacklab wait` waits for), as one process's.
            deadline = time.monotonic() + 60
            while _status(f"{cloud.url}/stacklab/v1/health", "") != 200:
                assert time.monotonic() < deadline, cloud.log.read_text()[-3000:]
                time.sleep(0.2)
            assert cloud.openstack_json("flavor", "show", "hooked")["ram"] == 64
            # api_workers = 2: two processes for each API that only serves (the others
            # run their RPC servers and background work once).
            assert {"keystone#1", "keystone#2", "glance#1", "glance#2", "nova-api#1",
                    "nova-api#2", "nova-conductor", "nova-scheduler",
                    "neutron-server", "nova-compute@compute1.openstack.local",
                    "nova-compute@compute2.openstack.local", "cinder-api#1",
                    "cinder-api#2", "cinder-scheduler", "heat-api",
                    f"cinder-volume@{CONTROLLER1}", f"cinder-volume@{CONTROLLER2}",
                    f"cinder-backup@{CONTROLLER1}", f"cinder-backup@{CONTROLLER2}",
                    f"heat-engine@{CONTROLLER1}", f"heat-engine@{CONTROLLER2}",
                    *(f"neutron-agents@{node}" for node in AGENT_NODES)} <= set(pids)
            # Each API on its own port, as a real deployment's catalog says.
            catalog = {entry["Name"]: entry for entry in cloud.openstack_json("catalog",
                                                                            "list")}
            ports = {entry["Endpoints"][0]["url"].split("/")[2]
                     for name, entry in catalog.items() if name in (
                         "keystone", "glance", "nova", "neutron", "cinder", "heat")}
            assert len(ports) == 6
            # A token revoked in keystone's process is refused by nova's, once its view of
            # the revocations is read again (a second at most; docs/processes.md).
            token = cloud.openstack_json("token", "issue")["id"]
            nova = catalog["nova"]["Endpoints"][0]["url"]
            assert _status(f"{nova}/servers", token) == 200
            # The cloud's own port forwards another API's paths (what was written against
            # one port still works); another API's port does not serve them.
            assert _status(f"{cloud.url}/compute/v2.1/servers", token) == 200
            glance = urlsplit(catalog["glance"]["Endpoints"][0]["url"])
            assert _status(f"http://{glance.netloc}/compute/v2.1/servers", token) == 404
            cloud.openstack("token", "revoke", token)
            deadline = time.monotonic() + 10
            while _status(f"{nova}/servers", token) != 401:
                assert time.monotonic() < deadline, "nova still takes a revoked token"
                time.sleep(0.2)
            # One keystone worker dies: the other takes every connection on the port
            # meanwhile.
            os.kill(pids["keystone#1"], signal.SIGKILL)
            for _ in range(3):
                assert cloud.openstack_json("token", "issue")["id"]
            _restarted(cloud, "keystone#1", pids["keystone#1"])
            image_file = tmp_path / "disk.raw"
            image_file.write_bytes(b"procs-bytes " * 100)
            image = cloud.openstack_json("image", "create", "--disk-format", "raw",
                                         "--file", str(image_file), "procs-image")
            assert image["status"] == "active"
            # A volume of the image's bytes, on one controller's LVM: its cinder-volume is
            # killed below, and the bytes are still there after its restart.
            source = _available(cloud, cloud.openstack_json(
                "volume", "create", "--size", "1", "--image", "procs-image", "procs-src"))
            network = cloud.openstack_json("network", "create", "procs-net")
            cloud.openstack_json("subnet", "create", "--network", network["id"],
                                 "--subnet-range", "10.31.0.0/24", "procs-subnet")

            def boot(name: str) -> dict[str, object]:
                server: dict[str, object] = cloud.openstack_json(
                    "server", "create", "--flavor", "m1.tiny", "--image", CIRROS,
                    "--network", network["id"], "--wait", name)
                return server

            first = boot("procs-1")
            assert first["status"] == "ACTIVE"
            # Each node's agents, in their own processes, report to neutron-server over
            # the bus: every one alive; a network node's DHCP agent got its port.
            agents = cloud.openstack_json("network", "agent", "list")
            assert {(a["Host"], a["Binary"]) for a in agents
                    if a["Alive"] in (True, ":-)")} == {
                *((node, binary) for node in NETWORK_NODES for binary in (
                    "neutron-openvswitch-agent", "neutron-dhcp-agent", "neutron-l3-agent",
                    "neutron-metadata-agent")),
                *((node, "neutron-openvswitch-agent") for node in AGENT_NODES[2:])}
            assert cloud.openstack_json("port", "list", "--network", network["id"],
                                        "--device-owner", "network:dhcp")
            # An HA router: the two network nodes' keepalived, each in its node's process,
            # elect one master over the bus. Its node's process killed, the other's
            # instance misses its adverts and takes over; the restarted one (BACKUP,
            # nopreempt) says standby.
            router = cloud.openstack_json("router", "create", "--ha", "procs-router")
            active = _ha_active(cloud, router["id"], set(NETWORK_NODES))
            os.kill(pids[f"neutron-agents@{active}"], signal.SIGKILL)
            _restarted(cloud, f"neutron-agents@{active}", pids[f"neutron-agents@{active}"])
            _ha_active(cloud, router["id"], set(NETWORK_NODES) - {active})

            # The conductor and both computes die: the build cast to the conductor waits
            # in its queue on the broker until the supervisor has started it again; the
            # computes' heartbeats are recent, so the scheduler still picks one, and the
            # cast to it waits in its queue for the restarted process, which builds it.
            # A stack one engine process is creating (holding its lock in the store) when
            # both engines die.
            slow = tmp_path / "slow.yaml"
            slow.write_text("heat_template_version: 2018-08-31\nresources:\n  slow:\n"
                            "    type: OS::Heat::TestResource\n    properties:\n"
                            "      action_wait_secs: {create: 600}\n")
            cloud.openstack("stack", "create", "-t", str(slow), "procs-slow")
            # set-log reaches controller1's cinder-volume process over the bus, and get-log
            # is answered by it: its DEBUG goes with it when it is killed below.
            cinder = catalog["cinder"]["Endpoints"][0]["url"]
            admin = cloud.openstack_json("token", "issue")["id"]
            lvm1 = {"binary": "cinder-volume", "server": f"{CONTROLLER1}@lvm",
                    "prefix": "cinder.volume.manager"}
            _put(f"{cinder}/os-services/set-log", admin, {**lvm1, "level": "DEBUG"})
            assert _put(f"{cinder}/os-services/get-log", admin, lvm1)["log_levels"][0][
                "levels"] == {"cinder.volume.manager": "DEBUG"}
            # Both controllers' cinder-volume and heat-engine die with them: the volume
            # created below waits in its backend's queue for the restarted process.
            killed = ["nova-conductor", "nova-compute@compute1.openstack.local",
                      "nova-compute@compute2.openstack.local",
                      f"cinder-volume@{CONTROLLER1}", f"cinder-volume@{CONTROLLER2}",
                      f"heat-engine@{CONTROLLER1}", f"heat-engine@{CONTROLLER2}"]
            for label in killed:
                os.kill(pids[label], signal.SIGKILL)
            second = boot("procs-2")
            assert second["status"] == "ACTIVE"
            for label in killed:
                _restarted(cloud, label, pids[label])

            # Nothing acknowledged is lost: every server is there, ACTIVE, with its address.
            servers = {s["Name"]: s for s in cloud.openstack_json("server", "list")}
            for name in ("procs-1", "procs-2"):
                assert servers[name]["Status"] == "ACTIVE"
                assert servers[name]["Networks"]["procs-net"][0].startswith("10.31.0.")
            services = cloud.openstack_json("compute", "service", "list")
            assert {s["Binary"] for s in services if s["State"] == "up"} == {
                "nova-compute", "nova-conductor", "nova-scheduler"}

            # cinder-api, its scheduler and a restarted cinder-volume (both were killed
            # above) make a volume.
            volume = cloud.openstack_json("volume", "create", "--size", "1", "procs-vol")
            deadline = time.monotonic() + 60
            while volume["status"] != "available":
                assert volume["status"] in ("creating", "available"), volume
                assert time.monotonic() < deadline, volume
                time.sleep(0.3)
                volume = cloud.openstack_json("volume", "show", volume["id"])
            assert volume["os-vol-host-attr:host"].split("@")[0] in (CONTROLLER1, CONTROLLER2)
            # The volume made before the kill keeps its bytes (a node's LVM is on its
            # disks): a clone of it, uploaded to an image, is the image it came from.
            clone = _available(cloud, cloud.openstack_json(
                "volume", "create", "--size", "1", "--source", source["id"], "procs-clone"))
            assert clone["os-vol-host-attr:host"] == source["os-vol-host-attr:host"]
            cloud.openstack("image", "create", "--volume", clone["id"], "--disk-format",
                            "raw", "procs-upload")
            deadline = time.monotonic() + 60
            while cloud.openstack_json("image", "show", "procs-upload")["status"] != "active":
                assert time.monotonic() < deadline
                time.sleep(0.3)
            saved = tmp_path / "saved.raw"
            cloud.openstack("image", "save", "--file", str(saved), "procs-upload")
            assert saved.read_bytes() == image_file.read_bytes()
            # cinder-api's scheduler-stats see the bytes its cinder-volume wrote: the
            # source's pool has a GiB used (its thin pool's space, in the store).
            pools = _json(f"{catalog['cinder']['Endpoints'][0]['url']}"
                          "/scheduler-stats/get_pools?detail=true",
                          cloud.openstack_json("token", "issue")["id"])["pools"]
            used = {p["name"]: p["capabilities"] for p in pools}[
                source["os-vol-host-attr:host"]]
            assert used["free_capacity_gb"] == used["total_capacity_gb"] - 1
            # The restarted cinder-volume has its configured levels again, as upstream's.
            assert _put(f"{cinder}/os-services/get-log", admin, lvm1)["log_levels"][0][
                "levels"] != {"cinder.volume.manager": "DEBUG"}
            # A restarted engine process finds the lock's holder dead (its listener does
            # not answer: no process consumes it) and fails what it left IN_PROGRESS.
            deadline = time.monotonic() + 60
            while (shown := cloud.openstack_json("stack", "show", "procs-slow"))[
                    "stack_status"] != "CREATE_FAILED":
                assert shown["stack_status"] == "CREATE_IN_PROGRESS", shown
                assert time.monotonic() < deadline, shown
                time.sleep(0.5)
            assert shown["stack_status_reason"] == "Engine went down during stack CREATE"
            # heat-api hands a stack to one of the two heat-engine processes.
            template = tmp_path / "stack.yaml"
            template.write_text("heat_template_version: 2018-08-31\nresources:\n"
                                "  word:\n    type: OS::Heat::RandomString\n")
            created = cloud.openstack("stack", "create", "--wait", "--poll", "1", "-t",
                                      str(template), "-f", "value", "-c", "stack_status",
                                      "procs-stack")
            assert created.stdout.splitlines()[-1] == "CREATE_COMPLETE"
        finally:
            code = stop_cloud(cloud)
        assert code == 0


def _get(url: str, token: str) -> Any:
    request = urllib.request.Request(url, headers={"X-Auth-Token": token})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def _compute_state(cloud: LiveCloud, host: str) -> str:
    return str(next(s["State"] for s in cloud.openstack_json("compute", "service", "list")
                    if s["Binary"] == "nova-compute" and s["Host"] == host))


def _agents_alive(cloud: LiveCloud, host: str) -> list[bool]:
    return [bool(agent["Alive"]) for agent in cloud.openstack_json(
        "network", "agent", "list", "--host", host)]


def _alive(pid: int) -> bool:
    """Whether the OS process is there (the supervisor reaps what it kills)."""
    return Path(f"/proc/{pid}").exists()


def _killed_with_node(cloud: LiveCloud, label: str, pid: int, node: str) -> None:
    deadline = time.monotonic() + 30
    while f"{label} (pid {pid}) killed: {node} is powered off" not in cloud.log.read_text():
        assert time.monotonic() < deadline, cloud.log.read_text()[-3000:]
        time.sleep(0.1)


def test_the_lab_s_faults_and_logs_reach_every_process(tmp_path: Path) -> None:
    """The lab's API is keystone's process; a node powered off through it is off in every
    process, and its own processes are gone (the supervisor kills nova-compute@compute1
    and neutron-agents@compute1, so nova's service and neutron's agent go down, and starts
    them when the node is powered on); the central logs hold every process's records
    (processes/shared.py)."""
    with scratch_database("mysql") as url, scratch_vhost() as transport_url:
        conf = tmp_path / "stacklab.conf"
        # nova's 10 s reports and 60 s service_down_time are 0.5 s and 3 s of real time,
        # its power sync every 60 s of the lab's (3 s).
        conf.write_text(f"[DEFAULT]\ntransport_url = {transport_url}\n"
                        "sync_power_state_interval = 60\n"
                        f"[database]\nconnection = {url}\n[stacklab]\nha_time_scale = 0.05\n")
        cloud = _start(tmp_path, conf)
        try:
            network = cloud.openstack_json("network", "create", "labwide-net")
            cloud.openstack_json("subnet", "create", "--network", network["id"],
                                 "--subnet-range", "10.32.0.0/24", "labwide-subnet")
            # On compute1, whose power is cut below.
            created = cloud.openstack("--debug", "server", "create", "--flavor", "m1.tiny",
                                      "--image", CIRROS, "--network", network["id"],
                                      "--availability-zone",
                                      "nova:compute1.openstack.local", "--wait", "labwide-1")
            found = re.search(r"POST call to compute for \S+/servers used request id "
                              r"(req-[0-9a-f-]+)", created.stderr)
            assert found, created.stderr[-2000:]
            token = cloud.openstack_json("token", "issue")["id"]
            logs = f"{cloud.url}/stacklab/v1/logs?request_id={found.group(1)}"
            deadline = time.monotonic() + 30
            while "nova-api" not in (processes := {
                    r.get("process", "") for r in _get(logs, token)["logs"]}) or not any(
                    p.startswith("nova-compute@") for p in processes):
                assert time.monotonic() < deadline, processes
                time.sleep(0.3)

            compute1 = "compute1.openstack.local"
            label = f"nova-compute@{compute1}"
            agents = f"neutron-agents@{compute1}"
            # Alive as each report reaches the server: at this time scale a report is due
            # every 1.5 s and one late on a loaded machine reads dead for a moment.
            wait_for("compute1's service up", lambda: _compute_state(cloud, compute1),
                     lambda state: state == "up", timeout=30)
            wait_for("compute1's agent alive", lambda: _agents_alive(cloud, compute1),
                     lambda alive: alive == [True], timeout=30)
            before = _pids(cloud)
            assert _alive(before[label]) and _alive(before[agents])
            cloud.stacklab("node", "down", "compute1")
            # The supervisor pulls the node's plug: its processes are killed (SIGKILL),
            # the shared ones and the other computes' run on.
            for name in (label, agents):
                _killed_with_node(cloud, name, before[name], compute1)
            assert not _alive(before[label]) and not _alive(before[agents])
            compute2 = "nova-compute@compute2.openstack.local"
            assert _alive(before[compute2]) and _alive(before["nova-conductor"])
            deadline = time.monotonic() + 60
            while _compute_state(cloud, compute1) != "down":
                assert time.monotonic() < deadline, "nova-compute@compute1 still reports"
                time.sleep(0.5)
            # neutron's process sees compute1's Open vSwitch agent dead: no process reports.
            deadline = time.monotonic() + 60
            while _agents_alive(cloud, compute1) != [False]:
                assert time.monotonic() < deadline, "compute1's agent still reports"
                time.sleep(0.5)
            status = _get(f"{cloud.url}/stacklab/v1/status", token)
            assert status["faults"]["nodes_down"] == [compute1], status["faults"]
            # The supervisor's listing (SIGUSR1) says why it is not running: its node,
            # not a crash; and it is not started again while the node is down.
            os.kill(cloud.process.pid, signal.SIGUSR1)
            stopped = f"  process    {label} (stopped: {compute1} is powered off)"
            deadline = time.monotonic() + 30
            while stopped not in cloud.log.read_text():
                assert time.monotonic() < deadline, cloud.log.read_text()[-3000:]
                time.sleep(0.2)
            # Started again, a process begins in the lab's faults (read from the store):
            # compute2's says so as it did when the fault's cast reached it.
            pid = before[compute2]
            os.kill(pid, signal.SIGKILL)
            _restarted(cloud, compute2, pid)
            logs = f"{cloud.url}/stacklab/v1/logs?process={compute2}&limit=1000"
            deadline = time.monotonic() + 60
            while sum(r["message"].startswith("The lab's faults") and compute1 in r["message"]
                      for r in _get(logs, token)["logs"]) < 2:
                assert time.monotonic() < deadline, "the restarted process did not catch up"
                time.sleep(0.3)
            assert _pids(cloud)[label] == before[label]  # no new process line
            assert f"{label} (pid {before[label]}) exited" not in cloud.log.read_text()
            cloud.stacklab("node", "up", "compute1")
            # Powered on, the node's processes start again (new pids) and report.
            deadline = time.monotonic() + 60
            while (after := _pids(cloud))[label] == before[label] or (
                    after[agents] == before[agents]):
                assert time.monotonic() < deadline, cloud.log.read_text()[-3000:]
                time.sleep(0.2)
            assert _alive(after[label]) and _alive(after[agents])
            deadline = time.monotonic() + 60
            while _compute_state(cloud, compute1) != "up":
                assert time.monotonic() < deadline, "nova-compute@compute1 does not report"
                time.sleep(0.5)
            deadline = time.monotonic() + 60
            while _agents_alive(cloud, compute1) != [True]:
                assert time.monotonic() < deadline, "compute1's agent does not report"
                time.sleep(0.5)
            # Its guest lost its power with the node: the new process's power sync finds
            # it shut off and stops the server, as nova does after a host's power cut.
            deadline = time.monotonic() + 60
            while (server := cloud.openstack_json("server", "show", "labwide-1"))[
                    "status"] != "SHUTOFF":
                assert server["status"] == "ACTIVE", server
                assert time.monotonic() < deadline, server
                time.sleep(0.5)
        finally:
            code = stop_cloud(cloud)
        assert code == 0


def _ceph(cloud: LiveCloud, token: str) -> dict[str, Any]:
    """The cluster as keystone's process (the lab's API) models it."""
    return dict(_get(f"{cloud.url}/stacklab/v1/ha", token)["ceph"])


def test_every_process_s_ceph_is_one_cluster(tmp_path: Path) -> None:
    """glance on the rbd store with two workers: either serves an image the other took
    (each answered 204, no data, for the other's while every process kept its own
    objects), and the lab's `ceph` (keystone's process) counts the objects, the degraded
    copies while storage1 is lost and their recovery (ha/cephstore.py)."""
    with scratch_database("mysql") as url, scratch_vhost() as transport_url:
        conf = tmp_path / "stacklab.conf"
        # The OSDs' 20 s heartbeat grace is a second of real time.
        conf.write_text(f"[DEFAULT]\ntransport_url = {transport_url}\napi_workers = 2\n"
                        "[glance_store]\nstores = file,http,rbd\ndefault_store = rbd\n"
                        f"[database]\nconnection = {url}\n[stacklab]\nha_time_scale = 0.05\n")
        cloud = _start(tmp_path, conf)
        try:
            data = tmp_path / "blob.raw"
            data.write_bytes(b"rbd bytes" * 1000)
            image = cloud.openstack_json("image", "create", "--disk-format", "raw",
                                         "--file", str(data), "blob")
            token = cloud.openstack_json("token", "issue")["id"]
            glance = next(entry for entry in cloud.openstack_json("catalog", "list")
                          if entry["Name"] == "glance")["Endpoints"][0]["url"]
            # A connection each: the two workers' accepts share them.
            got: set[tuple[int, bytes]] = set()
            for _ in range(12):
                request = urllib.request.Request(f"{glance}/v2/images/{image['id']}/file",
                                                 headers={"X-Auth-Token": token})
                with urllib.request.urlopen(request, timeout=30) as answer:
                    got.add((answer.status, answer.read()))
            assert got == {(200, data.read_bytes())}
            ceph = _ceph(cloud, token)
            images = next(pool for pool in ceph["pools"] if pool["name"] == "images")
            assert images["objects"] == 2  # the lab's CirrOS and the blob
            assert ceph["degraded_objects"] == 0

            cloud.stacklab("node", "down", "storage1")
            deadline = time.monotonic() + 60
            while _ceph(cloud, token)["num_up_osds"] != 1:
                assert time.monotonic() < deadline, _ceph(cloud, token)
                time.sleep(0.3)
            cloud.openstack_json("image", "create", "--disk-format", "raw", "--file",
                                 str(data), "degraded")
            # Every copy storage1 should hold: written by glance's process, counted by
            # keystone's.
            assert _ceph(cloud, token)["degraded_objects"] == 3
            cloud.stacklab("node", "up", "storage1")
            deadline = time.monotonic() + 60
            while (ceph := _ceph(cloud, token))["degraded_objects"] or ceph["recovering"]:
                assert time.monotonic() < deadline, ceph
                time.sleep(0.3)
            assert ceph["health"] == "HEALTH_OK"
        finally:
            code = stop_cloud(cloud)
        assert code == 0
