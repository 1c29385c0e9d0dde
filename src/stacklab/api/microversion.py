"""Microversion negotiation, as nova, cinder, placement and manila do it.

A client asks with ``OpenStack-API-Version: compute 2.79`` (or a legacy header
such as ``X-OpenStack-Nova-API-Version: 2.79``); ``latest`` means the
maximum; no header means the minimum. Out of range is 406.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import total_ordering

from stacklab.api.errors import BadRequest, NotAcceptable

_VERSION = re.compile(r"([0-9]+)\.([0-9]+)", re.ASCII)


@total_ordering
@dataclass(frozen=True)
class Version:
    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> Version:
        match = _VERSION.fullmatch(text.strip())
        if match is None:
            raise BadRequest(f"Version {text!r} is not in the form 'X.Y'")
        return cls(int(match[1]), int(match[2]))

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return (self.major, self.minor) < (other.major, other.minor)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


@dataclass(frozen=True)
class VersionRange:
    """The microversions an operation, an action or a schema is served at (both ends in).

    An open end (None) reaches the service's own minimum or maximum. A service without
    microversions asks with no version: every range holds it.
    """

    minimum: Version | None = None
    maximum: Version | None = None

    @classmethod
    def of(cls, minimum: str | None = None, maximum: str | None = None) -> VersionRange:
        low = Version.parse(minimum) if minimum is not None else None
        high = Version.parse(maximum) if maximum is not None else None
        if low is not None and high is not None and high < low:
            raise ValueError(f"empty version range {minimum}-{maximum}")
        return cls(low, high)

    def __contains__(self, version: object) -> bool:
        if version is None:
            return True
        if not isinstance(version, Version):
            return False
        return ((self.minimum is None or self.minimum <= version)
                and (self.maximum is None or version <= self.maximum))

    def overlaps(self, other: VersionRange) -> bool:
        return ((self.minimum is None or other.maximum is None or self.minimum <= other.maximum)
                and (other.minimum is None or self.maximum is None
                     or other.minimum <= self.maximum))

    def __str__(self) -> str:
        return f"{self.minimum or '(first)'}-{self.maximum or '(latest)'}"


ALL_VERSIONS = VersionRange()


@dataclass(frozen=True)
class MicroversionRange:
    service_type: str  # the name in the header, e.g. "compute", "volume"
    minimum: Version
    maximum: Version
    legacy_header: str | None = None  # e.g. "X-OpenStack-Nova-API-Version"

    def negotiate(self, headers: Mapping[str, str]) -> Version:
        requested = self._requested(headers)
        if requested is None:
            return self.minimum
        if requested.strip().lower() == "latest":
            return self.maximum
        version = Version.parse(requested)
        if not self.minimum <= version <= self.maximum:
            raise NotAcceptable(
                f"Version {version} is not supported by the API. "
                f"Minimum is {self.minimum} and maximum is {self.maximum}."
            )
        return version

    def _requested(self, headers: Mapping[str, str]) -> str | None:
        generic = headers.get("openstack-api-version")
        if generic:
            for part in generic.split(","):
                words = part.strip().split()
                if len(words) == 2 and words[0].lower() == self.service_type:
                    return words[1]
        if self.legacy_header:
            return headers.get(self.legacy_header.lower())
        return None

    def response_headers(self, version: Version) -> dict[str, str]:
        headers = {
            "OpenStack-API-Version": f"{self.service_type} {version}",
            "Vary": "OpenStack-API-Version",
        }
        if self.legacy_header:
            headers[self.legacy_header] = str(version)
            headers["Vary"] += f", {self.legacy_header}"
        return headers
