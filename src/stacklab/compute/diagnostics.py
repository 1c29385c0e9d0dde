"""What nova-api reads of a guest: its diagnostics and the password it posted.

``GET /servers/{id}/diagnostics`` asks the server's compute what its hypervisor reports.

Before 2.48 each driver answered a free-form dict (libvirt's keys: ``cpu0_time``,
``memory``, ``vda_read``, ``tap<port>_rx`` ...); from 2.48 nova answers one
standard shape for every driver. The simulated guest has no counters of its
own: its figures follow from its flavor, its ports and how long it has been
up, so that two readings of a running server differ as a real one's would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stacklab.api.context import RequestContext
from stacklab.api.errors import ApiError, Conflict
from stacklab.bus.interface import Target
from stacklab.compute import models as m
from stacklab.compute import states
from stacklab.compute.agents.hypervisor import Domain
from stacklab.compute.consoles import require_host
from stacklab.compute.instances import bus_context

if TYPE_CHECKING:
    from stacklab.compute.service import ComputeService

_CPU_SHARE = 0.02  # a guest idling at its login prompt: 2% of each vCPU
_PASSWORD_CHUNKS = 4  # nova's CHUNKS: a password of up to 4 x 255 characters


def _ports(instance: m.Instance) -> list[tuple[str, str]]:
    """(port id or a stand-in, MAC) of each of the server's interfaces, in address order."""
    seen: dict[str, str] = {}
    for addresses in (instance.addresses or {}).values():
        for address in addresses:
            mac = address.get("OS-EXT-IPS-MAC:mac_addr")
            if mac and mac not in seen:
                seen[mac] = f"tap{mac.replace(':', '')[-8:]}"
    return [(tap, mac) for mac, tap in seen.items()]


def diagnostics(instance: m.Instance, domain: Domain, now: float, *,
                standard: bool) -> dict[str, Any]:
    """The body: libvirt's own keys, or (``standard``, 2.48 and later) nova's common shape."""
    uptime = int(max(0.0, now - (instance.launched_at or now)))
    vcpus = int(instance.flavor.get("vcpus") or instance.vcpus or 1)
    memory_mb = int(instance.flavor.get("memory_mb") or instance.memory_mb or 0)
    cpu_time = int(uptime * _CPU_SHARE * 1e9)  # nanoseconds, per vCPU
    disks = ["vda"] + (["vdb"] if int(instance.flavor.get("ephemeral_gb") or 0) else [])
    read_bytes, write_bytes = 1024 * 1024 * (20 + uptime // 60), 4096 * (100 + uptime)
    ports = _ports(instance)
    rx, tx = 2048 * (10 + uptime), 512 * (10 + uptime)
    if not standard:
        body: dict[str, Any] = {f"cpu{n}_time": cpu_time for n in range(vcpus)}
        body["memory"] = memory_mb * 1024  # KiB, as libvirt's
        for disk in disks:
            body.update({f"{disk}_read": read_bytes, f"{disk}_read_req": read_bytes // 4096,
                         f"{disk}_write": write_bytes, f"{disk}_write_req": write_bytes // 4096,
                         f"{disk}_errors": -1})
        for tap, _mac in ports:
            body.update({f"{tap}_rx": rx, f"{tap}_rx_drop": 0, f"{tap}_rx_errors": 0,
                         f"{tap}_rx_packets": rx // 512, f"{tap}_tx": tx, f"{tap}_tx_drop": 0,
                         f"{tap}_tx_errors": 0, f"{tap}_tx_packets": tx // 512})
        return body
    return {
        "state": states.power_state_name(domain.power_state),
        "driver": "libvirt",
        "hypervisor": "qemu",
        "hypervisor_os": "linux",
        "uptime": uptime,
        "config_drive": instance.config_drive in ("True", "true", "1"),
        "num_cpus": vcpus,
        "num_nics": len(ports),
        "num_disks": len(disks),
        "cpu_details": [{"id": n, "time": cpu_time, "utilisation": None}
                        for n in range(vcpus)],
        "nic_details": [{"mac_address": mac, "rx_octets": rx, "rx_errors": 0, "rx_drop": 0,
                         "rx_packets": rx // 512, "rx_rate": None, "tx_octets": tx,
                         "tx_errors": 0, "tx_drop": 0, "tx_packets": tx // 512,
                         "tx_rate": None} for _tap, mac in ports],
        "disk_details": [{"read_bytes": read_bytes, "read_requests": read_bytes // 4096,
                          "write_bytes": write_bytes, "write_requests": write_bytes // 4096,
                          "errors_count": -1} for _disk in disks],
        "memory_details": {"maximum": memory_mb, "used": memory_mb // 4},
    }


async def ask(service: ComputeService, instance: m.Instance, *, standard: bool,
              context: RequestContext) -> dict[str, Any]:
    """nova-api's part: an RPC call to the server's compute (409 when it runs on none)."""
    host = require_host(instance)
    try:
        answer: dict[str, Any] = await service.bus.call(
            Target("compute", host), "get_instance_diagnostics", instance_uuid=instance.uuid,
            standard=standard, ctxt=bus_context(context), timeout=30)
    except ApiError:
        raise
    except Exception:
        raise Conflict(f"Instance {instance.uuid} is not ready") from None
    return answer


def password(instance: m.Instance) -> str:
    """The encrypted password the guest posted to the metadata service ("" if none).

    nova keeps it in system metadata in chunks of 255 characters (``password_0`` ...).
    """
    metadata = instance.system_metadata or {}
    return "".join(str(metadata.get(f"password_{n}") or "") for n in range(_PASSWORD_CHUNKS))


def clear_password(instance: m.Instance) -> None:
    instance.system_metadata = {**(instance.system_metadata or {}),
                                **{f"password_{n}": "" for n in range(_PASSWORD_CHUNKS)}}
