"""Retype, migration, its completion, unmanage, and cinder-manage's update_host."""

from __future__ import annotations

from typing import Any

from unit.block_storage.cinder_calls import Lab, run_lab

C1 = "controller1.openstack.local"
C2 = "controller2.openstack.local"


async def _volume_with(lab: Lab, data: bytes, **fields: Any) -> dict[str, Any]:
    ident = (await lab.create(**fields))["volume"]["id"]
    shown = await lab.volume(ident)
    lab.cloud.block_storage.store.write(shown["os-vol-host-attr:host"].partition("#")[0],
                                        ident, data)
    return shown


def _other(host: str) -> str:
    return f"{C2}@lvm" if host.startswith(C1) else f"{C1}@lvm"


def _location(lab: Lab, backend: str) -> str:
    pool = next(p for p in lab.cloud.block_storage.pools() if p.host == backend)
    return str(pool.capabilities["location_info"])


async def _type(lab: Lab, name: str, **specs: str) -> str:
    made = await lab.call("POST", "/types", {"volume_type": {"name": name,
                                                             "extra_specs": specs}})
    return str(made["volume_type"]["id"])


def test_migrate_moves_the_bytes_to_the_named_backend() -> None:
    async def scenario(lab: Lab) -> None:
        volume = await _volume_with(lab, b"moving data")
        ident, host = volume["id"], volume["os-vol-host-attr:host"]
        destination = _other(host)
        action = f"/volumes/{ident}/action"
        member, _ = await lab.member("mig")
        await lab.call("POST", action, {"os-migrate_volume": {"host": destination}},
                       token=member, expect=404)  # another project's volume
        same = await lab.call("POST", action, {"os-migrate_volume": {"host": host}},
                              expect=400)
        assert "destination host/cluster must be different" in same["badRequest"]["message"]
        nowhere = await lab.call("POST", action, {"os-migrate_volume": {
            "host": "nowhere@lvm#lvm"}}, expect=400)
        assert nowhere["badRequest"]["message"] == (
            "Invalid host: No available service named 'nowhere@lvm#lvm'")
        bad = await lab.call("POST", action, {"os-migrate_volume": {"host": "a b"}},
                             expect=400)
        assert "host" in bad["badRequest"]["message"]
        await lab.call("POST", action, {"os-migrate_volume": {
            "host": f"{destination}#lvm", "lock_volume": True}}, expect=202)
        locked = await lab.volume(ident)
        assert (locked["status"], locked["migration_status"]) == ("maintenance", "starting")
        await lab.settle()
        moved = await lab.volume(ident)
        assert (moved["os-vol-host-attr:host"], moved["migration_status"],
                moved["status"]) == (f"{destination}#lvm", "success", "available")
        store = lab.cloud.block_storage.store
        assert store.read(destination, ident) == b"moving data"
        assert store.read(host.partition("#")[0], ident) == b""
        # A volume with snapshots is not migrated.
        await lab.call("POST", "/snapshots", {"snapshot": {"volume_id": ident}}, expect=202)
        await lab.settle()
        refused = await lab.call("POST", action, {"os-migrate_volume": {"host": host}},
                                 expect=400)
        assert "have snapshots" in refused["badRequest"]["message"]

    run_lab(scenario)


def test_retype_in_place_or_by_migration_on_demand() -> None:
    async def scenario(lab: Lab) -> None:
        volume = await _volume_with(lab, b"retyped")
        ident, host = volume["id"], volume["os-vol-host-attr:host"]
        action = f"/volumes/{ident}/action"
        here = await _type(lab, "here", volume_backend_name="lvm")
        there = await _type(lab, "there", location_info=_location(lab, _other(host)))
        # The volume's backend satisfies "here": only the type changes.
        await lab.call("POST", action, {"os-retype": {"new_type": "here"}}, expect=202)
        assert (await lab.volume(ident))["status"] == "retyping"
        await lab.settle()
        shown = await lab.volume(ident)
        assert (shown["volume_type"], shown["status"], shown["os-vol-host-attr:host"]) == (
            "here", "available", host)
        same = await lab.call("POST", action, {"os-retype": {"new_type": here}}, expect=400)
        assert "requested type has to be different" in same["badRequest"]["message"]
        unknown = await lab.call("POST", action, {"os-retype": {"new_type": "nope"}},
                                 expect=400)
        assert unknown["badRequest"]["message"] == (
            "Invalid input received: Invalid volume_type passed: nope.")
        policy = await lab.call("POST", action, {"os-retype": {
            "new_type": "there", "migration_policy": "sometimes"}}, expect=400)
        assert "migration_policy" in policy["badRequest"]["message"]
        # "there" needs the other backend: never migrate, so nothing changes.
        await lab.call("POST", action, {"os-retype": {"new_type": "there"}}, expect=202)
        await lab.settle()
        shown = await lab.volume(ident)
        assert (shown["volume_type"], shown["status"]) == ("here", "available")
        # On demand it migrates there, bytes and all.
        await lab.call("POST", action, {"os-retype": {
            "new_type": there, "migration_policy": "on-demand"}}, expect=202)
        await lab.settle()
        shown = await lab.volume(ident)
        assert (shown["volume_type"], shown["status"], shown["migration_status"],
                shown["os-vol-host-attr:host"]) == (
            "there", "available", "success", f"{_other(host)}#lvm")
        assert lab.cloud.block_storage.store.read(_other(host), ident) == b"retyped"

    run_lab(scenario)


def test_retype_to_or_from_a_multiattach_type_changes_the_flag_of_an_available_volume(
        ) -> None:
    async def scenario(lab: Lab) -> None:
        ident = (await lab.create())["volume"]["id"]
        action = f"/volumes/{ident}/action"
        await _type(lab, "shared", multiattach="<is> True")
        await _type(lab, "plain")
        await lab.call("POST", action, {"os-retype": {"new_type": "shared"}}, expect=202)
        assert (await lab.volume(ident))["multiattach"] is True
        await lab.settle()
        shown = await lab.volume(ident)
        assert (shown["volume_type"], shown["multiattach"]) == ("shared", True)
        await lab.call("POST", action, {"os-retype": {"new_type": "plain"}}, expect=202)
        await lab.settle()
        assert (await lab.volume(ident))["multiattach"] is False
        # Not while it is in use; and never with encryption.
        await lab.call("POST", action, {"os-reserve": {}}, expect=202)
        await lab.call("POST", action, {"os-attach": {
            "instance_uuid": "4b1d5a04-8c5e-4f34-9b0f-3d1c3b1d2a10", "mountpoint": "/dev/vdb"}},
            expect=202)
        assert (await lab.volume(ident))["status"] == "in-use"
        refused = await lab.call("POST", action, {"os-retype": {"new_type": "shared"}},
                                 expect=400)
        assert "retypes affecting multiattach are only allowed on available volumes" in \
            refused["badRequest"]["message"]
        await lab.call("POST", action, {"os-detach": {}}, expect=202)
        assert (await lab.volume(ident))["status"] == "available"
        secret = await _type(lab, "secret-shared", multiattach="<is> True")
        await lab.call("POST", f"/types/{secret}/encryption", {"encryption": {
            "provider": "luks", "control_location": "front-end"}})
        refused = await lab.call("POST", action, {"os-retype": {
            "new_type": "secret-shared"}}, expect=400)
        assert refused["badRequest"]["message"] == ("Invalid input received: Retype "
                                                    "requested both encryption and "
                                                    "multi-attach, which is not supported.")
        assert (await lab.volume(ident))["multiattach"] is False

    run_lab(scenario)


def test_migrate_completion_checks_and_unmanage() -> None:
    async def scenario(lab: Lab) -> None:
        first = (await _volume_with(lab, b"one"))["id"]
        second = (await _volume_with(lab, b"two"))["id"]
        path = f"/volumes/{first}/action"
        # Neither is migrating (nova's swap): the new one is kept.
        kept = await lab.call("POST", path, {"os-migrate_volume_completion": {
            "new_volume": second}})
        assert kept == {"save_volume_id": second}
        await lab.call("POST", path, {"os-reset_status": {"migration_status": "migrating"}},
                       expect=202)
        refused = await lab.call("POST", path, {"os-migrate_volume_completion": {
            "new_volume": second}}, expect=400)
        assert refused["badRequest"]["message"] == (
            "Invalid volume: Destination volume not mid-migration.")
        await lab.call("POST", f"/volumes/{second}/action", {"os-reset_status": {
            "migration_status": f"target:{first}"}}, expect=202)
        kept = await lab.call("POST", path, {"os-migrate_volume_completion": {
            "new_volume": second}})
        assert kept == {"save_volume_id": first}
        await lab.call("GET", f"/volumes/{second}", expect=404)
        shown = await lab.volume(first)
        assert shown["migration_status"] == "success"
        backend = shown["os-vol-host-attr:host"].partition("#")[0]
        assert lab.cloud.block_storage.store.read(backend, first) == b"two"

        # Unmanage: the volume leaves cinder, its data stays on the backend.
        member, _ = await lab.member("unm")
        own = (await lab.create(token=member))["volume"]["id"]
        await lab.call("POST", f"/volumes/{own}/action", {"os-unmanage": {}}, token=member,
                       expect=403)
        await lab.call("POST", path, {"os-unmanage": {}}, expect=202)
        await lab.settle()
        await lab.call("GET", f"/volumes/{first}", expect=404)
        assert lab.cloud.block_storage.store.read(backend, first) == b"two"

    run_lab(scenario)


def test_update_host_moves_a_dead_hosts_volumes() -> None:
    async def scenario(lab: Lab) -> None:
        volume = await _volume_with(lab, b"stranded")
        ident, host = volume["id"], volume["os-vol-host-attr:host"]
        dead, survivor = host.partition("#")[0], _other(host)
        lab.cloud.block_storage.migrations.update_host(dead, survivor)
        shown = await lab.volume(ident)
        assert shown["os-vol-host-attr:host"] == survivor
        assert lab.cloud.block_storage.store.read(survivor, ident) == b"stranded"
        # Its new owner acts on it.
        await lab.call("POST", f"/volumes/{ident}/action", {"os-extend": {"new_size": 2}},
                       expect=202)
        await lab.settle()
        assert (await lab.volume(ident))["size"] == 2

    run_lab(scenario)
