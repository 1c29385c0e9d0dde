"""Image metadata definitions, tasks and imports with the real CLI and openstacksdk."""

from __future__ import annotations

import http.server
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from acceptance.conftest import LiveCloud
from acceptance.test_image import Glance, token_for
from stacklab.image.builtin import cirros_bytes

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(240)]

# A well-formed qcow2 (the lab's CirrOS stand-in): glance inspects imported data against
# the image's disk_format.
DATA = cirros_bytes()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def web() -> Iterator[str]:
    """A loopback HTTP server the cloud may fetch from ([import_filtering_opts] default)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(DATA)))
            self.end_headers()
            self.wfile.write(DATA)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/disk.qcow2"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def glance(live: LiveCloud) -> Iterator[Glance]:
    client = Glance(live, token_for(live, "admin", "secret", "admin"))
    yield client
    client.client.close()


def test_metadef_namespace_life_with_the_cli(live: LiveCloud) -> None:
    name = unique("Lab::Ns")
    created = live.openstack_json("image", "metadef", "namespace", "create", "--public",
                                  "--protected", "--description", "lab", name)
    assert created["namespace"] == name and created["visibility"] == "public"
    listed = live.openstack_json("image", "metadef", "namespace", "list")
    assert name in [row["namespace"] for row in listed]
    types = live.openstack_json("image", "metadef", "resource", "type", "list")
    assert "OS::Glance::Image" in [row["Name"] for row in types]
    live.openstack("image", "metadef", "resource", "type", "association", "create", name,
                   "OS::Glance::Image")
    associations = live.openstack_json("image", "metadef", "resource", "type", "association",
                                       "list", name)
    assert [row["Name"] for row in associations] == ["OS::Glance::Image"]
    live.openstack("image", "metadef", "property", "create", "--name", "hw_lab",
                   "--title", "Lab", "--type", "string", "--schema", '{"enum": ["a", "b"]}',
                   name)
    prop = live.openstack_json("image", "metadef", "property", "show", name, "hw_lab")
    assert prop["title"] == "Lab"
    live.openstack("image", "metadef", "object", "create", "--namespace", name, "Limits")
    objects = live.openstack_json("image", "metadef", "object", "list", name)
    assert "Limits" in [row["name"] for row in objects]
    shown = live.openstack_json("image", "metadef", "namespace", "show", name)
    assert shown["protected"] is True
    refused = live.openstack("image", "metadef", "namespace", "delete", name, check=False)
    assert refused.returncode != 0 and "protected" in refused.stderr
    live.openstack("image", "metadef", "namespace", "set", "--unprotected", name)
    live.openstack("image", "metadef", "namespace", "delete", name)
    gone = live.openstack("image", "metadef", "namespace", "show", name, check=False)
    assert gone.returncode != 0


def queued_image(glance: Glance, name: str) -> dict[str, Any]:
    # Over HTTP: `openstack image create` without --file reads image data from a stdin
    # that is not a terminal, and would leave the image active.
    created = glance.request("POST", "/v2/images", json={
        "name": name, "disk_format": "qcow2", "container_format": "bare"})
    assert created.status_code == 201, created.text
    return dict(created.json())


def test_web_download_import_with_the_cli_and_its_task(live: LiveCloud, glance: Glance,
                                                       web: str) -> None:
    image = queued_image(glance, unique("web"))
    methods = live.openstack_json("image", "import", "info")
    assert "web-download" in str(methods)
    # openstackclient sends all_stores_must_succeed=false unless told --disallow-failure;
    # a single-store glance refuses that option with a 400, which openstacksdk's
    # import_image does not raise: the command "succeeds" and nothing is imported.
    live.openstack("image", "import", "--method", "web-download", "--uri", web, image["id"])
    assert glance.request("GET", f"/v2/images/{image['id']}").json()["status"] == "queued"
    live.openstack("image", "import", "--method", "web-download", "--uri", web,
                   "--disallow-failure", image["id"])
    shown = live.openstack_json("image", "show", image["id"])
    assert shown["status"] == "active" and shown["size"] == len(DATA), \
        glance.request("GET", f"/v2/images/{image['id']}/tasks").json()
    tasks = live.openstack_json("image", "task", "list")
    mine = [t for t in tasks if t["Type"] == "api_image_import" and t["Status"] == "success"]
    assert mine
    task = live.openstack_json("image", "task", "show", mine[0]["ID"])
    assert task["status"] == "success"
    # An address off the box never passes [import_filtering_opts]: glance's 400 (which the
    # CLI swallows, as above), no task, the image still queued.
    off_box = queued_image(glance, unique("off"))
    refused = glance.request("POST", f"/v2/images/{off_box['id']}/import", json={
        "method": {"name": "web-download", "uri": "http://192.0.2.1/disk.qcow2"}})
    assert refused.status_code == 400 and "does not pass filtering" in refused.text
    live.openstack("image", "import", "--method", "web-download", "--uri",
                   "http://192.0.2.1/disk.qcow2", "--disallow-failure", off_box["id"])
    assert glance.request("GET", f"/v2/images/{off_box['id']}").json()["status"] == "queued"
    assert glance.request("GET", f"/v2/images/{off_box['id']}/tasks").json() == {"tasks": []}
    for ident in (image["id"], off_box["id"]):
        live.openstack("image", "delete", ident)


def test_sdk_updates_an_image_it_read(live: LiveCloud, web: str) -> None:
    conn = live.connect()
    image = conn.image.create_image(name=unique("sdk-upd"), data=b"sdk" * 100,
                                    disk_format="raw", container_format="bare")
    # openstacksdk sends back what it read: a 'stores' attribute would be refused.
    updated = conn.image.update_image(image, name="renamed-by-sdk", os_distro="lab")
    assert updated.name == "renamed-by-sdk"
    assert conn.image.get_image(image).os_distro == "lab"
    conn.image.delete_image(image)
    queued = conn.image.create_image(name=unique("sdk-web"), disk_format="qcow2",
                                     container_format="bare", allow_duplicates=True)
    conn.image.import_image(queued, method="web-download", uri=web)
    assert conn.image.get_image(queued).status == "active"
    tasks = [task.to_dict() for task in conn.image.image_tasks(queued)]
    assert tasks and all(t["status"] == "success" for t in tasks), tasks
    conn.image.delete_image(queued)
