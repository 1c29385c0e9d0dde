"""The listener every shape serves through (stacklab.server.http_server), on a real socket."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from stacklab.server import MAX_REQUEST_HEAD, bind, http_server


async def _echo_size(scope: Any, receive: Any, send: Any) -> None:
    """Answers with the number of body bytes it read; on /refuse, 413 without reading."""
    if scope["path"] == "/refuse":
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})
        return
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = str(size).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class Listener:
    def __init__(self) -> None:
        self.sock = bind("127.0.0.1", 0)
        self.port = self.sock.getsockname()[1]
        self.server = http_server(_echo_size)

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.port)


async def _listening() -> AsyncIterator[Listener]:
    listener = Listener()
    task = asyncio.create_task(listener.server.serve(sockets=[listener.sock]))
    while not listener.server.started:
        await asyncio.sleep(0.01)  # real start-up, not simulated time
    try:
        yield listener
    finally:
        listener.server.should_exit = True
        await task


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    status = int(head.split(b" ", 2)[1])
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    return status, await asyncio.wait_for(reader.readexactly(length), 10)


def _run(test: Any) -> None:
    async def main() -> None:
        async for listener in _listening():
            await test(listener)

    asyncio.run(main())


@pytest.mark.parametrize("pieces", [1, 40])
def test_a_head_over_the_bound_is_refused_and_the_connection_closed(pieces: int) -> None:
    async def test(listener: Listener) -> None:
        reader, writer = await listener.connect()
        head = b"GET / HTTP/1.1\r\nHost: lab\r\nX-Big: " + b"a" * MAX_REQUEST_HEAD + b"\r\n\r\n"
        step = len(head) // pieces + 1
        for start in range(0, len(head), step):  # at once, or trickled in
            writer.write(head[start:start + step])
            await asyncio.sleep(0)
        status, body = await _answer(reader)
        assert (status, body) == (400, b"Invalid HTTP request received.")
        assert await asyncio.wait_for(reader.read(), 10) == b""  # closed
        writer.close()

    _run(test)


def test_a_header_that_never_ends_is_refused_once_past_the_bound() -> None:
    # httptools holds an unfinished header in its own buffer: what arrived is counted.
    async def test(listener: Listener) -> None:
        reader, writer = await listener.connect()
        writer.write(b"GET / HTTP/1.1\r\nHost: lab\r\nX-Big: ")
        with contextlib.suppress(ConnectionError):  # refused: the rest meets a reset
            for _ in range(8):
                writer.write(b"a" * (MAX_REQUEST_HEAD // 4))
                await writer.drain()
                await asyncio.sleep(0.01)  # real reads, one after the other
        try:
            status, body = await _answer(reader)
        except (ConnectionError, asyncio.IncompleteReadError):
            return  # the reset overtook the answer: refused all the same (not a timeout)
        assert (status, body) == (400, b"Invalid HTTP request received.")
        writer.close()

    _run(test)


def test_a_big_head_within_the_bound_and_big_bodies_are_served_on_one_connection() -> None:
    async def test(listener: Listener) -> None:
        reader, writer = await listener.connect()
        big = b"a" * (MAX_REQUEST_HEAD - 1024)
        writer.write(b"GET / HTTP/1.1\r\nHost: lab\r\nX-Big: " + big + b"\r\n\r\n")
        assert await _answer(reader) == (200, b"0")
        # A body far beyond the bound, in one write with its head and then in pieces: only
        # the head is bounded, and the connection is kept for the next request.
        body = b"b" * (4 * MAX_REQUEST_HEAD)
        writer.write(b"POST / HTTP/1.1\r\nHost: lab\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\n\r\n" + body)
        assert await _answer(reader) == (200, str(len(body)).encode())
        writer.write(b"POST / HTTP/1.1\r\nHost: lab\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(8):
            writer.write(b"%x\r\n" % MAX_REQUEST_HEAD + b"c" * MAX_REQUEST_HEAD + b"\r\n")
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        assert await _answer(reader) == (200, str(8 * MAX_REQUEST_HEAD).encode())
        writer.write(b"GET / HTTP/1.1\r\nHost: lab\r\n\r\n")
        assert await _answer(reader) == (200, b"0")
        writer.close()

    _run(test)


def test_expect_100_continue_gets_its_interim_answer() -> None:
    async def test(listener: Listener) -> None:
        reader, writer = await listener.connect()
        writer.write(b"POST / HTTP/1.1\r\nHost: lab\r\nContent-Length: 5\r\n"
                     b"Expect: 100-continue\r\n\r\n")
        interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        writer.write(b"12345")
        assert await _answer(reader) == (200, b"5")
        writer.close()

    _run(test)


def test_a_body_refused_unread_leaves_the_connection_serving() -> None:
    async def test(listener: Listener) -> None:
        reader, writer = await listener.connect()
        body = b"x" * (2 * MAX_REQUEST_HEAD)
        writer.write(b"POST /refuse HTTP/1.1\r\nHost: lab\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\n\r\n" + body)
        assert await _answer(reader) == (413, b"")
        writer.write(b"POST / HTTP/1.1\r\nHost: lab\r\nContent-Length: 2\r\n\r\nab")
        assert await _answer(reader) == (200, b"2")
        writer.close()

    _run(test)
