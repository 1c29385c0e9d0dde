"""nova's instance notifications. The legacy (unversioned) ones, ``compute.instance.*``
with the payload nova's ``info_from_instance`` builds (the keys ceilometer and other
consumers of ``notifications.info`` read), published as ``compute.<host>``; the versioned
ones, ``instance.*`` from ``nova-compute:<host>`` on ``versioned_notifications``
(payloads: compute.notification_objects). Which of them go out is ``[notifications]
notification_format``, decided here alone (``Notifier``).

Where the lab has no such thing (a cell, a kernel or ramdisk, an architecture) the value is
nova's for an instance without it; ``image_ref_url`` is the image's id, as nova sends when
it cannot reach keystone for glance's endpoint.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from stacklab.bus import Bus
from stacklab.compute import models as m

# nova/conf/notifications.py: notification_format's choices.
NOTIFICATION_FORMATS = ("unversioned", "versioned", "both")


class Notifier:
    """nova's two notifiers (nova/rpc.py): the legacy one on the transport's topics and the
    versioned one on ``versioned_notifications_topics``, each silent when
    ``notification_format`` leaves it out."""

    def __init__(self, bus: Bus, notification_format: str = "unversioned",
                 versioned_topics: Sequence[str] = ("versioned_notifications",)) -> None:
        if notification_format not in NOTIFICATION_FORMATS:
            raise ValueError(f"[notifications] notification_format: {notification_format!r} "
                             f"is not one of {', '.join(NOTIFICATION_FORMATS)}")
        self.bus = bus
        self.notification_format = notification_format
        self.versioned_topics = tuple(versioned_topics) or ("versioned_notifications",)

    @property
    def legacy_enabled(self) -> bool:
        return self.notification_format in ("unversioned", "both")

    @property
    def versioned_enabled(self) -> bool:
        return self.notification_format in ("versioned", "both")

    async def legacy(self, publisher_id: str, event_type: str, payload: Any, *,
                     ctxt: Mapping[str, Any] | None = None, priority: str = "INFO") -> None:
        if self.legacy_enabled:
            await self.bus.notify(publisher_id, event_type, payload, priority, ctxt=ctxt)

    async def versioned(self, binary: str, host: str | None, event_type: str, payload: Any,
                        *, ctxt: Mapping[str, Any] | None = None,
                        priority: str = "INFO") -> None:
        """``event_type`` as nova's versioned ones are (``instance.create.end``), from
        ``<binary>:<host>`` (NotificationPublisher's ``source:host``)."""
        if self.versioned_enabled:
            await self.bus.notify(f"{binary}:{host or ''}", event_type, payload, priority,
                                  ctxt=ctxt, topics=self.versioned_topics)


def _created(epoch: float | None) -> str:
    """nova's ``str(instance.created_at)``: an aware datetime, ``2026-12-04 09:35:16+00:00``."""
    if not epoch:
        return ""
    return str(dt.datetime.fromtimestamp(epoch, dt.UTC).replace(microsecond=0))


def _isotime(epoch: float | None) -> str:
    """nova's ``null_safe_isotime``: ``utils.strtime``, ``2026-12-04T09:35:16.000000``; ""
    for none."""
    if not epoch:
        return ""
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def fixed_ips(addresses: dict[str, Any] | None) -> list[dict[str, Any]]:
    """network_info's fixed IPs as the legacy payload lists them, one per address."""
    found = []
    for label, entries in (addresses or {}).items():
        for entry in entries or []:
            if entry.get("OS-EXT-IPS:type", "fixed") != "fixed":
                continue
            found.append({
                "address": entry.get("addr"), "type": "fixed",
                "version": entry.get("version", 4), "meta": {}, "floating_ips": [
                    {"address": other.get("addr"), "type": "floating", "version": 4,
                     "meta": {}}
                    for other in entries
                    if other.get("OS-EXT-IPS:type") == "floating"
                    and other.get("OS-EXT-IPS-MAC:mac_addr")
                    == entry.get("OS-EXT-IPS-MAC:mac_addr")],
                "label": label, "vif_mac": entry.get("OS-EXT-IPS-MAC:mac_addr")})
    return found


def info_from_instance(instance: m.Instance, **extra: Any) -> dict[str, Any]:
    """The legacy payload of ``instance``; ``extra`` adds (or overrides) keys, as nova's
    ``message`` on an ``.end`` notification."""
    flavor = dict(instance.flavor or {})
    root_gb = int(flavor.get("root_gb") or 0)
    ephemeral_gb = int(flavor.get("ephemeral_gb") or 0)
    system_metadata = dict(instance.system_metadata or {})
    info: dict[str, Any] = {
        "tenant_id": instance.project_id,
        "user_id": instance.user_id,
        "instance_id": instance.uuid,
        "display_name": instance.name,
        "reservation_id": instance.reservation_id,
        "hostname": instance.hostname,
        "instance_type": flavor.get("name", ""),
        "instance_type_id": flavor.get("id"),
        "instance_flavor_id": flavor.get("flavorid", ""),
        "architecture": None,
        "memory_mb": int(flavor.get("memory_mb") or instance.memory_mb),
        "disk_gb": root_gb + ephemeral_gb,
        "vcpus": int(flavor.get("vcpus") or instance.vcpus),
        "root_gb": root_gb,
        "ephemeral_gb": ephemeral_gb,
        "host": instance.host,
        "node": instance.node,
        "availability_zone": instance.availability_zone,
        "cell_name": "",
        "created_at": _created(instance.created_at),
        "terminated_at": _isotime(instance.terminated_at),
        "deleted_at": _isotime(instance.deleted_at),
        "launched_at": _isotime(instance.launched_at),
        "image_ref_url": instance.image_ref or None,
        "os_type": None,
        "kernel_id": "",
        "ramdisk_id": "",
        "state": instance.vm_state,
        "state_description": instance.task_state or "",
        "progress": int(instance.progress) if instance.progress else "",
        "access_ip_v4": instance.access_ipv4 or None,
        "access_ip_v6": instance.access_ipv6 or None,
        "fixed_ips": fixed_ips(instance.addresses),
        "image_meta": {key[len("image_"):]: value for key, value in system_metadata.items()
                       if key.startswith("image_")},
        "metadata": dict(instance.metadata_ or {}),
    }
    info.update(extra)
    return info
