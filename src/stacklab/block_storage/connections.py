"""What a backend's driver answers when a host connects to one of its volumes: the
``connection_info`` os-brick on the host reads (cinder's target and volume drivers, then
the manager's ``_parse_connection_options``).

LVM exports each volume as an iSCSI target from its cinder-volume node (lioadm, devstack's
helper: one LUN 0 per target, CHAP credentials per volume); an RBD backend hands out the
image's pool and name. No data moves: the answer is what a hypervisor would be given.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from stacklab.block_storage import models as m
from stacklab.block_storage.backends import Backend
from stacklab.block_storage.volumes import invalid_input

# cinder's [DEFAULT] target_prefix and target_port; lioadm numbers its LUNs from 0.
TARGET_PREFIX = "iqn.2010-10.org.openstack:"
TARGET_PORT = 3260
TARGET_LUN = 0
# [lvm] rbd_pool / rbd_user / rbd_cluster_name as devstack sets them for a Ceph backend.
RBD_POOL = "volumes"
RBD_USER = "cinder"
RBD_CLUSTER = "ceph"


def driver_volume_type(backend: Backend) -> str:
    return "rbd" if "rbd" in backend.driver.lower() else "iscsi"


def validate_connector(backend: Backend, connector: Mapping[str, Any]) -> None:
    """The driver's validate_connector: iSCSI needs the host's initiator name."""
    if driver_volume_type(backend) == "iscsi" and "initiator" not in connector:
        # cinder's InvalidConnectorException, re-raised by the manager as InvalidInput.
        raise invalid_input("Connector doesn't have required information: initiator")


def connection_info(backend: Backend, target_ip: str, volume: m.Volume,
                    connector: Mapping[str, Any], qos_specs: dict[str, Any] | None,
                    extra_specs: Mapping[str, Any]) -> dict[str, Any]:
    """``{"driver_volume_type": ..., "data": {...}}`` for ``volume`` on ``backend``."""
    data: dict[str, Any]
    kind = driver_volume_type(backend)
    if kind == "rbd":
        data = {"name": f"{RBD_POOL}/volume-{volume.id}", "hosts": [], "ports": [],
                "cluster_name": RBD_CLUSTER, "auth_enabled": True,
                "auth_username": RBD_USER, "secret_type": "ceph", "secret_uuid": None,
                "volume_id": volume.id, "discard": True}
    else:
        username, password = _chap(volume.id)
        data = {"target_discovered": False,
                "target_portal": f"{target_ip}:{TARGET_PORT}",
                "target_iqn": f"{TARGET_PREFIX}volume-{volume.id}",
                "target_lun": TARGET_LUN, "volume_id": volume.id,
                "auth_method": "CHAP", "auth_username": username,
                "auth_password": password,
                "encrypted": volume.encryption_key_id is not None}
        if connector.get("multipath"):
            data.update(target_portals=[data["target_portal"]],
                        target_iqns=[data["target_iqn"]], target_luns=[TARGET_LUN])
    # The manager's additions, whatever the driver.
    data["qos_specs"] = qos_specs
    mode = volume.admin_metadata.get("attached_mode")
    if mode is None:
        mode = "ro" if volume.admin_metadata.get("readonly") == "True" else "rw"
    data["access_mode"] = mode
    data.setdefault("encrypted", volume.encryption_key_id is not None)
    data["cacheable"] = extra_specs.get("cacheable") == "<is> True"
    data["enforce_multipath"] = connector.get("enforce_multipath", False)
    return {"driver_volume_type": kind, "data": data}


def _chap(volume_id: str) -> tuple[str, str]:
    # cinder generates random CHAP credentials on the first export and keeps them in
    # provider_auth; derived from the volume's id they stay the same on every export and
    # need no column (deterministic, and no secret anyone relies on).
    digest = hashlib.sha256(volume_id.encode()).hexdigest()
    return digest[:20], digest[20:36]
