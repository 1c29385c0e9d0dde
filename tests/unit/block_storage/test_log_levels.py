"""cinder's set-log and get-log (3.32): levels per (binary, host, prefix), applied to the
records each service of each node logs."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from stacklab.bus.interface import on_host
from stacklab.cloud import Cloud
from support.apiref import assert_shape_like_sample, sample
from support.inprocess import admin_token
from unit.block_storage.cinder_calls import member_token

C1 = "controller1.openstack.local"
C2 = "controller2.openstack.local"
V3 = "/volume/v3"
SAMPLES = "api-ref/source/v3/samples/os-services/v3.32"


def at(token: str, version: str = "3.32") -> dict[str, str]:
    return {"X-Auth-Token": token, "OpenStack-API-Version": f"volume {version}"}


class Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append((record.levelname, record.getMessage()))


@pytest.fixture(autouse=True)
def cinder_at_info() -> Iterator[None]:
    # As the server configures cinder's loggers (observability.configure).
    root = logging.getLogger("cinder")
    before = root.level
    root.setLevel(logging.INFO)
    try:
        yield
    finally:
        root.setLevel(before)


@pytest.fixture
def collected() -> Iterator[Collected]:
    handler = Collected()
    root = logging.getLogger("cinder")
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def get_log(client: TestClient, token: str, **body: str) -> list[dict[str, object]]:
    answer = client.put(f"{V3}/os-services/get-log", headers=at(token), json=body)
    assert answer.status_code == 200, answer.text
    rows: list[dict[str, object]] = answer.json()["log_levels"]
    return rows


def test_get_log_lists_every_service_with_its_loggers(client: TestClient) -> None:
    token = admin_token(client)
    rows = get_log(client, token, **sample("cinder", f"{SAMPLES}/service-get-log-request.json")
                   | {"server": f"{C1}@lvm"})
    # The sample's levels name its loggers; the lab's are its own cinder modules.
    assert_shape_like_sample({"log_levels": rows},
                             sample("cinder", f"{SAMPLES}/service-get-log-response.json"),
                             ignore={"$.log_levels[*].levels"})
    assert [(r["binary"], r["host"]) for r in rows] == [("cinder-volume", f"{C1}@lvm")]
    levels = rows[0]["levels"]
    assert isinstance(levels, dict) and levels["cinder.volume.manager"] == "INFO"
    assert all(name.startswith("cinder.volume") for name in levels)
    # No binary: cinder-api (this node's) first, then each service that is up.
    every = get_log(client, token)
    assert every[0]["binary"] == "cinder-api"
    assert {(r["binary"], r["host"]) for r in every[1:]} == {
        ("cinder-scheduler", C1), ("cinder-scheduler", C2),
        ("cinder-volume", f"{C1}@lvm"), ("cinder-volume", f"{C2}@lvm"),
        ("cinder-backup", C1), ("cinder-backup", C2)}
    # cinder-api alone: only the API answering, whatever the server.
    api = get_log(client, token, binary="cinder-api", prefix="cinder.api")
    assert [r["binary"] for r in api] == ["cinder-api"]


def test_set_log_changes_one_service_and_its_records(client: TestClient,
                                                     collected: Collected) -> None:
    token = admin_token(client)
    body = sample("cinder", f"{SAMPLES}/service-set-log-request.json") | {
        "server": f"{C1}@lvm"}
    assert body["level"] == "ERROR"
    answer = client.put(f"{V3}/os-services/set-log", headers=at(token), json=body)
    assert answer.status_code == 202, answer.text
    assert answer.content == b""
    rows = {r["host"]: r["levels"] for r in get_log(
        client, token, binary="cinder-volume", prefix="cinder.volume.manager")}
    assert rows == {f"{C1}@lvm": {"cinder.volume.manager": "ERROR"},
                    f"{C2}@lvm": {"cinder.volume.manager": "INFO"}}
    log = logging.getLogger("cinder.volume.manager")
    with on_host(C1):
        log.warning("c1 warning")
        log.error("c1 error")
    with on_host(C2):
        log.warning("c2 warning")
    # The scheduler of controller1 keeps its level.
    with on_host(C1):
        logging.getLogger("cinder.scheduler.filter_scheduler").info("c1 scheduler")
    assert collected.seen == [("ERROR", "c1 error"), ("WARNING", "c2 warning"),
                              ("INFO", "c1 scheduler")]

    # DEBUG for controller2's scheduler (lowercase is fine, as cinder's upper()).
    client.put(f"{V3}/os-services/set-log", headers=at(token), json={
        "binary": "cinder-scheduler", "server": C2, "level": "debug"})
    # The set is cast to the service (202 before it is done, as upstream): a get, called
    # to the same service, answers once it is.
    assert get_log(client, token, binary="cinder-scheduler", server=C2,
                   prefix="cinder.scheduler.filter_scheduler")[0]["levels"] == {
        "cinder.scheduler.filter_scheduler": "DEBUG"}
    scheduler = logging.getLogger("cinder.scheduler.filter_scheduler")
    collected.seen.clear()
    with on_host(C1):
        scheduler.debug("c1 debug")
    with on_host(C2):
        scheduler.debug("c2 debug")
    assert collected.seen == [("DEBUG", "c2 debug")]

    # A shorter prefix replaces the longer ones under it, as setting the loggers does.
    client.put(f"{V3}/os-services/set-log", headers=at(token), json={
        "binary": "cinder-volume", "prefix": "cinder", "level": "WARNING"})
    rows = {r["host"]: r["levels"] for r in get_log(
        client, token, binary="cinder-volume", prefix="cinder.volume.manager")}
    assert rows == {f"{C1}@lvm": {"cinder.volume.manager": "WARNING"},
                    f"{C2}@lvm": {"cinder.volume.manager": "WARNING"}}


def test_a_prefix_set_shows_in_get_log(client: TestClient) -> None:
    token = admin_token(client)
    client.put(f"{V3}/os-services/set-log", headers=at(token), json={
        "binary": "cinder-api", "prefix": "cinder.volume.api", "level": "DEBUG"})
    # Only the cinder-api that answered the set has it (as upstream, each API process its
    # own); the lab's load balancer spreads the gets over both controllers.
    seen: dict[object, object] = {}
    for _ in range(4):
        row = get_log(client, token, binary="cinder-api", prefix="cinder.volume.api")[0]
        seen[row["host"]] = row["levels"]
    assert sorted(seen.values(), key=len) == [{}, {"cinder.volume.api": "DEBUG"}]


@pytest.mark.parametrize("body, message", [
    ({"level": "wronglevel"}, "Invalid input received: wronglevel is not a valid log level."),
    ({"level": ""}, "Invalid input received:  is not a valid log level."),
    ({}, "Invalid input received:  is not a valid log level."),
    ({"level": "INFO", "binary": "nova-compute"}, "nova-compute"),
    ({"level": "INFO", "colour": "red"}, "colour"),
])
def test_bad_set_log_is_refused(client: TestClient, body: dict[str, str],
                                message: str) -> None:
    token = admin_token(client)
    answer = client.put(f"{V3}/os-services/set-log", headers=at(token), json=body)
    assert answer.status_code == 400, answer.text
    assert message in answer.json()["badRequest"]["message"]


def test_log_levels_need_3_32_and_an_admin(cloud: Cloud, client: TestClient) -> None:
    token = admin_token(client)
    old = client.put(f"{V3}/os-services/get-log", headers=at(token, "3.31"), json={})
    assert old.status_code == 404
    member, _ = member_token(client, token, "log")
    refused = client.put(f"{V3}/os-services/set-log",
                         headers=at(member), json={"level": "DEBUG"})
    assert refused.status_code == 403
    assert "volume_extension:services:update" in refused.json()["forbidden"]["message"]
