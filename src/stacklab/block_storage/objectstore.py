"""The object store cinder-backup writes into (a swift-like store: containers of named
objects). stacklab holds it in memory, as ``storage.py`` holds the volumes: a backup's
objects live as long as the process, and restoring reads back exactly what was written."""

from __future__ import annotations


class ObjectStore:
    def __init__(self) -> None:
        self._containers: dict[str, dict[str, bytes]] = {}

    def put(self, container: str, name: str, data: bytes) -> None:
        self._containers.setdefault(container, {})[name] = bytes(data)

    def get(self, container: str, name: str) -> bytes:
        """The object's bytes; ``KeyError`` when it is not there (swift's 404)."""
        return self._containers[container][name]

    def delete(self, container: str, name: str) -> None:
        self._containers.get(container, {}).pop(name, None)

    def names(self, container: str, prefix: str = "") -> list[str]:
        return sorted(n for n in self._containers.get(container, {}) if n.startswith(prefix))

    def containers(self) -> list[str]:
        return sorted(c for c, objects in self._containers.items() if objects)
