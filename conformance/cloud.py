"""A throwaway ``stacklab up --ephemeral`` for Tempest, and what Tempest needs to know of it.

The cloud writes its clouds.yaml and state files into the run's own folder: the user's
~/.config/openstack and ~/.local/share/stacklab are never touched.
"""

from __future__ import annotations

import ctypes
import json
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ADMIN = {"username": "admin", "password": "secret", "project": "admin", "domain": "Default"}
# stacklab's own logging marks an exception no handler expected (stacklab.api.app).
UNEXPECTED_ERROR = "unexpected error in"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Cloud:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def auth_url(self) -> str:
        return f"{self.url}/identity/v3"

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def unexpected_errors(self) -> list[str]:
        """The server's log lines of exceptions no handler expected (each answered a 500)."""
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return [line for line in text.splitlines() if UNEXPECTED_ERROR in line]


def _die_with_parent() -> None:
    """In the child: SIGTERM when the runner dies, even by SIGKILL (Linux's PDEATHSIG), so
    that no cloud outlives the run that started it."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass   # not Linux: the runner's own clean-up still stops the cloud


# devstack's lib/nova: nova's default filters and the two Tempest's scheduler-hint tests
# need (its NOVA_FILTERS, also Tempest's [compute-feature-enabled] scheduler_enabled_filters).
DEVSTACK_FILTERS = ("ComputeFilter", "ComputeCapabilitiesFilter", "ImagePropertiesFilter",
                    "ServerGroupAntiAffinityFilter", "ServerGroupAffinityFilter",
                    "SameHostFilter", "DifferentHostFilter")


def stacklab_conf() -> str:
    """The cloud's config file (OpenStack's sections and names): what devstack sets."""
    return ("[filter_scheduler]\n"
            f"enabled_filters = {','.join(DEVSTACK_FILTERS)}\n")


def start(stacklab: Path, workdir: Path, *, timeout: float = 60.0) -> Cloud:
    """Start ``stacklab up --ephemeral`` on a free loopback port and wait for its health."""
    port = free_port()
    log = workdir / "stacklab.log"
    config = workdir / "stacklab.conf"
    config.write_text(stacklab_conf())
    with log.open("ab") as handle:
        process = subprocess.Popen(
            [str(stacklab), "up", "--ephemeral", "--port", str(port),
             "--state-dir", str(workdir / "state"), "--clouds-yaml", str(workdir / "clouds.yaml"),
             "--admin-password", ADMIN["password"], "--config", str(config)],
            stdout=handle, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"stacklab up exited {process.returncode}: see {log}")
        try:
            with urllib.request.urlopen(f"{url}/stacklab/v1/health", timeout=2) as response:
                if response.status == 200:
                    return Cloud(url, process, log)
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"stacklab up not ready in {timeout:.0f} s: see {log}")


# devstack's lib/tempest: m1.nano (id 42) and m1.micro (id 84), TEMPEST_FLAVOR_RAM and
# TEMPEST_FLAVOR_ALT_RAM MiB, one vCPU, a disk the size of the image.
DEVSTACK_FLAVORS = (("m1.nano", "42", 192), ("m1.micro", "84", 256))


@dataclass
class Facts:
    """What tempest.conf needs from the cloud, read through its public APIs."""
    auth_url: str
    services: set[str]                     # catalog types
    image_id: str
    flavor_id: str
    flavor_alt_id: str
    public_network_id: str
    public_network_name: str
    compute_min_microversion: str
    compute_max_microversion: str
    network_extensions: list[str] = field(default_factory=list)
    # A second image, so that the tests needing two distinct ones run; "" for none.
    image_alt_id: str = ""
    # The loopback URL serving image_data, for [image] http_image; "" when not served.
    http_image: str = ""
    image_data: bytes = field(default=b"", repr=False)
    # os-test-images' manifest the harness made, for [image] images_manifest_file; "" when
    # it could not.
    images_manifest: str = ""
    # Block Storage, when in the catalog: its catalog type, its advertised microversion
    # range, and whether it serves backups (``GET /v3/backups`` answers).
    volume_catalog_type: str = ""
    volume_min_microversion: str = ""
    volume_max_microversion: str = ""
    volume_backups: bool = False
    # The multiattach volume type the harness made (devstack's, for its tempest jobs'
    # ENABLE_VOLUME_MULTIATTACH); "" when it could not.
    volume_type_multiattach: str = ""


class Api:
    def __init__(self, auth_url: str) -> None:
        self.auth_url = auth_url
        self.token, self.catalog = self._login()

    def _login(self) -> tuple[str, list[dict[str, Any]]]:
        body = {"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": ADMIN["username"], "password": ADMIN["password"],
                "domain": {"name": ADMIN["domain"]}}}},
            "scope": {"project": {"name": ADMIN["project"],
                                  "domain": {"name": ADMIN["domain"]}}}}}
        request = urllib.request.Request(
            f"{self.auth_url}/auth/tokens", data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            token = response.headers["X-Subject-Token"]
            catalog: list[dict[str, Any]] = json.load(response)["token"]["catalog"]
        return token, catalog

    def endpoint(self, service_type: str) -> str:
        for service in self.catalog:
            if service["type"] == service_type:
                for endpoint in service["endpoints"]:
                    if endpoint["interface"] == "public":
                        return str(endpoint["url"]).rstrip("/")
        raise LookupError(f"no public {service_type} endpoint in the catalog")

    def get(self, url: str) -> Any:
        return self.call("GET", url)

    def raw(self, method: str, url: str, data: bytes | None = None) -> bytes:
        """A request whose body or answer is bytes (an image's data)."""
        request = urllib.request.Request(
            url, data=data, method=method,
            headers={"X-Auth-Token": self.token, "Content-Type": "application/octet-stream"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                body: bytes = response.read()
                return body
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{method} {url}: {exc.code} {exc.read()[:300]!r}") from exc

    def call(self, method: str, url: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            url, data=data, method=method,
            headers={"X-Auth-Token": self.token, "Accept": "application/json",
                     "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{method} {url}: {exc.code} {exc.read()[:300]!r}") from exc


ALT_IMAGE_NAME = "tempest-image-alt"


def alt_image(api: Api, image: dict[str, Any], data: bytes) -> str:
    """A second public image, a copy of the first: Tempest's tests that tell two images apart
    (a server listing filtered by image, a rebuild onto another) skip when image_ref_alt is
    image_ref, as it is in devstack with its one image."""
    endpoint = f"{api.endpoint('image')}/v2/images"
    found = api.get(f"{endpoint}?name={ALT_IMAGE_NAME}")["images"]
    if found:
        return str(found[0]["id"])
    created = api.call("POST", endpoint, {
        "name": ALT_IMAGE_NAME, "visibility": "public",
        "disk_format": image.get("disk_format") or "qcow2",
        "container_format": image.get("container_format") or "bare"})
    api.raw("PUT", f"{endpoint}/{created['id']}/file", data)
    deadline = time.monotonic() + 30
    while api.get(f"{endpoint}/{created['id']}")["status"] != "active":
        if time.monotonic() > deadline:
            raise RuntimeError(f"image {ALT_IMAGE_NAME} not active in 30 s")
        time.sleep(0.1)
    return str(created["id"])


def discover(auth_url: str) -> Facts:
    """What tempest.conf needs, making what it needs and the cloud lacks (devstack's
    flavors, a second image)."""
    api = Api(auth_url)
    images = [image for image in
              api.get(f"{api.endpoint('image')}/v2/images?status=active")["images"]
              if image.get("name") != ALT_IMAGE_NAME]
    # Like devstack: the CirrOS image when there is one, else the first active image.
    images.sort(key=lambda image: (not str(image.get("name", "")).startswith("cirros"),
                                   image["id"]))
    if not images:
        raise RuntimeError("the cloud has no active image for tempest.conf's image_ref")
    data = api.raw("GET", f"{api.endpoint('image')}/v2/images/{images[0]['id']}/file")
    compute = api.endpoint("compute")
    flavors = {flavor["name"]: flavor for flavor in
               api.get(f"{compute}/flavors/detail")["flavors"]}
    # Tempest's flavors as devstack makes them: the lab's compute nodes hold two m1.tiny
    # each (1 GiB for guests), and two workers with a few leaked servers would soon meet
    # "No valid host". flavor_ref_alt is the larger: the resize tests go from one to the other.
    disk = max(1, -(-int(images[0].get("size") or 0) // 2**30))
    for name, flavor_id, ram in DEVSTACK_FLAVORS:
        if name not in flavors:
            flavors[name] = api.call("POST", f"{compute}/flavors", {"flavor": {
                "name": name, "id": flavor_id, "ram": ram, "disk": disk, "vcpus": 1}})["flavor"]
    tiny, small = (flavors[name] for name, _, _ in DEVSTACK_FLAVORS)
    network = api.endpoint("network")
    public = api.get(f"{network}/v2.0/networks?router:external=True")["networks"]
    if not public:
        raise RuntimeError("the cloud has no external network for floating IPs")
    public.sort(key=lambda net: (net["name"] != "public", net["id"]))
    version = api.get(f"{compute}/")["version"]
    extensions = api.get(f"{network}/v2.0/extensions")["extensions"]
    volume = volume_facts(api)
    return Facts(
        auth_url=auth_url,
        services={service["type"] for service in api.catalog},
        image_id=images[0]["id"], flavor_id=str(tiny["id"]), flavor_alt_id=str(small["id"]),
        public_network_id=public[0]["id"], public_network_name=public[0]["name"],
        compute_min_microversion=version["min_version"] or "2.1",
        compute_max_microversion=version["version"] or "2.1",
        network_extensions=sorted(extension["alias"] for extension in extensions),
        image_alt_id=alt_image(api, images[0], data),
        image_data=data,
        **volume,
    )


def wait_for_first_reports(api: Api, endpoint: str, *, timeout: float = 30.0) -> None:
    """Until every cinder service has reported once. A fresh cinder service's row has no
    ``updated_at`` until its first report (cinder's report_state, ``report_interval`` after
    its start), and ``os-services`` shows it null, which Tempest's schema refuses: in the
    gate the services have run for minutes before Tempest starts."""
    deadline = time.monotonic() + timeout
    while True:
        services = api.get(f"{endpoint}/os-services")["services"]
        if all(service.get("updated_at") for service in services):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"cinder services not reporting after {timeout:.0f} s")
        time.sleep(0.2)


# Block Storage's catalog types, the one current clients (and Tempest's default) ask for first.
VOLUME_TYPES = ("block-storage", "volumev3", "volume")


def volume_facts(api: Api) -> dict[str, Any]:
    """Block Storage's Facts fields: nothing when it is not in the catalog."""
    types = {service["type"] for service in api.catalog}
    kind = next((name for name in VOLUME_TYPES if name in types), "")
    if not kind:
        return {}
    endpoint = api.endpoint(kind)
    version = api.get(f"{endpoint}/")["versions"][0]
    wait_for_first_reports(api, endpoint)
    try:
        api.get(f"{endpoint}/backups")
        backups = True
    except RuntimeError:   # 404 or 501: no cinder-backup behind the API
        backups = False
    return {"volume_catalog_type": kind,
            "volume_min_microversion": version.get("min_version") or "3.0",
            "volume_max_microversion": version.get("version") or "3.0",
            "volume_backups": backups,
            "volume_type_multiattach": multiattach_type(api, endpoint)}


# devstack's lib/cinder: with ENABLE_VOLUME_MULTIATTACH (set by Tempest's own jobs) it makes
# this type, and lib/tempest names it [volume] volume_type_multiattach.
MULTIATTACH_TYPE = "multiattach"


def multiattach_type(api: Api, endpoint: str) -> str:
    """The multiattach volume type, made if the cloud lacks it; "" if it cannot be."""
    try:
        found = api.get(f"{endpoint}/types?is_public=None")["volume_types"]
        if not any(t["name"] == MULTIATTACH_TYPE for t in found):
            api.call("POST", f"{endpoint}/types", {"volume_type": {
                "name": MULTIATTACH_TYPE, "extra_specs": {"multiattach": "<is> True"}}})
    except RuntimeError:
        return ""
    return MULTIATTACH_TYPE
