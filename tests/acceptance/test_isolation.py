"""The walls between projects, on a live cloud: a cross-project matrix.

Project A owns one of everything (a non-shared network with a subnet, a port, a router, a
security group, a floating IP, a subnet pool, a key pair of its user, a server group, a
private image, a private flavor only A may use, and a server built from all of these).
Then B's member, B's reader and C's member try to use each of A's resources by id (and by
name where the API takes names) in every create or update that takes a reference, and to
read, change and delete them directly; A's resources must not show in their lists. The
cloud admin (of another project) sees everything, as upstream lets it: its reads are the
controls that every id in the matrix is real, and its boots with A's network, port and
group are accepted by nova-api as upstream's are (nova-compute then refuses A's port and
group for a server of another project). Each member also makes the same calls with its
own resources (controls: they succeed), and at the end A's resources must be as A left
them (nothing bound to A's ports, no rule added to A's group, no member on A's image).

Each row is one check: the request, who sends it, and the answer upstream gives. A 2xx to
a row that upstream refuses is a leak; a refusal unlike upstream's (another status, or
another message where the row names it) is counted apart. Most rows are raw HTTP, the
lists go through openstacksdk, and some rows are typed with the real ``openstack`` CLI.
The test prints ``cross-project matrix: N checks, M leaks`` and fails naming every leak.

Upstream expectations: nova's servers, os-interface and security-group actions resolve
networks, ports, groups, images, key pairs, server groups and flavors with the user's
own context (400 at boot, 404 for an interface attach or a security-group action);
neutron's plugins look references up with the caller's context (404 ``...NotFound``).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from acceptance.conftest import LiveCloud, start_cloud, stop_cloud

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(240)]

CIRROS = "cirros-0.6.2-x86_64-disk"
NOVA = {"OpenStack-API-Version": "compute 2.96", "X-OpenStack-Nova-API-Version": "2.96"}
PASSWORD = "pw-isolation"
REFUSED = frozenset({400, 403, 404})  # any refusal, for a reader (policy may come first)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def auth_token(live: LiveCloud, user: str, password: str, project: str) -> str:
    response = httpx.post(f"{live.url}/identity/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}, timeout=30)
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"]


class Actor:
    """One user scoped to one project: raw HTTP, openstacksdk and the CLI arguments."""

    def __init__(self, live: LiveCloud, key: str, user: str, password: str, project: str,
                 project_id: str, user_id: str) -> None:
        self.key = key
        self.user = user
        self.project = project
        self.project_id = project_id
        self.user_id = user_id
        self.password = password
        self.http = httpx.Client(base_url=live.url, timeout=60, headers={
            "X-Auth-Token": auth_token(live, user, password, project), **NOVA})
        self._live = live
        self._sdk: Any = None
        self.cli_args = ("--os-username", user, "--os-password", password,
                         "--os-project-name", project)

    @property
    def sdk(self) -> Any:
        if self._sdk is None:
            self._sdk = self._live.connect(username=self.user, password=self.password,
                                           project_name=self.project)
        return self._sdk

    def ok(self, method: str, path: str, body: Any = None, status: int | None = None) -> Any:
        """A call that must succeed (setting up): its JSON body."""
        response = self.http.request(method, path, json=body)
        assert response.status_code < 300 and (status is None
                                               or response.status_code == status), (
            f"{self.key}: {method} {path} -> {response.status_code} {response.text}")
        return response.json() if response.content else None

    def close(self) -> None:
        self.http.close()
        if self._sdk is not None:
            self._sdk.close()


# -- the rows ----------------------------------------------------------------------------------


@dataclass
class Row:
    """One check: who asks what, and which answers upstream gives."""

    label: str
    actor: str
    method: str
    path: str
    body: Any = None
    expect: frozenset[int] = frozenset({404})
    says: str | None = None  # upstream's message (nova) or exception type (neutron)
    headers: dict[str, str] | None = None


@dataclass
class Outcome:
    checks: int = 0
    leaks: list[str] = field(default_factory=list)
    unlike: list[str] = field(default_factory=list)

    def judge(self, label: str, status: int, text: str, expect: frozenset[int],
              says: str | None) -> None:
        self.checks += 1
        if status < 300 and status not in expect:
            self.leaks.append(f"{label}: {status} {text[:200]}")
        elif status not in expect or (says is not None and says not in text):
            wanted = "/".join(str(s) for s in sorted(expect))
            self.unlike.append(f"{label}: {status} (upstream {wanted}"
                               f"{' ' + repr(says) if says else ''}) {text[:200]}")


def public_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


# -- the world ---------------------------------------------------------------------------------


@dataclass
class World:
    actors: dict[str, Actor]
    a: dict[str, Any]      # A's resources: ids and names
    own: dict[str, dict[str, Any]]  # each writing actor's own network, port, router, ...
    created_servers: list[tuple[str, str, str]] = field(default_factory=list)


def _project_user(live: LiveCloud, identity: httpx.Client, project_id: str, role: str,
                  key: str, project_name: str) -> Actor:
    name = unique(f"iso-{key}")
    user = identity.post("/users", json={"user": {"name": name, "password": PASSWORD,
                                                  "domain_id": "default"}})
    assert user.status_code == 201, user.text
    user_id = user.json()["user"]["id"]
    role_id = identity.get("/roles", params={"name": role}).json()["roles"][0]["id"]
    granted = identity.put(f"/projects/{project_id}/users/{user_id}/roles/{role_id}")
    assert granted.status_code == 204, granted.text
    return Actor(live, key, name, PASSWORD, project_name, project_id, user_id)


def _network_kit(actor: Actor, cidr: str, *, router: bool = True) -> dict[str, Any]:
    """A network with a subnet, a port and (optionally) a router, owned by ``actor``."""
    network = actor.ok("POST", "/networking/v2.0/networks",
                       {"network": {"name": unique(f"net-{actor.key}")}})["network"]
    subnet = actor.ok("POST", "/networking/v2.0/subnets", {"subnet": {
        "network_id": network["id"], "cidr": cidr, "ip_version": 4,
        "name": unique(f"sub-{actor.key}")}})["subnet"]
    port = actor.ok("POST", "/networking/v2.0/ports", {"port": {
        "network_id": network["id"], "name": unique(f"port-{actor.key}")}})["port"]
    group = actor.ok("POST", "/networking/v2.0/security-groups", {"security_group": {
        "name": unique(f"sg-{actor.key}")}})["security_group"]
    kit = {"network": network["id"], "network_name": network["name"], "subnet": subnet["id"],
           "port": port["id"], "sg": group["id"], "sg_name": group["name"]}
    if router:
        kit["router"] = actor.ok("POST", "/networking/v2.0/routers", {"router": {
            "name": unique(f"router-{actor.key}")}})["router"]["id"]
    return kit


def _wait_active(actor: Actor, server_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        server = actor.ok("GET", f"/compute/v2.1/servers/{server_id}")["server"]
        if server["status"] in ("ACTIVE", "ERROR"):
            assert server["status"] == "ACTIVE", server.get("fault")
            return dict(server)
        time.sleep(0.05)
    raise AssertionError(f"server {server_id} not ACTIVE in 60 s")


def _boot(actor: Actor, networks: Any, flavor: str, **extra: Any) -> str:
    body = {"server": {"name": unique(f"vm-{actor.key}"), "imageRef": extra.pop("image", None)
                       or _image_id(actor, CIRROS), "flavorRef": flavor, "networks": networks,
                       **extra}}
    hints = body["server"].pop("hints", None)
    if hints:
        body["os:scheduler_hints"] = hints
    return str(actor.ok("POST", "/compute/v2.1/servers", body, 202)["server"]["id"])


def _settled(actor: Actor, server_id: str) -> tuple[str, str]:
    """The status a server comes to rest in (or BUILD after 30 s), and its fault."""
    deadline = time.monotonic() + 30
    while True:
        server = actor.ok("GET", f"/compute/v2.1/servers/{server_id}")["server"]
        if server["status"] != "BUILD" or time.monotonic() > deadline:
            return str(server["status"]), str((server.get("fault") or {}).get("message"))
        time.sleep(0.05)


def _image_id(actor: Actor, name: str) -> str:
    images = actor.ok("GET", f"/image/v2/images?name={name}")["images"]
    assert images, name
    return str(images[0]["id"])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCloud]:
    """A cloud of its own: the matrix boots servers, and the session's cloud may already be full.

    Servers that other tests leave behind (a test skipped after its boot, where shared/api-ref
    is absent) would otherwise share the compute nodes with the owner's control boot.
    """
    cloud = start_cloud(tmp_path_factory.mktemp("isolation"), "--seed", "9")
    yield cloud
    stop_cloud(cloud)


@pytest.fixture(scope="module")
def world(live: LiveCloud) -> Iterator[World]:
    admin_token = auth_token(live, "admin", "secret", "admin")
    identity = httpx.Client(base_url=f"{live.url}/identity/v3", timeout=30,
                            headers={"X-Auth-Token": admin_token})
    admin_project = identity.get("/projects", params={"name": "admin"}).json()["projects"][0]
    admin_user = identity.get("/users", params={"name": "admin"}).json()["users"][0]
    projects: dict[str, tuple[str, str]] = {}
    for letter in "ABC":
        name = unique(f"iso{letter}")
        made = identity.post("/projects", json={"project": {"name": name,
                                                            "domain_id": "default"}})
        assert made.status_code == 201, made.text
        projects[letter] = (made.json()["project"]["id"], name)
    actors = {
        "a": _project_user(live, identity, projects["A"][0], "member", "a", projects["A"][1]),
        "b_member": _project_user(live, identity, projects["B"][0], "member", "b_member",
                                  projects["B"][1]),
        "b_reader": _project_user(live, identity, projects["B"][0], "reader", "b_reader",
                                  projects["B"][1]),
        "c_member": _project_user(live, identity, projects["C"][0], "member", "c_member",
                                  projects["C"][1]),
        "admin": Actor(live, "admin", "admin", "secret", "admin", admin_project["id"],
                       admin_user["id"]),
    }
    a, admin = actors["a"], actors["admin"]
    created: list[tuple[str, str, str]] = []  # (actor, server id, row) of the rows' boots
    try:
        public = a.ok("GET", "/networking/v2.0/networks?name=public")["networks"][0]["id"]
        kit = _network_kit(a, "10.201.0.0/24")
        a.ok("PUT", f"/networking/v2.0/routers/{kit['router']}/add_router_interface",
             {"subnet_id": kit["subnet"]})
        a.ok("PUT", f"/networking/v2.0/routers/{kit['router']}",
             {"router": {"external_gateway_info": {"network_id": public}}})
        fip = a.ok("POST", "/networking/v2.0/floatingips", {"floatingip": {
            "floating_network_id": public}})["floatingip"]["id"]
        pool = admin.ok("POST", "/networking/v2.0/subnetpools", {"subnetpool": {
            "name": unique("pool-a"), "prefixes": ["10.250.0.0/16"], "default_prefixlen": 26,
            "project_id": a.project_id}})["subnetpool"]["id"]
        key = a.ok("POST", "/compute/v2.1/os-keypairs", {"keypair": {
            "name": unique("key-a"), "type": "ssh",
            "public_key": public_key()}})["keypair"]["name"]
        group = a.ok("POST", "/compute/v2.1/os-server-groups", {"server_group": {
            "name": unique("grp-a"), "policy": "anti-affinity"}})["server_group"]["id"]
        image = a.ok("POST", "/image/v2/images", {
            "name": unique("img-a"), "disk_format": "raw", "container_format": "bare",
            "visibility": "private"})
        upload = a.http.put(f"/image/v2/images/{image['id']}/file", content=b"A" * 512,
                            headers={"Content-Type": "application/octet-stream"})
        assert upload.status_code == 204, upload.text
        made = admin.ok("POST", "/compute/v2.1/flavors", {"flavor": {
            "name": unique("flavor-a"), "ram": 64, "vcpus": 1, "disk": 1,
            "os-flavor-access:is_public": False}})["flavor"]
        flavor = made["id"]
        admin.ok("POST", f"/compute/v2.1/flavors/{flavor}/action",
                 {"addTenantAccess": {"tenant": a.project_id}})
        # The lab's two compute nodes hold three m1.tiny each: the others boot this one.
        small = admin.ok("POST", "/compute/v2.1/flavors", {"flavor": {
            "name": unique("iso-small"), "ram": 64, "vcpus": 1, "disk": 1,
            "os-flavor-access:is_public": False}})["flavor"]["id"]
        for who in ("b_member", "c_member", "admin"):
            admin.ok("POST", f"/compute/v2.1/flavors/{small}/action",
                     {"addTenantAccess": {"tenant": actors[who].project_id}})
        # A's server uses all of A's references at once: the owner's control row.
        server = _boot(a, [{"uuid": kit["network"]}], flavor, image=image["id"],
                       key_name=key, security_groups=[{"name": kit["sg_name"]}],
                       hints={"group": group})
        _wait_active(a, server)
        spare = {}
        for index, who in enumerate((*ATTACKERS, "admin")):
            free = a.ok("POST", "/networking/v2.0/subnets", {"subnet": {
                "network_id": kit["network"], "cidr": f"10.201.{10 + index}.0/24",
                "ip_version": 4}})["subnet"]["id"]
            port = a.ok("POST", "/networking/v2.0/ports", {"port": {
                "network_id": kit["network"], "fixed_ips": [{"subnet_id": free}]}})["port"]
            spare[who] = {"subnet": free, "port": port["id"]}
        a_world = {**kit, "spare": spare, "fip": fip, "pool": pool, "key": key, "group": group,
                   "image": image["id"], "image_name": image["name"], "flavor": flavor,
                   "flavor_name": made["name"],
                   "server": server, "public": public, "small": small}
        own: dict[str, dict[str, Any]] = {}
        for index, who in enumerate(("b_member", "c_member")):
            mine = _network_kit(actors[who], f"10.{202 + index}.0.0/24")
            mine["fip"] = actors[who].ok("POST", "/networking/v2.0/floatingips", {
                "floatingip": {"floating_network_id": public}})["floatingip"]["id"]
            mine["server"] = _boot(actors[who], [{"uuid": mine["network"]}], small)
            own[who] = mine
        for who in ("b_member", "c_member"):
            _wait_active(actors[who], own[who]["server"])
        own["b_reader"] = own["b_member"]
        _volume_kit(actors, a_world, own)
        yield World(actors, a_world, own, created)
    finally:
        _clean(actors, projects, identity, [server for _, server, _ in created])
        for actor in actors.values():
            actor.close()
        identity.close()


def _clean(actors: dict[str, Actor], projects: dict[str, tuple[str, str]],
           identity: httpx.Client, created: list[str]) -> None:
    """Delete what the three projects own (servers first: their ports go with them)."""
    admin = actors["admin"].http
    ids = {project_id for project_id, _ in projects.values()}
    mine = [s["id"] for s in admin.get("/compute/v2.1/servers/detail", params={
        "all_tenants": "1"}).json()["servers"] if s["tenant_id"] in ids or s["id"] in created]
    for server_id in mine:
        admin.delete(f"/compute/v2.1/servers/{server_id}")
    deadline = time.monotonic() + 30
    while mine and time.monotonic() < deadline:
        mine = [s for s in mine if admin.get(f"/compute/v2.1/servers/{s}").status_code != 404]
        time.sleep(0.05)
    net = "/networking/v2.0"
    for project_id in ids:
        for fip in admin.get(f"{net}/floatingips", params={"project_id": project_id}).json()[
                "floatingips"]:
            admin.delete(f"{net}/floatingips/{fip['id']}")
        for router in admin.get(f"{net}/routers", params={"project_id": project_id}).json()[
                "routers"]:
            admin.put(f"{net}/routers/{router['id']}",
                      json={"router": {"external_gateway_info": {}}})
            for port in admin.get(f"{net}/ports", params={
                    "device_id": router["id"]}).json()["ports"]:
                if port["device_owner"] == "network:router_interface":
                    admin.put(f"{net}/routers/{router['id']}/remove_router_interface",
                              json={"port_id": port["id"]})
            admin.delete(f"{net}/routers/{router['id']}")
        for port in admin.get(f"{net}/ports", params={"project_id": project_id}).json()[
                "ports"]:
            admin.delete(f"{net}/ports/{port['id']}")
        for network in admin.get(f"{net}/networks", params={"project_id": project_id}).json()[
                "networks"]:
            # Other projects' ports too (the admin's row made one on A's network).
            for port in admin.get(f"{net}/ports", params={
                    "network_id": network["id"]}).json()["ports"]:
                if not port["device_owner"].startswith("network:"):
                    admin.delete(f"{net}/ports/{port['id']}")
            admin.delete(f"{net}/networks/{network['id']}")
        for pool in admin.get(f"{net}/subnetpools", params={"project_id": project_id}).json()[
                "subnetpools"]:
            admin.delete(f"{net}/subnetpools/{pool['id']}")
        for group in admin.get(f"{net}/security-groups", params={
                "project_id": project_id}).json()["security_groups"]:
            admin.delete(f"{net}/security-groups/{group['id']}")
        for image in admin.get("/image/v2/images", params={"owner": project_id}).json()[
                "images"]:
            admin.delete(f"/image/v2/images/{image['id']}")
    for flavor in admin.get("/compute/v2.1/flavors", params={"is_public": "false"}).json()[
            "flavors"]:
        if flavor["name"].startswith(("flavor-a-", "iso-small-")):
            admin.delete(f"/compute/v2.1/flavors/{flavor['id']}")
    for actor in actors.values():
        if actor.key != "admin":
            identity.delete(f"/users/{actor.user_id}")
    for project_id in ids:
        identity.delete(f"/projects/{project_id}")


# -- Block Storage: A's volumes, snapshot, backup, transfer and attachment ----------------------

CINDER = "/volume/v3"
VOLUME_API = {"OpenStack-API-Version": "volume 3.71"}
CONNECTOR = {"initiator": "iqn.1993-08.org.debian:01:leak", "ip": "192.0.2.9",
             "host": "leak-host", "platform": "x86_64", "os_type": "linux2",
             "multipath": False}


def _cinder(actor: Actor, method: str, path: str, body: Any = None) -> Any:
    response = actor.http.request(method, f"{CINDER}{path}", json=body, headers=VOLUME_API)
    assert response.status_code < 300, f"{actor.key}: {method} {path} -> {response.text}"
    return response.json() if response.content else None


def _settle(actor: Actor, path: str, key: str, wanted: str) -> dict[str, Any]:
    """A volume, snapshot or backup once it comes to ``wanted`` (fails on an error)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        shown = _cinder(actor, "GET", path)[key]
        if shown["status"] == wanted:
            return dict(shown)
        assert "error" not in shown["status"], shown
        time.sleep(0.05)
    raise AssertionError(f"{path} not {wanted} in 90 s")


def _volume_kit(actors: dict[str, Actor], a_world: dict[str, Any],
                own: dict[str, dict[str, Any]]) -> None:
    """A's volume (with a snapshot and a backup), a volume offered for transfer, a volume
    attached to A's server (so A's server has an attachment); each member's own volume
    and backup (for a restore onto A's volume)."""
    a = actors["a"]

    def volume(actor: Actor, label: str) -> str:
        return str(_cinder(actor, "POST", "/volumes", {"volume": {
            "size": 1, "name": unique(f"{label}-{actor.key}")}})["volume"]["id"])

    made = {label: volume(a, label) for label in ("vol", "tvol", "avol")}
    for who in ("b_member", "c_member"):
        own[who]["vol"] = volume(actors[who], "vol")
    for ident in made.values():
        _settle(a, f"/volumes/{ident}", "volume", "available")
    for who in ("b_member", "c_member"):
        _settle(actors[who], f"/volumes/{own[who]['vol']}", "volume", "available")
    a_world.update(made)
    a_world["snap"] = _cinder(a, "POST", "/snapshots", {"snapshot": {
        "volume_id": made["vol"], "name": unique("snap-a")}})["snapshot"]["id"]
    _settle(a, f"/snapshots/{a_world['snap']}", "snapshot", "available")
    a_world["backup"] = _cinder(a, "POST", "/backups", {"backup": {
        "volume_id": made["vol"], "name": unique("backup-a")}})["backup"]["id"]
    for who in ("b_member", "c_member"):
        own[who]["backup"] = _cinder(actors[who], "POST", "/backups", {"backup": {
            "volume_id": own[who]["vol"], "name": unique("backup")}})["backup"]["id"]
    _settle(a, f"/backups/{a_world['backup']}", "backup", "available")
    for who in ("b_member", "c_member"):
        _settle(actors[who], f"/backups/{own[who]['backup']}", "backup", "available")
    transfer = _cinder(a, "POST", "/volume-transfers", {"transfer": {
        "volume_id": made["tvol"], "name": unique("transfer-a")}})["transfer"]
    a_world["transfer"], a_world["auth_key"] = transfer["id"], transfer["auth_key"]
    a.ok("POST", f"/compute/v2.1/servers/{a_world['server']}/os-volume_attachments",
         {"volumeAttachment": {"volumeId": made["avol"]}})
    attached = _settle(a, f"/volumes/{made['avol']}", "volume", "in-use")
    a_world["attachment"] = attached["attachments"][0]["attachment_id"]


# -- the rows, table by table ------------------------------------------------------------------

ATTACKERS = ("b_member", "b_reader", "c_member")


def reference_rows(world: World) -> list[Row]:
    """Every create or update that names another resource, pointed at A's."""
    return [row for who in ATTACKERS for row in _reference_rows_of(world, who)]


def _reference_rows_of(world: World, who: str) -> list[Row]:
    a = world.a
    rows: list[Row] = []
    net, servers = "/networking/v2.0", "/compute/v2.1/servers"
    me = world.actors[who]
    own = world.own[who]
    member = who != "b_reader"

    def add(label: str, method: str, path: str, body: Any, status: int,
            says: str | None) -> None:
        # A reader is refused by policy before any look-up: any refusal will do.
        rows.append(Row(f"{who}: {label}", who, method, path, body,
                        frozenset({status}) if member else REFUSED,
                        says if member else None))

    def boot(**server: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"server": {
            "name": unique("leak"), "imageRef": _cirros(world), "flavorRef": a["small"],
            "networks": [{"uuid": own["network"]}]}}
        hints = server.pop("hints", None)
        body["server"].update(server)
        if hints:
            body["os:scheduler_hints"] = hints
        return body

    # nova: server create
    add("boot on A's network", "POST", servers, boot(networks=[{"uuid": a["network"]}]),
        400, f"Network {a['network']} could not be found.")
    add("boot on A's port", "POST", servers, boot(networks=[{"port": a["port"]}]),
        400, f"Port id {a['port']} could not be found.")
    add("boot with A's security group by id", "POST", servers,
        boot(security_groups=[{"name": a["sg"]}]), 400,
        f"Unable to find security_group with name or id '{a['sg']}'")
    add("boot with A's security group by name", "POST", servers,
        boot(security_groups=[{"name": a["sg_name"]}]), 400,
        f"Unable to find security_group with name or id '{a['sg_name']}'")
    add("boot from A's private image", "POST", servers, boot(imageRef=a["image"]), 400,
        "Can not find requested image")
    add("boot from A's image in a block device mapping", "POST", servers,
        boot(imageRef="", block_device_mapping_v2=[{
            "boot_index": 0, "uuid": a["image"], "source_type": "image",
            "destination_type": "local", "delete_on_termination": True}]), 400,
        f"Block Device Mapping is Invalid: failed to get image {a['image']}.")
    add("boot with A's key pair", "POST", servers, boot(key_name=a["key"]), 400,
        "Invalid key_name provided.")
    add("boot in A's server group", "POST", servers, boot(hints={"group": a["group"]}),
        400, f"Instance group {a['group']} could not be found.")
    add("boot with A's private flavor", "POST", servers, boot(flavorRef=a["flavor"]), 400,
        "Invalid flavorRef provided.")
    # nova: on the actor's own server
    mine = f"{servers}/{own['server']}"
    add("attach A's port", "POST", f"{mine}/os-interface",
        {"interfaceAttachment": {"port_id": a["port"]}}, 404,
        f"Port id {a['port']} could not be found.")
    add("attach on A's network", "POST", f"{mine}/os-interface",
        {"interfaceAttachment": {"net_id": a["network"]}}, 404,
        f"Network {a['network']} could not be found.")
    for how in ("sg", "sg_name"):
        add(f"addSecurityGroup A's group ({how})", "POST", f"{mine}/action",
            {"addSecurityGroup": {"name": a[how]}}, 404,
            f"Security group {a[how]} is not found for project {me.project_id}")
    add("removeSecurityGroup A's group", "POST", f"{mine}/action",
        {"removeSecurityGroup": {"name": a["sg"]}}, 404,
        f"Security group {a['sg']} is not found for project {me.project_id}")
    add("rebuild from A's image", "POST", f"{mine}/action",
        {"rebuild": {"imageRef": a["image"]}}, 400, "Cannot find image for rebuild")
    add("rescue with A's image", "POST", f"{mine}/action",
        {"rescue": {"rescue_image_ref": a["image"]}}, 400, None)
    add("createImage of A's server", "POST", f"{servers}/{a['server']}/action",
        {"createImage": {"name": unique("snap")}}, 404,
        f"Instance {a['server']} could not be found.")
    # glance
    add("add a member to A's image", "POST", f"/image/v2/images/{a['image']}/members",
        {"member": me.project_id}, 404, None)
    # neutron: creates naming A's resources
    add("port on A's network", "POST", f"{net}/ports",
        {"port": {"network_id": a["network"]}}, 404, "NetworkNotFound")
    # neutron looks the subnet up with the caller's context before it says it is elsewhere.
    add("port with A's subnet", "POST", f"{net}/ports", {"port": {
        "network_id": own["network"], "fixed_ips": [{"subnet_id": a["subnet"]}]}}, 404,
        "SubnetNotFound")
    add("port with A's security group", "POST", f"{net}/ports", {"port": {
        "network_id": own["network"], "security_groups": [a["sg"]]}}, 404,
        "SecurityGroupNotFound")
    add("port update with A's security group", "PUT", f"{net}/ports/{own['port']}",
        {"port": {"security_groups": [a["sg"]]}}, 404, "SecurityGroupNotFound")
    add("subnet on A's network", "POST", f"{net}/subnets", {"subnet": {
        "network_id": a["network"], "cidr": "10.209.0.0/24", "ip_version": 4}}, 404,
        "NetworkNotFound")
    add("subnet from A's subnet pool", "POST", f"{net}/subnets", {"subnet": {
        "network_id": own["network"], "subnetpool_id": a["pool"], "ip_version": 4}}, 404,
        "SubnetPoolNotFound")
    # A's subnet on A's router already holds its gateway address: a spare one each, free
    # to be taken, so that a leak shows as a 200 and not as a clash over the address.
    spare = a["spare"][who]
    add("router interface with A's routed subnet", "PUT",
        f"{net}/routers/{own['router']}/add_router_interface",
        {"subnet_id": a["subnet"]}, 404, "SubnetNotFound")
    add("router interface with A's free subnet", "PUT",
        f"{net}/routers/{own['router']}/add_router_interface",
        {"subnet_id": spare["subnet"]}, 404, "SubnetNotFound")
    add("router interface with A's port", "PUT",
        f"{net}/routers/{own['router']}/add_router_interface",
        {"port_id": spare["port"]}, 404, "PortNotFound")
    add("router gateway on A's network", "PUT", f"{net}/routers/{own['router']}",
        {"router": {"external_gateway_info": {"network_id": a["network"]}}}, 404,
        "NetworkNotFound")
    add("router created with its gateway on A's network", "POST", f"{net}/routers",
        {"router": {"name": unique("r"), "external_gateway_info": {
            "network_id": a["network"]}}}, 404, "NetworkNotFound")
    add("floating IP on A's network", "POST", f"{net}/floatingips",
        {"floatingip": {"floating_network_id": a["network"]}}, 404, "NetworkNotFound")
    add("floating IP created on A's port", "POST", f"{net}/floatingips",
        {"floatingip": {"floating_network_id": a["public"], "port_id": a["port"]}}, 404,
        "PortNotFound")
    add("floating IP associated to A's port", "PUT", f"{net}/floatingips/{own['fip']}",
        {"floatingip": {"port_id": a["port"]}}, 404, "PortNotFound")
    add("rule with A's group as remote", "POST", f"{net}/security-group-rules",
        {"security_group_rule": {"security_group_id": own["sg"], "direction": "ingress",
                                 "remote_group_id": a["sg"]}}, 404,
        "SecurityGroupNotFound")
    add("rule in A's group", "POST", f"{net}/security-group-rules",
        {"security_group_rule": {"security_group_id": a["sg"], "direction": "ingress"}},
        404, "SecurityGroupNotFound")
    add("interface on A's router", "PUT",
        f"{net}/routers/{a['router']}/add_router_interface",
        {"subnet_id": own["subnet"]}, 404, "RouterNotFound")
    # The controls: the same calls with the caller's own resources go through.
    add("rule in its own group, remote its own group", "POST", f"{net}/security-group-rules",
        {"security_group_rule": {"security_group_id": own["sg"], "direction": "ingress",
                                 "protocol": "tcp", "remote_group_id": own["sg"]}}, 201, None)
    add("port with its own security group", "POST", f"{net}/ports", {"port": {
        "network_id": own["network"], "security_groups": [own["sg"]]}}, 201, None)
    add("addSecurityGroup its own group", "POST", f"{mine}/action",
        {"addSecurityGroup": {"name": own["sg_name"]}}, 202, None)
    add("attach its own port", "POST", f"{mine}/os-interface",
        {"interfaceAttachment": {"port_id": own["port"]}}, 200, None)
    # neutron-lib refuses a project other than the caller's with 400, before any policy.
    add("port created in A's project", "POST", f"{net}/ports", {"port": {
        "network_id": own["network"], "project_id": world.actors["a"].project_id}}, 400,
        None)
    return rows


def volume_rows(world: World) -> list[Row]:
    """Block Storage and nova's volume calls that name A's volumes, snapshot, backup,
    transfer or attachment (cinder resolves each with the caller's project: 404)."""
    return [row for who in ATTACKERS for row in _volume_rows_of(world, who)]


def _volume_rows_of(world: World, who: str) -> list[Row]:
    a = world.a
    own = world.own[who]
    member = who != "b_reader"
    rows: list[Row] = []
    # A reader may read: its show of A's resources is the same 404 as a member's.
    reads = ("GET",)

    def add(label: str, method: str, path: str, body: Any, status: int,
            says: str | None, *, nova: bool = False) -> None:
        plain = member or method in reads
        rows.append(Row(f"{who}: {label}", who, method,
                        path if nova else f"{CINDER}{path}", body,
                        frozenset({status}) if plain else REFUSED, says if plain else None,
                        None if nova else VOLUME_API))

    def no_volume(ident: str) -> str:
        return f"Volume {ident} could not be found."

    vol, avol, att = a["vol"], a["avol"], a["attachment"]
    # cinder: attachments (3.27+) on A's volume or A's attachment
    add("attachment of A's volume", "POST", "/attachments", {"attachment": {
        "volume_uuid": vol, "instance_uuid": own["server"]}}, 404, no_volume(vol))
    add("attachment of A's volume, connected", "POST", "/attachments", {"attachment": {
        "volume_uuid": vol, "instance_uuid": own["server"], "connector": CONNECTOR}}, 404,
        no_volume(vol))
    gone = f"Volume attachment could not be found with filter: attachment_id = {att}."
    add("show A's attachment", "GET", f"/attachments/{att}", None, 404, gone)
    add("update A's attachment", "PUT", f"/attachments/{att}",
        {"attachment": {"connector": CONNECTOR}}, 404, gone)
    add("complete A's attachment", "POST", f"/attachments/{att}/action",
        {"os-complete": {}}, 404, gone)
    add("delete A's attachment", "DELETE", f"/attachments/{att}", None, 404, gone)
    # cinder: the legacy attach actions and the admin actions (the volume is looked up
    # before the policy is asked: a member gets the look-up's 404)
    for target, action in (
            (vol, {"os-reserve": {}}), (vol, {"os-unreserve": {}}),
            (vol, {"os-attach": {"instance_uuid": own["server"], "mountpoint": "/dev/vdb"}}),
            (vol, {"os-initialize_connection": {"connector": CONNECTOR}}),
            (avol, {"os-begin_detaching": {}}), (avol, {"os-detach": {}}),
            (avol, {"os-terminate_connection": {"connector": CONNECTOR}}),
            (avol, {"os-force_detach": {"attachment_id": att}}),
            (vol, {"os-retype": {"new_type": "__DEFAULT__", "migration_policy": "on-demand"}}),
            (vol, {"os-migrate_volume": {"host": "controller1@lvm#lvm"}}),
            (vol, {"os-extend": {"new_size": 2}}), (vol, {"os-set_bootable": {
                "bootable": True}}),
            (vol, {"os-reset_status": {"status": "error"}}), (vol, {"os-unmanage": {}})):
        name = next(iter(action))
        add(f"{name} on A's {'attached ' if target == avol else ''}volume", "POST",
            f"/volumes/{target}/action", action, 404, no_volume(target))
    # cinder: backups
    add("backup of A's volume", "POST", "/backups", {"backup": {"volume_id": vol}}, 404,
        no_volume(vol))
    no_backup = f"Backup {a['backup']} could not be found."
    add("show A's backup", "GET", f"/backups/{a['backup']}", None, 404, no_backup)
    add("restore A's backup", "POST", f"/backups/{a['backup']}/restore",
        {"restore": {"name": unique("leak")}}, 404, no_backup)
    add("delete A's backup", "DELETE", f"/backups/{a['backup']}", None, 404, no_backup)
    add("export A's backup", "GET", f"/backups/{a['backup']}/export_record", None, 404,
        no_backup)
    mine = world.own["b_member" if who == "b_reader" else who]
    add("restore its own backup onto A's volume", "POST",
        f"/backups/{mine['backup']}/restore", {"restore": {"volume_id": vol}}, 404,
        no_volume(vol))
    # cinder: transfers (accepting is open to anyone who holds the key)
    add("transfer of A's volume", "POST", "/volume-transfers",
        {"transfer": {"volume_id": vol}}, 404, no_volume(vol))
    no_transfer = f"Transfer {a['transfer']} could not be found."
    add("show A's transfer", "GET", f"/volume-transfers/{a['transfer']}", None, 404,
        no_transfer)
    add("delete A's transfer", "DELETE", f"/volume-transfers/{a['transfer']}", None, 404,
        no_transfer)
    add("accept A's transfer with a wrong key", "POST",
        f"/volume-transfers/{a['transfer']}/accept", {"accept": {"auth_key": "0" * 16}}, 400,
        f"Invalid auth key: Attempt to transfer {a['transfer']} with invalid auth key.")
    add("accept A's transfer without a key", "POST",
        f"/volume-transfers/{a['transfer']}/accept", {"accept": {}}, 400, None)
    # cinder: creates from A's snapshot, volume, backup, private image; A's volume's snapshot
    add("volume from A's snapshot", "POST", "/volumes", {"volume": {
        "snapshot_id": a["snap"]}}, 404, f"Snapshot {a['snap']} could not be found.")
    add("volume from A's volume", "POST", "/volumes", {"volume": {"source_volid": vol}},
        404, no_volume(vol))
    add("volume from A's backup", "POST", "/volumes", {"volume": {"size": 1,
                                                                  "backup_id": a["backup"]}},
        404, no_backup)
    add("volume from A's private image", "POST", "/volumes", {"volume": {
        "size": 1, "imageRef": a["image"]}}, 400,
        "Invalid image identifier or unable to access requested image.")
    add("snapshot of A's volume", "POST", "/snapshots", {"snapshot": {"volume_id": vol}},
        404, no_volume(vol))
    add("forced snapshot of A's attached volume", "POST", "/snapshots", {"snapshot": {
        "volume_id": avol, "force": True}}, 404, no_volume(avol))
    # cinder: A's volume and snapshot themselves
    for path, update, says in (
            (f"/volumes/{vol}", {"volume": {"name": "x"}}, no_volume(vol)),
            (f"/snapshots/{a['snap']}", {"snapshot": {"name": "x"}},
             f"Snapshot {a['snap']} could not be found.")):
        kind = path.split("/")[1][:-1]
        add(f"show A's {kind}", "GET", path, None, 404, says)
        add(f"update A's {kind}", "PUT", path, update, 404, says)
        add(f"metadata of A's {kind}", "POST", f"{path}/metadata",
            {"metadata": {"k": "v"}}, 404, says)
        add(f"delete A's {kind}", "DELETE", path, None, 404, says)
    # nova: A's volume on the caller's server, A's volume and snapshot at boot
    servers = "/compute/v2.1/servers"
    add("attach A's volume to its own server", "POST",
        f"{servers}/{own['server']}/os-volume_attachments",
        {"volumeAttachment": {"volumeId": vol}}, 404, no_volume(vol), nova=True)
    add("attach A's attached volume to its own server", "POST",
        f"{servers}/{own['server']}/os-volume_attachments",
        {"volumeAttachment": {"volumeId": avol}}, 404, no_volume(avol), nova=True)

    def boot(mapping: dict[str, Any]) -> dict[str, Any]:
        return {"server": {"name": unique("leak"), "flavorRef": a["small"],
                           "networks": [{"uuid": own["network"]}],
                           "block_device_mapping_v2": [{"boot_index": 0,
                                                        "destination_type": "volume",
                                                        **mapping}]}}

    # nova reads the root's volume (or snapshot) for its image metadata first (a failure
    # to get the volume is InvalidBDMVolume; SnapshotNotFound goes through), then every
    # other mapped volume (VolumeNotFound).
    add("boot from A's volume", "POST", servers, boot({"source_type": "volume",
                                                       "uuid": vol}), 400,
        f"Block Device Mapping is Invalid: failed to get volume {vol}.", nova=True)
    add("boot from A's snapshot", "POST", servers, boot({
        "source_type": "snapshot", "uuid": a["snap"], "volume_size": 1}), 400,
        f"Snapshot {a['snap']} could not be found.", nova=True)
    with_data = boot({"source_type": "volume", "uuid": vol, "boot_index": 1})
    with_data["server"]["imageRef"] = _cirros(world)
    add("boot with A's volume as a data disk", "POST", servers, with_data, 400,
        no_volume(vol), nova=True)
    # nova: os-volume_attachments of A's server
    theirs = f"{servers}/{a['server']}/os-volume_attachments"
    no_server = f"Instance {a['server']} could not be found."
    add("A's server's volume attachments", "GET", theirs, None, 404, no_server, nova=True)
    add("A's server's attachment of A's volume", "GET", f"{theirs}/{avol}", None, 404,
        no_server, nova=True)
    add("attach its own volume to A's server", "POST", theirs,
        {"volumeAttachment": {"volumeId": own["vol"]}}, 404, no_server, nova=True)
    add("detach A's volume from A's server", "DELETE", f"{theirs}/{avol}", None, 404,
        no_server, nova=True)
    rows.append(Row(f"{who}: update A's server's volume attachment", who, "PUT",
                    f"{theirs}/{avol}", {"volumeAttachment": {
                        "volumeId": avol, "delete_on_termination": True}},
                    frozenset({403, 404}) if member else REFUSED))
    if member:
        # The controls: the caller's own volume goes where A's did not.
        add("snapshot of its own volume", "POST", "/snapshots", {"snapshot": {
            "volume_id": own["vol"], "name": unique("ctl")}}, 202, None)
    return rows


def transfer_rows(world: World) -> list[Row]:
    """Last: with A's key, B's member takes A's offered volume (the key is the check)."""
    tvol = world.a["tvol"]
    return [Row("b_member: accept A's transfer with its key", "b_member", "POST",
                f"{CINDER}/volume-transfers/{world.a['transfer']}/accept",
                {"accept": {"auth_key": world.a["auth_key"]}}, frozenset({202}), tvol,
                VOLUME_API)]


def direct_rows(world: World) -> list[Row]:
    """Show, update and delete of each of A's resources by id."""
    a = world.a
    net, nova = "/networking/v2.0", "/compute/v2.1"
    owner_user = world.actors["a"].user_id
    targets: list[tuple[str, str, Any, str | None]] = [
        # what, path, an update body (None: no update), neutron's NotFound type
        ("network", f"{net}/networks/{a['network']}", {"network": {"name": "x"}},
         "NetworkNotFound"),
        ("subnet", f"{net}/subnets/{a['subnet']}", {"subnet": {"name": "x"}},
         "SubnetNotFound"),
        ("port", f"{net}/ports/{a['port']}", {"port": {"name": "x"}}, "PortNotFound"),
        ("router", f"{net}/routers/{a['router']}", {"router": {"name": "x"}},
         "RouterNotFound"),
        ("security group", f"{net}/security-groups/{a['sg']}",
         {"security_group": {"name": "x"}}, "SecurityGroupNotFound"),
        ("floating IP", f"{net}/floatingips/{a['fip']}",
         {"floatingip": {"description": "x"}}, "FloatingIPNotFound"),
        ("subnet pool", f"{net}/subnetpools/{a['pool']}", {"subnetpool": {"name": "x"}},
         "SubnetPoolNotFound"),
        ("server", f"{nova}/servers/{a['server']}", {"server": {"name": "x"}}, None),
        ("key pair", f"{nova}/os-keypairs/{a['key']}", None, None),
        ("server group", f"{nova}/os-server-groups/{a['group']}", None, None),
        ("image", f"/image/v2/images/{a['image']}", None, None),
    ]
    rows: list[Row] = []
    for who in ATTACKERS:
        for what, path, update, kind in targets:
            rows.append(Row(f"{who}: show A's {what}", who, "GET", path, None,
                            frozenset({404}), kind))
            if update is not None:
                rows.append(Row(f"{who}: update A's {what}", who, "PUT", path, update,
                                frozenset({404}) if who != "b_reader" else REFUSED, None))
            rows.append(Row(f"{who}: delete A's {what}", who, "DELETE", path, None,
                            frozenset({404}) if who != "b_reader" else REFUSED, None))
        rows += [
            Row(f"{who}: update A's image", who, "PATCH", f"/image/v2/images/{a['image']}",
                [{"op": "replace", "path": "/name", "value": "x"}], frozenset({404}),
                headers={"Content-Type": "application/openstack-images-v2.1-json-patch"}),
            Row(f"{who}: download A's image", who, "GET",
                f"/image/v2/images/{a['image']}/file", None, frozenset({404})),
            Row(f"{who}: A's server's interfaces", who, "GET",
                f"{nova}/servers/{a['server']}/os-interface", None, frozenset({404})),
            Row(f"{who}: stop A's server", who, "POST", f"{nova}/servers/{a['server']}/action",
                {"os-stop": None}, REFUSED if who == "b_reader" else frozenset({404})),
            Row(f"{who}: A's key pair by its user id", who, "GET",
                f"{nova}/os-keypairs/{a['key']}?user_id={owner_user}", None,
                frozenset({403, 404})),
            Row(f"{who}: show A's private flavor", who, "GET", f"{nova}/flavors/{a['flavor']}",
                None, frozenset({404}), f"Flavor {a['flavor']} could not be found."),
            Row(f"{who}: A's flavor's access list", who, "GET",
                f"{nova}/flavors/{a['flavor']}/os-flavor-access", None,
                frozenset({403, 404})),
            Row(f"{who}: give itself access to A's flavor", who, "POST",
                f"{nova}/flavors/{a['flavor']}/action",
                {"addTenantAccess": {"tenant": world.actors[who].project_id}}, REFUSED),
            Row(f"{who}: delete A's flavor", who, "DELETE", f"{nova}/flavors/{a['flavor']}",
                None, frozenset({403})),
        ]
    # The admin of another project may read everything (and the rows above used real ids).
    for what, path, _, _ in targets:
        if what == "key pair":
            path = f"{path}?user_id={owner_user}"
        rows.append(Row(f"admin: show A's {what}", "admin", "GET", path, None,
                        frozenset({200})))
    rows.append(Row("admin: show A's private flavor", "admin", "GET",
                    f"{nova}/flavors/{a['flavor']}", None, frozenset({200})))
    return rows


def admin_rows(world: World) -> list[Row]:
    """What upstream lets the admin of another project reference (its look-ups see all).

    nova-api accepts these boots (the admin's look-ups find A's network, port and group);
    the port on A's network is made, while A's port and A's group are refused by
    nova-compute (PortNotUsable, a group not of the server's project): see ``aftermath``.
    """
    a, servers = world.a, "/compute/v2.1/servers"

    def boot(label: str, **server: Any) -> Row:
        body = {"server": {"name": unique(f"admin-{label}"), "imageRef": _cirros(world),
                           "flavorRef": a["small"], **server}}
        return Row(f"admin: boot {label}", "admin", "POST", servers, body, frozenset({202}))

    return [
        boot("on A's network", networks=[{"uuid": a["network"]}]),
        boot("on A's port", networks=[{"port": a["spare"]["admin"]["port"]}]),
        boot("with A's security group", networks=[{"uuid": a["network"]}],
             security_groups=[{"name": a["sg"]}]),
        Row("admin: port of its own on A's network", "admin", "POST",
            "/networking/v2.0/ports", {"port": {"network_id": a["network"]}},
            frozenset({201})),
    ]


def _cirros(world: World) -> str:
    cached = world.a.get("cirros")
    if cached is None:
        cached = world.a["cirros"] = _image_id(world.actors["a"], CIRROS)
    return str(cached)


def run_http(world: World, rows: list[Row], outcome: Outcome) -> None:
    for row in rows:
        response = world.actors[row.actor].http.request(row.method, row.path, json=row.body,
                                                        headers=row.headers)
        if row.method == "POST" and row.path.endswith("/servers") and \
                response.status_code == 202:
            world.created_servers.append((row.actor, response.json()["server"]["id"],
                                          row.label))
        outcome.judge(f"HTTP {row.label}", response.status_code, response.text,
                      row.expect, row.says)


def list_checks(world: World, outcome: Outcome) -> None:
    """A's resources in nobody else's lists (openstacksdk), filters naming A's project too."""
    for who in ATTACKERS:
        _list_checks_of(world, who, outcome)
    # ... while A does list them (the control for the rows above).
    a = world.a
    a_sdk = world.actors["a"].sdk
    for what, ids, wanted in (
            ("networks", {n.id for n in a_sdk.network.networks()}, a["network"]),
            ("servers", {s.id for s in a_sdk.compute.servers()}, a["server"]),
            ("images", {i.id for i in a_sdk.image.images()}, a["image"]),
            ("flavors", {f.id for f in a_sdk.compute.flavors()}, a["flavor"])):
        assert wanted in ids, f"A does not list its own {what}"


def _list_checks_of(world: World, who: str, outcome: Outcome) -> None:
    from openstack import exceptions

    a = world.a
    a_project = world.actors["a"].project_id
    sdk = world.actors[who].sdk
    listings: list[tuple[str, Callable[[], Any], set[str]]] = [
        ("networks", lambda: sdk.network.networks(), {a["network"]}),
        ("networks of A's project", lambda: sdk.network.networks(project_id=a_project),
         {a["network"]}),
        ("subnets", lambda: sdk.network.subnets(), {a["subnet"]}),
        ("ports", lambda: sdk.network.ports(), {a["port"]}),
        ("ports of A's project", lambda: sdk.network.ports(project_id=a_project),
         {a["port"]}),
        ("routers", lambda: sdk.network.routers(), {a["router"]}),
        ("security groups", lambda: sdk.network.security_groups(), {a["sg"]}),
        ("security groups of A's project",
         lambda: sdk.network.security_groups(project_id=a_project), {a["sg"]}),
        ("floating IPs", lambda: sdk.network.ips(), {a["fip"]}),
        ("subnet pools", lambda: sdk.network.subnet_pools(), {a["pool"]}),
        ("servers", lambda: sdk.compute.servers(), {a["server"]}),
        ("servers of all projects",
         lambda: sdk.compute.servers(all_projects=True), {a["server"]}),
        ("servers of A's project", lambda: sdk.compute.servers(project_id=a_project),
         {a["server"]}),
        ("key pairs", lambda: ({"id": k.name} for k in sdk.compute.keypairs()),
         {a["key"]}),
        ("server groups", lambda: sdk.compute.server_groups(), {a["group"]}),
        ("server groups of all projects",
         lambda: sdk.compute.server_groups(all_projects=True), {a["group"]}),
        ("images", lambda: sdk.image.images(), {a["image"]}),
        ("flavors", lambda: sdk.compute.flavors(), {a["flavor"]}),
    ]
    for what, listing, forbidden in listings:
        label = f"SDK {who}: {what} hold none of A's"
        try:
            seen = {item["id"] if isinstance(item, dict) else item.id for item in listing()}
        except exceptions.HttpException as exc:  # refusing the whole listing is no leak
            outcome.judge(label, exc.status_code or 0, str(exc), frozenset({403}), None)
            continue
        leaked = seen & forbidden
        # A listing is judged as a row would be: 200 "it showed A's", 204 "none of them".
        outcome.judge(label, 200 if leaked else 204, f"listed {sorted(leaked)}",
                      frozenset({204}), None)


def sdk_reference_checks(world: World, outcome: Outcome) -> None:
    """A few reference rows as an openstacksdk user writes them."""
    for who in ("b_member", "c_member"):
        _sdk_reference_checks_of(world, who, outcome)


def _sdk_reference_checks_of(world: World, who: str, outcome: Outcome) -> None:
    from openstack import exceptions

    a = world.a
    sdk = world.actors[who].sdk
    own = world.own[who]
    attempts: list[tuple[str, Callable[[], Any]]] = [
        ("port on A's network", lambda: sdk.network.create_port(network_id=a["network"])),
        ("port with A's security group", lambda: sdk.network.create_port(
            network_id=own["network"], security_group_ids=[a["sg"]])),
        ("router interface with A's port", lambda: sdk.network.add_interface_to_router(
            own["router"], port_id=a["port"])),
        ("server on A's port", lambda: sdk.compute.create_server(
            name=unique("leak"), image_id=_cirros(world), flavor_id=a["small"],
            networks=[{"port": a["port"]}])),
        ("server with A's key pair", lambda: sdk.compute.create_server(
            name=unique("leak"), image_id=_cirros(world), flavor_id=a["small"],
            networks=[{"uuid": own["network"]}], key_name=a["key"])),
    ]
    for what, attempt in attempts:
        label = f"SDK {who}: {what}"
        try:
            made = attempt()
        except exceptions.HttpException as exc:
            outcome.judge(label, exc.status_code or 0, str(exc),
                          frozenset({400, 404}), None)
            continue
        if getattr(made, "id", None) and what.startswith("server"):
            world.created_servers.append((who, made.id, what))
        outcome.judge(label, 201, repr(made), frozenset({400, 404}), None)


def cli_checks(live: LiveCloud, world: World, outcome: Outcome) -> None:
    """Representative rows typed with the real CLI (names where the CLI takes names).

    The CLI looks most references up itself before it asks the service (``No Network
    found for ...``): that look-up is the caller's visibility too. Each row names the
    refusal it expects, so that a typo in a row (argparse's exit 2) cannot pass as one.
    """
    a = world.a
    cases: list[tuple[str, str, tuple[str, ...], str]] = []
    for who in ("b_member", "c_member"):
        own = world.own[who]
        server = ("server", "create", "--flavor", a["small"], "--image", CIRROS)
        net = ("--network", own["network"])
        cases += [
            (who, "server create on A's network",
             (*server, "--network", a["network"], unique("leak")),
             f"No Network found for {a['network']}"),
            (who, "server create with A's security group name",
             (*server, *net, "--security-group", a["sg_name"], unique("leak")),
             f"No SecurityGroup found for {a['sg_name']}"),
            (who, "server create with A's key pair",
             (*server, *net, "--key-name", a["key"], unique("leak")),
             "Invalid key_name provided."),
            (who, "server create from A's image by name",
             ("server", "create", "--flavor", a["small"], "--image", a["image_name"], *net,
              unique("leak")), f"No Image found for {a['image_name']}"),
            (who, "server create with A's private flavor by name",
             ("server", "create", "--flavor", a["flavor_name"], "--image", CIRROS, *net,
              unique("leak")), f"No Flavor found for {a['flavor_name']}"),
            (who, "server create in A's server group",
             (*server, *net, "--hint", f"group={a['group']}", unique("leak")),
             f"Instance group {a['group']} could not be found."),
            (who, "server add port A's port", ("server", "add", "port", own["server"],
                                               a["port"]), f"No Port found for {a['port']}"),
            (who, "server add security group A's group",
             ("server", "add", "security", "group", own["server"], a["sg"]),
             "1 of 1 security groups were not added."),
            (who, "server rebuild from A's image",
             ("server", "rebuild", "--image", a["image"], own["server"]),
             f"No Image found for {a['image']}"),
            (who, "port set with A's security group",
             ("port", "set", "--security-group", a["sg"], own["port"]),
             f"No SecurityGroup found for {a['sg']}"),
            (who, "router add subnet A's subnet",
             ("router", "add", "subnet", own["router"], a["subnet"]),
             f"No Subnet found for {a['subnet']}"),
            (who, "router add port A's port", ("router", "add", "port", own["router"],
                                              a["port"]), f"No Port found for {a['port']}"),
            (who, "floating ip create on A's network",
             ("floating", "ip", "create", a["network"]),
             f"No Network found for {a['network']}"),
            (who, "rule with A's group as remote",
             ("security", "group", "rule", "create", "--remote-group", a["sg"], own["sg"]),
             f"No SecurityGroup found for {a['sg']}"),
            (who, "image add project on A's image",
             ("image", "add", "project", a["image"], world.actors[who].project_id),
             f"No Image found for {a['image']}"),
            (who, "network show A's network", ("network", "show", a["network"]),
             f"No Network found for {a['network']}"),
            (who, "server show A's server", ("server", "show", a["server"]),
             f"No Server found for {a['server']}"),
        ]

    def run(case: tuple[str, str, tuple[str, ...], str]) -> tuple[str, int, str, str]:
        who, label, args, says = case
        result = live.openstack(*world.actors[who].cli_args, *args, check=False)
        return f"CLI {who}: {label}", result.returncode, result.stderr + result.stdout, says

    with ThreadPoolExecutor(4) as pool:
        for label, code, text, says in pool.map(run, cases):
            # The CLI exits 0 only when the cloud did it: a leak; a refusal exits 1.
            outcome.judge(label, 200 if code == 0 else 400 if code == 1 else code, text,
                          frozenset({400}), says)


def aftermath(world: World, outcome: Outcome) -> None:
    """A's resources as A left them: a refused row that still changed something leaked too."""
    a, owner = world.a, world.actors["a"]
    for who, port_id in (("nobody", a["port"]),
                         *((who, spare["port"]) for who, spare in a["spare"].items())):
        port = owner.ok("GET", f"/networking/v2.0/ports/{port_id}")["port"]
        outcome.judge(f"after: A's port offered to {who} is bound to nothing",
                      200 if port["device_id"] else 404, f"device_id {port['device_id']!r}",
                      frozenset({404}), None)
    # The admin's boot on A's port went as far as nova-compute, which refused the port.
    admin = world.actors["admin"]
    on_port = next(s for who, s, label in world.created_servers
                   if who == "admin" and label.endswith("on A's port"))
    status, fault = _settled(admin, on_port)
    outcome.judge("after: the admin's server on A's port ended in ERROR",
                  200 if status != "ERROR" else 404, f"{status}: {fault}", frozenset({404}),
                  "not usable for instance")
    # ... and its boot with A's group: nova-compute takes groups of the server's project only.
    with_group = next(s for who, s, label in world.created_servers
                      if who == "admin" and label.endswith("with A's security group"))
    status, fault = _settled(admin, with_group)
    outcome.judge("after: the admin's server with A's group ended in ERROR",
                  200 if status != "ERROR" else 404, f"{status}: {fault}", frozenset({404}),
                  a["sg"])
    for kind, path, field_ in (("network", "networks", "name"), ("subnet", "subnets", "name"),
                               ("port", "ports", "name"), ("router", "routers", "name"),
                               ("security group", "security-groups", "name")):
        key = {"network": "network", "subnet": "subnet", "port": "port", "router": "router",
               "security group": "sg"}[kind]
        body = owner.ok("GET", f"/networking/v2.0/{path}/{a[key]}")
        value = next(iter(body.values()))[field_]
        outcome.judge(f"after: A's {kind} kept its name", 200 if value == "x" else 404,
                      f"name {value!r}", frozenset({404}), None)
    rules = owner.ok("GET", f"/networking/v2.0/security-groups/{a['sg']}")["security_group"][
        "security_group_rules"]
    outcome.judge("after: A's group holds only its own rules",
                  200 if any(r["project_id"] != owner.project_id for r in rules) else 404,
                  repr(rules), frozenset({404}), None)
    server = owner.ok("GET", f"/compute/v2.1/servers/{a['server']}")["server"]
    outcome.judge("after: A's server is ACTIVE under its name",
                  404 if (server["status"], server["name"]) != ("ACTIVE", "x") and
                  server["status"] == "ACTIVE" else 200, repr(server["status"]),
                  frozenset({404}), None)
    members = owner.ok("GET", f"/image/v2/images/{a['image']}/members")["members"]
    outcome.judge("after: A's image has no members", 200 if members else 404, repr(members),
                  frozenset({404}), None)


def volume_aftermath(world: World, outcome: Outcome) -> None:
    """A's volumes as A left them; then B's member takes the offered one with A's key."""
    a, owner = world.a, world.actors["a"]
    for label, path, key, wanted in (
            ("volume", f"/volumes/{a['vol']}", "volume", "available"),
            ("attached volume", f"/volumes/{a['avol']}", "volume", "in-use"),
            ("offered volume", f"/volumes/{a['tvol']}", "volume", "awaiting-transfer"),
            ("snapshot", f"/snapshots/{a['snap']}", "snapshot", "available"),
            ("backup", f"/backups/{a['backup']}", "backup", "available")):
        shown = _cinder(owner, "GET", path)[key]
        kept = shown["status"] == wanted and shown.get("name") != "x"
        outcome.judge(f"after: A's {label} is {wanted}, under its name",
                      404 if kept else 200, repr(shown)[:200], frozenset({404}), None)
    attachments = _cinder(owner, "GET", f"/volumes/{a['avol']}")["volume"]["attachments"]
    outcome.judge("after: A's attached volume keeps only A's attachment",
                  404 if [x["attachment_id"] for x in attachments] == [a["attachment"]]
                  else 200, repr(attachments), frozenset({404}), None)
    transfers = [t["id"] for t in _cinder(owner, "GET", "/volume-transfers")["transfers"]]
    outcome.judge("after: A's transfer is still offered", 404 if a["transfer"] in transfers
                  else 200, repr(transfers), frozenset({404}), None)
    run_http(world, transfer_rows(world), outcome)
    taker = world.actors["b_member"]
    shown = _settle(taker, f"/volumes/{a['tvol']}", "volume", "available")
    outcome.judge("after: the transferred volume is B's", 200 if shown.get(
        "os-vol-tenant-attr:tenant_id", taker.project_id) != taker.project_id else 404,
        repr(shown)[:200], frozenset({404}), None)


def test_cross_project_matrix(live: LiveCloud, world: World,
                              capsys: pytest.CaptureFixture[str]) -> None:
    outcome = Outcome()
    run_http(world, reference_rows(world) + direct_rows(world) + admin_rows(world)
             + volume_rows(world), outcome)
    list_checks(world, outcome)
    sdk_reference_checks(world, outcome)
    cli_checks(live, world, outcome)
    aftermath(world, outcome)
    volume_aftermath(world, outcome)
    summary = (f"cross-project matrix: {outcome.checks} checks, {len(outcome.leaks)} leaks, "
               f"{len(outcome.unlike)} refusals unlike upstream")
    with capsys.disabled():
        print(f"\n{summary}")
        for line in outcome.leaks:
            print(f"  LEAK {line}")
        for line in outcome.unlike:
            print(f"  UNLIKE {line}")
    assert not outcome.leaks and not outcome.unlike, "\n".join(
        [summary, *(f"LEAK {line}" for line in outcome.leaks),
         *(f"UNLIKE {line}" for line in outcome.unlike)])
