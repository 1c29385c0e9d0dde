"""What nova-api casts once a server's change is saved: a method of the conductor or a compute."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stacklab.bus.interface import Target


@dataclass(frozen=True)
class Cast:
    """A cast to send after the change that asks for it is committed."""

    target: Target
    method: str
    kwargs: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def to_compute(cls, host: str | None, method: str, **kwargs: Any) -> Cast:
        return cls(Target("compute", host), method, kwargs)

    @classmethod
    def to_conductor(cls, method: str, **kwargs: Any) -> Cast:
        return cls(Target("conductor"), method, kwargs)
