"""A loopback HTTP server for the run's duration: what glance's web-download fetches.

Tempest's ``[image] http_image``/``http_qcow2_image`` default to download.cirros-cloud.net;
stacklab's ``[import_filtering_opts]`` refuses any host but loopback, and a run must never
reach outside the machine. So the runner serves the image's bytes itself, from a thread of
its own process, on a free 127.0.0.1 port, and points those options here.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _answer(self, with_body: bool) -> None:
        data = self.server.files.get(self.path.split("?", 1)[0])
        if data is None:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if with_body:
            self.wfile.write(data)

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def log_message(self, format: str, *args: object) -> None:
        # Tempest's output and the summary are the record; a line per fetch is noise.
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self.files = dict(files)
        super().__init__(("127.0.0.1", 0), _Handler)


class FileServer:
    """``with FileServer({"/cirros.qcow2": data}) as files: files.url("/cirros.qcow2")``:
    GET and HEAD of exactly those paths (anything else is a 404) until the block ends."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        if not all(path.startswith("/") for path in files):
            raise ValueError("paths start with /")
        self._server = _Server(files)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="conformance-fileserver", daemon=True)

    @property
    def port(self) -> int:
        port: int = self._server.server_address[1]
        return port

    def url(self, path: str) -> str:
        if path not in self._server.files:
            raise KeyError(path)
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> FileServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def __enter__(self) -> FileServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()
