"""Seeded identifiers: the same calls with the same seed give the same values."""

from __future__ import annotations

import re
import uuid

from stacklab.ids import IdSource


def sample(source: IdSource) -> list[object]:
    return [source.uuid(), source.hex_id(), source.urlsafe_token(), source.randint(1, 10**9),
            source.randbytes(8)]


def test_same_seed_gives_the_same_values() -> None:
    assert sample(IdSource(42)) == sample(IdSource(42))


def test_different_seeds_give_different_values() -> None:
    assert sample(IdSource(42)) != sample(IdSource(43))


def test_values_in_one_source_do_not_repeat() -> None:
    source = IdSource(1)
    assert len({source.uuid() for _ in range(200)}) == 200


def test_streams_are_deterministic() -> None:
    assert sample(IdSource(7).stream("tokens")) == sample(IdSource(7).stream("tokens"))


def test_streams_differ_by_name_and_from_the_parent() -> None:
    root = IdSource(7)
    assert sample(root.stream("tokens")) != sample(root.stream("request-ids"))
    assert sample(IdSource(7).stream("tokens")) != sample(IdSource(7))


def test_streams_are_independent_of_each_other_and_of_the_parent() -> None:
    quiet = IdSource(7)
    quiet_resources = quiet.stream("resources")
    expected = [quiet_resources.uuid() for _ in range(3)]

    busy = IdSource(7)
    requests = busy.stream("request-ids")
    resources = busy.stream("resources")
    got = []
    for _ in range(3):
        busy.uuid()
        requests.uuid()
        requests.uuid()
        got.append(resources.uuid())
    assert got == expected


def test_a_stream_of_a_stream_is_seeded_too() -> None:
    assert IdSource(3).stream("a").stream("b").uuid() == IdSource(3).stream("a").stream("b").uuid()


def test_without_a_seed_values_differ() -> None:
    assert IdSource().uuid() != IdSource().uuid()
    source = IdSource()
    assert len({source.hex_id() for _ in range(50)}) == 50
    assert IdSource().stream("x").uuid() != IdSource().stream("x").uuid()
    assert IdSource().stream("x").seed is None


def test_formats() -> None:
    source = IdSource(5)
    value = source.uuid()
    assert uuid.UUID(value).version == 4
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                        value)
    assert re.fullmatch(r"[0-9a-f]{32}", source.hex_id())
    token = source.urlsafe_token(32)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    assert len(source.randbytes(13)) == 13
    assert len(IdSource().randbytes(13)) == 13


def test_randint_stays_in_bounds_seeded_and_not() -> None:
    for source in (IdSource(9), IdSource()):
        values = {source.randint(3, 5) for _ in range(200)}
        assert values == {3, 4, 5}
