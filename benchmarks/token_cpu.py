#!/usr/bin/env python3
"""CPU time per token issue and validation, in process: stable on a busy machine.

The requests go straight into the ASGI application the server serves (the whole
request path: request ids, the control plane's way in, routing, token check,
policy, the handler, JSON, the access log), on one event loop, no socket. What
is measured is ``time.process_time()`` per request, which other processes on the
machine do not inflate the way they do a rate; the HTTP server's own parsing
(uvicorn + httptools) is not in it.

    python benchmarks/token_cpu.py                      # both figures, 3 rounds each
    python benchmarks/token_cpu.py --profile validate   # a cProfile of 3,000 validations
    python benchmarks/token_cpu.py --socket h11,asyncio # through uvicorn on a socket

``--socket HTTP,LOOP`` serves the application with uvicorn (``h11`` or
``httptools``; ``asyncio`` or ``uvloop``) on 127.0.0.1 in this process, and a
client process sends the requests over one kept-alive connection: what is
measured is this process's CPU (``resource.getrusage``) per request, the HTTP
server's parsing and the event loop included.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import http.client
import json
import multiprocessing
import pstats
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from stacklab.api.app import build_app
from stacklab.cloud import Cloud
from stacklab.server import ClosingConnections, bind
from support.inprocess import ephemeral_config

ISSUE_BODY = json.dumps({"auth": {
    "identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"name": "Default"}, "password": "secret"}}},
    "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}).encode()


class Driver:
    def __init__(self) -> None:
        self.cloud = Cloud(ephemeral_config())
        self.cloud.start("http://127.0.0.1:5000")
        self.app = build_app(self.cloud)

    async def request(self, method: str, path: str, headers: list[tuple[bytes, bytes]],
                      body: bytes = b"") -> tuple[int, dict[bytes, bytes], bytes]:
        scope: dict[str, Any] = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
            "query_string": b"", "root_path": "", "server": ("127.0.0.1", 5000),
            "client": ("127.0.0.1", 40000),
            "headers": [(b"host", b"127.0.0.1:5000"), (b"accept", b"application/json"),
                        *headers, *([(b"content-type", b"application/json"),
                                     (b"content-length", str(len(body)).encode())]
                                    if body else [])],
        }
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        answer: dict[str, Any] = {"body": b""}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                answer["headers"] = dict(message["headers"])
            else:
                answer["body"] += message.get("body", b"")

        await self.app(scope, receive, send)
        return answer["status"], answer["headers"], answer["body"]

    async def issue(self) -> str:
        status, headers, body = await self.request("POST", "/identity/v3/auth/tokens", [],
                                                   ISSUE_BODY)
        assert status == 201, body
        return headers[b"x-subject-token"].decode()

    async def validate(self, auth: str, subject: str) -> None:
        status, _, body = await self.request(
            "GET", "/identity/v3/auth/tokens",
            [(b"x-auth-token", auth.encode()), (b"x-subject-token", subject.encode())])
        assert status == 200, body


async def measure(driver: Driver, kind: str, count: int, rounds: int,
                  profile: cProfile.Profile | None) -> list[float]:
    auth = await driver.issue()
    subject = await driver.issue()
    for _ in range(50):  # warm: caches, imports, first-call paths
        await (driver.issue() if kind == "issue" else driver.validate(auth, subject))
    results = []
    for _ in range(rounds):
        if profile is not None:
            profile.enable()
        started = time.process_time()
        for _ in range(count):
            await (driver.issue() if kind == "issue" else driver.validate(auth, subject))
        results.append((time.process_time() - started) / count * 1000)
        if profile is not None:
            profile.disable()
    return results


def _client(port: int, path: str, headers: dict[str, str], body: bytes | None, count: int,
            status: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    for _ in range(count):
        connection.request("POST" if body else "GET", path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        assert response.status == status, response.status
    connection.close()


def _cpu() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


def measure_socket(driver: Driver, http: str, loop: str, counts: dict[str, int],
                   rounds: int) -> None:
    import uvicorn

    # The server's own listening socket: a plain socket.socket() does not say it is TCP,
    # and asyncio then leaves Nagle on for each connection (every answer waits for the
    # client's delayed ACK, ~40 ms); uvloop sets TCP_NODELAY regardless.
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    # The application as `stacklab up` serves it, its connection-closing extension too.
    closing = ClosingConnections(driver.app)
    config = uvicorn.Config(closing, log_config=None, access_log=False, lifespan="off",
                            timeout_keep_alive=75, http=http,  # type: ignore[arg-type]
                            loop="none")
    server = uvicorn.Server(config)
    closing.server = server
    context = multiprocessing.get_context("spawn")

    def client(*args: Any) -> None:
        process = context.Process(target=_client, args=args)
        process.start()
        process.join()
        assert process.exitcode == 0

    async def run() -> None:
        # Served on this thread's loop, as `stacklab up` serves; the client waits in a
        # thread of the default executor, which takes no CPU meanwhile.
        serving = asyncio.ensure_future(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0.05)
        running = asyncio.get_running_loop()
        tokens = [await driver.issue(), await driver.issue()]
        requests = {
            "validate": ("/identity/v3/auth/tokens", {"X-Auth-Token": tokens[0],
                                                      "X-Subject-Token": tokens[1]}, None, 200),
            "issue": ("/identity/v3/auth/tokens", {"Content-Type": "application/json"},
                      ISSUE_BODY, 201),
        }
        for kind, (path, headers, body, status) in requests.items():
            results = []
            for _ in range(rounds + 1):  # the first round warms
                started = _cpu()
                await running.run_in_executor(None, client, port, path, headers, body,
                                              counts[kind], status)
                ended = _cpu()
                results.append(((ended[0] - started[0]) / counts[kind] * 1000,
                                (ended[1] - started[1]) / counts[kind] * 1000))
            print(f"{kind} ({http}, {loop}): server CPU ms per request over {counts[kind]} "
                  f"x {rounds}, user + system: "
                  + ", ".join(f"{u:.3f} + {s:.3f}" for u, s in results[1:]))
        server.should_exit = True
        await serving

    if loop == "uvloop":
        import uvloop

        uvloop.run(run())
    else:
        asyncio.run(run())


def http_connection(port: int) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", port)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=500, help="issues a round")
    parser.add_argument("--validations", type=int, default=3000, help="validations a round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", choices=("issue", "validate"),
                        help="profile this kind instead (cProfile, by own time)")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--socket", metavar="HTTP,LOOP",
                        help="through uvicorn on a socket: h11|httptools, asyncio|uvloop")
    args = parser.parse_args()
    driver = Driver()
    try:
        if args.socket:
            http, loop = args.socket.split(",")
            measure_socket(driver, http, loop,
                           {"validate": args.validations, "issue": args.issues}, args.rounds)
            return
        if args.profile:
            profile = cProfile.Profile()
            count = args.issues if args.profile == "issue" else args.validations
            asyncio.run(measure(driver, args.profile, count, 1, profile))
            pstats.Stats(profile).sort_stats(args.sort).print_stats(45)
            return
        for kind, count in (("validate", args.validations), ("issue", args.issues)):
            ms = asyncio.run(measure(driver, kind, count, args.rounds, None))
            print(f"{kind}: CPU ms per request over {count} x {args.rounds}: "
                  + ", ".join(f"{x:.3f}" for x in ms) + f" (min {min(ms):.3f})")
    finally:
        driver.cloud.stop()


if __name__ == "__main__":
    main()
