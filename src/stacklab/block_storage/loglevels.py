"""cinder's dynamic log levels (``os-services/set-log`` and ``get-log``, 3.32).

Upstream each cinder process sets the level of its own loggers whose names start with the
prefix (cinder/utils.py ``set_log_levels``) and reports every logger's effective level
(``get_log_levels``). In the lab every cinder service of every node shares one Python
process, so the levels are data per (binary, host): prefix -> level, the last setting of a
prefix replacing those of the longer prefixes under it, as setting the loggers does. They
take effect through a filter on cinder's loggers that reads which node and binary a record
comes from (the bus's host of the handler, else the node the request is bound to; the
binary from the logger's module, as each binary's own modules log) and drops it below the
level set there.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from stacklab.bus.interface import current_host
from stacklab.observability.logging import current_node

API = "cinder-api"
SCHEDULER = "cinder-scheduler"
VOLUME = "cinder-volume"
BACKUP = "cinder-backup"
# cinder/common/constants.py LOG_BINARIES.
BINARIES = (SCHEDULER, VOLUME, BACKUP, API)
# cinder/utils.py LOG_LEVELS.
LEVELS = ("INFO", "WARNING", "ERROR", "DEBUG")
ROOT = "cinder"


def level_number(level: object) -> int:
    """cinder's ``get_log_method``: one of its four names, any case, else InvalidInput."""
    text = level if isinstance(level, str) else ""
    if text.upper() not in LEVELS:
        raise ValueError(f"{text} is not a valid log level.")
    return int(getattr(logging, text.upper()))


def binary_of(logger: str) -> str | None:
    """The binary whose modules log under ``logger`` (None: a module every binary loads)."""
    parts = logger.split(".")
    if len(parts) < 2:
        return None
    if parts[1] == "api" or logger.startswith("cinder.volume.api"):
        return API
    return {"scheduler": SCHEDULER, "volume": VOLUME, "backup": BACKUP}.get(parts[1])


def cinder_loggers() -> list[str]:
    """The names of cinder's loggers this process has (oslo.log's ``get_loggers``)."""
    return sorted(name for name, logger in logging.root.manager.loggerDict.items()
                  if name.startswith(ROOT + ".") and isinstance(logger, logging.Logger))


class LogLevels:
    """The levels set per (binary, host), and the filter that applies them."""

    def __init__(self, services: Iterable[tuple[str, str, str]]) -> None:
        # (binary, host, node) of every service process of the lab but cinder-api, which
        # runs as its node's name on each API node.
        self.services = list(services)
        self._levels: dict[tuple[str, str], dict[str, int]] = {}
        self._installed: set[str] = set()

    # -- data ----------------------------------------------------------------------------

    def set(self, binary: str, host: str, prefix: str | None, level: int) -> None:
        prefix = prefix or ""
        levels = self._levels.setdefault((binary, host), {})
        for name in [name for name in levels if name.startswith(prefix)]:
            del levels[name]
        levels[prefix] = level
        self._apply()

    def effective(self, binary: str, host: str, logger: str) -> int:
        levels = self._levels.get((binary, host))
        if levels:
            best = None
            for prefix in levels:
                if logger.startswith(prefix) and (best is None or len(prefix) > len(best)):
                    best = prefix
            if best is not None:
                return levels[best]
        return self.default()

    def get(self, binary: str, host: str, prefix: str | None) -> dict[str, str]:
        prefix = prefix or ""
        names = set(cinder_loggers())
        names.update(name for name in self._levels.get((binary, host), {}) if name)
        return {name: logging.getLevelName(self.effective(binary, host, name))
                for name in sorted(names) if name.startswith(prefix)}

    @staticmethod
    def default() -> int:
        return logging.getLogger(ROOT).getEffectiveLevel()

    # -- taking effect -------------------------------------------------------------------

    def _apply(self) -> None:
        """Each cinder logger lets through the lowest level any service has for it (the
        filter drops the rest per service); NOTSET again where nothing lowers it."""
        default = self.default()
        for name in cinder_loggers():
            logger = logging.getLogger(name)
            if name not in self._installed:
                logger.addFilter(self.allows)
                self._installed.add(name)
            lowest = min([self.effective(binary, host, name)
                          for binary, host in self._levels] or [default])
            logger.setLevel(lowest if lowest < default else logging.NOTSET)

    def close(self) -> None:
        """Take the filter off and give the loggers their levels back (the service
        stops; the process's loggers outlive it)."""
        for name in self._installed:
            logger = logging.getLogger(name)
            logger.removeFilter(self.allows)
            logger.setLevel(logging.NOTSET)
        self._installed.clear()
        self._levels.clear()

    def hosts_on(self, node: str, binary: str | None) -> list[tuple[str, str]]:
        found = [(b, host) for b, host, n in self.services
                 if n == node and (binary is None or b == binary)]
        if binary in (None, API):
            found.append((API, node))
        return found

    def allows(self, record: logging.LogRecord) -> bool:
        if not self._levels:
            return True
        node = current_host() or current_node()
        if node is None:
            return True
        candidates = self.hosts_on(node, binary_of(record.name))
        if not candidates:
            return True
        return record.levelno >= min(self.effective(binary, host, record.name)
                                     for binary, host in candidates)


class LogLevelEndpoints:
    """The RPC methods of every cinder service but cinder-api (its manager's
    ``set_log_levels``, cast, and ``get_log_levels``, called, by cinder-api's set-log and
    get-log): each sets and reads its own levels in its own process, whatever process
    cinder-api runs in."""

    def _log_service(self) -> tuple[LogLevels, str, str]:
        """The levels of this manager's process, and its (binary, host)."""
        raise NotImplementedError

    async def set_log_levels(self, log_request: Mapping[str, Any]) -> None:
        levels, binary, host = self._log_service()
        levels.set(binary, host, log_request.get("prefix"),
                   level_number(log_request.get("level")))

    async def get_log_levels(self, log_request: Mapping[str, Any]) -> dict[str, str]:
        levels, binary, host = self._log_service()
        return levels.get(binary, host, log_request.get("prefix"))
