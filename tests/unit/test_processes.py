"""One process per service, without processes: the roles, who consumes what, the shape's
checks, the routing of calls between processes, and nova's recovery of its own hosts."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from stacklab.bus.interface import Target
from stacklab.bus.rabbit import RabbitBus
from stacklab.cloud import SERVICES, Cloud, consumed_here
from stacklab.clouds_yaml import cloud_entry
from stacklab.compute import models as m
from stacklab.compute import states
from stacklab.compute.placement import flavor_resources
from stacklab.config import Config, lab_defaults
from stacklab.processes.child import SharedFlag, _follow_hooks
from stacklab.processes.roles import find_role, roles_for, workers
from stacklab.processes.routing import Routed, Served, owner
from stacklab.processes.supervisor import Supervisor, check_shape
from stacklab.topology import load_topology

COMPUTE1 = "compute1.openstack.local"
COMPUTE2 = "compute2.openstack.local"
CONTROLLER1 = "controller1.openstack.local"
CONTROLLER2 = "controller2.openstack.local"


def test_the_lab_has_a_compute_process_per_node_and_each_api_once() -> None:
    roles = roles_for(load_topology(None))
    labels = [role.label for role in roles]
    assert f"nova-compute@{COMPUTE1}" in labels and f"nova-compute@{COMPUTE2}" in labels
    served = [mount for role in roles for mount in role.mounts]
    assert sorted(served) == sorted(d.mount for d in SERVICES)
    # Every declaration's start and background runs in some process.
    assert {name for role in roles for name in role.services} == {d.name for d in SERVICES}


def test_a_role_runs_its_binaries_on_its_node_only() -> None:
    topology = load_topology(None)
    compute1 = find_role(topology, "nova-compute", "compute1")
    assert compute1.runs("nova-compute", COMPUTE1)
    assert not compute1.runs("nova-compute", COMPUTE2)
    assert not compute1.runs("nova-compute", None)  # not every compute's
    assert not compute1.runs("nova-conductor", COMPUTE1)
    conductor = find_role(topology, "nova-conductor", None)
    assert conductor.runs("nova-conductor", "controller2.openstack.local")
    with pytest.raises(ValueError, match="the processes are: "):
        find_role(topology, "nova-compute", "compute9")


def test_the_bus_consumes_only_the_role_s_servers() -> None:
    role = find_role(load_topology(None), "nova-compute", COMPUTE1)
    bus = RabbitBus("rabbit://guest:guest@127.0.0.1:5672/",
                    consumes=consumed_here(SERVICES, role.runs))
    mine = bus.listen(Target("compute", COMPUTE1), object())
    other = bus.listen(Target("compute", COMPUTE2), object())
    conductor = bus.listen(Target("conductor", "controller1.openstack.local"), object())
    assert not mine.elsewhere
    assert other.elsewhere and conductor.elsewhere
    assert bus.listeners() == [mine]
    other.pause()
    other.resume()
    other.stop()  # nothing was declared: nothing to do


def test_every_process_consumes_the_lab_s_own_topics() -> None:
    """The lab's state and logs (processes/shared.py) go to every process listening."""
    role = find_role(load_topology(None), "nova-compute", COMPUTE1)
    consumes = consumed_here(SERVICES, role.runs)
    assert consumes(Target("stacklab_lab"), None) and consumes(Target("stacklab_logs"), None)
    assert consumes(Target("compute", COMPUTE1), COMPUTE1)
    assert not consumes(Target("conductor", "controller1.openstack.local"), None)


def test_workers_are_for_the_roles_that_only_serve() -> None:
    topology = load_topology(None)
    own = {"nova-api": 2, "cinder-api": 0, "heat-api": 4}
    assert workers(find_role(topology, "keystone", None), 3, own) == 3
    assert workers(find_role(topology, "nova-api", None), 3, own) == 2
    # cinder's osapi_volume_workers unset (0): api_workers; heat's [heat_api] workers set.
    assert workers(find_role(topology, "cinder-api", None), 3, own) == 3
    assert workers(find_role(topology, "heat-api", None), 3, own) == 4
    assert workers(find_role(topology, "glance", None), 0) == 1
    for name, node in (("nova-conductor", None), ("neutron-server", None),
                       ("neutron-agents", "network1"),
                       ("cinder-scheduler", None), ("cinder-volume", CONTROLLER1),
                       ("heat-engine", "controller1")):
        assert workers(find_role(topology, name, node), 3, own) == 1


def test_a_cinder_api_worker_registers_no_service_and_makes_no_type(tmp_path: Any) -> None:
    """What runs once is not run by an API worker: cinder's service rows are each
    service's own (cinder-api has none), its default types are its db sync's (the
    supervisor's start); a cinder-volume process registers its own row only."""
    from stacklab.block_storage import models as bm

    config = lab_defaults(Config())
    config.stacklab.state_dir = str(tmp_path)
    first = Cloud(config)  # the supervisor's start: migrations, every row
    first.start("http://test")
    first.stop()
    with first.db.session() as session:
        session.execute(delete(bm.VolumeService))
        session.execute(delete(bm.VolumeType))
        session.execute(delete(bm.GroupType))
    first.db.dispose()

    def start_as(name: str, node: str | None) -> set[tuple[str, str]]:
        cloud = Cloud(config, role=find_role(first.topology, name, node))
        cloud.start("http://test")
        with cloud.db.session() as session:
            rows = {(r.binary, r.node) for r in session.scalars(select(bm.VolumeService))}
            assert session.scalars(select(bm.VolumeType)).first() is None
            assert session.scalars(select(bm.GroupType)).first() is None
        cloud.stop()
        return rows

    assert start_as("cinder-api", None) == set()
    assert start_as("cinder-volume", CONTROLLER1) == {("cinder-volume", CONTROLLER1)}


def test_nova_finds_glance_in_the_catalog() -> None:
    """Where glance runs on its own port, nova's address of an image is there."""
    cloud = _lab_cloud()
    cloud.start("http://keystone:8080", endpoints={"image": "http://glance:9292"})
    assert cloud.compute.image_url("i-1") == "http://glance:9292/image/v2/images/i-1"
    cloud.stop()


def test_the_shape_needs_a_server_store_a_broker_and_no_seed() -> None:
    config = Config()
    with pytest.raises(ValueError) as error:
        check_shape(config)
    assert "[database] connection" in str(error.value)
    assert "[DEFAULT] transport_url" in str(error.value)
    config.database.connection = "mysql+pymysql://root@127.0.0.1/x"
    config.DEFAULT.transport_url = "rabbit://guest:guest@127.0.0.1:5672/"
    check_shape(config)
    with pytest.raises(ValueError, match="--seed"):
        check_shape(config, seed=7)


def test_owner_takes_the_longest_mount() -> None:
    remote = {"/heat-api": "http://a", "/heat-api-cfn": "http://b", "/image": "http://c"}
    assert owner(remote, "/heat-api-cfn/v1") == "http://b"
    assert owner(remote, "/heat-api/v1/x") == "http://a"
    assert owner(remote, "/images") is None
    assert owner(remote, "/identity/v3") is None


def test_routed_forwards_another_process_s_mount_over_http() -> None:
    asyncio.run(_routed_forwards())


async def _routed_forwards() -> None:
    seen: list[str] = []

    async def local(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"local"})

    def remote_handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201, json={"url": str(request.url),
                                         "token": request.headers.get("x-auth-token"),
                                         "host": request.headers.get("host")})

    routed = Routed(local, {"/image": "http://glance.test:9292"})
    routed._client = httpx.AsyncClient(transport=httpx.MockTransport(remote_handler))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=routed),
                                 base_url="http://nova") as client:
        answer = await client.get("/image/v2/images?limit=1", headers={"X-Auth-Token": "t"})
        assert answer.status_code == 201
        # The Host the client used goes on, as HAProxy forwards it (heat-api-cfn's EC2
        # signatures cover it, links are made with it).
        assert answer.json() == {"url": "http://glance.test:9292/image/v2/images?limit=1",
                                 "token": "t", "host": "nova"}
        assert (await client.get("/compute/v2.1")).text == "local"
    assert seen == ["/compute/v2.1"]
    served = Served(local, {"/image": "http://glance.test:9292"})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=served),
                                 base_url="http://nova") as client:
        assert (await client.get("/image/v2/images")).status_code == 404
        assert (await client.get("/compute/v2.1")).status_code == 200


def test_a_compute_process_recovers_only_its_own_servers() -> None:
    """A restarted nova-compute's init_host: its own building server goes to ERROR; one on
    another host, or not placed yet (the conductor's, under way), is left alone."""
    config = lab_defaults(Config())
    config.stacklab.ephemeral = True
    cloud = Cloud(config)
    cloud.start("http://test")
    compute = cloud.compute

    uuids = {}
    rows = [("mine", COMPUTE1), ("other", COMPUTE2), ("unplaced", None)]
    with cloud.db.session() as session:
        for name, host in rows:
            instance = m.Instance(uuid=cloud.ids.uuid(), name=name, host=host,
                                  vm_state="building", task_state="spawning",
                                  project_id="p", user_id="u", deleted=False,
                                  flavor={"vcpus": 1, "memory_mb": 512, "root_gb": 1},
                                  networks=[], created_at=0.0)
            session.add(instance)
            uuids[name] = instance.uuid
    role = find_role(cloud.topology, "nova-compute", COMPUTE1)
    compute.here = role.runs
    with cloud.db.session() as session:
        compute._recover(session)
    with cloud.db.session() as session:
        states = {name: session.scalar(select(m.Instance).where(m.Instance.uuid == uuid))
                  for name, uuid in uuids.items()}
        assert states["mine"] is not None and states["mine"].vm_state == "error"
        assert states["other"] is not None and states["other"].vm_state == "building"
        assert states["unplaced"] is not None and states["unplaced"].task_state == "spawning"
    cloud.stop()



def test_cinder_and_heat_run_as_upstream_deploys_them() -> None:
    labels = [role.label for role in roles_for(load_topology(None))]
    for name in ("cinder-api", "cinder-scheduler", "heat-api"):
        assert name in labels
    for node in (CONTROLLER1, CONTROLLER2):
        assert f"cinder-volume@{node}" in labels and f"heat-engine@{node}" in labels
        # One per controller: their object store is shared through the store.
        assert f"cinder-backup@{node}" in labels
    assert "cinder" not in labels and "heat" not in labels and "cinder-backup" not in labels
    topology = load_topology(None)
    engine = find_role(topology, "heat-engine", "controller1")
    # heat-engine names its host by the node's name, cinder by the FQDN.
    assert engine.runs("heat-engine", "controller1") and engine.runs("heat-engine", CONTROLLER1)
    assert not engine.runs("heat-engine", "controller2")
    assert not find_role(topology, "heat-api", None).runs("heat-engine", "controller1")
    volume = find_role(topology, "cinder-volume", CONTROLLER2)
    assert volume.runs("cinder-volume", CONTROLLER2)
    assert not volume.runs("cinder-volume", CONTROLLER1)
    assert not volume.runs("cinder-scheduler", CONTROLLER2)
    backup = find_role(topology, "cinder-backup", "controller1")
    assert backup.runs("cinder-backup", CONTROLLER1)
    assert not backup.runs("cinder-backup", CONTROLLER2)


def test_a_cinder_volume_process_consumes_every_backend_of_its_node_only() -> None:
    role = find_role(load_topology(None), "cinder-volume", CONTROLLER1)
    bus = RabbitBus("rabbit://guest:guest@127.0.0.1:5672/",
                    consumes=consumed_here(SERVICES, role.runs))
    lvm = bus.listen(Target("cinder-volume", f"{CONTROLLER1}@lvm"), object(), host=CONTROLLER1)
    # The shared rbd backend (one backend_host): each node's process consumes its queue.
    rbd = bus.listen(Target("cinder-volume", "rbd:volumes@ceph"), object(), host=CONTROLLER1)
    other = bus.listen(Target("cinder-volume", f"{CONTROLLER2}@lvm"), object(),
                       host=CONTROLLER2)
    rbd2 = bus.listen(Target("cinder-volume", "rbd:volumes@ceph"), object(), host=CONTROLLER2)
    scheduler = bus.listen(Target("cinder-scheduler", CONTROLLER1), object())
    assert bus.listeners() == [lvm, rbd]
    assert other.elsewhere and rbd2.elsewhere and scheduler.elsewhere


def _lab_cloud() -> Cloud:
    config = lab_defaults(Config())
    config.stacklab.ephemeral = True
    return Cloud(config)


def test_heat_api_runs_no_engine_and_an_engine_process_its_own() -> None:
    for name, node, alive in (("heat-api", None, set()),
                              ("heat-engine", "controller2", {"controller2"})):
        cloud = _lab_cloud()
        role = find_role(cloud.topology, name, node)
        cloud.orchestration.here = role.runs
        cloud.start("http://test")
        assert {e.node for e in cloud.orchestration.engines if e.alive} == alive
        # A node's process stopped and started again: still only this process's engines.
        cloud.orchestration.process_changed("controller1")
        assert {e.node for e in cloud.orchestration.engines if e.alive} == alive
        cloud.stop()


def test_heat_api_builds_no_engine_and_an_engine_process_its_node_s_only() -> None:
    config = lab_defaults(Config())
    config.stacklab.ephemeral = True
    for name, node, built in (("heat-api", None, []), ("heat-engine", "controller2",
                                                        ["controller2"])):
        cloud = Cloud(config, role=find_role(load_topology(None), name, node))
        assert [engine.node for engine in cloud.orchestration.engines] == built
        cloud.db.dispose()
    assert [e.node for e in _lab_cloud().orchestration.engines] == ["controller1",
                                                                    "controller2"]


def test_a_cinder_process_reports_only_its_own_services() -> None:
    cloud = _lab_cloud()
    service = cloud.block_storage
    role = find_role(cloud.topology, "cinder-volume", CONTROLLER1)
    service.here = role.runs
    cloud.start("http://test")
    reported: list[tuple[str, str]] = []
    service.services.heartbeat(service.processes, lambda node, binary: (
        service.running(node, binary) and not reported.append((binary, node))))
    assert reported and all(item == ("cinder-volume", CONTROLLER1) for item in reported)
    cloud.stop()


def test_two_engines_taking_one_stack_lock_at_once_one_wins(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The second engine's insert is refused by the key; it reads the winner (another
    process's engine took the lock between its read and its insert)."""
    cloud = _lab_cloud()
    store = cloud.orchestration.store
    cloud.start("http://test")
    assert store.try_lock("stack-1", "engine-a") is None
    real_get = Session.get
    stale = [True]

    def get_once_stale(self: Session, *args: Any, **kwargs: Any) -> Any:
        if stale:
            stale.pop()
            return None  # read before engine-a's insert was committed
        return real_get(self, *args, **kwargs)

    monkeypatch.setattr(Session, "get", get_once_stale)
    assert store.try_lock("stack-1", "engine-b") == "engine-a"
    cloud.stop()


NETWORK1 = "network1.openstack.local"


def test_neutron_runs_its_server_and_each_node_s_agents_apart() -> None:
    topology = load_topology(None)
    labels = [role.label for role in roles_for(topology)]
    assert "neutron" not in labels and "neutron-server" in labels
    # The network nodes run every agent and keepalived, the computes their L2 agent.
    for node in ("network1", "network2", "compute1", "compute2"):
        assert f"neutron-agents@{node}.openstack.local" in labels
    assert not any(label.startswith("neutron-agents@") and "proxy" in label
                   for label in labels)  # the proxies' keepalived is the API VIPs'
    network1 = find_role(topology, "neutron-agents", "network1")
    assert network1.runs("neutron-l3-agent", NETWORK1) and network1.runs("keepalived", NETWORK1)
    assert not network1.runs("neutron-l3-agent", "network2.openstack.local")
    assert not network1.runs("neutron-server", CONTROLLER1)
    compute1 = find_role(topology, "neutron-agents", "compute1")
    assert compute1.binaries == {"neutron-openvswitch-agent"}
    server = find_role(topology, "neutron-server", None)
    assert server.runs("neutron-server", CONTROLLER2)
    assert not server.runs("neutron-dhcp-agent", NETWORK1)


def test_the_bus_gives_each_neutron_process_its_own_topics() -> None:
    topology = load_topology(None)
    taken: dict[str, list[Target]] = {}
    for name, node in (("neutron-server", None), ("neutron-agents", "network1"),
                       ("neutron-agents", "compute1")):
        role = find_role(topology, name, node)
        bus = RabbitBus("rabbit://guest:guest@127.0.0.1:5672/",
                        consumes=consumed_here(SERVICES, role.runs))
        for target in (Target("q-reports-plugin", CONTROLLER1), Target("q-plugin", CONTROLLER1),
                       Target("l3_agent", NETWORK1), Target("dhcp_agent", NETWORK1),
                       Target("l3_agent", "network2.openstack.local"),
                       Target("q-agent-notifier-port-update", COMPUTE1)):
            bus.listen(target, object())
        taken[role.label] = [listener.target for listener in bus.listeners()]
    assert taken == {
        "neutron-server": [Target("q-reports-plugin", CONTROLLER1),
                           Target("q-plugin", CONTROLLER1)],
        f"neutron-agents@{NETWORK1}": [Target("l3_agent", NETWORK1),
                                       Target("dhcp_agent", NETWORK1)],
        f"neutron-agents@{COMPUTE1}": [Target("q-agent-notifier-port-update", COMPUTE1)]}


def test_a_neutron_agents_process_runs_its_node_s_agents_and_no_server() -> None:
    from stacklab.network.declaration import NODE_AGENTS, SERVER_RPC

    for name, node, hosts, serves in (
            ("neutron-agents", "network1", {NETWORK1}, False),
            ("neutron-agents", "compute2", {COMPUTE2}, False),
            ("neutron-server", None, set(), True)):
        config = lab_defaults(Config())
        config.stacklab.ephemeral = True
        cloud = Cloud(config, role=find_role(load_topology(None), name, node))
        agents = cloud.get(NODE_AGENTS)
        assert {process.host for process in agents.processes} == hosts
        assert bool(cloud.get(SERVER_RPC).listeners) is serves
        cloud.stop()
    network1 = find_role(load_topology(None), "neutron-agents", "network1")
    config = lab_defaults(Config())
    config.stacklab.ephemeral = True
    cloud = Cloud(config, role=network1)
    assert sorted(p.endpoint.binary for p in cloud.get(NODE_AGENTS).processes) == [
        "neutron-dhcp-agent", "neutron-l3-agent", "neutron-metadata-agent",
        "neutron-openvswitch-agent"]
    cloud.stop()


def test_only_an_agents_process_sends_its_keepalived_s_adverts_over_the_bus() -> None:
    from stacklab.network.keepalived import BusAdverts

    topology = load_topology(None)
    for role, hosts in ((None, None), (find_role(topology, "neutron-server", None), None),
                        (find_role(topology, "neutron-agents", "network1"), [NETWORK1]),
                        (find_role(topology, "neutron-agents", "compute1"), [])):
        config = lab_defaults(Config())
        config.stacklab.ephemeral = True
        cloud = Cloud(config, role=role)
        transport = cloud.agents.keepalived.transport
        # One process for the cloud (and the server's): every instance is here, no bus.
        assert (transport.hosts if isinstance(transport, BusAdverts) else None) == hosts
        cloud.stop()


def test_the_init_hooks_run_once_in_a_process_of_their_own(tmp_path: Any) -> None:
    """The supervisor runs --init-hooks once every child is ready, as one process does
    after its start; the flag the children's health reads is set once they have run."""
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    hook = hooks / "10-record.sh"
    hook.write_text(f"#!/bin/sh\necho \"$OS_AUTH_URL $OS_USERNAME\" >> {tmp_path}/ran\n")
    hook.chmod(0o755)
    config = lab_defaults(Config())
    config.database.connection = "mysql+pymysql://root@127.0.0.1:3306/unused"
    config.DEFAULT.transport_url = "rabbit://guest:guest@127.0.0.1:5672/"
    config.stacklab.init_hooks_dir = str(hooks)
    supervisor = Supervisor(config)
    assert supervisor.hooks_done is not None and not supervisor.hooks_done.is_set()
    supervisor.start_hooks(cloud_entry("http://127.0.0.1:8080/identity", "pw", "RegionOne"),
                           None)
    for _ in range(600):  # the hook is a real process: at most a minute on a busy machine
        if supervisor.poll_hooks():
            break
        time.sleep(0.1)
    assert supervisor.hooks_done.is_set() and supervisor.hooks is None
    assert (tmp_path / "ran").read_text() == "http://127.0.0.1:8080/identity admin\n"
    # Without --init-hooks there is nothing to wait for.
    config.stacklab.init_hooks_dir = ""
    assert Supervisor(config).hooks_done is None


def test_a_process_s_health_waits_for_the_supervisor_s_hooks() -> None:
    cloud = _lab_cloud()
    cloud.start("http://test")
    cloud.hooks_done = False
    flag = SharedFlag()

    async def follow() -> None:
        following = asyncio.create_task(_follow_hooks(cloud, flag))
        await asyncio.sleep(0)
        assert cloud.health()["init_hooks"] == "running"
        # Set in another process: the shared mapping is what a fork shares.
        pid = os.fork()
        if pid == 0:
            flag.set()
            os._exit(0)
        os.waitpid(pid, 0)
        await asyncio.wait_for(following, 30)

    asyncio.run(follow())
    assert cloud.health()["init_hooks"] == "done"
    cloud.stop()


def test_a_restarted_compute_process_heals_its_own_provider() -> None:
    """nova-compute's start (update_available_resource) with the rest of the cloud
    running: its servers hold their flavors on its provider, a deleted server's share
    goes; a build placed there without a host yet, a move under way and another node's
    servers are left as they are."""
    cloud = _lab_cloud()
    cloud.start("http://test")
    compute = cloud.compute
    placement = compute.placement
    flavor = {"vcpus": 1, "memory_mb": 512, "root_gb": 1}
    one = flavor_resources(flavor)
    with cloud.db.session() as session:
        for name, host in (("mine", COMPUTE1), ("wrong", COMPUTE1), ("pending", None),
                           ("moving", COMPUTE1), ("theirs", COMPUTE2)):
            session.add(m.Instance(uuid=name, name=name, host=host, vm_state="active",
                                   project_id="p", user_id="u", deleted=False,
                                   flavor=flavor, networks=[], created_at=0.0))
        session.add(m.Migration(uuid="mig", instance_uuid="moving", migration_type="resize",
                                status="migrating", source_compute=COMPUTE1,
                                dest_compute=COMPUTE2, project_id="p", user_id="u",
                                created_at=0.0))
    placement.claim("wrong", COMPUTE1, {**one, "VCPU": 4}, force=True)
    placement.claim("pending", COMPUTE1, one)
    placement.claim("ghost", COMPUTE1, one)  # a server deleted while its compute was down
    placement.claim("mig", COMPUTE1, one)
    placement.claim("moving", COMPUTE2, one)
    compute.here = find_role(cloud.topology, "nova-compute", COMPUTE1).runs
    with cloud.db.session() as session:
        compute._recover(session)
    held = {consumer: (a.provider, a.resources) for consumer, a in
            placement.allocations.items()}
    assert held == {"mine": (COMPUTE1, one), "wrong": (COMPUTE1, one),
                    "pending": (COMPUTE1, one), "mig": (COMPUTE1, one),
                    "moving": (COMPUTE2, one)}
    cloud.stop()


def test_a_compute_process_started_alone_finds_its_guests_and_its_evacuations() -> None:
    """nova-compute started again alone (after a crash, or its node powered on): libvirt's
    domains of its servers are there, as their rows last said (a crash: they ran on; a
    power cut: the supervisor's process says so, ``host_down``, and the power sync stops
    them), and init_host cleans up after what was evacuated from it meanwhile."""
    cloud = _lab_cloud()
    cloud.start("http://test")
    compute = cloud.compute
    placement = compute.placement
    flavor = {"vcpus": 1, "memory_mb": 512, "root_gb": 1}
    with cloud.db.session() as session:
        for name, host, vm_state, power in (
                ("running", COMPUTE1, "active", states.RUNNING),
                ("stopped", COMPUTE1, "stopped", states.SHUTDOWN),
                ("theirs", COMPUTE2, "active", states.RUNNING),
                ("evacuated", COMPUTE2, "active", states.RUNNING)):
            session.add(m.Instance(uuid=name, name=name, hostname=name, host=host,
                                   vm_state=vm_state, power_state=power, project_id="p",
                                   user_id="u", deleted=False, flavor=flavor, networks=[],
                                   created_at=0.0))
        session.add(m.Migration(uuid="evac", instance_uuid="evacuated",
                                migration_type="evacuation", status="done",
                                source_compute=COMPUTE1, dest_compute=COMPUTE2,
                                project_id="p", user_id="u", created_at=0.0))
    placement.claim("evac", COMPUTE1, flavor_resources(flavor))
    # A process of its own: a new hypervisor, nothing in it yet.
    for agent in compute.agents.values():
        agent.hypervisor.domains.clear()
    compute.here = find_role(cloud.topology, "nova-compute", COMPUTE1).runs
    compute.start_own_computes()
    mine = compute.agents[COMPUTE1]
    assert {uuid: d.power_state for uuid, d in mine.hypervisor.domains.items()} == {
        "running": states.RUNNING, "stopped": states.SHUTDOWN}
    assert compute.agents[COMPUTE2].hypervisor.domains == {}
    assert "evac" not in placement.allocations
    with cloud.db.session() as session:
        assert session.scalar(select(m.Migration.status).where(
            m.Migration.uuid == "evac")) == "completed"

    async def sync() -> list[str]:
        return await compute.power_sync.sync(mine)

    assert asyncio.run(sync()) == []  # as the rows say: nothing to do
    compute.host_down(COMPUTE1)  # its node's power was cut while the process was away
    assert asyncio.run(sync()) == ["running"]
    cloud.stop()
