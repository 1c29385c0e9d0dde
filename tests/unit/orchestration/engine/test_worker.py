"""heat-engine on both controllers, as upstream's legacy engine: one engine holds a
stack's lock while it acts; an engine that dies leaves its stack IN_PROGRESS; another
engine steals a dead engine's lock to act on the stack, and an engine that starts marks
what dead engines left FAILED."""

from __future__ import annotations

from stacklab.orchestration.engine.store import IN_PROGRESS
from unit.orchestration.heat_calls import Heat, run_heat

SLOW = {"heat_template_version": "2018-08-31", "resources": {
    "slow": {"type": "OS::Heat::TestResource",
             "properties": {"action_wait_secs": {"create": 600}}}}}


async def _holder(heat: Heat, stack_id: str) -> str:
    service = heat.cloud.orchestration
    engine_id = service.store.lock_holder(stack_id)
    assert engine_id is not None
    (engine,) = [e for e in service.engines if e.engine_id == engine_id]
    return str(engine.node)


def test_the_engines_run_on_both_controllers_and_one_holds_a_stacks_lock() -> None:
    async def scenario(heat: Heat) -> None:
        service = heat.cloud.orchestration
        assert len(service.engines) == 2 and all(e.alive for e in service.engines)
        stack_id = (await heat.create("slow", SLOW))["stack"]["id"]
        await heat.settle(2)
        node = await _holder(heat, stack_id)
        assert node in {e.node for e in service.engines}
        # A second action while the first runs: heat's ActionInProgress (409).
        answer = await heat.request("PUT", f"/stacks/slow/{stack_id}", {"template": SLOW})
        assert answer.status_code == 409
        assert answer.json()["error"] == {
            "message": "Stack slow already has an action (CREATE) in progress.",
            "traceback": None, "type": "ActionInProgress"}

    run_heat(scenario)


def test_a_dead_engines_stack_stays_in_progress_until_another_engine_takes_it() -> None:
    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("slow", SLOW))["stack"]["id"]
        await heat.settle(2)
        node = await _holder(heat, stack_id)
        heat.cloud.node_down(node)
        await heat.settle(30)
        shown = await heat.stack("slow", stack_id)
        # The legacy engine: nothing moves the stack on while its engine is dead.
        assert shown["stack_status"] == "CREATE_IN_PROGRESS"
        # A delete reaches the live engine, which finds the lock's holder dead (its
        # liveness call times out), steals the lock and deletes.
        await heat.call("DELETE", f"/stacks/slow/{stack_id}", expect=204)
        await heat.settle(10)
        assert (await heat.request("GET", f"/stacks/slow/{stack_id}")).status_code == 404
        events = [(e.resource_type, e.action, e.status)
                  for e in heat.cloud.orchestration.events(stack_id)]
        assert events[-4:] == [("OS::Heat::Stack", "DELETE", "IN_PROGRESS"),
                               ("OS::Heat::TestResource", "DELETE", "IN_PROGRESS"),
                               ("OS::Heat::TestResource", "DELETE", "COMPLETE"),
                               ("OS::Heat::Stack", "DELETE", "COMPLETE")]

    run_heat(scenario)


def test_an_engine_that_starts_fails_what_dead_engines_left_in_progress() -> None:
    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("slow", SLOW))["stack"]["id"]
        await heat.settle(2)
        node = await _holder(heat, stack_id)
        heat.cloud.node_down(node)
        await heat.settle(5)
        assert heat.cloud.orchestration.store.stack(stack_id).status == IN_PROGRESS
        heat.cloud.node_up(node)  # heat-engine starts again there: a new engine id
        await heat.settle(5)
        shown = await heat.stack("slow", stack_id)
        assert (shown["stack_status"], shown["stack_status_reason"]) == (
            "CREATE_FAILED", "Engine went down during stack CREATE")
        resources = (await heat.call("GET", f"/stacks/slow/{stack_id}/resources"))[
            "resources"]
        assert [(r["resource_status"], r["resource_status_reason"]) for r in resources] == [
            ("CREATE_FAILED", "Engine went down during stack CREATE")]
        assert heat.cloud.orchestration.store.lock_holder(stack_id) is None

    run_heat(scenario)
