"""Orchestration with the real client: ``openstack stack ...`` (python-heatclient) against a
live cloud, on heat's own resource types."""

from __future__ import annotations

import json
import shlex
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest

from acceptance.conftest import LiveCloud

# Every test here runs in each shape of the cloud (conftest.py SHAPES).
pytestmark = [pytest.mark.acceptance, pytest.mark.timeout(240), pytest.mark.every_shape]

TEMPLATE = """\
heat_template_version: 2018-08-31
description: a random string kept by a test resource
parameters:
  len: {type: number, default: 12, constraints: [{range: {min: 4, max: 64}}]}
resources:
  secret:
    type: OS::Heat::RandomString
    properties: {length: {get_param: len}}
  keeper:
    type: OS::Heat::TestResource
    properties: {value: {get_attr: [secret, value]}}
outputs:
  kept: {value: {get_attr: [keeper, output]}, description: the stored string}
"""

FAILING = """\
heat_template_version: 2018-08-31
resources:
  fine: {type: OS::Heat::TestResource}
  broken:
    type: OS::Heat::TestResource
    depends_on: fine
    properties: {fail: true}
"""


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


class Stacks:
    """The CLI for what is checked, raw HTTP for the waits and the many bad inputs (each
    CLI call costs seconds of start-up)."""

    def __init__(self, live: LiveCloud, tmp: Path) -> None:
        self.live = live
        self.tmp = tmp
        auth = httpx.post(f"{live.auth_url}/v3/auth/tokens", timeout=30, json={"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": "admin", "domain": {"id": "default"}, "password": "secret"}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}})
        assert auth.status_code == 201, auth.text
        self.project = auth.json()["token"]["project"]["id"]
        self.http = httpx.Client(base_url=f"{live.url}/heat-api/v1/{self.project}",
                                 headers={"X-Auth-Token": auth.headers["X-Subject-Token"]},
                                 timeout=30)

    def file(self, text: str) -> str:
        path = self.tmp / f"{unique('t')}.yaml"
        path.write_text(text)
        return str(path)

    def until(self, name: str, *statuses: str) -> dict[str, Any]:
        deadline = time.monotonic() + 60
        while True:
            answer = self.http.get(f"/stacks/{name}", follow_redirects=True)
            if answer.status_code == 404 and "DELETE_COMPLETE" in statuses:
                return {"stack_status": "DELETE_COMPLETE"}
            stack = answer.json()["stack"]
            if stack["stack_status"] in statuses:
                return dict(stack)
            assert time.monotonic() < deadline, stack
            time.sleep(0.2)


@pytest.fixture
def stacks(live: LiveCloud, tmp_path: Path) -> Stacks:
    return Stacks(live, tmp_path)


def test_cli_creates_shows_updates_and_deletes_a_stack(live: LiveCloud, stacks: Stacks) -> None:
    name = unique("st")
    path = stacks.file(TEMPLATE)
    created = live.openstack_json("stack", "create", "-t", path, "--parameter", "len=16", name)
    # A small stack may already be built by the time create answers (the engine runs at once).
    assert created["stack_status"] in ("CREATE_IN_PROGRESS", "CREATE_COMPLETE")
    stacks.until(name, "CREATE_COMPLETE", "CREATE_FAILED")
    shown = live.openstack_json("stack", "show", name)
    assert (shown["stack_status"], shown["stack_status_reason"]) == (
        "CREATE_COMPLETE", "Stack CREATE completed successfully")
    assert shown["parameters"]["len"] == "16"
    assert name in [row["Stack Name"] for row in live.openstack_json("stack", "list")]
    kept = live.openstack_json("stack", "output", "show", name, "kept")
    assert len(kept["output_value"]) == 16
    resources = {row["resource_name"]: row for row in live.openstack_json(
        "stack", "resource", "list", name)}
    assert {r["resource_status"] for r in resources.values()} == {"CREATE_COMPLETE"}
    assert resources["secret"]["resource_type"] == "OS::Heat::RandomString"
    events = live.openstack_json("stack", "event", "list", name)
    assert [(e["resource_name"], e["resource_status"]) for e in events][-1] == (
        name, "CREATE_COMPLETE")

    # --dry-run (heat's update preview) foretells what the update then does: a new length
    # replaces the string, and the keeper takes the new one in place.
    preview = live.openstack_json("stack", "update", "--dry-run", "--existing",
                                  "--parameter", "len=8", name)
    assert {kind: [r["resource_name"] for r in entries]
            for kind, entries in preview.items()} == {
        "added": [], "deleted": [], "replaced": ["secret"], "updated": ["keeper"],
        "unchanged": []}
    assert stacks.until(name, "CREATE_COMPLETE")["stack_status"] == "CREATE_COMPLETE"
    live.openstack("stack", "update", "--existing", "--parameter", "len=8", name)
    stacks.until(name, "UPDATE_COMPLETE", "UPDATE_FAILED")
    after = {row["resource_name"]: row for row in live.openstack_json(
        "stack", "resource", "list", name)}
    assert after["secret"]["physical_resource_id"] != \
        resources["secret"]["physical_resource_id"]
    assert after["keeper"]["physical_resource_id"] == \
        resources["keeper"]["physical_resource_id"]
    outputs = stacks.until(name, "UPDATE_COMPLETE")["outputs"]
    assert len(outputs[0]["output_value"]) == 8

    live.openstack("stack", "delete", "--yes", name)
    stacks.until(name, "DELETE_COMPLETE")


SNAPSHOTTED = """\
heat_template_version: 2018-08-31
parameters:
  value: {type: string, default: before}
resources:
  volume:
    type: OS::Cinder::Volume
    properties: {size: 1}
  keeper:
    type: OS::Heat::TestResource
    properties: {value: {get_param: value}}
outputs:
  kept: {value: {get_attr: [keeper, output]}}
"""


def test_cli_snapshots_a_stack_restores_and_deletes_the_snapshot(live: LiveCloud,
                                                                 stacks: Stacks) -> None:
    name = unique("snap")
    # The stack's own life through raw HTTP (the CLI's is the first test's): the CLI for
    # the snapshots only.
    answer = stacks.http.post("/stacks", json={"stack_name": name, "template": SNAPSHOTTED})
    assert answer.status_code == 201, answer.text
    stacks.until(name, "CREATE_COMPLETE")
    taken = live.openstack_json("stack", "snapshot", "create", "--name", "first", name)
    assert (taken["name"], taken["action"], taken["status"]) == (
        "first", "CREATE", "IN_PROGRESS")
    snapshot_id = taken["ID"]  # heatclient's column
    stacks.until(name, "SNAPSHOT_COMPLETE", "SNAPSHOT_FAILED")
    listed = live.openstack_json("stack", "snapshot", "list", name)
    assert [(s["id"], s["status"]) for s in listed] == [(snapshot_id, "COMPLETE")]
    shown = live.openstack_json("stack", "snapshot", "show", name, snapshot_id)["snapshot"]
    # The volume's part of it: a backup in cinder.
    backup = shown["data"]["resources"]["volume"]["resource_data"]["backup_id"]
    volume_api = f"{live.url}/volume/v3/backups/{backup}"
    assert httpx.get(volume_api, headers=stacks.http.headers, timeout=30).json()[
        "backup"]["status"] == "available"

    link = stacks.http.get(f"/stacks/{name}").headers["location"]
    assert stacks.http.patch(link, json={"parameters": {"value": "after"}}).status_code == 202
    assert stacks.until(name, "UPDATE_COMPLETE")["outputs"][0]["output_value"] == "after"
    live.openstack("stack", "snapshot", "restore", name, snapshot_id)
    restored = stacks.until(name, "RESTORE_COMPLETE", "RESTORE_FAILED")
    assert restored["stack_status_reason"] == "Stack RESTORE completed successfully"
    assert restored["outputs"][0]["output_value"] == "before"

    missing = live.openstack("stack", "snapshot", "show", name, "no-such", check=False)
    assert missing.returncode != 0
    assert "Snapshot ID <no-such> not found" in missing.stderr
    live.openstack("stack", "snapshot", "delete", "--yes", name, snapshot_id)
    deadline = time.monotonic() + 30
    while stacks.http.get(f"{link}/snapshots").json()["snapshots"]:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert stacks.http.delete(link).status_code == 204
    stacks.until(name, "DELETE_COMPLETE")


def test_cli_sees_a_failed_create_and_the_api_a_rollback(live: LiveCloud,
                                                         stacks: Stacks) -> None:
    failed, rolled = unique("fail"), unique("roll")
    answer = stacks.http.post("/stacks", json={"stack_name": rolled, "template": FAILING,
                                               "disable_rollback": False})
    assert answer.status_code == 201, answer.text
    live.openstack("stack", "create", "-t", stacks.file(FAILING), failed)
    shown = stacks.until(failed, "CREATE_FAILED")
    assert shown["stack_status_reason"] == (
        "Resource CREATE failed: ValueError: resources.broken: Test Resource failed broken")
    rows = {row["resource_name"]: row["resource_status"] for row in live.openstack_json(
        "stack", "resource", "list", failed)}
    assert rows == {"fine": "CREATE_COMPLETE", "broken": "CREATE_FAILED"}
    shown = stacks.until(rolled, "ROLLBACK_COMPLETE", "ROLLBACK_FAILED")
    assert shown["stack_status_reason"] == "Stack ROLLBACK completed successfully"
    assert stacks.http.get(f"/stacks/{rolled}/resources",
                           follow_redirects=True).json()["resources"] == []
    for name in (failed, rolled):
        link = stacks.http.get(f"/stacks/{name}").headers["location"]
        assert stacks.http.delete(link).status_code == 204


BAD = [
    ("heat_template_version: 2018-08-31\nresources:\n  x: {type: OS::No::Such}\n",
     "The Resource Type (OS::No::Such) could not be found."),
    ("heat_template_version: 2018-08-31\nresources:\n  x:\n    type: OS::Heat::Value\n"
     "    properties: {value: {Fn::Join: [',', [a]]}}\n",
     "resources.x.properties.value.Fn::Join: The template version is invalid: The function "
     "Fn::Join is not supported in this version of HOT."),
    ("heat_template_version: 2018-08-31\nparameters:\n  p: {type: string}\n",
     "The Parameter (p) was not provided."),
    ("heat_template_version: 2018-08-31\nresources:\n  a: {type: OS::Heat::None, depends_on: b}"
     "\n  b: {type: OS::Heat::None, depends_on: a}\n",
     "Circular Dependency Found: {a: {b}, b: {a}}"),
    (TEMPLATE.replace("default: 12", "default: 2"),
     "Parameter 'len' is invalid: Invalid default 2 (2 is out of range (min: 4, max: 64))"),
]


def test_bad_templates_get_heats_400(live: LiveCloud, stacks: Stacks) -> None:
    refused = live.openstack("orchestration", "template", "validate", "-t",
                             stacks.file(BAD[0][0]), check=False)
    assert refused.returncode != 0
    assert BAD[0][1] in refused.stderr, refused.stderr
    for template, message in BAD:
        answer = stacks.http.post("/stacks", json={"stack_name": unique("bad"),
                                                   "template": template})
        assert answer.status_code == 400, answer.text
        body = answer.json()
        assert (body["code"], body["title"], body["error"]["message"]) == (
            400, "Bad Request", message)
    answer = stacks.http.post("/stacks", json={"stack_name": unique("bad"),
                                               "template": TEMPLATE,
                                               "parameters": {"len": 2}})
    assert answer.json()["error"]["message"] == (
        "Parameter 'len' is invalid: 2 is out of range (min: 4, max: 64)")


MISSING_FLAVOR = """\
heat_template_version: 2018-08-31
parameters:
  flavor: {type: string, constraints: [{custom_constraint: nova.flavor}]}
resources:
  v: {type: OS::Heat::Value, properties: {value: {get_param: flavor}}}
"""

PORT = """\
heat_template_version: 2018-08-31
parameters:
  net: {type: string}
resources:
  port: {type: OS::Neutron::Port, properties: {network: {get_param: net}}}
"""


def test_custom_constraints_refuse_a_missing_flavor_and_another_projects_network(
        live: LiveCloud, stacks: Stacks) -> None:
    refused = live.openstack("stack", "create", "-t", stacks.file(MISSING_FLAVOR),
                             "--parameter", "flavor=no-such-flavor", unique("cc"),
                             check=False)
    assert refused.returncode != 0
    assert ("Parameter 'flavor' is invalid: Error validating value 'no-such-flavor': The "
            "Flavor (no-such-flavor) could not be found.") in refused.stderr, refused.stderr
    # The admin's private network, named by a member of another project: not found.
    admin = live.connect()
    project = admin.identity.create_project(name=unique("acc-heat"), domain_id="default")
    user = admin.identity.create_user(name=unique("acc-heat-user"), password="pw-acc-heat",
                                      domain_id="default", default_project_id=project.id)
    admin.identity.assign_project_role_to_user(project, user,
                                               admin.identity.find_role("member"))
    net = admin.network.create_network(name=unique("private"))
    as_member = ("--os-username", user.name, "--os-password", "pw-acc-heat",
                 "--os-project-name", project.name)
    refused = live.openstack(*as_member, "stack", "create", "-t", stacks.file(PORT),
                             "--parameter", f"net={net.id}", unique("cc"), check=False)
    assert refused.returncode != 0
    assert (f"Property error: resources.port.properties.network: Error validating value "
            f"'{net.id}': Unable to find network with name or id '{net.id}'"
            ) in refused.stderr, refused.stderr
    admin.network.delete_network(net)


WAIT = """\
heat_template_version: 2018-08-31
resources:
  handle: {type: OS::Heat::WaitConditionHandle}
  wait:
    type: OS::Heat::WaitCondition
    properties: {handle: {get_resource: handle}, timeout: 60}
outputs:
  curl: {value: {get_attr: [handle, curl_cli]}}
  data: {value: {get_attr: [wait, data]}}
"""


def test_curl_signals_a_wait_condition_through_heat_api_cfn(live: LiveCloud,
                                                            stacks: Stacks) -> None:
    name = unique("wait")
    answer = stacks.http.post("/stacks", json={"stack_name": name, "template": WAIT})
    assert answer.status_code == 201, answer.text
    link = answer.json()["stack"]["links"][0]["href"]
    deadline = time.monotonic() + 30
    while True:
        handle = stacks.http.get(f"{link}/resources/handle")
        if handle.status_code == 200 and handle.json()["resource"]["attributes"].get(
                "curl_cli"):
            break
        assert time.monotonic() < deadline, handle.text
        time.sleep(0.2)
    curl = shlex.split(handle.json()["resource"]["attributes"]["curl_cli"])
    done = subprocess.run([*curl, "--data", '{"Status": "SUCCESS", "UniqueId": "vm1", '
                           '"Data": "booted"}'], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and " 200 " in done.stdout.splitlines()[0], done.stdout
    shown = stacks.until(name, "CREATE_COMPLETE", "CREATE_FAILED")
    assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
    outputs = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
    assert outputs["data"] == '{"vm1": "booted"}'
    assert stacks.http.delete(link).status_code == 204


SOFTWARE = """\
heat_template_version: 2018-08-31
resources:
  config:
    type: OS::Heat::SoftwareConfig
    properties:
      group: script
      config: "#!/bin/sh\\necho $greeting"
      inputs: [{name: greeting}]
      outputs: [{name: result}]
  deploy:
    type: OS::Heat::SoftwareDeployment
    properties:
      config: {get_resource: config}
      server: no-agent-server
      input_values: {greeting: hello}
      signal_transport: NO_SIGNAL
outputs:
  code: {value: {get_attr: [deploy, deploy_status_code]}}
"""


def test_cli_software_configs_deployments_and_a_deployed_stack(live: LiveCloud,
                                                               stacks: Stacks) -> None:
    name = unique("cfg")
    script = stacks.file("#!/bin/sh\necho $foo\n")
    definition = stacks.file("inputs: [{name: foo, default: bar}]\n"
                             "outputs: [{name: result}]\n")
    made = live.openstack_json("software", "config", "create", "--group", "script",
                               "--config-file", script, "--definition-file", definition, name)
    assert (made["name"], made["group"], made["config"]) == (name, "script",
                                                             "#!/bin/sh\necho $foo\n")
    assert made["inputs"] == [{"name": "foo", "default": "bar", "type": "String"}]
    listed = live.openstack_json("software", "config", "list")
    assert made["id"] in [row["id"] for row in listed]
    shown = live.openstack_json("software", "config", "show", made["id"])
    assert shown["outputs"] == [{"name": "result", "type": "String", "error_output": False}]
    # heatclient derives a config from it (the inputs' values, heat's deploy_* ones) and
    # deploys that one; NO_SIGNAL needs no object store for a TempURL.
    deployed = live.openstack_json("software", "deployment", "create", "--config", made["id"],
                                   "--server", "no-agent-server", "--signal-transport",
                                   "NO_SIGNAL", "--input-value", "foo=baz",
                                   unique("deploy"))
    assert (deployed["server_id"], deployed["action"], deployed["status"]) == (
        "no-agent-server", "UPDATE", "IN_PROGRESS")
    seen = live.openstack_json("software", "deployment", "show", deployed["id"])
    assert seen["config_id"] == deployed["config_id"] != made["id"]
    derived = live.openstack_json("software", "config", "show", deployed["config_id"])
    assert {i["name"]: i.get("value") for i in derived["inputs"]}["foo"] == "baz"
    live.openstack("software", "deployment", "delete", deployed["id"])
    gone = live.openstack("software", "deployment", "show", deployed["id"], check=False)
    assert gone.returncode != 0 and "not found" in gone.stderr.lower(), gone.stderr
    live.openstack("software", "config", "delete", made["id"])
    gone = live.openstack("software", "config", "show", made["id"], check=False)
    assert gone.returncode != 0, gone.stdout

    stack = unique("sw")
    live.openstack("stack", "create", "-t", stacks.file(SOFTWARE), stack)
    done = stacks.until(stack, "CREATE_COMPLETE", "CREATE_FAILED")
    assert done["stack_status"] == "CREATE_COMPLETE", done["stack_status_reason"]
    resources = {row["resource_name"]: row for row in live.openstack_json(
        "stack", "resource", "list", stack)}
    assert resources["deploy"]["resource_type"] == "OS::Heat::SoftwareDeployment"
    deployment = live.openstack_json("software", "deployment", "show",
                                     resources["deploy"]["physical_resource_id"])
    assert (deployment["status"], deployment["status_reason"]) == (
        "COMPLETE", "Not waiting for outputs signal")
    # heatclient prints the server's metadata as JSON by itself (no formatter).
    metadata = json.loads(live.openstack("software", "deployment", "metadata", "show",
                                         "no-agent-server").stdout)
    assert [c["id"] for c in metadata] == [deployment["config_id"]]
    live.openstack("stack", "delete", "--yes", stack)
    stacks.until(stack, "DELETE_COMPLETE")
    assert live.openstack_json("software", "deployment", "list",
                               "--server", "no-agent-server") == []


SERVER = """\
heat_template_version: 2018-08-31
parameters:
  prefix: {type: string}
resources:
  word:
    type: OS::Heat::RandomString
    properties: {length: 6}
  motto:
    type: OS::Heat::Value
    properties: {value: {get_file: motto.txt}}
outputs:
  name: {value: {list_join: ['-', [{get_param: prefix}, {get_attr: [word, value]}]]}}
  motto: {value: {get_attr: [motto, value]}}
"""

NESTING = """\
heat_template_version: 2018-08-31
resources:
  direct:
    type: server.yaml
    properties: {prefix: d}
  mapped:
    type: My::Server
    properties: {prefix: m}
outputs:
  direct: {value: {get_attr: [direct, name]}}
  motto: {value: {get_attr: [mapped, motto]}}
  mapped_id: {value: {get_attr: [mapped, OS::stack_id]}}
"""


def test_cli_creates_template_resources_as_nested_stacks(live: LiveCloud,
                                                         stacks: Stacks) -> None:
    name = unique("nest")
    folder = stacks.tmp / name
    folder.mkdir()
    (folder / "server.yaml").write_text(SERVER)
    (folder / "motto.txt").write_text("keep it small")
    (folder / "top.yaml").write_text(NESTING)
    (folder / "env.yaml").write_text("resource_registry:\n  My::Server: server.yaml\n")
    # heatclient reads server.yaml (a type, and the registry's entry) and motto.txt (a
    # get_file of the nested template) into the request's files.
    live.openstack("stack", "create", "-t", str(folder / "top.yaml"), "-e",
                   str(folder / "env.yaml"), name)
    shown = stacks.until(name, "CREATE_COMPLETE", "CREATE_FAILED")
    assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
    outputs = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
    assert outputs["direct"].startswith("d-") and len(outputs["direct"]) == 8
    assert outputs["motto"] == "keep it small"
    listed = live.openstack_json("stack", "list", "--nested")
    nested = {row["Stack Name"]: row for row in listed if row.get("Parent") == shown["id"]}
    assert sorted(n.rsplit("-", 1)[0] for n in nested) == [f"{name}-direct",
                                                           f"{name}-mapped"]
    assert outputs["mapped_id"] in {row["ID"] for row in nested.values()}
    assert not any(row["Stack Name"] in nested for row in live.openstack_json(
        "stack", "list"))
    rows = live.openstack_json("stack", "resource", "list", "--nested-depth", "1", name)
    inner = sorted((row["stack_name"].rsplit("-", 1)[0], row["resource_name"])
                   for row in rows if row["stack_name"] != name)
    assert inner == [(f"{name}-direct", "motto"), (f"{name}-direct", "word"),
                     (f"{name}-mapped", "motto"), (f"{name}-mapped", "word")]
    events = live.openstack_json("stack", "event", "list", "--nested-depth", "1", name)
    assert {(e["stack_name"].rsplit("-", 1)[0], e["resource_name"], e["resource_status"])
            for e in events if e["stack_name"] != name} >= {
        (f"{name}-direct", "word", "CREATE_COMPLETE"),
        (f"{name}-mapped", "motto", "CREATE_COMPLETE")}
    live.openstack("stack", "delete", "--yes", name)
    stacks.until(name, "DELETE_COMPLETE")
    deadline = time.monotonic() + 30
    while any(stacks.http.get(f"/stacks/{n}").status_code != 404 for n in nested):
        assert time.monotonic() < deadline
        time.sleep(0.2)


SCALED = """\
heat_template_version: 2018-08-31
resources:
  asg:
    type: OS::Heat::AutoScalingGroup
    properties:
      min_size: 1
      max_size: 3
      resource: {type: OS::Heat::RandomString, properties: {length: 8}}
  up:
    type: OS::Heat::ScalingPolicy
    properties:
      auto_scaling_group_id: {get_resource: asg}
      adjustment_type: change_in_capacity
      scaling_adjustment: 1
  down:
    type: OS::Heat::ScalingPolicy
    properties:
      auto_scaling_group_id: {get_resource: asg}
      adjustment_type: exact_capacity
      scaling_adjustment: 1
outputs:
  up_url: {value: {get_attr: [up, alarm_url]}}
  size: {value: {get_attr: [asg, current_size]}}
"""


def test_curl_to_a_scaling_policys_alarm_url_grows_the_group(live: LiveCloud,
                                                             stacks: Stacks) -> None:
    name = unique("asg")
    live.openstack("stack", "create", "-t", stacks.file(SCALED), name)
    shown = stacks.until(name, "CREATE_COMPLETE", "CREATE_FAILED")
    assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
    outputs = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
    assert outputs["size"] == 1

    def size() -> int:
        # The stack's outputs are resolved again at the end of each scaling (a signal
        # meanwhile would be ignored, as heat ignores one while its group scales).
        stack = stacks.http.get(f"/stacks/{name}/{shown['id']}").json()["stack"]
        return int(next(o["output_value"] for o in stack["outputs"]
                        if o["output_key"] == "size"))

    def settled(expected: int) -> None:
        deadline = time.monotonic() + 30
        while size() != expected:
            assert time.monotonic() < deadline, size()
            time.sleep(0.2)

    for expected in (2, 3, 3):  # max_size holds
        done = subprocess.run(["curl", "-si", "-X", "POST", "-H",
                               "Content-Type: application/json", "--data", "{}",
                               outputs["up_url"]], capture_output=True, text=True,
                              timeout=30)
        assert " 200 " in done.stdout.splitlines()[0], done.stdout
        settled(expected)
    rows = live.openstack_json("stack", "resource", "list", "--nested-depth", "1", name)
    assert len([r for r in rows if r["resource_type"] == "OS::Heat::RandomString"]) == 3
    live.openstack("stack", "resource", "signal", name, "down")
    settled(1)
    live.openstack("stack", "delete", "--yes", name)
    stacks.until(name, "DELETE_COMPLETE")
    assert not [s for s in stacks.http.get("/stacks", params={"show_nested": True}).json()[
        "stacks"] if s["stack_name"].startswith(name)]


HOOKED = """\
heat_template_version: 2018-08-31
resources:
  first_server: {type: OS::Heat::TestResource, properties: {value: one}}
  second_server: {type: OS::Heat::TestResource, properties: {value: two}}
  plain: {type: OS::Heat::RandomString}
"""
PAUSED = "CREATE paused until Hook pre-create is cleared"


def test_cli_polls_and_clears_pre_create_hooks(live: LiveCloud, stacks: Stacks) -> None:
    name = unique("hook")
    env = stacks.file('resource_registry:\n  resources:\n    "*_server": {hooks: pre-create}\n')
    live.openstack("stack", "create", "-t", stacks.file(HOOKED), "-e", env, name)
    deadline = time.monotonic() + 30
    while len([e for e in stacks.http.get(f"/stacks/{name}/events",
                                          follow_redirects=True).json()["events"]
               if e["resource_status_reason"] == PAUSED]) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    polled = live.openstack_json("stack", "hook", "poll", name)
    assert sorted((row["Resource Name"], row["Resource Status Reason"]) for row in polled) == [
        ("first_server", PAUSED), ("second_server", PAUSED)]
    paused = stacks.until(name, "CREATE_IN_PROGRESS", "CREATE_COMPLETE")
    assert paused["stack_status"] == "CREATE_IN_PROGRESS"

    live.openstack("stack", "hook", "clear", name, "first_server")
    # Cleared once: heat's 400 for a hook no longer set.
    answer = stacks.http.post(f"/stacks/{name}/{paused['id']}/resources/first_server/signal",
                              json={"unset_hook": "pre-create"})
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["type"] == "InvalidBreakPointHook"
    assert answer.json()["error"]["message"].startswith(
        'The "pre-create" hook is not defined on TestResource "first_server"')
    live.openstack("stack", "hook", "clear", "--pre-create", name, "second_*")
    shown = stacks.until(name, "CREATE_COMPLETE", "CREATE_FAILED")
    assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
    assert stacks.http.delete(f"/stacks/{name}/{shown['id']}").status_code == 204
    stacks.until(name, "DELETE_COMPLETE")


GROUPED = """\
heat_template_version: 2018-08-31
parameters:
  count: {type: number, default: 3}
  remove: {type: comma_delimited_list, default: []}
resources:
  group:
    type: OS::Heat::ResourceGroup
    properties:
      count: {get_param: count}
      removal_policies: [{resource_list: {get_param: remove}}]
      resource_def: {type: OS::Heat::RandomString, properties: {length: 6}}
outputs:
  refs: {value: {get_attr: [group, refs_map]}}
  removed: {value: {get_attr: [group, removed_rsrc_list]}}
"""


def test_cli_scales_a_group_from_2_to_5_and_back_removing_the_policys_name(
        live: LiveCloud, stacks: Stacks) -> None:
    name = unique("rg")
    answer = stacks.http.post("/stacks", json={"stack_name": name, "template": GROUPED,
                                               "parameters": {"count": 2}})
    assert answer.status_code == 201, answer.text
    shown = stacks.until(name, "CREATE_COMPLETE", "CREATE_FAILED")
    first = {o["output_key"]: o["output_value"] for o in shown["outputs"]}["refs"]
    assert sorted(first) == ["0", "1"]
    # Up to 5: three members more, the first two kept as they were.
    live.openstack("stack", "update", "--existing", "--parameter", "count=5", name)
    shown = stacks.until(name, "UPDATE_COMPLETE", "UPDATE_FAILED")
    assert shown["stack_status"] == "UPDATE_COMPLETE", shown["stack_status_reason"]
    before = {o["output_key"]: o["output_value"] for o in shown["outputs"]}["refs"]
    assert sorted(before) == ["0", "1", "2", "3", "4"]
    assert (before["0"], before["1"]) == (first["0"], first["1"])
    # Back to 2, the removal policy naming member 1: it goes first, 0 and 2 stay.
    live.openstack("stack", "update", "--existing", "--parameter", "count=2",
                   "--parameter", "remove=1", name)
    shown = stacks.until(name, "UPDATE_COMPLETE", "UPDATE_FAILED")
    assert shown["stack_status"] == "UPDATE_COMPLETE", shown["stack_status_reason"]
    outputs = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
    # Member 1 went, 0 and 2 stayed as they were.
    assert outputs["refs"] == {"0": before["0"], "2": before["2"]}
    assert outputs["removed"] == ["1"]
    rows = live.openstack_json("stack", "resource", "list", "--nested-depth", "1", name)
    assert sorted(r["resource_name"] for r in rows
                  if r["resource_type"] == "OS::Heat::RandomString") == ["0", "2"]
    assert stacks.http.delete(f"/stacks/{name}/{shown['id']}").status_code == 204
    stacks.until(name, "DELETE_COMPLETE")


AGENT = """\
heat_template_version: 2018-08-31
resources:
  server:
    type: OS::Nova::Server
    properties:
      image: cirros-0.6.2-x86_64-disk
      flavor: m1.tiny
      networks: []
      user_data_format: SOFTWARE_CONFIG
  config:
    type: OS::Heat::SoftwareConfig
    properties:
      group: script
      config: "#!/bin/sh\\necho $greeting > $heat_outputs_path.result"
      inputs: [{name: greeting}]
      outputs: [{name: result}]
  deploy:
    type: OS::Heat::SoftwareDeployment
    properties:
      config: {get_resource: config}
      server: {get_resource: server}
      input_values: {greeting: hello}
outputs:
  result: {value: {get_attr: [deploy, result]}}
"""


def test_os_collect_config_polls_heat_api_cfn_and_signals_its_deployment(
        live: LiveCloud, stacks: Stacks) -> None:
    ec2_utils = pytest.importorskip("keystoneclient.contrib.ec2.utils")
    name = unique("agent")
    stack_id = live.openstack_json("stack", "create", "-t", stacks.file(AGENT), name)["id"]
    deadline = time.monotonic() + 60
    while True:  # the deployment is written into the server's metadata once it is made
        answer = stacks.http.get(f"/stacks/{name}/{stack_id}/resources/server/metadata")
        if answer.status_code == 200 and answer.json()["metadata"].get("deployments"):
            break
        assert time.monotonic() < deadline, answer.text
        time.sleep(0.2)
    # What the agent finds in its metadata (heat hands it to the VM at boot).
    metadata = json.loads(live.openstack("stack", "resource", "metadata", name,
                                         "server").stdout)
    cfn = metadata["os-collect-config"]["cfn"]
    assert cfn["path"] == "server.Metadata" and cfn["stack_name"] == name
    # os-collect-config's cfn collector: an EC2-signed DescribeStackResource, XML back.
    url = httpx.URL(cfn["metadata_url"])
    params = {"Action": "DescribeStackResource", "StackName": cfn["stack_name"],
              "LogicalResourceId": "server", "AWSAccessKeyId": cfn["access_key_id"],
              "SignatureVersion": "2"}
    params["Signature"] = ec2_utils.Ec2Signer(secret_key=cfn["secret_access_key"]).generate(
        {"params": params, "verb": "GET", "host": url.netloc.decode(), "path": url.path})
    answer = httpx.get(cfn["metadata_url"], params=params, timeout=30)
    assert answer.status_code == 200, answer.text
    detail = ElementTree.fromstring(answer.text).find(
        "DescribeStackResourceResult/StackResourceDetail")
    assert detail is not None, answer.text
    [deployment] = json.loads(detail.findtext("Metadata") or "")["deployments"]
    inputs = {i["name"]: i.get("value") for i in deployment["inputs"]}
    assert inputs["greeting"] == "hello"
    # The agent ran the script: it signals the deployment's outputs to deploy_signal_id.
    signalled = httpx.post(inputs["deploy_signal_id"], timeout=30, json={
        "deploy_stdout": "", "deploy_stderr": "", "deploy_status_code": 0,
        "result": "hello"})
    assert signalled.status_code == 200, signalled.text
    shown = stacks.until(name, "CREATE_COMPLETE", "CREATE_FAILED")
    assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
    assert {o["output_key"]: o["output_value"] for o in shown["outputs"]} == {
        "result": "hello"}
    # A wrong signature: heat-api-cfn's SignatureDoesNotMatch.
    params["Signature"] = "AAAA" + params["Signature"][4:]
    refused = httpx.get(cfn["metadata_url"], params=params, timeout=30)
    assert refused.status_code == 403
    assert ElementTree.fromstring(refused.text).findtext("Error/Code") == (
        "SignatureDoesNotMatch")
    assert stacks.http.delete(f"/stacks/{name}/{stack_id}").status_code == 204


OVER_INNER = """\
heat_template_version: 2018-08-31
resources:
  inner: {type: inner.yaml}
outputs:
  kept: {value: {get_attr: [inner, kept]}}
"""


def test_cli_abandons_a_stack_with_its_nested_stack_and_adopts_it_back(
        live: LiveCloud, stacks: Stacks) -> None:
    # The lab turns on heat's enable_stack_abandon and enable_stack_adopt (off upstream).
    name, adopted = unique("aband"), unique("adopt")
    inner = stacks.tmp / "inner.yaml"
    inner.write_text(TEMPLATE)
    top = stacks.tmp / "top.yaml"
    top.write_text(OVER_INNER)
    live.openstack("stack", "create", "-t", str(top), name)
    kept = stacks.until(name, "CREATE_COMPLETE")["outputs"][0]["output_value"]
    data_file = stacks.tmp / "abandoned.json"
    live.openstack("stack", "abandon", "--output-file", str(data_file), name)
    data = json.loads(data_file.read_text())
    assert data["resources"]["inner"]["resources"]["secret"]["resource_data"]["value"] == kept
    # Both the stack and its nested stack are gone.
    left = stacks.http.get("/stacks", params={"show_nested": True}).json()["stacks"]
    assert [s["stack_name"] for s in left if s["stack_name"].startswith(name)] == []
    live.openstack("stack", "adopt", "--adopt-file", str(data_file), adopted)
    shown = stacks.until(adopted, "ADOPT_COMPLETE", "ADOPT_FAILED")
    assert shown["stack_status"] == "ADOPT_COMPLETE", shown["stack_status_reason"]
    assert shown["outputs"][0]["output_value"] == kept
    live.openstack("stack", "delete", "--yes", adopted)
    stacks.until(adopted, "DELETE_COMPLETE")
