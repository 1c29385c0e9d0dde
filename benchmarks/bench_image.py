#!/usr/bin/env python3
"""Image upload and download throughput of a live ``stacklab up`` (issue 3's figure).

Starts an ephemeral cloud on a free 127.0.0.1 port, uploads an image of SIZE MB
(streamed in 1 MiB chunks), downloads it back, checks the bytes, and prints
MB/s for each direction over RUNS runs. Bounded: RUNS uploads and downloads.

    python benchmarks/bench_image.py --size 100 --runs 3
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

now = time.perf_counter  # a stopwatch outside the server, not the server's clock
BIN = Path(sys.executable).parent
CHUNK = 1024 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(port: int, limit: float = 30.0) -> None:
    deadline = now() + limit
    while now() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/stacklab/v1/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("stacklab did not become ready")


def token(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/identity/v3/auth/tokens?nocatalog", body=json.dumps({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"id": "default"}, "password": "secret"}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}}),
        headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    return response.headers["X-Subject-Token"]


def pattern(size: int) -> Iterator[bytes]:
    block = hashlib.sha256(b"bench").digest() * (CHUNK // 32)
    sent = 0
    while sent < size:
        piece = block[: min(CHUNK, size - sent)]
        sent += len(piece)
        yield piece


def run(port: int, auth: str, size: int) -> tuple[float, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    headers = {"X-Auth-Token": auth, "Content-Type": "application/json"}
    conn.request("POST", "/image/v2/images", body=json.dumps(
        {"name": "bench", "disk_format": "raw", "container_format": "bare"}), headers=headers)
    image_id = json.loads(conn.getresponse().read())["id"]
    started = now()
    conn.putrequest("PUT", f"/image/v2/images/{image_id}/file")
    conn.putheader("X-Auth-Token", auth)
    conn.putheader("Content-Type", "application/octet-stream")
    conn.putheader("Content-Length", str(size))
    conn.endheaders()
    expected = hashlib.md5(usedforsecurity=False)
    for piece in pattern(size):
        expected.update(piece)
        conn.send(piece)
    response = conn.getresponse()
    response.read()
    assert response.status == 204, response.status
    upload = now() - started
    started = now()
    conn.request("GET", f"/image/v2/images/{image_id}/file", headers={"X-Auth-Token": auth})
    response = conn.getresponse()
    got = hashlib.md5(usedforsecurity=False)
    received = 0
    while piece := response.read(CHUNK):
        got.update(piece)
        received += len(piece)
    download = now() - started
    assert received == size and got.hexdigest() == expected.hexdigest()
    conn.request("DELETE", f"/image/v2/images/{image_id}", headers={"X-Auth-Token": auth})
    conn.getresponse().read()
    return upload, download


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=100, help="image size in MB")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    port = free_port()
    size = args.size * 1024 * 1024
    with tempfile.TemporaryDirectory() as workdir:
        process = subprocess.Popen(
            [str(BIN / "stacklab"), "up", "--port", str(port), "--state-dir", workdir,
             "--no-clouds-yaml"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_ready(port)
            auth = token(port)
            rows = [run(port, auth, size) for _ in range(args.runs)]
        finally:
            process.terminate()
            process.wait(timeout=30)
    print("| image size | runs | upload MB/s (median) | download MB/s (median) |")
    print("|---|---|---|---|")
    ups = sorted(args.size / up for up, _ in rows)
    downs = sorted(args.size / down for _, down in rows)
    print(f"| {args.size} MB | {args.runs} | {ups[len(ups) // 2]:.0f} | "
          f"{downs[len(downs) // 2]:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
