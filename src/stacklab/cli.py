"""``stacklab``: up, wait, status, fault, node, netns, scenario."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shlex
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stacklab.config import Config, lab_defaults


def build_config(args: argparse.Namespace) -> Config:
    """Upstream defaults, then the lab's settings, the topology's, the file, the flags."""
    from stacklab.topology import load_topology

    file_config = Config()
    if args.config:
        file_config.load_file(Path(args.config))
    topology_path = args.topology or file_config.stacklab.topology
    topology = load_topology(topology_path or None)
    config = lab_defaults(Config())
    for section, options in topology.config.items():
        for name, value in options.items():
            if config.has_option(section, name):
                config.set(section, name, value)
    if args.config:
        config.load_file(Path(args.config))
    overrides: dict[str, Any] = {
        "bind_host": args.host, "bind_port": args.port, "state_dir": args.state_dir,
        "seed": args.seed, "topology": args.topology, "init_hooks_dir": args.init_hooks,
        "admin_password": args.admin_password,
    }
    for name, value in overrides.items():
        if value is not None:
            config.set("stacklab", name, value)
    if args.ephemeral:
        config.stacklab.ephemeral = True
    if args.debug:
        config.DEFAULT.debug = True
    return config


def cmd_up(args: argparse.Namespace) -> int:
    from stacklab.clock import RealClock

    started = RealClock().monotonic()
    from stacklab.cloud import Cloud
    from stacklab.clouds_yaml import default_clouds_yaml
    from stacklab.observability.logging import configure
    from stacklab.server import serve

    if args.processes:
        return _up_processes(args, started)
    try:
        config = build_config(args)
        logs = configure(debug=config.DEFAULT.debug, json_lines=args.json_logs)
        # A value the cloud cannot be built with (an unknown vip_manager, boot_profile...)
        # is the user's to fix: its message, not a traceback.
        cloud = Cloud(config, logs=logs)
    except ValueError as exc:
        print(f"stacklab: {exc}", file=sys.stderr)
        return 2
    clouds_yaml = None if args.no_clouds_yaml else Path(args.clouds_yaml or default_clouds_yaml())
    try:
        asyncio.run(serve(cloud, clouds_yaml=clouds_yaml, started_at=started))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"stacklab: cannot serve on {config.stacklab.bind_host}:"
              f"{config.stacklab.bind_port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


def _get_json(url: str, timeout: float = 2.0) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return error.code, json.loads(body or b"null")
        except ValueError:
            return error.code, None


def cmd_wait(args: argparse.Namespace) -> int:
    endpoint = locate(args).endpoint
    url = f"{endpoint}/stacklab/v1/health"
    deadline = time.monotonic() + args.timeout
    while True:
        try:
            status, _ = _get_json(url)
            if status == 200:
                print(f"stacklab is ready at {endpoint}")
                return 0
        except (OSError, ValueError):
            pass
        if time.monotonic() >= deadline:
            print(f"stacklab: not ready after {args.timeout:.0f} s ({url})", file=sys.stderr)
            return 1
        time.sleep(0.1)


class LabError(Exception):
    """What the lab's API or the way to it refused, said in one line."""


@dataclass(frozen=True)
class AdminCredentials:
    source: str
    auth_url: str
    username: str
    password: str
    project_name: str
    user_domain_name: str = "Default"
    project_domain_name: str = "Default"

    @property
    def endpoint(self) -> str:
        return endpoint_of(self.auth_url)


def endpoint_of(auth_url: str) -> str:
    """A stacklab cloud's base URL from its auth URL: keystone is served at ``/identity``
    (and an openrc written by hand may say ``/identity/v3``)."""
    return auth_url.rstrip("/").removesuffix("/v3").removesuffix("/identity")


def _from_openrc(path: Path) -> AdminCredentials | None:
    try:
        text = path.read_text()
    except OSError:
        return None
    env: dict[str, str] = {}
    for line in text.splitlines():
        words = shlex.split(line, comments=True)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            key, _, value = words[1].partition("=")
            env[key] = value
    return _from_variables(env, str(path))


def _from_variables(env: Mapping[str, str], source: str) -> AdminCredentials | None:
    """The ``OS_*`` variables an openrc exports (None unless the four that matter are set)."""
    try:
        return AdminCredentials(
            source, env["OS_AUTH_URL"], env["OS_USERNAME"], env["OS_PASSWORD"],
            env["OS_PROJECT_NAME"], env.get("OS_USER_DOMAIN_NAME") or "Default",
            env.get("OS_PROJECT_DOMAIN_NAME") or "Default")
    except KeyError:
        return None


def clouds_yaml_path() -> Path:
    """The clouds.yaml the OpenStack clients read: ``OS_CLIENT_CONFIG_FILE``, else the user's."""
    from stacklab.clouds_yaml import default_clouds_yaml

    return Path(os.environ.get("OS_CLIENT_CONFIG_FILE") or str(default_clouds_yaml()))


def _from_clouds_yaml(path: Path, name: str) -> AdminCredentials | None:
    import yaml

    try:
        document = yaml.safe_load(path.read_text()) or {}
        auth = document["clouds"][name]["auth"]
        return AdminCredentials(
            f"{path} (cloud {name!r})", auth["auth_url"], auth["username"],
            auth["password"], auth["project_name"], auth.get("user_domain_name", "Default"),
            auth.get("project_domain_name", "Default"))
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return None


def _default_state() -> Path:
    return Path(Config().stacklab.state_dir).expanduser()


def _read_endpoint(state: Path) -> str | None:
    try:
        return (state / "endpoint").read_text().strip() or None
    except OSError:
        return None


def _implicit_credentials() -> list[AdminCredentials]:
    """Where admin credentials are looked for when the command names none, in this order:
    the clouds.yaml entry ``$OS_CLOUD`` names and the ``OS_*`` variables of a sourced openrc
    (as every OpenStack client reads them), the ``stacklab`` entry of clouds.yaml (which
    every ``stacklab up`` rewrites, an ephemeral cloud's too, so it names the cloud started
    last), then the default state dir's openrc."""
    from stacklab.clouds_yaml import CLOUD_NAME

    path = clouds_yaml_path()
    named = os.environ.get("OS_CLOUD")
    found = [
        _from_clouds_yaml(path, named) if named else None,
        _from_variables(os.environ, "the OS_* variables"),
        _from_clouds_yaml(path, CLOUD_NAME) if named != CLOUD_NAME else None,
        _from_openrc(_default_state() / "openrc"),
    ]
    return [c for c in found if c is not None]


@dataclass(frozen=True)
class LabCloud:
    """The cloud a command talks to, and the admin credentials to get its token with
    (None: none were found, ``missing`` says why)."""

    endpoint: str
    credentials: AdminCredentials | None
    missing: str = ""


NO_CREDENTIALS = ("no admin credentials: pass --os-cloud NAME (a clouds.yaml entry; "
                  "`stacklab up` writes 'stacklab'), source the cloud's openrc, or pass "
                  "--state-dir of the cloud (its openrc)")


def locate(args: argparse.Namespace) -> LabCloud:
    """The cloud the command means: ``--os-cloud``'s entry, ``--state-dir``'s cloud (its
    endpoint file and openrc), else the first credentials found (``_implicit_credentials``),
    their auth URL giving the cloud's address. ``--url`` names the address in any case; the
    credentials are then those for that address, if any are."""
    url = str(args.url).rstrip("/") if getattr(args, "url", None) else None
    if getattr(args, "os_cloud", None):
        path = clouds_yaml_path()
        named = _from_clouds_yaml(path, args.os_cloud)
        if named is None:
            return LabCloud(url or f"http://127.0.0.1:{Config().stacklab.bind_port}", None,
                            f"no admin credentials: {path} has no complete cloud "
                            f"{args.os_cloud!r}")
        return LabCloud(url or named.endpoint, named)
    if getattr(args, "state_dir", None):
        state = Path(args.state_dir).expanduser()
        own = _from_openrc(state / "openrc")
        endpoint = url or _read_endpoint(state) or (own.endpoint if own else None)
        return LabCloud(endpoint or f"http://127.0.0.1:{Config().stacklab.bind_port}", own,
                        f"no admin credentials: {args.state_dir}/openrc is missing or "
                        "incomplete")
    candidates = _implicit_credentials()
    if url is not None:
        mine = [c for c in candidates if c.endpoint == url] or candidates
        return LabCloud(url, mine[0] if mine else None, NO_CREDENTIALS)
    if candidates:
        return LabCloud(candidates[0].endpoint, candidates[0])
    endpoint = _read_endpoint(_default_state())
    return LabCloud(endpoint or f"http://127.0.0.1:{Config().stacklab.bind_port}", None,
                    NO_CREDENTIALS)


def _error_message(error: urllib.error.HTTPError) -> str:
    """The message of an error in keystone's format (the lab API's), else the status line."""
    try:
        body = json.loads(error.read() or b"null")
        return str(body["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return f"{error.code} {error.reason}"


def admin_token(cloud: LabCloud) -> str:
    """A project-scoped token of the cloud's admin, as the lab's API requires, got through
    the lab's out-of-band login (it works while no proxy lets a client into the cloud)."""
    credentials, endpoint = cloud.credentials, cloud.endpoint
    if credentials is None:
        raise LabError(cloud.missing)
    body = json.dumps({"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": credentials.username,
            "domain": {"name": credentials.user_domain_name},
            "password": credentials.password}}},
        "scope": {"project": {"name": credentials.project_name,
                              "domain": {"name": credentials.project_domain_name}}}}}).encode()
    request = urllib.request.Request(f"{endpoint}/stacklab/v1/auth/tokens", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return str(response.headers["X-Subject-Token"])
    except urllib.error.HTTPError as error:
        raise LabError(f"the cloud at {endpoint} refused the admin credentials of "
                       f"{credentials.source}: {_error_message(error)}") from None


def lab_call(args: argparse.Namespace, method: str, path: str, body: Any = None) -> bytes:
    """One admin call to ``/stacklab/v1`` (with ``body`` as JSON); errors become a
    ``LabError`` saying what failed."""
    cloud = locate(args)
    url = f"{cloud.endpoint}/stacklab/v1{path}"
    payload = json.dumps(body).encode() if body is not None \
        else b"" if method == "POST" else None
    try:
        request = urllib.request.Request(
            url, data=payload, method=method,
            headers={"X-Auth-Token": admin_token(cloud),
                     **({"Content-Type": "application/json"} if body is not None else {})})
        with urllib.request.urlopen(request, timeout=10) as response:
            data: bytes = response.read()
            return data
    except urllib.error.HTTPError as error:
        raise LabError(f"{_error_message(error)} (HTTP {error.code})") from None
    except OSError as exc:
        raise LabError(f"no cloud answers at {url}: {exc}") from None


def _quoted(name: str) -> str:
    return urllib.parse.quote(name, safe="")


def cmd_status(args: argparse.Namespace) -> int:
    """Nodes and their processes, faults, agents and services, and a verdict."""
    from stacklab.lab.render import status_lines

    try:
        body = json.loads(lab_call(args, "GET", "/status"))
    except LabError as exc:
        print(f"stacklab: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(body, indent=2))
        return 0
    print("\n".join(status_lines(body)))
    return 0


def cmd_node(args: argparse.Namespace) -> int:
    """Power a node off (down) or on (up), as pulling its plug would."""
    try:
        body = json.loads(lab_call(args, "POST", f"/nodes/{_quoted(args.node)}/{args.state}"))
    except LabError as exc:
        print(f"stacklab: {exc}", file=sys.stderr)
        return 1
    print(f"{body['node']} is {body['state']}")
    return 0


def cmd_netns(args: argparse.Namespace) -> int:
    """What `ip netns` and `ip addr` show on a node."""
    try:
        path = f"/nodes/{_quoted(args.node)}/netns"
        if args.json:
            print(json.dumps(json.loads(lab_call(args, "GET", path)), indent=2))
        else:
            sys.stdout.write(lab_call(args, "GET", f"{path}?text").decode())
    except LabError as exc:
        print(f"stacklab: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_cinder_manage(args: argparse.Namespace) -> int:
    """``cinder-manage volume update_host``: a dead host's volumes to another host."""
    try:
        body = json.loads(lab_call(args, "POST", "/commands", {
            "command": "cinder-manage volume update_host",
            "options": {"currenthost": args.currenthost, "newhost": args.newhost}}))
    except LabError as exc:
        print(f"stacklab: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(body, indent=2))
    else:
        print(f"{len(body['volumes'])} volume(s) moved from {args.currenthost} to "
              f"{args.newhost}")
    return 0


# stacklab fault <command>: the action each sends (topology/actions.py), from the arguments.
FAULT_ACTIONS: dict[str, tuple[str, str]] = {
    "power-off": ("power_off", "{node} powered off"),
    "power-on": ("power_on", "{node} powered on"),
    "stop": ("stop_service", "{service} stopped on {node}"),
    "start": ("start_service", "{service} started on {node}"),
    "detach": ("detach", "{node} detached from {network}"),
    "attach": ("attach", "{node} attached to {network}"),
    "partition": ("partition", "partitioned: {sides}"),
    "link": ("set_link", "link {source} - {target}: latency {latency:g} s, loss {loss:.0%}"),
    "heal": ("heal", "healed: every fault undone"),
}


def fault_action(args: argparse.Namespace) -> dict[str, Any]:
    """The action object ``stacklab fault <command>`` sends to ``POST /stacklab/v1/faults``."""
    action: dict[str, Any] = {"action": FAULT_ACTIONS[args.fault][0]}
    for name in ("node", "service", "network", "source", "target", "latency", "loss"):
        if getattr(args, name, None) is not None:
            action[name] = getattr(args, name)
    if args.fault == "partition":
        action["sides"] = [[name for name in side.split(",") if name] for side in args.sides]
    return action


def cmd_fault(args: argparse.Namespace) -> int:
    """Inject a fault, heal them all, or list those in force (``stacklab fault --help``)."""
    from stacklab.lab.render import faults_lines

    try:
        if args.fault == "list":
            body = json.loads(lab_call(args, "GET", "/faults"))
        elif args.fault == "restart":
            body = json.loads(lab_call(
                args, "POST", f"/nodes/{_quoted(args.node)}/services/{_quoted(args.service)}"
                              "/restart"))
        else:
            body = json.loads(lab_call(args, "POST", "/faults", fault_action(args)))
    except LabError as exc:
        print(f"stacklab: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(body, indent=2))
    elif args.fault == "list":
        print("\n".join(faults_lines(body["faults"])))
    elif args.fault == "restart":
        print(f"{args.service} restarted on {body['node']}")
    else:
        words = vars(args) | {"sides": " | ".join(args.sides) if args.fault == "partition"
                              else ""}
        done = FAULT_ACTIONS[args.fault][1].format(**words)
        if not body["changed"]:
            done = ("nothing to heal" if args.fault == "heal"
                    else f"no change ({done} already)")
        print(done)
    return 0


def _fault_parser(commands: Any) -> None:
    fault = commands.add_parser("fault", help="inject, list and heal faults (HA rehearsals)")
    kinds = fault.add_subparsers(dest="fault", required=True, metavar="COMMAND")
    node_help = "a node's name or FQDN, e.g. network1"
    subs = []
    for name, text in (("power-off", "pull a node's plug"), ("power-on", "power it back on")):
        sub = kinds.add_parser(name, help=text)
        sub.add_argument("node", help=node_help)
        subs.append(sub)
    for name, text in (("stop", "stop one process of a node (systemctl stop)"),
                       ("start", "start it again"),
                       ("restart", "stop it if it runs, then start it")):
        sub = kinds.add_parser(name, help=text)
        sub.add_argument("node", help=node_help)
        sub.add_argument("service", help="a process the node runs, e.g. neutron-l3-agent")
        subs.append(sub)
    for name, text in (("detach", "cut a node off one network"),
                       ("attach", "plug it back")):
        sub = kinds.add_parser(name, help=text)
        sub.add_argument("node", help=node_help)
        sub.add_argument("network", help="management, overlay, external...")
        subs.append(sub)
    sub = kinds.add_parser("partition", help="cut every path between nodes on different sides")
    sub.add_argument("sides", nargs="+", metavar="SIDE",
                     help="comma-separated nodes, e.g. controller1 controller2,arbiter")
    subs.append(sub)
    sub = kinds.add_parser("link", help="slow or lose traffic between two nodes (0 0: clean)")
    sub.add_argument("source", help=node_help)
    sub.add_argument("target", help=node_help)
    sub.add_argument("--latency", type=float, default=0.0, help="one-way delay in seconds")
    sub.add_argument("--loss", type=float, default=0.0, help="share of packets lost, 0 to 1")
    subs.append(sub)
    subs.append(kinds.add_parser("heal", help="undo every fault"))
    subs.append(kinds.add_parser("list", help="the faults in force"))
    for sub in subs:
        sub.add_argument("--json", action="store_true", help="print the API's answer")
        _which_cloud(sub)
        sub.set_defaults(func=cmd_fault)


def cmd_pcs(args: argparse.Namespace) -> int:
    """What ``pcs node standby|unstandby`` and ``pcs resource cleanup`` do, on the proxies'
    Pacemaker cluster (``[stacklab] vip_manager = pacemaker``)."""
    try:
        if args.pcs == "cleanup":
            body = {name: getattr(args, name) for name in ("resource", "node")
                    if getattr(args, name) is not None}
            answer = json.loads(lab_call(args, "POST", "/pacemaker/cleanup", body))
            done = f"cleaned up {args.resource or 'every resource'}" + \
                (f" on {args.node}" if args.node else "")
        else:
            answer = json.loads(lab_call(
                args, "POST", f"/pacemaker/nodes/{_quoted(args.node)}/{args.pcs}"))
            done = f"{args.node}: {args.pcs}"
    except LabError as exc:
        print(f"stacklab: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(answer, indent=2))
        return 0
    print(done)
    for node in answer["pacemaker"]["nodes"]:
        print(f"  {node['node']}: {node['state']}")
    return 0


def _pcs_parser(commands: Any) -> None:
    pcs = commands.add_parser("pcs", help="Pacemaker's standby and cleanup, as pcs does them "
                              "(with [stacklab] vip_manager = pacemaker)")
    kinds = pcs.add_subparsers(dest="pcs", required=True, metavar="COMMAND")
    subs = []
    for name, text in (("standby", "let a node run no resource (pcs node standby)"),
                       ("unstandby", "let it run resources again (pcs node unstandby)")):
        sub = kinds.add_parser(name, help=text)
        sub.add_argument("node", help="a cluster node's name or FQDN, e.g. proxy1")
        subs.append(sub)
    sub = kinds.add_parser("cleanup", help="forget fail counts and failed operations "
                           "(pcs resource cleanup)")
    sub.add_argument("resource", nargs="?", help="one resource, e.g. vip-public (default: all)")
    sub.add_argument("--node", help="only its records on this node")
    subs.append(sub)
    for sub in subs:
        sub.add_argument("--json", action="store_true", help="print the API's answer")
        _which_cloud(sub)
        sub.set_defaults(func=cmd_pcs)


def cmd_scenario_run(args: argparse.Namespace) -> int:
    """Run a scenario file (or a shipped one by name): in-process in virtual time, or
    ``--live`` against a running cloud; exit 1 when an expectation did not hold."""
    from stacklab.scenarios.format import ScenarioError, find, load
    from stacklab.scenarios.probe import Credentials
    from stacklab.scenarios.render import report_lines
    from stacklab.scenarios.run import run_live, run_virtual

    # The lab's daemons log as they would (HAProxy marking servers DOWN...): the report
    # says what matters, so their lines do not go to the terminal.
    logging.getLogger().addHandler(logging.NullHandler())
    try:
        scenario = load(find(args.file))
    except ScenarioError as error:
        print(f"stacklab: {error}", file=sys.stderr)
        return 2
    if args.live:
        cloud = locate(args)
        if cloud.credentials is None:
            print(f"stacklab: {cloud.missing}", file=sys.stderr)
            return 2
        found = cloud.credentials
        report = run_live(scenario, cloud.endpoint, Credentials(
            found.username, found.password, found.project_name, found.user_domain_name,
            found.project_domain_name))
    else:
        report = run_virtual(scenario, seed=args.seed)
    body = report.render()
    print(json.dumps(body, indent=2) if args.json else "\n".join(report_lines(body)))
    return 0 if report.passed else 1


def cmd_scenario_list(args: argparse.Namespace) -> int:
    """The shipped scenarios: name and what each shows."""
    from stacklab.scenarios.format import library, load

    found = [load(path) for path in library()]
    if args.json:
        print(json.dumps([{"name": s.name, "description": s.description} for s in found],
                         indent=2))
        return 0
    width = max((len(s.name) for s in found), default=0)
    for scenario in found:
        first = scenario.description.strip().split(". ")[0].rstrip(".")
        print(f"{scenario.name:<{width}}  {first}")
    return 0


def cmd_scenario_random(args: argparse.Namespace) -> int:
    """Random faults from a seed while a workload runs, then heal; check the invariants."""
    from stacklab.scenarios.randomized import run_seed, run_seeds

    logging.getLogger().addHandler(logging.NullHandler())  # the report says what matters
    if args.count > 1:
        outcomes = run_seeds(list(range(args.seed, args.seed + args.count)), steps=args.steps,
                             dvr=args.dvr)
    else:
        outcomes = [run_seed(args.seed, steps=args.steps, dvr=args.dvr)]
    if args.json:
        print(json.dumps([o.render() for o in outcomes] if args.count > 1
                         else outcomes[0].render(), indent=2))
    elif args.count > 1:
        failed = [o for o in outcomes if not o.passed]
        for outcome in failed:
            print("\n".join(outcome.lines()))
        print(f"{len(outcomes)} seeds from {args.seed}, {args.steps} steps each"
              f"{' (DVR)' if args.dvr else ''}: "
              f"{len(failed)} with invariant violations")
    else:
        print("\n".join(outcomes[0].lines()))
    return 0 if all(o.passed for o in outcomes) else 1


def _scenario_parser(commands: Any) -> None:
    scenario = commands.add_parser("scenario", help="run fault scenarios (replayable "
                                   "rehearsals with expectations and a probe workload)")
    kinds = scenario.add_subparsers(dest="scenario", required=True, metavar="COMMAND")
    run = kinds.add_parser("run", help="run a scenario file, or a shipped one by name")
    run.add_argument("file", help="a scenario YAML file, or a name from 'scenario list'")
    run.add_argument("--live", action="store_true", help="against a running cloud, in real "
                     "time (default: in-process, in virtual time)")
    run.add_argument("--seed", type=int, default=7, help="the in-process cloud's seed")
    run.add_argument("--json", action="store_true", help="print the report as JSON")
    _which_cloud(run)
    run.set_defaults(func=cmd_scenario_run)
    listing = kinds.add_parser("list", help="the shipped scenarios")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_scenario_list)
    randomized = kinds.add_parser("random", help="random faults from a seed, then heal, "
                                  "checking the lab's invariants (in virtual time)")
    randomized.add_argument("--seed", type=int, required=True)
    randomized.add_argument("--steps", type=int, default=6, help="how many random faults")
    randomized.add_argument("--count", type=int, default=1, help="run this many seeds, "
                            "from --seed on (each replays alone with its own --seed)")
    randomized.add_argument("--dvr", action="store_true", help="on the lab with distributed "
                            "routers (the workload's router distributed and HA)")
    randomized.add_argument("--json", action="store_true")
    randomized.set_defaults(func=cmd_scenario_random)


def _up_processes(args: argparse.Namespace, started: float) -> int:
    """``stacklab up --processes``: a supervisor and one process per service."""
    from stacklab.clouds_yaml import default_clouds_yaml
    from stacklab.observability.logging import configure
    from stacklab.processes.supervisor import Supervisor

    try:
        config = build_config(args)
        logs = configure(debug=config.DEFAULT.debug, json_lines=args.json_logs)
        supervisor = Supervisor(config, logs=logs)
    except ValueError as exc:
        print(f"stacklab: {exc}", file=sys.stderr)
        return 2
    clouds_yaml = None if args.no_clouds_yaml else Path(args.clouds_yaml or default_clouds_yaml())
    try:
        return supervisor.run(clouds_yaml, started)
    except ValueError as exc:
        print(f"stacklab: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"stacklab: cannot serve on {config.stacklab.bind_host}:"
              f"{config.stacklab.bind_port}: {exc.strerror or exc}", file=sys.stderr)
        return 1


def cmd_serve(args: argparse.Namespace) -> int:
    """One process of ``stacklab up --processes`` by hand (the supervisor forks its own)."""
    from stacklab.observability.logging import configure
    from stacklab.processes.child import run_role
    from stacklab.processes.roles import find_role
    from stacklab.topology import load_topology

    try:
        config = build_config(args)
        role = find_role(load_topology(config.stacklab.topology or None), args.role, args.node)
    except ValueError as exc:
        print(f"stacklab: {exc}", file=sys.stderr)
        return 2
    logs = configure(debug=config.DEFAULT.debug, json_lines=args.json_logs)
    endpoints = json.loads(args.endpoints or "{}")
    return run_role(config, role, logs=logs, base_url=args.base_url,
                    endpoints=endpoints.get("catalog", {}), mounts=endpoints.get("mounts", {}),
                    listen_fd=args.listen_fd, ready_fd=args.ready_fd)


def _up_options(up: argparse.ArgumentParser) -> None:
    up.add_argument("--host", help="address to bind (default 127.0.0.1)")
    up.add_argument("--port", type=int, help="port to bind (default 8080; 0 picks a free one)")
    up.add_argument("--state-dir", help="where the store and keys live")
    up.add_argument("--config", help="an ini file in OpenStack's sections and option names")
    up.add_argument("--topology", help="a topology YAML, or a packaged one by name: lab (the "
                    "default, the 12-node lab) or course (the same with the course's VM sizes)")
    up.add_argument("--ephemeral", action="store_true", help="keep nothing (in-memory store)")
    up.add_argument("--seed", type=int, help="make every generated id and value repeatable")
    up.add_argument("--init-hooks", help="a folder of scripts to run once the cloud is ready")
    up.add_argument("--admin-password", help="the admin user's password (default 'secret')")
    up.add_argument("--debug", action="store_true", help="log every request to stderr")
    up.add_argument("--json-logs", action="store_true", help="log JSON lines to stderr")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="stacklab", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="start the cloud")
    _up_options(up)
    up.add_argument("--clouds-yaml", help="clouds.yaml to write the 'stacklab' entry to")
    up.add_argument("--no-clouds-yaml", action="store_true", help="write no clouds.yaml")
    up.add_argument("--processes", action="store_true", help="one process per service, "
                    "supervised (needs a server [database] connection and [DEFAULT] "
                    "transport_url; docs/processes.md)")
    up.set_defaults(func=cmd_up)
    serve = commands.add_parser("serve", help="one process of 'up --processes' (internal)")
    serve.add_argument("role", help="keystone, glance, nova-api, nova-compute, "
                                    "cinder-volume, heat-engine ...")
    serve.add_argument("--node", help="the node of a per-node process (nova-compute, "
                                      "cinder-volume, heat-engine)")
    serve.add_argument("--base-url", required=True, help="this process's own address")
    serve.add_argument("--endpoints", help="JSON: the catalog's and the mounts' addresses")
    serve.add_argument("--listen-fd", type=int, help="an inherited listening socket")
    serve.add_argument("--ready-fd", type=int, help="a pipe to say 'ready' on")
    _up_options(serve)
    serve.set_defaults(func=cmd_serve)

    wait = commands.add_parser("wait", help="wait until the cloud is ready")
    wait.add_argument("--timeout", type=float, default=60.0)
    wait.set_defaults(func=cmd_wait)
    status = commands.add_parser("status", help="nodes, processes, faults, agents and "
                                 "services, and whether the lab is ready, degraded or down")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)
    node = commands.add_parser("node", help="power a node off or on (HA rehearsals)")
    node.add_argument("state", choices=("down", "up"))
    node.add_argument("node", help="a node's name or FQDN, e.g. network1")
    node.set_defaults(func=cmd_node)
    namespaces = commands.add_parser("netns", help="a node's namespaces, devices, addresses")
    namespaces.add_argument("node", help="a node's name or FQDN, e.g. network1")
    namespaces.add_argument("--json", action="store_true")
    namespaces.set_defaults(func=cmd_netns)
    manage = commands.add_parser("cinder-manage", help="cinder's operator commands")
    volume = manage.add_subparsers(dest="category", required=True).add_parser(
        "volume", help="volume commands")
    update_host = volume.add_subparsers(dest="action", required=True).add_parser(
        "update_host", help="move the volumes of a host (host@backend) to another")
    update_host.add_argument("--currenthost", required=True)
    update_host.add_argument("--newhost", required=True)
    update_host.add_argument("--json", action="store_true")
    update_host.set_defaults(func=cmd_cinder_manage)
    for sub in (wait, status, node, namespaces, update_host):
        _which_cloud(sub)
    _fault_parser(commands)
    _pcs_parser(commands)
    _scenario_parser(commands)
    return top


def _which_cloud(sub: argparse.ArgumentParser) -> None:
    """How a lab command names its cloud (``locate``); with none of these, the clouds.yaml
    entry ``$OS_CLOUD`` names or a sourced openrc's ``OS_*``, else the ``stacklab`` entry of
    clouds.yaml (the cloud started last, ephemeral or not), else the default state dir's."""
    sub.add_argument("--os-cloud", help="a clouds.yaml entry (the file OS_CLIENT_CONFIG_FILE "
                     "names, else ~/.config/openstack/clouds.yaml): its auth URL and admin "
                     "credentials")
    sub.add_argument("--state-dir", help="the state dir of the cloud (its endpoint and the "
                     "openrc whose admin credentials get the token)")
    sub.add_argument("--url", help="the cloud's base URL (default: the credentials' auth URL)")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
