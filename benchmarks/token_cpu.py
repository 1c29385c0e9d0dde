#!/usr/bin/env python3
"""CPU time per token issue and validation, in process: stable on a busy machine.

The requests go straight into the ASGI application the server serves (the whole
request path: request ids, the control plane's way in, routing, token check,
policy, the handler, JSON, the access log), on one event loop, no socket. What
is measured is ``time.process_time()`` per request, which other processes on the
machine do not inflate the way they do a rate; the HTTP server's own parsing
(uvicorn + httptools) is not in it.

    python benchmarks/token_cpu.py                      # both figures, 3 rounds each
    python benchmarks/token_cpu.py --profile validate   # a cProfile of 2,000 validations
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from stacklab.api.app import build_app
from stacklab.cloud import Cloud
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--issues", type=int, default=500, help="issues a round")
    parser.add_argument("--validations", type=int, default=3000, help="validations a round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", choices=("issue", "validate"),
                        help="profile this kind instead (cProfile, by own time)")
    parser.add_argument("--sort", default="tottime")
    args = parser.parse_args()
    driver = Driver()
    try:
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
