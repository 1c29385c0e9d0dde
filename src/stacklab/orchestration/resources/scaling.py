"""How a group's members change in batches, after heat's ``heat/scaling/rolling_update.py``
and ``heat/scaling/template.py`` (``member_definitions``).

A batch is ``(capacity, new)``: the group's size once the batch is done, and how many
members may take the new definition in it (new members made, then old ones changed).
``min_in_service`` keeps that many members in service meanwhile: the group grows by a
batch first, and shrinks back at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

D = TypeVar("D")


def needs_update(target: int, current: int, up_to_date: int) -> bool:
    """Whether more batches are needed (heat's ``needs_update``)."""
    return not (up_to_date >= current == target)


def next_batch(target: int, current: int, up_to_date: int, batch_size: int,
               min_in_service: int) -> tuple[int, int]:
    """heat's ``next_batch``: (the group's size after the batch, members it may update)."""
    effective_min = min(min_in_service, target, current)
    effective_batch = min(batch_size, max(target - up_to_date, 0))
    capacity = effective_batch + max(min(current, target - effective_batch), effective_min)
    return capacity, effective_batch


def check_pause_time(total_pause: float, timeout_secs: float) -> None:
    """heat's ``_update_timeout`` (ResourceGroup's and InstanceGroup's): the pauses
    between batches (``pause_time`` times one less than the batches) must end before
    the stack's timeout."""
    if total_pause >= timeout_secs:
        raise ValueError("The current update policy will result in stack update timeout.")


def group_batches(target: int, current: int, batch_size: int,
                  min_in_service: int) -> list[tuple[int, int]]:
    """A ResourceGroup's batches (heat's ``ResourceGroup._get_batches``): members made
    beyond the target to keep ``min_in_service`` do not count as updated (they go at the
    end)."""
    out: list[tuple[int, int]] = []
    updated = 0
    while needs_update(target, current, updated):
        capacity, new = next_batch(target, current, updated, batch_size, min_in_service)
        out.append((capacity, new))
        updated += new - max(capacity - max(current, target), 0)
        current = capacity
    return out


def scaling_batches(target: int, current: int, batch_size: int,
                    min_in_service: int) -> list[tuple[int, int]]:
    """A scaling group's batches (heat's ``InstanceGroup._get_batches``)."""
    out: list[tuple[int, int]] = []
    updated = 0
    while needs_update(target, current, updated):
        capacity, new = next_batch(target, current, updated, batch_size, min_in_service)
        out.append((capacity, new))
        current = capacity
        updated += new
    return out


def member_definitions(old: Sequence[tuple[str, D]], new_definition: Callable[[str], D],
                       size: int, new: int, new_name: Callable[[], str]
                       ) -> list[tuple[str, D]]:
    """The members after one change (heat's ``member_definitions``): ``old`` is ordered
    first-to-go first (the first removed when shrinking, the first to take the new
    definition); ``new`` members take ``new_definition`` (made ones first, then old ones
    whose definition differs)."""
    kept = list(old[-size:]) if size else []
    to_replace = new - (size - len(kept))
    out: list[tuple[str, D]] = []
    for i in range(size):
        if i < len(kept):
            name, definition = kept[i]
            wanted = new_definition(name)
            if definition != wanted and to_replace > 0:
                to_replace -= 1
                out.append((name, wanted))
            else:
                out.append((name, definition))
        else:
            name = new_name()
            out.append((name, new_definition(name)))
    return out
