"""One process per service, without processes: the roles, who consumes what, the shape's
checks, the routing of calls between processes, and nova's recovery of its own hosts."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.bus.interface import Target
from stacklab.bus.rabbit import RabbitBus
from stacklab.cloud import SERVICES, Cloud, topic_binaries
from stacklab.compute import models as m
from stacklab.config import Config, lab_defaults
from stacklab.processes.roles import find_role, roles_for, workers
from stacklab.processes.routing import Routed, Served, owner
from stacklab.processes.supervisor import check_shape
from stacklab.topology import load_topology

COMPUTE1 = "compute1.openstack.local"
COMPUTE2 = "compute2.openstack.local"


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
    binaries = topic_binaries(SERVICES)
    bus = RabbitBus("rabbit://guest:guest@127.0.0.1:5672/",
                    consumes=lambda target, host: role.runs(
                        binaries.get(target.topic, ""), host))
    mine = bus.listen(Target("compute", COMPUTE1), object())
    other = bus.listen(Target("compute", COMPUTE2), object())
    conductor = bus.listen(Target("conductor", "controller1.openstack.local"), object())
    assert not mine.elsewhere
    assert other.elsewhere and conductor.elsewhere
    assert bus.listeners() == [mine]
    other.pause()
    other.resume()
    other.stop()  # nothing was declared: nothing to do


def test_workers_are_for_the_roles_that_only_serve() -> None:
    topology = load_topology(None)
    assert workers(find_role(topology, "keystone", None), 3, 0) == 3
    assert workers(find_role(topology, "nova-api", None), 3, 2) == 2
    assert workers(find_role(topology, "nova-conductor", None), 3, 2) == 1
    assert workers(find_role(topology, "neutron", None), 3, 0) == 1


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
                                         "token": request.headers.get("x-auth-token")})

    routed = Routed(local, {"/image": "http://glance.test:9292"})
    routed._client = httpx.AsyncClient(transport=httpx.MockTransport(remote_handler))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=routed),
                                 base_url="http://nova") as client:
        answer = await client.get("/image/v2/images?limit=1", headers={"X-Auth-Token": "t"})
        assert answer.status_code == 201
        assert answer.json() == {"url": "http://glance.test:9292/image/v2/images?limit=1",
                                 "token": "t"}
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


CONTROLLER1 = "controller1.openstack.local"
CONTROLLER2 = "controller2.openstack.local"


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
    binaries = topic_binaries(SERVICES)
    bus = RabbitBus("rabbit://guest:guest@127.0.0.1:5672/",
                    consumes=lambda target, host: role.runs(
                        binaries.get(target.topic, ""), host))
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
