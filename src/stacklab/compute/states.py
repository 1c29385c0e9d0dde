"""A server's states as nova names them, and the API status each pair shows as.

nova keeps three: ``vm_state`` (what the server is: active, stopped, resized
…), ``task_state`` (what is being done to it, None when idle) and
``power_state`` (what the hypervisor reports). The API's single ``status``
is derived from the first two (nova/api/openstack/common.py ``_STATE_MAP``).
"""

from __future__ import annotations

# nova/compute/vm_states.py
ACTIVE = "active"
BUILDING = "building"
PAUSED = "paused"
SUSPENDED = "suspended"
STOPPED = "stopped"
RESCUED = "rescued"
RESIZED = "resized"
SOFT_DELETED = "soft-delete"
DELETED = "deleted"
ERROR = "error"
SHELVED = "shelved"
SHELVED_OFFLOADED = "shelved_offloaded"

# nova/compute/task_states.py (the ones stacklab's agents pass through)
SCHEDULING = "scheduling"
BLOCK_DEVICE_MAPPING = "block_device_mapping"
NETWORKING = "networking"
SPAWNING = "spawning"
IMAGE_SNAPSHOT = "image_snapshot"
IMAGE_BACKUP = "image_backup"
IMAGE_SNAPSHOT_PENDING = "image_snapshot_pending"
IMAGE_PENDING_UPLOAD = "image_pending_upload"
IMAGE_UPLOADING = "image_uploading"
UPDATING_PASSWORD = "updating_password"
RESIZE_PREP = "resize_prep"
RESIZE_MIGRATING = "resize_migrating"
RESIZE_MIGRATED = "resize_migrated"
RESIZE_FINISH = "resize_finish"
RESIZE_REVERTING = "resize_reverting"
RESIZE_CONFIRMING = "resize_confirming"
REBOOTING = "rebooting"
REBOOT_PENDING = "reboot_pending"
REBOOT_STARTED = "reboot_started"
REBOOTING_HARD = "rebooting_hard"
REBOOT_PENDING_HARD = "reboot_pending_hard"
REBOOT_STARTED_HARD = "reboot_started_hard"
PAUSING = "pausing"
UNPAUSING = "unpausing"
SUSPENDING = "suspending"
RESUMING = "resuming"
POWERING_OFF = "powering-off"
POWERING_ON = "powering-on"
RESCUING = "rescuing"
UNRESCUING = "unrescuing"
REBUILDING = "rebuilding"
REBUILD_BLOCK_DEVICE_MAPPING = "rebuild_block_device_mapping"
REBUILD_SPAWNING = "rebuild_spawning"
MIGRATING = "migrating"
DELETING = "deleting"
SOFT_DELETING = "soft-deleting"
RESTORING = "restoring"
SHELVING = "shelving"
SHELVING_IMAGE_PENDING_UPLOAD = "shelving_image_pending_upload"
SHELVING_IMAGE_UPLOADING = "shelving_image_uploading"
SHELVING_OFFLOADING = "shelving_offloading"
UNSHELVING = "unshelving"

# nova/compute/power_state.py
NOSTATE = 0
RUNNING = 1
PAUSED_POWER = 3
SHUTDOWN = 4
CRASHED = 6
SUSPENDED_POWER = 7
# nova's power_state.STATE_MAP: the names its messages and diagnostics give them.
_POWER_STATE_NAMES = {NOSTATE: "pending", RUNNING: "running", PAUSED_POWER: "paused",
                      SHUTDOWN: "shutdown", CRASHED: "crashed", SUSPENDED_POWER: "suspended"}


def power_state_name(power_state: int) -> str:
    return _POWER_STATE_NAMES.get(power_state, "pending")

_REBUILD: dict[str | None, str] = dict.fromkeys(
    (REBUILDING, REBUILD_BLOCK_DEVICE_MAPPING, REBUILD_SPAWNING), "REBUILD")
_RESIZE: dict[str | None, str] = dict.fromkeys(
    (RESIZE_PREP, RESIZE_MIGRATING, RESIZE_MIGRATED, RESIZE_FINISH), "RESIZE")
_STATE_MAP: dict[str, dict[str | None, str]] = {
    ACTIVE: {None: "ACTIVE", REBOOTING: "REBOOT", REBOOT_PENDING: "REBOOT",
             REBOOT_STARTED: "REBOOT", REBOOTING_HARD: "HARD_REBOOT",
             REBOOT_PENDING_HARD: "HARD_REBOOT", REBOOT_STARTED_HARD: "HARD_REBOOT",
             UPDATING_PASSWORD: "PASSWORD", MIGRATING: "MIGRATING", **_REBUILD, **_RESIZE},
    BUILDING: {None: "BUILD"},
    STOPPED: {None: "SHUTOFF", **_RESIZE, **_REBUILD},
    RESIZED: {None: "VERIFY_RESIZE", RESIZE_REVERTING: "REVERT_RESIZE"},
    PAUSED: {None: "PAUSED", MIGRATING: "MIGRATING"},
    SUSPENDED: {None: "SUSPENDED"},
    RESCUED: {None: "RESCUE"},
    ERROR: {None: "ERROR", **_REBUILD},
    DELETED: {None: "DELETED"},
    SOFT_DELETED: {None: "SOFT_DELETED"},
    SHELVED: {None: "SHELVED"},
    SHELVED_OFFLOADED: {None: "SHELVED_OFFLOADED"},
}


def status_from_state(vm_state: str, task_state: str | None) -> str:
    """The API ``status`` of a (vm_state, task_state) pair; UNKNOWN for what nova does not map."""
    by_task = _STATE_MAP.get(vm_state)
    if by_task is None:
        return "UNKNOWN"
    return by_task.get(task_state, by_task[None])


def states_from_status(status: str) -> tuple[set[str], set[str | None] | None]:
    """The vm_states, and the task_states unless any will do, a ``?status=`` filter names."""
    vm_states: set[str] = set()
    task_states: set[str | None] = set()
    for vm_state, by_task in _STATE_MAP.items():
        for task_state, shown in by_task.items():
            if shown == status:
                vm_states.add(vm_state)
                task_states.add(task_state)
    if not vm_states:
        return set(), None
    # As nova: a status that is the idle face of its vm_states (ACTIVE, BUILD, SHUTOFF…)
    # stands for them whatever the task (None); the others name their task states.
    return vm_states, (None if None in task_states else task_states)


# Statuses whose ``progress`` nova shows (views/servers.py _progress_statuses).
PROGRESS_STATUSES = frozenset({"ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE",
                               "MIGRATING"})
# Statuses whose ``fault`` nova shows (views/servers.py _fault_statuses).
FAULT_STATUSES = frozenset({"ERROR", "DELETED"})
