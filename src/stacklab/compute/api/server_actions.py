"""``POST /servers/{id}/action``: every server action, with nova's preconditions.

Each action names the vm_states (and task states) it is allowed in, as nova's
``check_instance_state`` decorators do; anything else is nova's 409
"Cannot '<action>' instance <uuid> while it is in vm_state <state>". The
API then sets the action's first task state and casts to the conductor or
to the server's compute, which carries it on.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from stacklab.api.errors import BadRequest, Conflict, Gone, NotImplementedOperation
from stacklab.api.service import Call, Codes, Reply, schemas_from
from stacklab.compute import models as m
from stacklab.compute import states
from stacklab.compute.admin_password import change_password
from stacklab.compute.api.base import api, compute
from stacklab.compute.api.servers import bus_context, check_lock, get_instance
from stacklab.compute.api.views import render_server
from stacklab.compute.casts import Cast
from stacklab.compute.consoles import require_host
from stacklab.compute.server_schemas import ACTIONS, flag
from stacklab.compute.volume_snapshots import is_volume_backed, snapshot_volume_backed

_ANY_TASK: Any = object()
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f]")


@dataclass(frozen=True)
class Precondition:
    vm_states: frozenset[str] | None = None  # None: any
    task_states: Any = frozenset({None})
    locked_ok: bool = False


def precondition(vm: Iterable[str] | None, tasks: Any = frozenset({None}), *,
         locked_ok: bool = False) -> Precondition:
    return Precondition(frozenset(vm) if vm is not None else None, tasks, locked_ok)


# Actions nova lets through in any state, locked or not.
ANYTIME = precondition(None, _ANY_TASK, locked_ok=True)
_ANYTIME = ANYTIME


def check_state(instance: m.Instance, action: str, pre: Precondition) -> None:
    if pre.vm_states is not None and instance.vm_state not in pre.vm_states:
        raise Conflict(f"Cannot '{action}' instance {instance.uuid} while it is in vm_state "
                       f"{instance.vm_state}")
    if pre.task_states is not _ANY_TASK and instance.task_state not in pre.task_states:
        raise Conflict(f"Cannot '{action}' instance {instance.uuid} while it is in task_state "
                       f"{instance.task_state}")


def _target(instance: m.Instance) -> dict[str, str]:
    """nova's policy target for one server: its project and user."""
    return {"project_id": instance.project_id, "user_id": instance.user_id}


def _named_host(call: Call, instance: m.Instance, args: dict[str, Any], rule: str) -> Any:
    """The host an action names, which only those ``rule`` allows may name."""
    host = args.get("host")
    if host:
        call.authorize(rule, _target(instance))
    return host


ActionHandler = Callable[[Call, Session, m.Instance, dict[str, Any]], Awaitable[Any]]
# What an action does once its change is committed, other than a cast: an RPC call it
# waits for (nova's changePassword).
AfterCommit = Callable[[], Awaitable[Any]]


@dataclass(frozen=True)
class ServerAction:
    name: str
    policy: str
    pre: Precondition
    handler: ActionHandler
    record_as: str | None  # the instance action's name; None records nothing
    status: int = 202
    # The fast profile answers once the compute is done, but for a snapshot (createImage,
    # createBackup): nova answers while the image uploads, and a second snapshot asked
    # meanwhile is its 409 (Tempest's test of it needs that window).
    settle: bool = True


ACTION_PATH = "/v2.1/servers/{server_id}/action"
# The shared request path picks the action the body names, refuses it outside its
# microversions and checks it with its own schema; what is common to every server
# action (the server, its policy, lock and state, the instance action) is done here.
api.action_route(ACTION_PATH, expected_errors=(400, 404, 409))
# The name nova's 409 gives an action, where it is not the body's key.
_CONFLICT_NAMES = {"os-start": "start", "os-stop": "stop"}
# What every server action may answer: the server is not found (404), its body or
# arguments are wrong (400), it is locked or in the wrong state (409).
_ACTION_ERRORS = (400, 404, 409)


def action(name: str, policy: str, pre: Precondition, *, record_as: str | None = "",
           status: int = 202, min_version: str | None = None, max_version: str | None = None,
           expected_errors: Codes = _ACTION_ERRORS, settle: bool = True,
           ) -> Callable[[ActionHandler], ActionHandler]:
    """Declare a server action: its schemas are those of ``ACTIONS[name]``."""
    def register(handler: ActionHandler) -> ActionHandler:
        known = ServerAction(name, policy, pre, handler,
                             name if record_as == "" else record_as, status, settle)

        async def perform(call: Call) -> Any:
            return await _perform(call, known)

        api.action(ACTION_PATH, name, schema=schemas_from(ACTIONS[name]),
                   min_version=min_version, max_version=max_version,
                   expected_errors=expected_errors)(perform)
        return handler
    return register


def not_implemented(name: str, *, min_version: str | None = None,
                    max_version: str | None = None) -> None:
    """An action nova has and stacklab does not yet: checked as nova would, then 501."""
    async def refuse(call: Call) -> Any:
        raise NotImplementedOperation(f"The server action {name} is not implemented by "
                                      "stacklab yet.")

    api.action(ACTION_PATH, name, schema=schemas_from(ACTIONS[name]), min_version=min_version,
               max_version=max_version, expected_errors=())(refuse)


async def _perform(call: Call, known: ServerAction) -> Any:
    name = known.name
    body = call.body
    service = compute(call)
    args = body[name] if isinstance(body[name], dict) else {}
    with service.db.session() as session:
        instance = get_instance(call, session, call.params["server_id"])
        call.authorize(known.policy, _target(instance))
        if not known.pre.locked_ok:
            check_lock(call, instance)
        check_state(instance, _CONFLICT_NAMES.get(name, name), known.pre)
        outcome = await known.handler(call, session, instance, args)
        after: Cast | AfterCommit | None = None
        if isinstance(outcome, tuple):
            outcome, after = outcome
        if known.record_as:
            service.instances.start_action(session, instance, known.record_as,
                                           bus_context(call))
        instance.updated_at = service.clock.now()
        ctxt = bus_context(call)
        if isinstance(after, Cast) and service.volumes.mappings(session, instance.uuid):
            # The computes that move its volumes call cinder with the caller's token, as
            # nova's context carries it over RPC.
            ctxt["auth_token"] = call.context.auth_token
    if isinstance(after, Cast):
        await service.bus.cast(after.target, after.method, ctxt=ctxt, **after.kwargs)
        if known.settle:
            await service.settle([call.params["server_id"]])
    elif after is not None:
        await after()
    if isinstance(outcome, Reply):
        if outcome.status is None:
            outcome.status = known.status
        return outcome
    return Reply(outcome, status=known.status)


# -- power ----------------------------------------------------------------------------------

_ALL_REBOOT_TASKS = frozenset({None, states.REBOOTING, states.REBOOT_PENDING,
                               states.REBOOT_STARTED, states.REBOOTING_HARD,
                               states.REBOOT_PENDING_HARD, states.REBOOT_STARTED_HARD,
                               states.RESUMING, states.UNPAUSING, states.PAUSING,
                               states.SUSPENDING})


def _simple(task_state: str, method: str) -> ActionHandler:
    async def handler(call: Call, session: Session, instance: m.Instance,
                      args: dict[str, Any]) -> Any:
        instance.task_state = task_state
        return None, Cast.to_compute(instance.host, method, instance_uuid=instance.uuid)
    return handler


for _name, _policy, _vm, _task, _method, _record in (
    ("os-stop", "os_compute_api:servers:stop", (states.ACTIVE, states.ERROR),
     states.POWERING_OFF, "stop_instance", "stop"),
    ("os-start", "os_compute_api:servers:start", (states.STOPPED,), states.POWERING_ON,
     "start_instance", "start"),
    ("pause", "os_compute_api:os-pause-server:pause", (states.ACTIVE,), states.PAUSING,
     "pause_instance", "pause"),
    ("unpause", "os_compute_api:os-pause-server:unpause", (states.PAUSED,), states.UNPAUSING,
     "unpause_instance", "unpause"),
    ("suspend", "os_compute_api:os-suspend-server:suspend", (states.ACTIVE,),
     states.SUSPENDING, "suspend_instance", "suspend"),
    ("resume", "os_compute_api:os-suspend-server:resume", (states.SUSPENDED,),
     states.RESUMING, "resume_instance", "resume"),
    ("unrescue", "os_compute_api:os-unrescue", (states.RESCUED,), states.UNRESCUING,
     "unrescue_instance", "unrescue"),
):
    action(_name, _policy, precondition(_vm), record_as=_record)(_simple(_task, _method))


@action("reboot", "os_compute_api:servers:reboot",
        precondition((states.ACTIVE, states.STOPPED, states.PAUSED, states.SUSPENDED, states.ERROR),
             _ALL_REBOOT_TASKS))
async def _reboot(call: Call, session: Session, instance: m.Instance,
                  args: dict[str, Any]) -> Any:
    hard = args["type"].upper() == "HARD"
    if not hard:
        check_state(instance, "reboot", precondition((states.ACTIVE,)))
    instance.task_state = states.REBOOTING_HARD if hard else states.REBOOTING
    return None, Cast.to_compute(instance.host, "reboot_instance", instance_uuid=instance.uuid,
                                 reboot_type="HARD" if hard else "SOFT")


@action("rescue", "os_compute_api:os-rescue",
        precondition((states.ACTIVE, states.STOPPED, states.ERROR)), status=200)
async def _rescue(call: Call, session: Session, instance: m.Instance,
                  args: dict[str, Any]) -> Any:
    if args.get("rescue_image_ref"):
        await compute(call).builds.image(args["rescue_image_ref"], call.context.auth_token or "")
    instance.task_state = states.RESCUING
    password = args.get("adminPass") or compute(call).ids.urlsafe_token(9)
    return {"adminPass": password}, Cast.to_compute(instance.host, "rescue_instance",
                                                    instance_uuid=instance.uuid)


# -- lock and state -------------------------------------------------------------------------


@action("lock", "os_compute_api:os-lock-server:lock", _ANYTIME)
async def _lock(call: Call, session: Session, instance: m.Instance,
                args: dict[str, Any]) -> Any:
    instance.locked = True
    instance.locked_by = "owner" if call.context.project_id == instance.project_id else "admin"
    # Before 2.73 nova reads nothing of the body (its schema checks none of it either).
    instance.locked_reason = args.get("locked_reason") if call.version_at_least("2.73") \
        else None
    return None


@action("unlock", "os_compute_api:os-lock-server:unlock", _ANYTIME)
async def _unlock(call: Call, session: Session, instance: m.Instance,
                  args: dict[str, Any]) -> Any:
    if instance.locked_by == "admin" and not call.context.is_admin:
        call.authorize("os_compute_api:os-lock-server:unlock:unlock_override",
                       _target(instance))
    instance.locked = False
    instance.locked_by = None
    instance.locked_reason = None
    return None


@action("os-resetState", "os_compute_api:os-admin-actions:reset_state",
        _ANYTIME, record_as="resetState")
async def _reset_state(call: Call, session: Session, instance: m.Instance,
                       args: dict[str, Any]) -> Any:
    instance.vm_state = states.ERROR if args["state"] == "error" else states.ACTIVE
    instance.task_state = None
    return None


# -- rebuild, images, shelve ----------------------------------------------------------------

_SNAPSHOT_STATES = (states.ACTIVE, states.STOPPED, states.PAUSED, states.SUSPENDED)


# The image service's own refusals (its quota, a size over its cap) pass through.
_IMAGE_ERRORS = (400, 403, 404, 409, 413)


@action("createImage", "os_compute_api:servers:create_image", precondition(_SNAPSHOT_STATES),
        expected_errors=_IMAGE_ERRORS, settle=False)
async def _create_image(call: Call, session: Session, instance: m.Instance,
                        args: dict[str, Any]) -> Any:
    service = compute(call)
    send: Cast | AfterCommit
    if is_volume_backed(session, instance.uuid):
        # nova-api snapshots the volumes itself; the compute has nothing to copy.
        call.authorize("os_compute_api:servers:create_image:allow_volume_backed",
                       _target(instance))
        image_id, send = await snapshot_volume_backed(
            service, session, instance, args["name"], args.get("metadata") or {},
            call.context)
    else:
        image_id, send = await service.snapshots.snapshot(
            instance, args["name"], args.get("metadata") or {}, call.context.auth_token or "")
    # glance's address of the image, from the catalog, as nova's (not nova's own).
    location = service.image_url(image_id)
    if call.version_at_least("2.45"):
        return Reply({"image_id": image_id}), send
    return Reply(None, headers={"Location": location}), send


@action("createBackup", "os_compute_api:os-create-backup", precondition(_SNAPSHOT_STATES),
        expected_errors=_IMAGE_ERRORS, settle=False)
async def _create_backup(call: Call, session: Session, instance: m.Instance,
                         args: dict[str, Any]) -> Any:
    rotation = int(args["rotation"])
    image_id, send = await compute(call).snapshots.backup(
        instance, args["name"], args["backup_type"], rotation, args.get("metadata") or {},
        call.context.auth_token or "")
    if call.version_at_least("2.45"):
        return Reply({"image_id": image_id}), send
    # Before 2.45: the image's address under nova's own images API, when one is kept.
    headers = {"Location": call.url_for(f"/v2.1/images/{image_id}")} if rotation > 0 else {}
    return Reply(None, headers=headers), send


@action("rebuild", "os_compute_api:servers:rebuild",
        precondition((states.ACTIVE, states.STOPPED, states.ERROR)))
async def _rebuild(call: Call, session: Session, instance: m.Instance,
                   args: dict[str, Any]) -> Any:
    send = await compute(call).builds.rebuild(session, instance, args, call.context,
                                              reimage=call.version_at_least("2.93"))
    body = render_server(call, instance, full=False, show_groups=True)
    # The rebuild view adds what rebuild may change, and never the admin's user_data.
    body.pop("OS-EXT-SRV-ATTR:user_data", None)
    if call.version_at_least("2.54"):
        body["key_name"] = instance.key_name
    if call.version_at_least("2.57"):
        body["user_data"] = instance.user_data
    body["adminPass"] = args.get("adminPass") or compute(call).ids.urlsafe_token(9)
    return {"server": body}, send


@action("shelve", "os_compute_api:os-shelve:shelve",
        precondition((states.ACTIVE, states.STOPPED, states.PAUSED, states.SUSPENDED)),
        expected_errors=_IMAGE_ERRORS)
async def _shelve(call: Call, session: Session, instance: m.Instance,
                  args: dict[str, Any]) -> Any:
    return None, await compute(call).snapshots.shelve(instance, call.context.auth_token or "")


@action("shelveOffload", "os_compute_api:os-shelve:shelve_offload",
        precondition((states.SHELVED,)), record_as="shelveOffload")
async def _shelve_offload(call: Call, session: Session, instance: m.Instance,
                          args: dict[str, Any]) -> Any:
    instance.task_state = states.SHELVING_OFFLOADING
    return None, Cast.to_compute(instance.host, "shelve_offload_instance",
                                 instance_uuid=instance.uuid)


@action("unshelve", "os_compute_api:os-shelve:unshelve",
        precondition((states.SHELVED, states.SHELVED_OFFLOADED)))
async def _unshelve(call: Call, session: Session, instance: m.Instance,
                    args: dict[str, Any]) -> Any:
    host = _named_host(call, instance, args, "os_compute_api:os-shelve:unshelve_to_host")
    return None, compute(call).moves.unshelve(instance, host, args.get("availability_zone"))


# -- resize and migrations --------------------------------------------------------------------


@action("resize", "os_compute_api:servers:resize", precondition((states.ACTIVE, states.STOPPED)))
async def _resize(call: Call, session: Session, instance: m.Instance,
                  args: dict[str, Any]) -> Any:
    send = compute(call).moves.resize(session, instance, str(args["flavorRef"]), call.context)
    if "OS-DCF:diskConfig" in args:
        instance.disk_config = args["OS-DCF:diskConfig"]
    return None, send


@action("migrate", "os_compute_api:os-migrate-server:migrate",
        precondition((states.ACTIVE, states.STOPPED)))
async def _migrate(call: Call, session: Session, instance: m.Instance,
                   args: dict[str, Any]) -> Any:
    host = _named_host(call, instance, args, "os_compute_api:os-migrate-server:migrate:host")
    return None, compute(call).moves.migrate(session, instance, host)


@action("confirmResize", "os_compute_api:servers:confirm_resize", precondition((states.RESIZED,)),
        status=204)
async def _confirm(call: Call, session: Session, instance: m.Instance,
                   args: dict[str, Any]) -> Any:
    return None, compute(call).moves.confirm_resize(session, instance)


@action("revertResize", "os_compute_api:servers:revert_resize", precondition((states.RESIZED,)))
async def _revert(call: Call, session: Session, instance: m.Instance,
                  args: dict[str, Any]) -> Any:
    return None, compute(call).moves.revert_resize(session, instance)


@action("os-migrateLive", "os_compute_api:os-migrate-server:migrate_live",
        precondition((states.ACTIVE, states.PAUSED)), record_as="live-migration")
async def _live_migrate(call: Call, session: Session, instance: m.Instance,
                        args: dict[str, Any]) -> Any:
    host = _named_host(call, instance, args, "os_compute_api:os-migrate-server:migrate_live:host")
    return None, compute(call).moves.live_migrate(session, instance, host)


@action("evacuate", "os_compute_api:os-evacuate",
        precondition((states.ACTIVE, states.STOPPED, states.ERROR)), status=200)
async def _evacuate(call: Call, session: Session, instance: m.Instance,
                    args: dict[str, Any]) -> Any:
    service = compute(call)
    on_shared_storage: bool | None = None
    password: str | None = None
    if not call.version_at_least("2.14"):
        # Before 2.14 the caller says where the disk is; a disk kept (shared storage)
        # keeps its password too.
        on_shared_storage = flag(args["onSharedStorage"])
        if "adminPass" in args:
            if on_shared_storage:
                raise BadRequest("admin password can't be changed on existing disk")
            password = args["adminPass"]
        elif not on_shared_storage:
            password = service.ids.urlsafe_token(9)
    send = service.moves.evacuate(session, instance, args.get("host"),
                                  stop=call.version_at_least("2.95"),
                                  on_shared_storage=on_shared_storage)
    body: Any = None
    if not call.version_at_least("2.14"):
        body = {"adminPass": password}
    return body, send


# -- consoles -----------------------------------------------------------------------------------


@action("os-getConsoleOutput", "os_compute_api:os-console-output",
        precondition(None, _ANY_TASK, locked_ok=True), record_as=None, status=200,
        expected_errors=(400, 404, 409, 501))
async def _console_output(call: Call, session: Session, instance: m.Instance,
                          args: dict[str, Any]) -> Any:
    # Handed to the compute as sent, which cuts the log as nova-compute does.
    output = await compute(call).consoles.output(instance, args.get("length"), call.context)
    # nova strips control characters but tab and newline from what it answers.
    return {"output": _CONTROL.sub("", output)}


def _legacy_console(kind: str) -> ActionHandler:
    async def handler(call: Call, session: Session, instance: m.Instance,
                      args: dict[str, Any]) -> Any:
        require_host(instance)
        return {"console": {"type": args["type"],
                            "url": compute(call).consoles.url(args["type"])}}
    return handler


# Replaced by POST /servers/{id}/remote-consoles at 2.6.
for _name in ("os-getVNCConsole", "os-getSPICEConsole", "os-getSerialConsole"):
    action(_name, "os_compute_api:os-remote-consoles", _ANYTIME, record_as=None, status=200,
           max_version="2.5", expected_errors=(400, 404, 409, 501))(_legacy_console(_name))


# -- deferred deletes -----------------------------------------------------------------------------


@action("restore", "os_compute_api:os-deferred-delete:restore",
        precondition((states.SOFT_DELETED,)), expected_errors=(403, 404, 409))
async def _restore(call: Call, session: Session, instance: m.Instance,
                   args: dict[str, Any]) -> Any:
    return None, compute(call).deletes.restore(instance)


async def _force_delete(call: Call) -> Any:
    """forceDelete: a delete now, whatever the vm_state (a soft-deleted server's too)."""
    service = compute(call)
    with service.db.session() as session:
        instance = get_instance(call, session, call.params["server_id"])
        call.authorize("os_compute_api:os-deferred-delete:force", _target(instance))
        check_lock(call, instance)
        check_state(instance, "forceDelete", precondition(None))
        uuid = instance.uuid
    # The delete records its own action ("delete") and commits before it casts.
    await service.deletes.delete(uuid, call.context, force=True)
    return Reply(None, status=202)


api.action(ACTION_PATH, "forceDelete", schema=schemas_from(ACTIONS["forceDelete"]),
           expected_errors=(404, 409))(_force_delete)


# -- networking -----------------------------------------------------------------------------------


@action("addFloatingIp", "os_compute_api:os-floating-ips:add", _ANYTIME, record_as=None,
        max_version="2.43", expected_errors=(400, 403, 404))
async def _add_floating_ip(call: Call, session: Session, instance: m.Instance,
                           args: dict[str, Any]) -> Any:
    await compute(call).interfaces.add_floating_ip(instance, args["address"],
                                                   args.get("fixed_address"), call.context)
    return None


@action("removeFloatingIp", "os_compute_api:os-floating-ips:remove", _ANYTIME, record_as=None,
        max_version="2.43", expected_errors=(400, 403, 404, 409))
async def _remove_floating_ip(call: Call, session: Session, instance: m.Instance,
                              args: dict[str, Any]) -> Any:
    await compute(call).interfaces.remove_floating_ip(instance, args["address"], call.context)
    return None


@action("injectNetworkInfo", "os_compute_api:os-admin-actions:inject_network_info",
        precondition(None, _ANY_TASK), record_as=None, expected_errors=(404, 409))
async def _inject_network_info(call: Call, session: Session, instance: m.Instance,
                               args: dict[str, Any]) -> Any:
    if not instance.host:
        return None
    return None, Cast.to_compute(instance.host, "inject_network_info",
                                 instance_uuid=instance.uuid)


# -- passwords and removed actions ----------------------------------------------------------


@action("changePassword", "os_compute_api:os-admin-password", precondition((states.ACTIVE,)),
        expected_errors=(404, 409, 501))
async def _change_password(call: Call, session: Session, instance: m.Instance,
                           args: dict[str, Any]) -> Any:
    return None, change_password(compute(call), instance, args["adminPass"], call.context)


async def _reset_network(call: Call) -> Any:
    # nova-network's, removed in nova 23.0.0: nova answers 410 before it looks for the server
    # or asks any policy, with webob's own explanation.
    raise Gone("This resource is no longer available.  No forwarding address is given.")


api.action(ACTION_PATH, "resetNetwork", schema=schemas_from(ACTIONS["resetNetwork"]),
           expected_errors=(410,))(_reset_network)


# -- what nova has and stacklab does not do yet ------------------------------------------------

not_implemented("os-getRDPConsole", max_version="2.5")
not_implemented("trigger_crash_dump", min_version="2.17")
for _name in ("addFixedIp", "removeFixedIp"):
    not_implemented(_name, max_version="2.43")  # nova-network's, gone at 2.44
