"""The cyclic collector held off while a large response is built."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest

from stacklab.api.collector import collector_paused


@pytest.fixture(autouse=True)
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_paused_inside_and_back_after() -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_back_after_an_error() -> None:
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_a_nested_pause_leaves_it_to_the_outermost() -> None:
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_already_off_stays_off() -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_on_an_event_loop_it_comes_back_on_the_next_turn() -> None:
    async def build() -> tuple[bool, bool]:
        with collector_paused():
            pass
        right_after = gc.isenabled()
        await asyncio.sleep(0)
        return right_after, gc.isenabled()

    assert asyncio.run(build()) == (False, True)


def test_on_an_event_loop_it_comes_back_after_an_error() -> None:
    async def fail() -> None:
        with collector_paused():
            raise ValueError("boom")

    with pytest.raises(ValueError):
        asyncio.run(fail())
    assert gc.isenabled()
