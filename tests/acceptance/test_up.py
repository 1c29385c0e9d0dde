"""``stacklab up`` as an operator runs it: state across restarts, the client files it
writes, health, wait, status, init hooks, and how it fails.

Every test starts its own server process (about a second each); the read-only checks
share one cloud per module. CLI calls start an interpreter each (~1 s), so they are few.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from acceptance.conftest import BIN, LiveCloud, free_port, start_cloud, stop_cloud

pytestmark = pytest.mark.acceptance

LAB_NODES = {
    "controller1": "controller", "controller2": "controller",
    "network1": "network", "network2": "network",
    "compute1": "compute", "compute2": "compute",
    "storage1": "storage", "storage2": "storage",
    "arbiter": "arbiter", "monitor": "monitor",
    "proxy1": "proxy", "proxy2": "proxy",
}


# -- helpers ---------------------------------------------------------------------------------


def http(method: str, url: str, *, headers: dict[str, str] | None = None,
         body: Any = None) -> tuple[int, httpx.Headers, Any]:
    """One request; (status, headers, parsed JSON body or None). Errors are answers too."""
    response = httpx.request(method, url, headers=headers, json=body, timeout=10)
    return response.status_code, response.headers, response.json() if response.content else None


def password_token(cloud: LiveCloud, user: str = "admin", password: str = "secret",
                   project: str = "admin") -> str:
    status, headers, body = http("POST", f"{cloud.auth_url}/v3/auth/tokens", body={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"name": "Default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}})
    assert status == 201, body
    token = headers["X-Subject-Token"]
    assert isinstance(token, str), headers
    return token


def stacklab(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "stacklab"), *args], capture_output=True, text=True,
                          timeout=timeout)


def stop_cleanly(cloud: LiveCloud) -> None:
    """Ctrl-C: the server shuts down, says so and exits 0 (SIGTERM does not, see below)."""
    cloud.process.send_signal(signal.SIGINT)
    try:
        code = cloud.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        cloud.process.kill()
        raise
    log = cloud.log.read_text()
    assert code == 0, f"Ctrl-C ended stacklab with {code}:\n{log}"
    assert log.rstrip().endswith("stacklab stopped"), log


def other_port(*taken: int) -> int:
    while True:
        port: int = free_port()
        if port not in taken:
            return port


def port_of(cloud: LiveCloud) -> int:
    return int(cloud.url.rsplit(":", 1)[1])


def image_list(cloud: LiveCloud) -> list[tuple[str, str]]:
    status, _, body = http("GET", f"{cloud.url}/image/v2/images",
                           headers={"X-Auth-Token": password_token(cloud)})
    assert status == 200, body
    return sorted((image["id"], image["name"]) for image in body["images"])


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder``, by relative name, with a hash of its content."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def names(rows: list[dict[str, Any]]) -> set[str]:
    return {row["Name"] for row in rows}


class Reaper:
    """Kills, at the end of a test, every cloud it started that is still running."""

    def __init__(self) -> None:
        self.clouds: list[LiveCloud] = []

    def __call__(self, live: LiveCloud) -> LiveCloud:
        self.clouds.append(live)
        return live

    def kill_all(self) -> None:
        for live in self.clouds:
            if live.process.poll() is None:
                live.process.kill()
                live.process.wait(timeout=15)


@pytest.fixture
def reap() -> Iterator[Reaper]:
    reaper = Reaper()
    yield reaper
    reaper.kill_all()


# -- one shared cloud for the read-only checks ----------------------------------------------


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCloud]:
    tmp = tmp_path_factory.mktemp("up")
    # A clouds.yaml the operator already had: stacklab must add its entry, not replace the file.
    (tmp / "clouds.yaml").write_text(yaml.safe_dump({"clouds": {"other": {
        "auth": {"auth_url": "https://keystone.example.org:5000/v3", "username": "alice"},
        "region_name": "Elsewhere"}}}))
    live = start_cloud(tmp)
    yield live
    stop_cleanly(live)


def test_up_prints_endpoint_and_start_to_ready_time(cloud: LiveCloud) -> None:
    log = cloud.log.read_text()
    # The format only: how long it took depends on the machine.
    assert re.search(rf"^stacklab is up in \d+\.\d+ s: {re.escape(cloud.url)}$", log, re.M), log
    assert f"auth_url   {cloud.auth_url}" in log


def test_clouds_yaml_keeps_other_entries(cloud: LiveCloud) -> None:
    clouds = yaml.safe_load(cloud.clouds_yaml.read_text())["clouds"]
    assert set(clouds) == {"other", "stacklab"}
    assert clouds["other"] == {
        "auth": {"auth_url": "https://keystone.example.org:5000/v3", "username": "alice"},
        "region_name": "Elsewhere"}
    entry = clouds["stacklab"]
    assert entry["auth"]["auth_url"] == f"{cloud.url}/identity"
    assert entry["auth"]["username"] == "admin"
    assert entry["auth"]["password"] == "secret"
    assert entry["auth"]["project_name"] == "admin"
    assert entry["region_name"] == "RegionOne"
    # It holds a password: readable by its owner only.
    assert cloud.clouds_yaml.stat().st_mode & 0o077 == 0
    # And the entry works for the real CLI.
    issued = cloud.openstack_json("token", "issue")
    assert issued["project_id"] and issued["user_id"]


def test_openrc_works_on_its_own(cloud: LiveCloud) -> None:
    openrc = (cloud.state_dir / "openrc").read_text()
    exports = dict(re.findall(r"^export (OS_\w+)=(.*)$", openrc, re.M))
    assert exports["OS_AUTH_URL"] == f"{cloud.url}/identity"
    assert exports["OS_USERNAME"] == "admin"
    assert exports["OS_PROJECT_NAME"] == "admin"
    assert exports["OS_USER_DOMAIN_NAME"] == "Default"
    assert exports["OS_IDENTITY_API_VERSION"] == "3"
    assert (cloud.state_dir / "endpoint").read_text().strip() == cloud.url
    # No OS_* of the test's environment and no clouds.yaml: only what the openrc exports.
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env.update(OS_CLIENT_CONFIG_FILE=os.devnull,
               PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    result = subprocess.run(["bash", "-c", "source openrc && openstack token issue -f json"],
                            cwd=cloud.state_dir, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    issued = json.loads(result.stdout)
    assert issued["project_id"] and issued["id"]


def test_openrc_is_owner_only(cloud: LiveCloud) -> None:
    assert "OS_PASSWORD=secret" in (cloud.state_dir / "openrc").read_text()
    assert (cloud.state_dir / "openrc").stat().st_mode & 0o077 == 0


def test_health_and_wait(cloud: LiveCloud) -> None:
    status, _, body = http("GET", f"{cloud.url}/stacklab/v1/health")
    assert status == 200
    assert body["status"] == "ready"
    assert body["services"]["identity"] == "ready"
    assert set(body["services"].values()) == {"ready"}
    assert body["init_hooks"] == "done"

    waited = stacklab("wait", "--url", cloud.url, "--timeout", "10")
    assert waited.returncode == 0, waited.stderr
    assert f"stacklab is ready at {cloud.url}" in waited.stdout

    # Nothing listens there: wait gives up after its timeout, saying why.
    nowhere = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    gave_up = stacklab("wait", "--url", nowhere, "--timeout", "1", timeout=30)
    assert gave_up.returncode == 1
    assert "not ready after 1 s" in gave_up.stderr
    assert nowhere in gave_up.stderr
    assert "Traceback" not in gave_up.stderr
    assert time.monotonic() - started >= 1


def test_status_lists_the_lab(cloud: LiveCloud) -> None:
    # The lab's status takes an admin token: the CLI gets one with the state dir's openrc.
    text = stacklab("status", "--url", cloud.url, "--state-dir", str(cloud.state_dir))
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == f"endpoint {cloud.url}  status ready"
    # A line per node, then the faults, the sections and the problems, each after a blank.
    assert lines[13:16] == ["", "faults", "  no faults in force"]
    assert lines[-2:] == ["problems", "  none"]
    for (name, role), line in zip(LAB_NODES.items(), lines[1:13], strict=True):
        words = line.split()
        assert words[0] == f"{name}.openstack.local"
        assert words[1] == "up"
        assert words[2] == role

    as_json = stacklab("status", "--state-dir", str(cloud.state_dir), "--json")
    assert as_json.returncode == 0, as_json.stderr
    body = json.loads(as_json.stdout)
    assert body["endpoint"] == cloud.url
    assert body["status"] == "ready"
    nodes = {node["fqdn"]: node for node in body["nodes"]}
    assert len(body["nodes"]) == 12
    assert set(nodes) == {f"{name}.openstack.local" for name in LAB_NODES}
    for name, role in LAB_NODES.items():
        node = nodes[f"{name}.openstack.local"]
        assert node["roles"] == [role]
        assert node["services"], node
        assert node["state"] == "up"
        assert ("keystone" in node["services"]) == (role == "controller")
    assert "haproxy" in nodes["proxy1.openstack.local"]["services"]
    assert "nova-compute" in nodes["compute2.openstack.local"]["services"]


def test_unimplemented_operation_is_501_naming_it(cloud: LiveCloud) -> None:
    token = password_token(cloud)
    path = "/identity/v3/OS-FEDERATION/identity_providers"
    status, _, body = http("GET", f"{cloud.url}{path}", headers={"X-Auth-Token": token})
    assert status == 501, body
    error = body["error"]
    assert error["code"] == 501
    assert error["title"] == "Not Implemented"
    assert "GET" in error["message"]
    assert path in error["message"]


# -- state across restarts -------------------------------------------------------------------


def test_restart_keeps_everything(tmp_path: Path, reap: Reaper) -> None:
    state = tmp_path / "state"
    first = reap(start_cloud(tmp_path, state_dir=state))
    first.openstack("project", "create", "kept")
    first.openstack("user", "create", "--project", "kept", "--password", "keptpw", "keeper")
    first.openstack("role", "add", "--project", "kept", "--user", "keeper", "member")
    credential = first.openstack_json("application", "credential", "create",
                                      "--secret", "appsecret", "keptcred")
    old_token = password_token(first, "keeper", "keptpw", "kept")
    services = {s["Type"] for s in first.openstack_json("catalog", "list")}
    images = image_list(first)
    assert images, "no image registered at the first start"
    # SIGTERM, as a service manager stops it.
    stop_cloud(first)

    second = reap(start_cloud(tmp_path, state_dir=state, port=other_port(port_of(first))))
    assert second.url != first.url
    try:
        assert "kept" in names(second.openstack_json("project", "list"))
        assignments = second.openstack_json("role", "assignment", "list", "--names",
                                            "--project", "kept", "--user", "keeper")
        assert [(a["Role"], a["User"], a["Project"]) for a in assignments] == [
            ("member", "keeper@Default", "kept@Default")]
        listed = second.openstack_json("application", "credential", "list")
        assert [(c["ID"], c["Name"]) for c in listed] == [(credential["ID"], "keptcred")]

        # The catalog follows the new port; nothing points at the old one.
        catalog = second.openstack_json("catalog", "list")
        urls = {e["url"] for service in catalog for e in service["Endpoints"]}
        assert f"{second.url}/identity" in urls, catalog
        assert all(url.startswith(f"{second.url}/") for url in urls), catalog
        assert {s["Type"] for s in catalog} == services, catalog
        # The images registered at the first start are the same ones, not registered again.
        assert image_list(second) == images

        # Passwords and secrets are hashed in the store; the Fernet keys are too.
        password_token(second, "keeper", "keptpw", "kept")
        status, _, body = http("POST", f"{second.auth_url}/v3/auth/tokens", body={"auth": {
            "identity": {"methods": ["application_credential"], "application_credential": {
                "id": credential["ID"], "secret": "appsecret"}}}})
        assert status == 201, body
        status, _, body = http("GET", f"{second.auth_url}/v3/auth/tokens", headers={
            "X-Auth-Token": password_token(second), "X-Subject-Token": old_token})
        assert status == 200, body
        assert body["token"]["user"]["name"] == "keeper"
        assert body["token"]["project"]["name"] == "kept"
    finally:
        stop_cloud(second)


def test_sigterm_stops_cleanly(tmp_path: Path, reap: Reaper) -> None:
    live = reap(start_cloud(tmp_path, "--ephemeral"))
    code = stop_cloud(live)
    log = live.log.read_text()
    assert code == 0, f"SIGTERM ended stacklab with {code}:\n{log}"
    assert log.rstrip().endswith("stacklab stopped"), log


def test_ephemeral_keeps_nothing(tmp_path: Path, reap: Reaper) -> None:
    state = tmp_path / "state"
    first = reap(start_cloud(tmp_path, state_dir=state))
    first.openstack("project", "create", "persisted")
    stop_cleanly(first)
    assert (state / "stacklab.db").is_file()
    before = snapshot(state)

    second = reap(start_cloud(tmp_path, "--ephemeral", state_dir=state,
                              port=other_port(port_of(first))))
    try:
        projects = names(second.openstack_json("project", "list"))
        assert "persisted" not in projects
        assert "admin" in projects
        second.openstack("project", "create", "fleeting")
    finally:
        stop_cleanly(second)
    # Neither the store nor the openrc or endpoint file of the first run was touched.
    assert snapshot(state) == before

    third = reap(start_cloud(tmp_path, state_dir=state, port=other_port(port_of(second))))
    try:
        projects = names(third.openstack_json("project", "list"))
        assert "persisted" in projects
        assert "fleeting" not in projects
    finally:
        stop_cleanly(third)


# -- init hooks ------------------------------------------------------------------------------


def spawn(tmp: Path, *extra: str, env: dict[str, str]) -> LiveCloud:
    """``stacklab up`` without waiting for it: the test decides how to wait.

    The clouds.yaml goes to a folder of its own: openstacksdk also reads ./clouds.yaml, and
    the hooks run in stacklab's working directory (``tmp``).
    """
    port = free_port()
    log = tmp / f"stacklab-{port}.log"
    clouds_yaml = tmp / "client" / "clouds.yaml"
    with log.open("ab") as handle:
        process = subprocess.Popen(
            [str(BIN / "stacklab"), "up", "--port", str(port), "--state-dir", str(tmp / "state"),
             "--clouds-yaml", str(clouds_yaml), *extra],
            stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=tmp)
    return LiveCloud(f"http://127.0.0.1:{port}", tmp / "state", clouds_yaml, process, log)


def first_health(live: LiveCloud) -> Any:
    """The first answer of the health endpoint, whatever its status."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert live.process.poll() is None, live.log.read_text()
        try:
            return http("GET", f"{live.url}/stacklab/v1/health")[2]
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError(f"stacklab up did not answer in 30 s:\n{live.log.read_text()}")


def hook_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The test's environment, with no OS_* and no clouds.yaml of this machine's user."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    (tmp / "xdg").mkdir(exist_ok=True)
    env.update(XDG_CONFIG_HOME=str(tmp / "xdg"), **extra)
    return env


def write_hook(folder: Path, name: str, text: str, executable: bool = False) -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)
    if executable:
        (folder / name).chmod(0o755)


def test_init_hooks_run_in_order_before_ready(tmp_path: Path, reap: Reaper) -> None:
    hooks = tmp_path / "hooks"
    gate = tmp_path / "gate"
    # Holds the hooks back until the test has seen the cloud answer "not ready yet".
    write_hook(hooks, "05-gate.sh", f"#!/bin/sh\nfor i in $(seq 600); do\n"
               f"  [ -f {gate} ] && exit 0; sleep 0.05\ndone\nexit 1\n", executable=True)
    write_hook(hooks, "10-demo.openstack", "# the README's example\n"
               "project create demo\n"
               "user create --project demo --password demopw demo\n"
               "\n"
               "openstack role add --project demo --user demo member\n")
    write_hook(hooks, "15-broken.sh", "#!/bin/sh\necho 'broken on purpose'\nexit 3\n",
               executable=True)
    write_hook(hooks, "20-script.sh", "#!/bin/sh\nset -e\n"
               "test \"$OS_CLOUD\" = stacklab\n"
               "test -n \"$OS_AUTH_URL\"\n"
               "openstack project create hooked\n", executable=True)
    write_hook(hooks, "30-notes.txt", "neither executable nor *.openstack: skipped\n")
    env = hook_env(tmp_path)
    live = reap(spawn(tmp_path, "--init-hooks", str(hooks), env=env))
    try:
        health = first_health(live)
        # The services answer, but the cloud is not ready until the hooks have run.
        assert health["status"] == "starting", health
        assert health["init_hooks"] == "running", health
        assert set(health["services"].values()) == {"ready"}, health
        early = stacklab("wait", "--url", live.url, "--timeout", "0.5")
        assert early.returncode == 1
        assert "not ready" in early.stderr

        gate.touch()
        waited = stacklab("wait", "--url", live.url, "--timeout", "60", timeout=90)
        assert waited.returncode == 0, live.log.read_text()
        _, _, health = http("GET", f"{live.url}/stacklab/v1/health")
        assert health["status"] == "ready"
        assert health["init_hooks"] == "done"

        log = live.log.read_text()
        assert "init hook 15-broken.sh exited 3: broken on purpose" in log
        assert "init hooks failed: 15-broken.sh" in log
        assert "Traceback" not in log
        assert "30-notes.txt exited" not in log

        projects = names(live.openstack_json("project", "list"))
        assert {"demo", "hooked"} <= projects
        assignments = live.openstack_json("role", "assignment", "list", "--names",
                                          "--project", "demo", "--user", "demo")
        assert [a["Role"] for a in assignments] == ["member"]
        password_token(live, "demo", "demopw", "demo")
    finally:
        stop_cleanly(live)


def test_init_hooks_use_the_clouds_yaml_written(tmp_path: Path, reap: Reaper) -> None:
    hooks = tmp_path / "hooks"
    write_hook(hooks, "10-project.openstack", "project create hooked\n")
    live = reap(spawn(tmp_path, "--init-hooks", str(hooks), env=hook_env(tmp_path)))
    try:
        waited = stacklab("wait", "--url", live.url, "--timeout", "60", timeout=90)
        assert waited.returncode == 0, live.log.read_text()
        log = live.log.read_text()
        assert "init hooks failed" not in log, log
        assert "hooked" in names(live.openstack_json("project", "list"))
    finally:
        stop_cleanly(live)


def test_init_hook_scripts_find_the_openstack_cli(tmp_path: Path, reap: Reaper) -> None:
    path = f"/usr/bin{os.pathsep}/bin"
    if shutil.which("openstack", path=path):
        pytest.skip("an openstack CLI is installed system-wide")
    hooks = tmp_path / "hooks"
    write_hook(hooks, "20-script.sh", "#!/bin/sh\nopenstack project create scripted\n",
               executable=True)
    # OS_CLIENT_CONFIG_FILE works around the bug of the test above.
    env = hook_env(tmp_path, PATH=path,
                   OS_CLIENT_CONFIG_FILE=str(tmp_path / "client" / "clouds.yaml"))
    live = reap(spawn(tmp_path, "--init-hooks", str(hooks), env=env))
    try:
        waited = stacklab("wait", "--url", live.url, "--timeout", "60", timeout=90)
        assert waited.returncode == 0, live.log.read_text()
        log = live.log.read_text()
        assert "init hooks failed" not in log, log
        assert "scripted" in names(live.openstack_json("project", "list"))
    finally:
        stop_cleanly(live)


def test_ctrl_c_during_init_hooks_stops_cleanly(tmp_path: Path, reap: Reaper) -> None:
    hooks = tmp_path / "hooks"
    gate = tmp_path / "gate"
    write_hook(hooks, "05-gate.sh", f"#!/bin/sh\nfor i in $(seq 600); do\n"
               f"  [ -f {gate} ] && exit 0; sleep 0.05\ndone\nexit 1\n", executable=True)
    live = reap(spawn(tmp_path, "--init-hooks", str(hooks), env=hook_env(tmp_path)))
    try:
        assert first_health(live)["init_hooks"] == "running"
        stop_cleanly(live)
    finally:
        gate.touch()


# -- failing to start ------------------------------------------------------------------------


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        result = subprocess.run(
            [str(BIN / "stacklab"), "up", "--port", str(port), "--state-dir",
             str(tmp_path / "state"), "--clouds-yaml", str(tmp_path / "clouds.yaml")],
            capture_output=True, text=True, timeout=30)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    assert f"cannot serve on 127.0.0.1:{port}" in output, output
    assert "in use" in output, output
    # Nothing announced a cloud that is not there.
    assert "stacklab is up" not in output
    assert not (tmp_path / "clouds.yaml").exists()


# -- the lab commands, with the admin credentials stacklab up wrote ---------------------------


def lab_cli(*args: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``stacklab`` with a HOME of its own: no default state dir, no ~/.config/openstack."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    environment.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), **env)
    return subprocess.run([str(BIN / "stacklab"), *args], capture_output=True, text=True,
                          timeout=60, env=environment)


def test_lab_commands_power_nodes_and_show_namespaces(cloud: LiveCloud, tmp_path: Path) -> None:
    state = ("--state-dir", str(cloud.state_dir))
    down = lab_cli("node", "down", "storage2", *state, home=tmp_path)
    assert down.returncode == 0, down.stderr
    assert down.stdout.strip() == "storage2.openstack.local is down"
    try:
        status = json.loads(lab_cli("status", "--json", *state, home=tmp_path).stdout)
        states = {node["name"]: node["state"] for node in status["nodes"]}
        assert states["storage2"] == "down" and states["storage1"] == "up"
    finally:
        up = lab_cli("node", "up", "storage2", *state, home=tmp_path)
    assert up.returncode == 0, up.stderr
    assert up.stdout.strip() == "storage2.openstack.local is up"

    namespaces = lab_cli("netns", "network1", "--json", *state, home=tmp_path)
    assert namespaces.returncode == 0, namespaces.stderr
    assert json.loads(namespaces.stdout)["node"] == "network1.openstack.local"
    assert lab_cli("netns", "network1", *state, home=tmp_path).returncode == 0

    unknown = lab_cli("node", "down", "nowhere", *state, home=tmp_path)
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "stacklab: Could not find node: nowhere. (HTTP 404)"


def test_lab_commands_find_the_clouds_yaml_entry(cloud: LiveCloud, tmp_path: Path) -> None:
    """An ephemeral cloud writes no openrc: the clouds.yaml entry is enough."""
    status = lab_cli("status", "--url", cloud.url, home=tmp_path,
                     OS_CLIENT_CONFIG_FILE=str(cloud.clouds_yaml))
    assert status.returncode == 0, status.stderr
    assert status.stdout.startswith(f"endpoint {cloud.url}  status ready")


def test_lab_commands_without_credentials_say_so(cloud: LiveCloud, tmp_path: Path) -> None:
    nothing = lab_cli("status", "--url", cloud.url, home=tmp_path)
    assert nothing.returncode == 1
    assert "no admin credentials" in nothing.stderr and "--state-dir" in nothing.stderr
    assert "Traceback" not in nothing.stderr

    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(yaml.safe_dump({"clouds": {"stacklab": {"auth": {
        "auth_url": f"{cloud.url}/identity", "username": "admin", "password": "not-it",
        "project_name": "admin"}}}}))
    refused = lab_cli("node", "down", "network1", "--url", cloud.url, home=tmp_path,
                      OS_CLIENT_CONFIG_FILE=str(wrong))
    assert refused.returncode == 1
    assert f"the cloud at {cloud.url} refused the admin credentials of {wrong}" \
        in refused.stderr, refused.stderr
    assert "not-it" not in refused.stderr + refused.stdout


def test_lab_commands_reach_an_ephemeral_cloud_on_any_port(tmp_path: Path,
                                                         reap: Reaper) -> None:
    """``stacklab up --ephemeral`` writes no openrc and no endpoint file: the lab commands
    find it, whatever its port, through the clouds.yaml entry it writes (as ``openstack``
    finds it), or through ``--os-cloud``."""
    home = tmp_path / "home"
    entry_file = home / ".config" / "openstack" / "clouds.yaml"
    state = tmp_path / "state"
    live = reap(start_cloud(tmp_path, "--ephemeral", "--clouds-yaml", str(entry_file),
                            state_dir=state))
    try:
        down = lab_cli("node", "down", "compute1", home=home)
        assert down.returncode == 0, down.stderr
        assert down.stdout.strip() == "compute1.openstack.local is down"
        shown = lab_cli("status", "--json", home=home)
        assert shown.returncode == 0, shown.stderr
        status = json.loads(shown.stdout)
        assert status["endpoint"] == live.url
        assert {n["name"]: n["state"] for n in status["nodes"]}["compute1"] == "down"
        namespaces = lab_cli("netns", "network1", "--json", home=home)
        assert namespaces.returncode == 0, namespaces.stderr
        assert json.loads(namespaces.stdout)["node"] == "network1.openstack.local"
        # Named as the openstack CLI names it, from a HOME with nothing of its own.
        up = lab_cli("node", "up", "compute1", "--os-cloud", "stacklab",
                     home=tmp_path / "elsewhere", OS_CLIENT_CONFIG_FILE=str(entry_file))
        assert up.returncode == 0, up.stderr
        assert up.stdout.strip() == "compute1.openstack.local is up"
        assert lab_cli("wait", "--timeout", "5", home=home).returncode == 0
    finally:
        stop_cleanly(live)
    # Ephemeral: its state dir was never made.
    assert not state.exists()


def test_lab_commands_take_a_sourced_openrc(tmp_path: Path, reap: Reaper) -> None:
    """A cloud that wrote no clouds.yaml either: the operator's OS_* variables are enough."""
    from stacklab.clouds_yaml import cloud_entry, openrc_vars

    live = reap(start_cloud(tmp_path, "--ephemeral", "--no-clouds-yaml"))
    try:
        assert not live.clouds_yaml.exists()
        sourced = openrc_vars(cloud_entry(live.auth_url, "secret", "RegionOne"))
        down = lab_cli("node", "down", "network2", home=tmp_path / "home", **sourced)
        assert down.returncode == 0, down.stderr
        assert down.stdout.strip() == "network2.openstack.local is down"
        wrong = lab_cli("node", "up", "network2", home=tmp_path / "home",
                        **{**sourced, "OS_PASSWORD": "not-it"})
        assert wrong.returncode == 1
        assert f"the cloud at {live.url} refused the admin credentials of the OS_* " \
            "variables" in wrong.stderr, wrong.stderr
    finally:
        stop_cleanly(live)


def test_a_chosen_admin_password_stays_out_of_the_output(tmp_path: Path, reap: Reaper) -> None:
    chosen = "Chosen-Admin-Pw-73"
    live = reap(start_cloud(tmp_path, "--admin-password", chosen, "--json-logs"))
    assert password_token(live, password=chosen)
    status, _, _ = http("POST", f"{live.auth_url}/v3/auth/tokens", body={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"name": "Default"}, "password": "secret"}}}}})
    assert status == 401
    assert f"OS_PASSWORD={chosen}" in (live.state_dir / "openrc").read_text()
    stop_cleanly(live)
    log = live.log.read_text()
    assert "admin      admin / <the password given>" in log, log
    assert chosen not in log
