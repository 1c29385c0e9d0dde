"""Batches of a group's rolling update, as heat's rolling_update and member_definitions
count them."""

from __future__ import annotations

from stacklab.orchestration.resources.scaling import (
    group_batches,
    member_definitions,
    next_batch,
    scaling_batches,
)


def test_batches_keep_min_in_service_by_growing_first() -> None:
    assert next_batch(3, 3, 0, 1, 3) == (4, 1)
    assert group_batches(5, 5, 2, 0) == [(5, 2), (5, 2), (5, 1)]
    assert group_batches(2, 2, 1, 2) == [(3, 1), (3, 1), (3, 1), (2, 0)]
    assert group_batches(5, 0, 2, 0) == [(2, 2), (4, 2), (5, 1)]
    assert scaling_batches(3, 3, 1, 3) == [(4, 1), (4, 1), (4, 1), (3, 0)]
    assert scaling_batches(2, 2, 5, 0) == [(2, 2)]


def test_member_definitions_replace_the_first_to_go_and_drop_them_when_shrinking() -> None:
    old = [("a", "v1"), ("b", "v1"), ("c", "v1")]
    names = iter(["d", "e"])
    assert member_definitions(old, lambda n: "v2", 4, 1, lambda: next(names)) == [
        ("a", "v1"), ("b", "v1"), ("c", "v1"), ("d", "v2")]
    assert member_definitions(old, lambda n: "v2", 3, 2, lambda: next(names)) == [
        ("a", "v2"), ("b", "v2"), ("c", "v1")]
    assert member_definitions(old, lambda n: "v2", 2, 0, lambda: next(names)) == [
        ("b", "v1"), ("c", "v1")]
