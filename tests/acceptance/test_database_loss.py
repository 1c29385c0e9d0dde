"""``stacklab up`` on MariaDB when the database goes away and comes back (a restart, a
network cut between the API nodes and the database): nova and keystone answer their own
500 at once (their APIs do not retry a lost connection), neutron's request waits through
oslo.db's retries (neutron_lib's retry_db_errors) and is answered once the database is
back, and everything serves again without a restart of the cloud (the pool replaces its
dead connections). The cut is a TCP proxy between the cloud and the database, closed and
reopened by the test."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from acceptance.conftest import free_port, start_cloud, stop_cloud
from support.engines import scratch_database

pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(240)]


class Cut:
    """A TCP proxy to MariaDB that can be cut (every connection closed, new ones refused)
    and mended on the same port."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.lock = threading.Lock()
        self.sockets: list[socket.socket] = []
        self.listener: socket.socket | None = None
        self.mend()

    def mend(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self.lock:
            closing = [*self.sockets, *([self.listener] if self.listener else [])]
            self.sockets, self.listener = [], None
        for sock in closing:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            server = socket.create_connection(self.upstream)
            with self.lock:
                self.sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def test_a_lost_database_is_each_services_500_then_served_again(tmp_path: Path) -> None:
    with scratch_database("mysql") as url:
        proxy = Cut(("127.0.0.1", 3306))
        through = url.replace("127.0.0.1:3306", f"127.0.0.1:{proxy.port}")
        assert through != url, url
        conf = tmp_path / "stacklab.conf"
        conf.write_text(f"[database]\nconnection = {through}\n")
        cloud = start_cloud(tmp_path, "--config", str(conf), "--seed", "17")
        try:
            auth = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
                "name": "admin", "domain": {"id": "default"}, "password": "secret"}}},
                "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}
            with httpx.Client(base_url=cloud.url, timeout=120) as client:
                issued = client.post("/identity/v3/auth/tokens", json=auth)
                assert issued.status_code == 201, issued.text
                headers = {"X-Auth-Token": issued.headers["X-Subject-Token"]}
                assert client.get("/compute/v2.1/flavors", headers=headers).status_code == 200

                proxy.cut()
                nova = client.get("/compute/v2.1/flavors", headers=headers)
                assert nova.status_code == 500, nova.text
                assert nova.json()["computeFault"]["code"] == 500
                keystone = client.post("/identity/v3/auth/tokens", json=auth)
                assert keystone.status_code == 500, keystone.text
                assert keystone.json()["error"]["code"] == 500

                # neutron's request is retried while the database is away...
                answered: dict[str, Any] = {}

                def list_networks() -> None:
                    with httpx.Client(base_url=cloud.url, timeout=120) as other:
                        answered["response"] = other.get("/networking/v2.0/networks",
                                                         headers=headers)

                waiting = threading.Thread(target=list_networks)
                waiting.start()
                time.sleep(1.5)
                assert waiting.is_alive() and not answered
                # ... and answered once it is back; the others serve again, no restart.
                proxy.mend()
                waiting.join(timeout=60)
                assert answered["response"].status_code == 200, answered["response"].text
                assert {n["name"] for n in answered["response"].json()["networks"]} >= {
                    "public"}
                assert client.get("/compute/v2.1/flavors", headers=headers).status_code == 200
                again = client.post("/identity/v3/auth/tokens", json=auth)
                assert again.status_code == 201, again.text
        finally:
            proxy.cut()
            code = stop_cloud(cloud)
        assert code == 0
