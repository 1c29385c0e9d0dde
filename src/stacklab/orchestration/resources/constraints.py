"""The custom constraints heat answers without asking a service (heat's
``common_constraints`` and the address checks of its neutron plugin): each a test of the
value and the reason heat gives when the test fails.

The ones that ask a service (``nova.flavor``, ``neutron.network``...) are answered by the
engine (``engine.constraints``), which has the stack's credentials.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
import zoneinfo
from collections.abc import Callable

_MAC = re.compile(r"^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$")


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _is_cidr(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return "/" in value


def _is_iso8601(value: str) -> bool:
    try:
        datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _timezone_problem(value: str) -> str | None:
    if not value:
        return None
    try:
        zoneinfo.ZoneInfo(value)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        # pytz's UnknownTimeZoneError, which heat quotes, prints the name quoted.
        return f"Invalid timezone: '{value}'"
    return None


def _check(test: Callable[[str], bool], reason: str | None) -> Callable[[str], str | None]:
    def problem(value: str) -> str | None:
        return None if test(value) else (reason or "")
    return problem


# name -> the reason a value fails ("" for heat's bare "Error validating value 'x'"), or
# None when it passes.
LOCAL_CHECKS: dict[str, Callable[[str], str | None]] = {
    "ip_addr": _check(_is_ip, "Invalid IP address"),
    "net_cidr": _check(_is_cidr, "Invalid net cidr"),
    "ip_or_cidr": _check(lambda v: _is_ip(v) or _is_cidr(v), "Invalid IP address or net cidr"),
    "mac_addr": _check(lambda v: bool(_MAC.match(v)), "Invalid MAC address."),
    "iso_8601": _check(_is_iso8601, None),
    "timezone": _timezone_problem,
}


def local_problem(name: str, value: object) -> str | None:
    """heat's whole message for ``value`` failing the local constraint ``name``
    ("Error validating value 'x': Invalid IP address"), or None when it passes or
    ``name`` is not a local constraint."""
    check = LOCAL_CHECKS.get(name)
    if check is None:
        return None
    reason = check(str(value))
    if reason is None:
        return None
    return f"Error validating value '{value}'" + (f": {reason}" if reason else "")
