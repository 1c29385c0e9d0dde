"""The image a server was built from, as nova keeps it in the server's system metadata.

nova copies an image's properties into the server at boot (``image_<name>``, each a
string of at most 255 characters), so the server keeps them when the image changes or
goes. From 2.98 the server's ``image`` shows those of them nova knows as image
properties (its ``ImageMetaProps`` fields and their legacy names).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PREFIX = "image_"
# Signature properties nova does not copy into a server, nor the mappings an image
# defines (nova's SM_SKIP_KEYS).
_SKIPPED = frozenset({"img_signature_hash_method", "img_signature", "img_signature_key_type",
                      "img_signature_certificate_uuid", "mappings", "block_device_mapping",
                      "img_mappings", "img_block_device_mapping"})
# nova's ImageMetaProps fields and the legacy names it still reads.
KNOWN_PROPERTIES = frozenset({
    "architecture", "auto_disk_config", "bdm_v2", "bittorrent", "block_device_mapping",
    "cache_in_nova", "hw_architecture", "hw_auto_disk_config", "hw_boot_menu", "hw_cdrom_bus",
    "hw_cpu_cores", "hw_cpu_max_cores", "hw_cpu_max_sockets", "hw_cpu_max_threads",
    "hw_cpu_policy", "hw_cpu_realtime_mask", "hw_cpu_sockets", "hw_cpu_thread_policy",
    "hw_cpu_threads", "hw_device_id", "hw_disk_bus", "hw_disk_type",
    "hw_emulation_architecture", "hw_ephemeral_encryption", "hw_ephemeral_encryption_format",
    "hw_ephemeral_encryption_secret_uuid", "hw_firmware_stateless", "hw_firmware_type",
    "hw_floppy_bus", "hw_input_bus", "hw_ipxe_boot", "hw_locked_memory", "hw_machine_type",
    "hw_maxphysaddr_bits", "hw_maxphysaddr_mode", "hw_mem_encryption",
    "hw_mem_encryption_model", "hw_mem_page_size", "hw_numa_cpus", "hw_numa_mem",
    "hw_numa_nodes", "hw_pci_numa_affinity_policy", "hw_pmu", "hw_pointer_model",
    "hw_qemu_guest_agent", "hw_redirected_usb_ports", "hw_rescue_bus", "hw_rescue_device",
    "hw_rng_model", "hw_scsi_model", "hw_serial_port_count", "hw_sound_model", "hw_time_hpet",
    "hw_tpm_model", "hw_tpm_version", "hw_usb_model", "hw_video_model", "hw_video_ram",
    "hw_vif_model", "hw_vif_multiqueue_enabled", "hw_viommu_model", "hw_virtio_packed_ring",
    "hw_vm_mode", "hw_watchdog_action", "hypervisor_type", "hypervisor_version_requires",
    "img_bdm_v2", "img_bittorrent", "img_block_device_mapping", "img_cache_in_nova",
    "img_compression_level", "img_config_drive", "img_hide_hypervisor_id",
    "img_hv_requested_version", "img_hv_type", "img_linked_clone", "img_mappings",
    "img_owner_id", "img_root_device_name", "img_signature", "img_signature_certificate_uuid",
    "img_signature_hash_method", "img_signature_key_type", "img_use_agent", "img_version",
    "ipxe_boot", "mappings", "os_admin_user", "os_command_line", "os_distro",
    "os_require_quiesce", "os_secure_boot", "os_skip_agent_inject_files_at_boot",
    "os_skip_agent_inject_ssh", "os_type", "owner_id", "root_device_name", "traits_required",
    "vm_mode", "vmware_disktype", "vmware_image_version", "vmware_linked_clone",
    "vmware_ostype", "xenapi_device_id", "xenapi_image_compression_level",
    "xenapi_skip_agent_inject_files_at_boot", "xenapi_skip_agent_inject_ssh",
    "xenapi_use_agent",
})


def system_metadata(properties: Mapping[str, Any]) -> dict[str, str]:
    """The ``image_*`` system metadata a server gets from its image's properties."""
    return {f"{PREFIX}{key}": str(value)[:255] for key, value in properties.items()
            if key not in _SKIPPED and value is not None}


def with_image(existing: Mapping[str, Any], properties: Mapping[str, Any]) -> dict[str, Any]:
    """A server's system metadata with another image's properties (a rebuild)."""
    kept = {k: v for k, v in existing.items() if not k.startswith(PREFIX)}
    return {**kept, **system_metadata(properties)}


def shown_properties(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """What 2.98's ``image.properties`` shows of a server's system metadata."""
    return {key[len(PREFIX):]: value for key, value in metadata.items()
            if key.startswith(PREFIX) and key[len(PREFIX):] in KNOWN_PROPERTIES
            and value is not None}
