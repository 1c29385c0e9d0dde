"""neutron-metadata-agent: it only reports (its proxying needs no word from the server)."""

from __future__ import annotations

from typing import Any

from stacklab.bus.interface import Target
from stacklab.network.scheduling.constants import AGENT_TYPE_METADATA


class MetadataAgent:
    binary = "neutron-metadata-agent"
    agent_type = AGENT_TYPE_METADATA
    topic = "N/A"

    def __init__(self, host: str) -> None:
        self.host = host

    def state(self) -> dict[str, Any]:
        return {"configurations": {}}

    def consumes(self) -> list[Target]:
        return []
