"""The service registry: a declared service is built, mounted, cataloged, policed and faulted.

``Widgets`` exists only here: if the cloud serves it like the real services, it
serves whatever is declared, with nothing about it in ``stacklab.cloud``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from stacklab.api.app import build_app
from stacklab.api.errors import keystone_error
from stacklab.api.policy import PolicyRule
from stacklab.api.service import Call, ServiceApi
from stacklab.cloud import SERVICES, Cloud
from stacklab.compute.declaration import COMPUTE
from stacklab.declaration import CatalogSpec, Key, Parts, ServiceDeclaration, Startup
from stacklab.identity.declaration import DECLARATION as IDENTITY_SERVICE
from stacklab.identity.declaration import IDENTITY
from stacklab.network.declaration import AGENTS
from support.inprocess import admin_token, ephemeral_config

CONTROLLER1 = "controller1.openstack.local"


class Widgets:
    """A service object built from the shared parts; it remembers what happened to it."""

    def __init__(self, parts: Parts) -> None:
        self.parts = parts
        self.events: list[tuple[str, str]] = []


WIDGETS = Key("widgets", Widgets)
# Another object the widgets service owns besides its main one (as networking's agents).
GEARS = Key("widgets.gears", Widgets)

widgets_api = ServiceApi("widgets", errors=keystone_error)


# The calls the widgets' handlers were given, for the tests to see what a handler reaches.
CALLS: list[Call] = []


@widgets_api.route("GET", "/v1/widgets", policy="widgets:list")
async def list_widgets(call: Call) -> dict[str, Any]:
    CALLS.append(call)
    service: Widgets = call.service
    return {"widgets": [], "events": [list(event) for event in service.events]}


@widgets_api.route("DELETE", "/v1/widgets", policy="widgets:purge", status=204)
async def purge_widgets(call: Call) -> None:
    raise AssertionError("policy forbids it: never reached")


def _start(parts: Parts, startup: Startup) -> None:
    # Identity started first and said what it learned: the registry's order holds.
    assert startup.admin_project_id is not None
    parts.get(WIDGETS).events.append(("start", startup.base_url))


def _stop(parts: Parts) -> None:
    parts.get(WIDGETS).events.append(("stop", ""))


def _widgets_and_gears(parts: Parts) -> Widgets:
    """The widgets service, and its gears beside it (as networking builds its agents)."""
    parts.provide(GEARS, Widgets(parts))
    return Widgets(parts)


WIDGETS_SERVICE = ServiceDeclaration(
    api=widgets_api, mount="/widgets",
    rules=(PolicyRule("widgets:list", "role:admin"), PolicyRule("widgets:purge", "!")),
    catalog=CatalogSpec("widget", "widgetd", "Widget Service", "/widgets/v1"),
    key=WIDGETS, build=_widgets_and_gears, start=_start, stop=_stop,
    node_down=lambda parts, fqdn: parts.get(WIDGETS).events.append(("down", fqdn)),
    node_up=lambda parts, fqdn: parts.get(WIDGETS).events.append(("up", fqdn)))



@pytest.fixture
def cloud() -> Iterator[Cloud]:
    instance = Cloud(ephemeral_config(), services=(*SERVICES, WIDGETS_SERVICE))
    instance.start("http://testserver")
    yield instance
    instance.stop()


@pytest.fixture
def client(cloud: Cloud) -> Iterator[TestClient]:
    with TestClient(build_app(cloud), raise_server_exceptions=False) as test_client:
        yield test_client


def test_a_declared_service_is_built_from_the_shared_parts_and_started(cloud: Cloud) -> None:
    widgets = cloud.get(WIDGETS)
    assert widgets.parts.clock is cloud.clock and widgets.parts.db is cloud.db
    assert widgets.parts.runtime is cloud.runtime
    assert widgets.events == [("start", "http://testserver")]
    cloud.stop()
    assert widgets.events[-1] == ("stop", "")


def test_a_declared_service_is_mounted_behind_the_shared_request_path(
        client: TestClient) -> None:
    token = admin_token(client)
    listed = client.get("/widgets/v1/widgets", headers={"X-Auth-Token": token})
    assert listed.status_code == 200, listed.text
    assert listed.json()["widgets"] == []
    assert listed.headers["x-openstack-request-id"].startswith("req-")
    # No token: keystone's 401, as every declared API answers it.
    assert client.get("/widgets/v1/widgets").status_code == 401
    # A path it does not declare: the shared dispatcher's 501 names the service.
    missing = client.get("/widgets/v1/gadgets", headers={"X-Auth-Token": token})
    assert missing.status_code == 501 and "widgets service" in missing.text


def test_a_handler_reaches_its_own_service_and_no_other(cloud: Cloud,
                                                        client: TestClient) -> None:
    CALLS.clear()
    token = admin_token(client)
    assert client.get("/widgets/v1/widgets", headers={"X-Auth-Token": token}).status_code == 200
    [call] = CALLS
    assert call.service is cloud.get(WIDGETS)
    assert call.policy is cloud.policy_for("widgets")
    # Its own parts, under keys named after it; another service's are refused by name.
    assert call.part(GEARS) is cloud.get(GEARS)
    for other in (COMPUTE, AGENTS, IDENTITY):
        assert cloud.parts.has(other)
        with pytest.raises(LookupError, match="through its API"):
            call.part(other)
    # Nothing the call holds is the cloud or another service's object: a handler has no way
    # to them but another service's API.
    assert not hasattr(call, "cloud")
    others = {id(cloud), id(cloud.parts),
              *(id(cloud.get(key)) for key in (COMPUTE, AGENTS, IDENTITY))}
    held = [*vars(call).values(), *vars(call._reach).values(), *call._reach.parts.values()]
    assert [value for value in held if id(value) in others] == []


def test_a_declared_service_gets_its_own_policy_rules(cloud: Cloud, client: TestClient) -> None:
    engine = cloud.policy_for("widgets")
    assert engine is not cloud.policy_for("identity")
    token = admin_token(client)
    refused = client.delete("/widgets/v1/widgets", headers={"X-Auth-Token": token})
    assert refused.status_code == 403, refused.text
    assert "widgets:purge" in refused.json()["error"]["message"]


def test_a_declared_service_is_in_the_catalog_and_the_health_check(
        cloud: Cloud, client: TestClient) -> None:
    token = admin_token(client)
    issued = client.get("/identity/v3/auth/catalog", headers={"X-Auth-Token": token})
    assert issued.status_code == 200, issued.text
    widget = [entry for entry in issued.json()["catalog"] if entry["type"] == "widget"]
    assert [entry["name"] for entry in widget] == ["widgetd"]
    assert {e["url"] for e in widget[0]["endpoints"]} == {"http://testserver/widgets/v1"}
    assert cloud.health()["services"] == {
        "identity": "ready", "image": "ready", "compute": "ready", "network": "ready",
        "volume": "ready", "orchestration": "ready", "cloudformation": "ready",
        "widgets": "ready"}


def test_a_declared_service_hears_its_nodes_go_down_and_come_back(cloud: Cloud) -> None:
    cloud.node_down(CONTROLLER1)
    cloud.node_down(CONTROLLER1)  # already down: nobody hears it twice
    cloud.node_up(CONTROLLER1)
    cloud.node_up(CONTROLLER1)
    assert cloud.get(WIDGETS).events[1:] == [("down", CONTROLLER1), ("up", CONTROLLER1)]
    assert cloud.runtime.followers() == ["bus", "controlplane", "compute", "network",
                                         "orchestration", "widgets"]


def test_the_registry_is_what_the_cloud_serves() -> None:
    cloud = Cloud(ephemeral_config())
    assert [mount for mount, _ in cloud.service_apis()] == [
        "/identity", "/image", "/compute", "/networking", "/volume", "/heat-api",
        "/heat-api-cfn", "/stacklab"]
    assert set(cloud.policies) == {"identity", "image", "compute", "network", "volume",
                                   "orchestration", "cloudformation", "stacklab"}
    # cinder's endpoint is in the catalog twice, as block-storage and as volumev3.
    assert [(e.type, e.url) for e in cloud.catalog_entries()] == [
        ("identity", "/identity"), ("image", "/image"), ("compute", "/compute/v2.1"),
        ("network", "/networking"), ("block-storage", "/volume/v3"),
        ("volumev3", "/volume/v3"), ("orchestration", "/heat-api/v1/$(project_id)s"),
        ("cloudformation", "/heat-api-cfn/v1")]
    cloud.db.dispose()


def test_a_service_declared_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        Cloud(ephemeral_config(), services=(IDENTITY_SERVICE, IDENTITY_SERVICE))


def test_a_service_built_before_what_it_takes_says_so() -> None:
    gadgets = ServiceDeclaration(
        api=ServiceApi("gadgets", errors=keystone_error), mount="/gadgets", rules=(),
        key=Key("gadgets", Widgets), build=lambda parts: Widgets(parts.get(WIDGETS).parts))
    with pytest.raises(LookupError, match="'widgets' is not built"):
        Cloud(ephemeral_config(), services=(IDENTITY_SERVICE, gadgets, WIDGETS_SERVICE))
