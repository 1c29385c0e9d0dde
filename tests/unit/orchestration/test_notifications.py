"""heat's notifications of a stack's states: ``orchestration.stack.<action>.start`` /
``.end`` / ``.error`` with heat's ``format_notification_body``, from
``orchestration.<host>`` (the engine's node), in the request's context (never its token);
on a broker they go to the ``heat`` exchange (docs/bus.md)."""

from __future__ import annotations

from stacklab.bus.interface import Notification
from stacklab.cloud import SERVICES, control_exchanges
from stacklab.config import Config
from stacklab.orchestration.notifications import event_type
from unit.orchestration.heat_calls import Heat, run_heat

TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "description": "told to the listeners",
    "resources": {"r": {"type": "OS::Heat::RandomString"}},
}
# heat/rpc/api.py NOTIFY_KEYS.
BODY_KEYS = {"tenant_id", "user_id", "user_identity", "username", "stack_identity",
             "stack_name", "state", "state_reason", "create_at", "description", "updated_at",
             "tags"}


def test_a_stacks_create_and_delete_are_notified_by_its_engine() -> None:
    async def scenario(heat: Heat) -> None:
        seen: list[Notification] = []
        heat.cloud.bus.subscribe("orchestration.*", seen.append)
        body = await heat.create("told", TEMPLATE, tags="a,b")
        stack_id = body["stack"]["id"]
        await heat.until("told", stack_id, "CREATE_COMPLETE")
        await heat.call("DELETE", f"/stacks/told/{stack_id}", expect=204)
        await heat.settle(5)
        assert [n.event_type for n in seen] == [
            "orchestration.stack.create.start", "orchestration.stack.create.end",
            "orchestration.stack.delete.start", "orchestration.stack.delete.end"]
        # Each from the engine that ran the action (heat's CONF.host, its RPC server's name).
        assert {n.publisher_id for n in seen} <= {"orchestration.controller1",
                                                  "orchestration.controller2"}
        end = seen[1]
        assert end.priority == "INFO"
        assert set(end.payload) == BODY_KEYS
        assert {key: end.payload[key] for key in (
            "stack_identity", "stack_name", "state", "state_reason", "tenant_id", "user_id",
            "username", "description", "tags")} == {
            "stack_identity": stack_id, "stack_name": "told", "state": "CREATE_COMPLETE",
            "state_reason": "Stack CREATE completed successfully", "tenant_id": heat.project,
            "user_id": "admin", "username": "admin", "description": "told to the listeners",
            "tags": ["a", "b"]}
        assert end.payload["create_at"].endswith("Z")
        # The request's context, without its token.
        assert end.ctxt["request_id"].startswith("req-")
        assert "auth_token" not in end.ctxt
        assert seen[3].payload["state"] == "DELETE_COMPLETE"

    run_heat(scenario)


def test_a_failed_state_is_an_error_and_heats_publisher_goes_to_its_exchange() -> None:
    assert event_type("UPDATE", "FAILED") == ("orchestration.stack.update.error", "ERROR")
    assert event_type("SUSPEND", "IN_PROGRESS") == ("orchestration.stack.suspend.start",
                                                    "INFO")
    _, publishers = control_exchanges(Config(), SERVICES)
    assert publishers["orchestration"] == "heat"
