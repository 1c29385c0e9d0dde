"""The lab as the control plane last heard of it: a runtime snapshot, its answers memoised.

Between two changes of the lab nothing it says can change, and the request path asks
the same few questions on every request (does the proxy reach this controller, does
its API worker run): each is worked out once per change.
"""

from __future__ import annotations

from stacklab.topology import Runtime


class LabView:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime.snapshot()
        self._reachable: dict[tuple[str, str, str | None], bool] = {}
        self._running: dict[tuple[str, str], bool] = {}

    def is_up(self, fqdn: str) -> bool:
        return self.runtime.is_up(fqdn)

    def reachable(self, source: str, target: str, network: str | None = None) -> bool:
        key = (source, target, network)
        found = self._reachable.get(key)
        if found is None:
            found = self._reachable[key] = self.runtime.reachable(source, target, network)
        return found

    def send(self, source: str, target: str, network: str | None = None) -> float | None:
        """One packet's delay, or None when it is lost: drawn anew each time (never kept)."""
        return self.runtime.send(source, target, network)

    def running(self, fqdn: str, service: str) -> bool:
        key = (fqdn, service)
        found = self._running.get(key)
        if found is None:
            found = self._running[key] = self.runtime.running(fqdn, service)
        return found
