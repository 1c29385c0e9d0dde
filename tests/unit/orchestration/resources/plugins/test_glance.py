"""OS::Glance::WebImage driven as heat-engine drives it: glance imports the data from a
URL (web-download) the test serves on the loopback, which glance's filter allows."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from stacklab.orchestration.resources import registry
from stacklab.orchestration.resources.base import ResourceFailure
from unit.orchestration.resources.plugins.conftest import Lab, run

GLANCE = "/image/v2"
DATA = b"\0" * 4096


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(DATA)))
        self.end_headers()
        self.wfile.write(DATA)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/disk.raw"
    server.shutdown()
    server.server_close()


def plugin(name: str) -> Any:
    found = registry.get(name)
    assert found is not None, name
    return found()


def test_a_web_image_is_imported_updated_and_deleted(url: str) -> None:
    async def scenario(lab: Lab) -> None:
        image = plugin("OS::Glance::WebImage")
        ctx = await lab.context("image")
        image_id, props = await lab.create(image, ctx, {
            "name": "web", "disk_format": "raw", "container_format": "bare",
            "location": url, "tags": ["a"], "extra_properties": {"os_type": "linux"}})
        shown = await lab.get(f"{GLANCE}/images/{image_id}")
        assert (shown["status"], shown["size"], shown["tags"], shown["os_type"]) == (
            "active", len(DATA), ["a"], "linux")

        props = await lab.update(image, ctx, image_id, props, {
            **{k: v for k, v in props.items() if v is not None},
            "tags": ["b"], "os_distro": "cirros", "active": False})
        shown = await lab.get(f"{GLANCE}/images/{image_id}")
        assert (shown["status"], shown["tags"], shown["os_distro"]) == (
            "deactivated", ["b"], "cirros")
        assert (await image.attributes(ctx, image_id, props))["show"]["id"] == image_id

        await lab.delete(image, ctx, image_id, props)
        await lab.get(f"{GLANCE}/images/{image_id}", expect=404)

    run(scenario)


def test_data_that_is_not_there_fails_the_image(url: str) -> None:
    async def scenario(lab: Lab) -> None:
        image = plugin("OS::Glance::WebImage")
        ctx = await lab.context("image")
        # Zeros are no qcow2: glance's inspection fails the import, and the image with it.
        with pytest.raises(ResourceFailure) as caught:
            await lab.create(image, ctx, {"disk_format": "qcow2", "container_format": "bare",
                                          "location": url})
        assert str(caught.value).startswith('Went to status queued due to "')

    run(scenario)
