"""A simulated libvirt/KVM hypervisor: domains with a power state and a console log."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stacklab.clock import Clock, isotime
from stacklab.compute import states


@dataclass
class Domain:
    uuid: str
    name: str
    power_state: int = states.NOSTATE
    console: list[str] = field(default_factory=list)
    # The guest saw its disk fail (and said so) since it last booted.
    io_error: bool = False


class Hypervisor:
    def __init__(self, host: str, clock: Clock) -> None:
        self.host = host
        self.clock = clock
        self.domains: dict[str, Domain] = {}
        # Why a new guest fails to spawn here (None: it does not): a test's broken host,
        # whose builds nova reschedules.
        self.spawn_failure: str | None = None

    def domain(self, uuid: str, name: str = "") -> Domain:
        found = self.domains.get(uuid)
        if found is None:
            found = self.domains[uuid] = Domain(uuid, name)
        return found

    def _log(self, domain: Domain, line: str) -> None:
        domain.console.append(f"[{isotime(self.clock.now())}] {line}")

    def boot(self, uuid: str, hostname: str, addresses: list[str],
             first_boot: bool | None = None) -> Domain:
        """Start a guest and write what a CirrOS guest prints while it boots. On a disk of
        its own (``first_boot`` not None) CirrOS's growroot grows the root partition of a
        fresh disk (CHANGED) and finds a disk booted before already grown (NOCHANGE)."""
        domain = self.domain(uuid, hostname)
        domain.power_state = states.RUNNING
        domain.io_error = False
        self._log(domain, "Linux version 5.15.0-71-generic (stacklab simulated guest)")
        self._log(domain, f"Command line: root=LABEL=cirros-rootfs ro console=ttyS0 uuid={uuid}")
        self._log(domain, "x86/fpu: Supporting XSAVE feature 0x001: 'x87 floating point registers'")
        self._log(domain, "Hypervisor detected: KVM")
        self._log(domain, "virtio_blk virtio2: [vda] 2097152 512-byte logical blocks")
        if first_boot is True:
            self._log(domain, "growroot: CHANGED: partition=1 start=18432 old: size=71647 "
                              "end=90079 new: size=2078687 end=2097119")
        elif first_boot is False:
            self._log(domain, "growroot: NOCHANGE: partition 1 is size 2078687. it cannot be "
                              "grown")
        self._log(domain, "EXT4-fs (vda1): mounted filesystem with ordered data mode")
        self._log(domain, "Run /sbin/init as init process")
        self._log(domain, "Starting network: udhcpc: started, v1.36.1")
        for addr in addresses:
            self._log(domain, f"udhcpc: lease of {addr} obtained")
        self._log(domain, f"checking http://169.254.169.254/2009-04-04/instance-id: {uuid}")
        self._log(domain, "=== cirros: current=0.6.2 uptime=3.21 ===")
        self._log(domain, "login as 'cirros' user. default password: 'gocubsgo'. use 'sudo' "
                          "for root.")
        self._log(domain, f"{hostname} login:")
        return domain

    def power_off(self, uuid: str) -> None:
        domain = self.domain(uuid)
        self._log(domain, "reboot: Power down")
        domain.power_state = states.SHUTDOWN

    def lose_power(self) -> None:
        """The node's power is cut: every guest with it, without a word on its console;
        the persistent domains are found shut off when the node is back."""
        for domain in self.domains.values():
            domain.power_state = states.SHUTDOWN

    def set_power(self, uuid: str, power_state: int, note: str) -> None:
        domain = self.domain(uuid)
        self._log(domain, note)
        domain.power_state = power_state

    def resize_disk(self, uuid: str, device: str | None, old_gb: int | None,
                    new_gb: int) -> None:
        """A volume grew under a guest: a running one's kernel notices (what Linux logs
        when virtio-blk's capacity changes); a stopped one sees the size when it boots."""
        domain = self.domains.get(uuid)
        if domain is None or domain.power_state not in (states.RUNNING, states.PAUSED_POWER):
            return
        disk = (device or "vdb").rpartition("/")[2]
        gib = 1024 ** 3
        self._log(domain, f"virtio_blk: [{disk}] new size: {new_gb * gib // 512} 512-byte "
                          f"logical blocks ({new_gb * gib / 1e9:.2f} GB/{new_gb}.00 GiB)")
        if old_gb is not None:
            self._log(domain, f"{disk}: detected capacity change from {old_gb * gib} to "
                              f"{new_gb * gib}")

    def disk_error(self, uuid: str) -> None:
        """The guest's root disk stopped answering (its rbd image unreachable): what the
        kernel logs, once per outage."""
        domain = self.domain(uuid)
        if domain.io_error:
            return
        domain.io_error = True
        self._log(domain, "blk_update_request: I/O error, dev vda, sector 2099200 op "
                          "0x1:(WRITE) flags 0x800 phys_seg 1 prio class 0")
        self._log(domain, "Buffer I/O error on dev vda1, logical block 262400, lost async "
                          "page write")

    def destroy(self, uuid: str) -> None:
        self.domains.pop(uuid, None)

    def console_output(self, uuid: str, length: Any = None) -> str:
        """The console log, its last ``length`` lines as nova-compute's ``_tail_log`` cuts them.

        The log ends at the login prompt, with no newline after it. ``length`` is
        what the API was sent (a number or a numeral; one that is no integer is 0,
        which is nothing); nova cuts ``-length`` lines off the split text, so -1
        drops the first line rather than meaning "all".
        """
        log = "\n".join(self.domain(uuid).console)
        if length is None:
            return log
        try:
            count = int(length)
        except ValueError:
            count = 0
        if count == 0:
            return ""
        return "\n".join(log.split("\n")[-count:])
