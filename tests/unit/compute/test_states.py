"""A server's states against nova's: the names, the status map and the ``?status=`` filter.

``NOVA_STATE_MAP`` is a literal copy of ``_STATE_MAP`` in
nova/api/openstack/common.py (master, 2026), with its ``'default'`` key;
``nova_status`` and ``nova_selects`` are ``status_from_state`` and what
``task_and_vm_state_from_status`` plus servers.py's ``_get_servers`` make of a
``?status=`` filter (no task-state filter when ``'default'`` is among the
task states).
"""

from __future__ import annotations

import pytest

from stacklab.compute import states

# nova/objects/fields.py InstanceState.ALL
NOVA_VM_STATES = ("active", "building", "paused", "suspended", "stopped", "rescued", "resized",
                  "soft-delete", "deleted", "error", "shelved", "shelved_offloaded")
# nova/objects/fields.py InstanceTaskState.ALL
NOVA_TASK_STATES = (
    "scheduling", "block_device_mapping", "networking", "spawning", "image_snapshot",
    "image_snapshot_pending", "image_pending_upload", "image_uploading", "image_backup",
    "updating_password", "resize_prep", "resize_migrating", "resize_migrated", "resize_finish",
    "resize_reverting", "resize_confirming", "rebooting", "reboot_pending", "reboot_started",
    "rebooting_hard", "reboot_pending_hard", "reboot_started_hard", "pausing", "unpausing",
    "suspending", "resuming", "powering-off", "powering-on", "rescuing", "unrescuing",
    "rebuilding", "rebuild_block_device_mapping", "rebuild_spawning", "migrating", "deleting",
    "soft-deleting", "restoring", "shelving", "shelving_image_pending_upload",
    "shelving_image_uploading", "shelving_offloading", "unshelving")

_REBUILD = {"rebuilding": "REBUILD", "rebuild_block_device_mapping": "REBUILD",
            "rebuild_spawning": "REBUILD"}
_RESIZE = {"resize_prep": "RESIZE", "resize_migrating": "RESIZE", "resize_migrated": "RESIZE",
           "resize_finish": "RESIZE"}
NOVA_STATE_MAP: dict[str, dict[str, str]] = {
    "active": {"default": "ACTIVE", "rebooting": "REBOOT", "reboot_pending": "REBOOT",
               "reboot_started": "REBOOT", "rebooting_hard": "HARD_REBOOT",
               "reboot_pending_hard": "HARD_REBOOT", "reboot_started_hard": "HARD_REBOOT",
               "updating_password": "PASSWORD", **_REBUILD, "migrating": "MIGRATING",
               **_RESIZE},
    "building": {"default": "BUILD"},
    "stopped": {"default": "SHUTOFF", **_RESIZE, **_REBUILD},
    "resized": {"default": "VERIFY_RESIZE", "resize_reverting": "REVERT_RESIZE"},
    "paused": {"default": "PAUSED", "migrating": "MIGRATING"},
    "suspended": {"default": "SUSPENDED"},
    "rescued": {"default": "RESCUE"},
    "error": {"default": "ERROR", **_REBUILD},
    "deleted": {"default": "DELETED"},
    "soft-delete": {"default": "SOFT_DELETED"},
    "shelved": {"default": "SHELVED"},
    "shelved_offloaded": {"default": "SHELVED_OFFLOADED"},
}
NOVA_STATUSES = sorted({s for by_task in NOVA_STATE_MAP.values() for s in by_task.values()})
# Every pair a row can hold, odd ones included: the map and the filter must agree on all.
PAIRS = [(vm, task) for vm in NOVA_VM_STATES for task in (None, *NOVA_TASK_STATES)]


def nova_status(vm_state: str, task_state: str | None) -> str:
    task_map = NOVA_STATE_MAP.get(vm_state, {"default": "UNKNOWN"})
    return task_map.get(task_state or "default", task_map["default"])


def nova_selects(status: str, vm_state: str, task_state: str | None) -> bool:
    vm_states = {vm for vm, by_task in NOVA_STATE_MAP.items()
                 if status in by_task.values()}
    task_states = {task for by_task in NOVA_STATE_MAP.values()
                   for task, shown in by_task.items() if shown == status}
    if vm_state not in vm_states:
        return False
    return "default" in task_states or task_state in task_states


def stacklab_selects(status: str, vm_state: str, task_state: str | None) -> bool:
    """What servers.py's ``_filtered`` makes of ``states_from_status``."""
    vm_states, task_states = states.states_from_status(status)
    if vm_state not in vm_states:
        return False
    if task_states is None:
        return True
    return task_state in task_states


# -- names ----------------------------------------------------------------------------------


def test_vm_state_names_are_novas() -> None:
    ours = (states.ACTIVE, states.BUILDING, states.PAUSED, states.SUSPENDED, states.STOPPED,
            states.RESCUED, states.RESIZED, states.SOFT_DELETED, states.DELETED, states.ERROR,
            states.SHELVED, states.SHELVED_OFFLOADED)
    assert ours == NOVA_VM_STATES


def test_task_state_names_are_novas() -> None:
    ours = {value for name, value in vars(states).items()
            if name.isupper() and isinstance(value, str)} - set(NOVA_VM_STATES)
    assert ours <= set(NOVA_TASK_STATES), ours - set(NOVA_TASK_STATES)
    build = (states.SCHEDULING, states.NETWORKING, states.BLOCK_DEVICE_MAPPING, states.SPAWNING)
    assert build == ("scheduling", "networking", "block_device_mapping", "spawning")


def test_power_states_are_novas_indexes() -> None:
    # nova/compute/power_state.py: indexes into InstancePowerState.ALL.
    assert (states.NOSTATE, states.RUNNING, states.PAUSED_POWER, states.SHUTDOWN,
            states.CRASHED, states.SUSPENDED_POWER) == (0, 1, 3, 4, 6, 7)


# -- status_from_state ----------------------------------------------------------------------


def test_status_of_every_pair_is_novas() -> None:
    wrong = {(vm, task): (states.status_from_state(vm, task), nova_status(vm, task))
             for vm, task in PAIRS
             if states.status_from_state(vm, task) != nova_status(vm, task)}
    assert wrong == {}


@pytest.mark.parametrize(("vm_state", "task_state", "status"), [
    ("building", "scheduling", "BUILD"),
    ("building", "spawning", "BUILD"),
    ("active", None, "ACTIVE"),
    ("active", "powering-off", "ACTIVE"),
    ("active", "rebooting_hard", "HARD_REBOOT"),
    ("active", "resize_migrated", "RESIZE"),
    ("stopped", "powering-on", "SHUTOFF"),
    ("stopped", "rebuild_spawning", "REBUILD"),
    ("resized", None, "VERIFY_RESIZE"),
    ("resized", "resize_confirming", "VERIFY_RESIZE"),  # nova comments CONFIRMING_RESIZE out
    ("resized", "resize_reverting", "REVERT_RESIZE"),
    ("paused", "migrating", "MIGRATING"),
    ("error", "rebuilding", "REBUILD"),
    ("error", "deleting", "ERROR"),
    ("soft-delete", None, "SOFT_DELETED"),
    ("shelved_offloaded", "unshelving", "SHELVED_OFFLOADED"),
])
def test_status_examples(vm_state: str, task_state: str | None, status: str) -> None:
    assert states.status_from_state(vm_state, task_state) == status


def test_an_unknown_vm_state_shows_unknown() -> None:
    assert states.status_from_state("bogus", None) == "UNKNOWN"
    assert states.status_from_state("bogus", "rebooting") == "UNKNOWN"


def test_progress_and_fault_statuses_are_novas() -> None:
    # nova/api/openstack/compute/views/servers.py _progress_statuses, _fault_statuses
    progress, fault = states.PROGRESS_STATUSES, states.FAULT_STATUSES
    assert progress == {"ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING"}
    assert fault == {"ERROR", "DELETED"}


# -- states_from_status (the ?status= filter) -------------------------------------------------

# Statuses nova shows only for named task states: the filter names them.
TASK_STATUSES = ["REBOOT", "HARD_REBOOT", "PASSWORD", "REBUILD", "MIGRATING", "RESIZE",
                 "REVERT_RESIZE"]
# Statuses that are some vm_state's default: nova then filters on the vm_state alone.
IDLE_STATUSES = [s for s in NOVA_STATUSES if s not in TASK_STATUSES]


def test_the_two_kinds_cover_every_status() -> None:
    assert set(TASK_STATUSES) | set(IDLE_STATUSES) == set(NOVA_STATUSES)
    assert len(NOVA_STATUSES) == 19


@pytest.mark.parametrize("status", TASK_STATUSES)
def test_a_task_status_selects_what_nova_selects(status: str) -> None:
    wrong = [(vm, task) for vm, task in PAIRS
             if stacklab_selects(status, vm, task) != nova_selects(status, vm, task)]
    assert wrong == []


@pytest.mark.parametrize(("status", "vm_states", "task_states"), [
    ("REBOOT", {"active"}, {"rebooting", "reboot_pending", "reboot_started"}),
    ("REBUILD", {"active", "stopped", "error"},
     {"rebuilding", "rebuild_block_device_mapping", "rebuild_spawning"}),
    ("MIGRATING", {"active", "paused"}, {"migrating"}),
    ("RESIZE", {"active", "stopped"},
     {"resize_prep", "resize_migrating", "resize_migrated", "resize_finish"}),
])
def test_states_from_status_of_task_statuses(status: str, vm_states: set[str],
                                             task_states: set[str]) -> None:
    assert states.states_from_status(status) == (vm_states, task_states)


def test_an_unknown_status_stands_for_nothing() -> None:
    assert states.states_from_status("BOGUS") == (set(), None)
    assert not any(stacklab_selects("BOGUS", vm, task) for vm, task in PAIRS)


def test_the_idle_state_is_selected_by_its_status() -> None:
    for status in IDLE_STATUSES:
        for vm, by_task in NOVA_STATE_MAP.items():
            if by_task["default"] == status:
                assert stacklab_selects(status, vm, None), (status, vm)


def test_an_idle_status_selects_every_task_state_of_its_vm_states() -> None:
    wrong = {status: [(vm, task) for vm, task in PAIRS
                      if stacklab_selects(status, vm, task) != nova_selects(status, vm, task)]
             for status in IDLE_STATUSES}
    assert {status: pairs for status, pairs in wrong.items() if pairs} == {}

