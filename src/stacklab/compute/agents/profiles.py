"""How long a simulated hypervisor takes for each step, by profile.

``fast`` takes no time at all (the order of steps is kept, every await still
yields), for CI, but for a snapshot's upload (a second): nova answers
createImage and createBackup while the image uploads, so a client (Tempest)
that asks for a second snapshot at once meets nova's 409; and two backups
taken one after the other differ in glance's created_at, which counts in
seconds, so rotation and a list sorted by it tell them apart.
``realistic`` takes roughly what a small KVM guest takes on the lab's nodes,
for rehearsals where one wants to see BUILD and REBOOT pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

_REALISTIC = {
    "schedule": 0.3, "networking": 1.0, "block_device_mapping": 0.5, "spawning": 4.0,
    "power_off": 2.0, "power_on": 2.0, "reboot_soft": 5.0, "reboot_hard": 3.0,
    "pause": 0.3, "unpause": 0.3, "suspend": 2.0, "resume": 2.0, "rescue": 4.0,
    "unrescue": 2.0, "destroy": 1.0, "snapshot": 3.0, "migrate_disk": 5.0,
    "live_migrate": 6.0, "shelve": 3.0, "swap_volume": 3.0, "reimage_volume": 5.0,
}


@dataclass(frozen=True)
class Profile:
    name: str
    steps: Mapping[str, float] = field(default_factory=dict)

    def seconds(self, step: str) -> float:
        return self.steps.get(step, 0.0)


PROFILES = {"fast": Profile("fast", {"snapshot": 1.0}),
            "realistic": Profile("realistic", _REALISTIC)}


def profile(name: str) -> Profile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown boot_profile {name!r}; choose one of "
                         f"{', '.join(sorted(PROFILES))}") from None
