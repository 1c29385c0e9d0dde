"""A dependency graph of resources: create order, delete order, and heat's cycle error."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Generic, TypeVar

from stacklab.orchestration.template.errors import CircularDependencyException

K = TypeVar("K", bound=Hashable)


class Dependencies(Generic[K]):
    """Edges (requirer, required); a node with no edge is added as (node, None).

    Iterating gives a topological order (what a node requires comes before it: create
    order); `reversed()` the delete order. A cycle raises heat's
    `Circular Dependency Found: {a: {b}, b: {a}}` listing the nodes left when no more can be
    ordered. `label` renders a node in that message (the engine may pass heat's
    `Server "name"` form).
    """

    def __init__(
        self,
        edges: Iterable[tuple[K, K | None]] = (),
        label: Callable[[K], str] = str,
    ) -> None:
        self._requires: dict[K, set[K]] = {}
        self._required_by: dict[K, set[K]] = {}
        self.label = label
        for requirer, required in edges:
            self.add(requirer, required)

    def add(self, requirer: K, required: K | None = None) -> None:
        self._requires.setdefault(requirer, set())
        self._required_by.setdefault(requirer, set())
        if required is not None:
            self._requires.setdefault(required, set())
            self._required_by.setdefault(required, set())
            self._requires[requirer].add(required)
            self._required_by[required].add(requirer)

    def __contains__(self, node: object) -> bool:
        return node in self._requires

    def __len__(self) -> int:
        return len(self._requires)

    def nodes(self) -> list[K]:
        return list(self._requires)

    def requires(self, node: K) -> set[K]:
        """What `node` needs before it (KeyError for an unknown node)."""
        return set(self._requires[node])

    def required_by(self, node: K) -> set[K]:
        """What needs `node` (KeyError for an unknown node)."""
        return set(self._required_by[node])

    def edges(self) -> list[tuple[K, K | None]]:
        out: list[tuple[K, K | None]] = []
        for node, required in self._requires.items():
            if not required and not self._required_by[node]:
                out.append((node, None))
            out.extend((node, r) for r in required)
        return out

    def leaves(self) -> list[K]:
        """Nodes that require nothing (they can be created first)."""
        return [n for n, r in self._requires.items() if not r]

    def roots(self) -> list[K]:
        """Nodes nothing requires (they can be deleted first)."""
        return [n for n, r in self._required_by.items() if not r]

    def subgraph_requiring(self, node: K) -> Dependencies[K]:
        """`node` and everything that (transitively) requires it."""
        keep = {node}
        todo = [node]
        while todo:
            for requirer in self._required_by[todo.pop()]:
                if requirer not in keep:
                    keep.add(requirer)
                    todo.append(requirer)
        sub: Dependencies[K] = Dependencies(label=self.label)
        for n in self._requires:
            if n in keep:
                sub.add(n)
                for r in self._requires[n]:
                    if r in keep:
                        sub.add(n, r)
        return sub

    def _order(self, forward: dict[K, set[K]], backward: dict[K, set[K]]) -> Iterator[K]:
        remaining = {n: set(r) for n, r in forward.items()}
        while remaining:
            ready = next((n for n, r in remaining.items() if not r), None)
            if ready is None:
                raise CircularDependencyException(self._describe(remaining))
            del remaining[ready]
            for other in backward[ready]:
                if other in remaining:
                    remaining[other].discard(ready)
            yield ready

    def _describe(self, remaining: dict[K, set[K]]) -> str:
        def node(required: set[K]) -> str:
            return "{" + ", ".join(sorted(self.label(r) for r in required)) + "}"

        return "{" + ", ".join(f"{self.label(n)}: {node(r)}" for n, r in remaining.items()) + "}"

    def __iter__(self) -> Iterator[K]:
        return self._order(self._requires, self._required_by)

    def __reversed__(self) -> Iterator[K]:
        return self._order(self._required_by, self._requires)

    def create_order(self) -> list[K]:
        return list(self)

    def delete_order(self) -> list[K]:
        return list(reversed(self))

    def check(self) -> None:
        """Raise CircularDependencyException if the graph has a cycle."""
        for _ in self:
            pass

    def __repr__(self) -> str:
        edges = ", ".join(sorted(repr(e) for e in self.edges()))
        return f"Dependencies([{edges}])"
