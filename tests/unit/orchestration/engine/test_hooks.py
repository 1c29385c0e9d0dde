"""Hooks (breakpoints), as heat's: the environment's ``resource_registry: resources: NAME:
hooks:`` pauses a resource at the hook, with heat's event, until a signal
``{"unset_hook": ...}`` clears it; wildcards and nested stacks' hooks as heat's
environment matches them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from stacklab.orchestration import models as m
from stacklab.orchestration.engine.store import IN_PROGRESS
from unit.orchestration.heat_calls import Heat, run_heat

TWO = {"heat_template_version": "2018-08-31", "resources": {
    "a_server": {"type": "OS::Heat::TestResource", "properties": {"value": "a"}},
    "b_server": {"type": "OS::Heat::TestResource", "properties": {"value": "b"}},
    "other": {"type": "OS::Heat::TestResource", "properties": {"value": "o"}}}}


def hooks(**per_resource: Any) -> dict[str, Any]:
    return {"resource_registry": {"resources": per_resource}}


async def _events(heat: Heat, name: str, stack_id: str) -> list[tuple[str, str, str]]:
    events = (await heat.call("GET", f"/stacks/{name}/{stack_id}/events"))["events"]
    return [(e["resource_name"], e["resource_status"], e["resource_status_reason"])
            for e in events]


async def _signal(heat: Heat, name: str, stack_id: str, resource: str, body: Any, *,
                  expect: int = 200) -> Any:
    return await heat.call("POST", f"/stacks/{name}/{stack_id}/resources/{resource}/signal",
                           body, expect=expect)


def test_a_pre_create_hook_pauses_the_matching_resources_until_cleared() -> None:
    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("hk", TWO, environment=hooks(
            **{"*_server": {"hooks": "pre-create"}})))["stack"]["id"]
        await heat.settle(30)
        shown = await heat.stack("hk", stack_id)
        assert shown["stack_status"] == "CREATE_IN_PROGRESS"
        events = await _events(heat, "hk", stack_id)
        paused = [(n, s) for n, s, r in events
                  if r == "CREATE paused until Hook pre-create is cleared"]
        assert sorted(paused) == [("a_server", "INIT_COMPLETE"), ("b_server", "INIT_COMPLETE")]
        assert ("other", "CREATE_COMPLETE", "state changed") in events
        res = (await heat.call("GET", f"/stacks/hk/{stack_id}/resources/a_server"))["resource"]
        assert res["resource_status"] == "INIT_COMPLETE"
        # The mark is kept in the store (the engine that takes the signal clears it there).
        store = heat.cloud.orchestration.store
        assert store.resources(stack_id)["a_server"].data["pre-create"] == "True"

        await _signal(heat, "hk", stack_id, "a_server", {"unset_hook": "pre-create"})
        await heat.settle(10)
        events = await _events(heat, "hk", stack_id)
        assert ("a_server", "INIT_COMPLETE", "Hook pre-create is cleared") in events
        assert ("a_server", "CREATE_COMPLETE", "state changed") in events
        assert (await heat.stack("hk", stack_id))["stack_status"] == "CREATE_IN_PROGRESS"

        # Cleared once: a second clear is heat's InvalidBreakPointHook.
        answer = await heat.request(
            "POST", f"/stacks/hk/{stack_id}/resources/a_server/signal",
            {"unset_hook": "pre-create"})
        assert answer.status_code == 400
        assert answer.json()["error"]["type"] == "InvalidBreakPointHook"
        physical = store.resources(stack_id)["a_server"].physical_id
        assert answer.json()["error"]["message"] == (
            f'The "pre-create" hook is not defined on TestResource "a_server" [{physical}] '
            f'Stack "hk" [{stack_id}]')
        answer = await heat.request(
            "POST", f"/stacks/hk/{stack_id}/resources/b_server/signal",
            {"unset_hook": "pre-lunch"})
        assert answer.status_code == 400
        assert answer.json()["error"]["message"] == (
            f'Invalid hook type "pre-lunch" for TestResource "b_server" Stack "hk" '
            f'[{stack_id}]')

        await _signal(heat, "hk", stack_id, "b_server", {"unset_hook": "pre-create"})
        shown = await heat.until("hk", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
        assert "pre-create" not in store.resources(stack_id)["b_server"].data

    run_heat(scenario)


def test_post_create_update_and_delete_hooks() -> None:
    async def scenario(heat: Heat) -> None:
        env = hooks(other={"hooks": ["post-create", "pre-update", "post-update",
                                     "pre-delete", "post-delete"]})
        stack_id = (await heat.create("hk", TWO, environment=env, timeout_mins=5)
                    )["stack"]["id"]
        await heat.settle(10)
        assert ("other", "CREATE_COMPLETE",
                "CREATE paused until Hook post-create is cleared") in await _events(
                    heat, "hk", stack_id)
        assert (await heat.stack("hk", stack_id))["stack_status"] == "CREATE_IN_PROGRESS"
        await _signal(heat, "hk", stack_id, "other", {"unset_hook": "post-create"})
        await heat.until("hk", stack_id, "CREATE_COMPLETE")

        changed = {**TWO, "resources": {**TWO["resources"], "other": {
            "type": "OS::Heat::TestResource", "properties": {"value": "o2"}}}}
        await heat.call("PUT", f"/stacks/hk/{stack_id}",
                        {"template": changed, "environment": env}, expect=202)
        await heat.settle(10)
        events = await _events(heat, "hk", stack_id)
        assert events[-1] == ("other", "CREATE_COMPLETE",
                              "UPDATE paused until Hook pre-update is cleared")
        await _signal(heat, "hk", stack_id, "other", {"unset_hook": "pre-update"})
        await heat.settle(10)
        events = await _events(heat, "hk", stack_id)
        assert events[-1] == ("other", "UPDATE_COMPLETE",
                              "UPDATE paused until Hook post-update is cleared")
        await _signal(heat, "hk", stack_id, "other", {"unset_hook": "post-update"})
        shown = await heat.until("hk", stack_id, "UPDATE_COMPLETE", "UPDATE_FAILED")
        assert shown["stack_status"] == "UPDATE_COMPLETE", shown["stack_status_reason"]

        await heat.call("DELETE", f"/stacks/hk/{stack_id}", expect=204)
        await heat.settle(10)
        events = await _events(heat, "hk", stack_id)
        assert events[-1] == ("other", "UPDATE_COMPLETE",
                              "DELETE paused until Hook pre-delete is cleared")
        await _signal(heat, "hk", stack_id, "other", {"unset_hook": "pre-delete"})
        await heat.settle(10)
        events = await _events(heat, "hk", stack_id)
        assert events[-1] == ("other", "DELETE_COMPLETE",
                              "DELETE paused until Hook post-delete is cleared")
        # heat checks the resource's action before the hook: DELETE takes no signal, so
        # a post-delete hook is only left by the stack's timeout.
        answer = await heat.request(
            "POST", f"/stacks/hk/{stack_id}/resources/other/signal",
            {"unset_hook": "post-delete"})
        assert answer.status_code == 400
        assert answer.json()["error"]["message"] == (
            "Signal resource during DELETE is not supported.")
        shown = await heat.until("hk", stack_id, "DELETE_FAILED", seconds=400)
        assert shown["stack_status_reason"] == "Delete timed out"
        assert (await _events(heat, "hk", stack_id))[-2][2] == (
            "Failure occurred while waiting.")

    run_heat(scenario)


def test_a_nested_stacks_resource_pauses_at_its_hook() -> None:
    template = {"heat_template_version": "2018-08-31", "resources": {"group": {
        "type": "OS::Heat::ResourceGroup", "properties": {
            "count": 2, "resource_def": {"type": "OS::Heat::TestResource"}}}}}

    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("nest", template, environment=hooks(
            group={"1": {"hooks": "pre-create"}})))["stack"]["id"]
        await heat.settle(30)
        assert (await heat.stack("nest", stack_id))["stack_status"] == "CREATE_IN_PROGRESS"
        res = (await heat.call("GET", f"/stacks/nest/{stack_id}/resources/group"))["resource"]
        nested_id = res["physical_resource_id"]
        nested = heat.cloud.orchestration.store.stack(nested_id)
        events = await _events(heat, nested.name, nested_id)
        assert ("1", "INIT_COMPLETE", "CREATE paused until Hook pre-create is cleared") in (
            events)
        assert ("0", "CREATE_COMPLETE", "state changed") in events
        await _signal(heat, nested.name, nested_id, "1", {"unset_hook": "pre-create"})
        shown = await heat.until("nest", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]

    run_heat(scenario)


def test_a_timeout_while_paused_clears_the_hook_and_fails() -> None:
    async def scenario(heat: Heat) -> None:
        stack_id = (await heat.create("hk", TWO, timeout_mins=1, environment=hooks(
            a_server={"hooks": "pre-create"})))["stack"]["id"]
        shown = await heat.until("hk", stack_id, "CREATE_COMPLETE", "CREATE_FAILED")
        assert (shown["stack_status"], shown["stack_status_reason"]) == (
            "CREATE_FAILED", "Create timed out")
        events = await _events(heat, "hk", stack_id)
        assert ("a_server", "INIT_COMPLETE", "Failure occurred while waiting.") in events
        store = heat.cloud.orchestration.store
        assert store.stack(stack_id).status != IN_PROGRESS
        assert "pre-create" not in store.resources(stack_id)["a_server"].data
        # An update makes the resource left INIT in its own row (no hook now).
        await heat.call("PUT", f"/stacks/hk/{stack_id}", {"template": TWO}, expect=202)
        shown = await heat.until("hk", stack_id, "UPDATE_COMPLETE", "UPDATE_FAILED")
        assert shown["stack_status"] == "UPDATE_COMPLETE", shown["stack_status_reason"]
        listed = (await heat.call("GET", f"/stacks/hk/{stack_id}/resources"))["resources"]
        assert sorted((r["resource_name"], r["resource_status"]) for r in listed) == [
            ("a_server", "CREATE_COMPLETE"), ("b_server", "CREATE_COMPLETE"),
            ("other", "CREATE_COMPLETE")]
        with store.session() as session:
            rows = session.scalars(select(m.Resource.name).where(
                m.Resource.stack_id == stack_id)).all()
        assert sorted(rows) == ["a_server", "b_server", "other"]

    run_heat(scenario)
