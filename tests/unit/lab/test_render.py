"""The status and the faults as the CLI prints them, from the lab API's JSON."""

from __future__ import annotations

from typing import Any

from stacklab.lab.render import faults_lines, status_lines, table

NO_FAULTS: dict[str, Any] = {"nodes_down": [], "services_stopped": [],
                             "networks_detached": [], "cut": [], "links": []}


def node(name: str, roles: list[str], services: dict[str, str], state: str = "up"
         ) -> dict[str, Any]:
    return {"name": name, "fqdn": f"{name}.lab", "roles": roles, "state": state,
            "services": list(services), "service_states": services}


def test_table_pads_every_column_but_the_last() -> None:
    assert table([["a", "bb", "c"], ["ddd", "e", "ffff"]], "  ") == [
        "  a    bb  c", "  ddd  e   ffff"]
    assert table([]) == []


def test_faults_one_per_line_or_none() -> None:
    assert faults_lines(NO_FAULTS) == ["no faults in force"]
    faults = {"nodes_down": ["c1.lab"],
              "services_stopped": [{"node": "n1.lab", "service": "neutron-l3-agent"}],
              "networks_detached": [{"node": "n2.lab", "network": "overlay"}],
              "cut": [["a.lab", "b.lab"]],
              "links": [{"nodes": ["a.lab", "c.lab"], "latency": 0.2, "loss": 0.1}]}
    assert faults_lines(faults) == [
        "powered off  c1.lab",
        "stopped      neutron-l3-agent on n1.lab",
        "detached     n2.lab from overlay",
        "cut          a.lab - b.lab",
        "link         a.lab - c.lab: latency 0.2 s, loss 10%",
    ]


def test_status_lists_nodes_faults_each_section_and_the_problems() -> None:
    body = {
        "endpoint": "http://x", "status": "degraded",
        "nodes": [node("network1", ["network"], {"neutron-l3-agent": "stopped",
                                                 "keepalived": "running"}),
                  node("storage1", ["storage"], {"ceph-osd": "stopped"}, state="down")],
        "faults": {**NO_FAULTS, "services_stopped": [
            {"node": "network1.lab", "service": "neutron-l3-agent"}]},
        "sections": [
            {"name": "vips", "title": "virtual IPs", "columns": ["vip", "holder"],
             "rows": [["public", "proxy1.lab"]], "problems": []},
            {"name": "galera", "title": "galera", "columns": [], "rows": [],
             "problems": []}],
        "problems": [{"severity": "degraded", "message": "storage1 is powered off"}],
    }
    assert status_lines(body) == [
        "endpoint http://x  status degraded",
        # A stopped process is marked on a powered node; a node off runs nothing anyway.
        "network1.lab  up    network  neutron-l3-agent(stopped) keepalived",
        "storage1.lab  down  storage  ceph-osd",
        "",
        "faults",
        "  stopped  neutron-l3-agent on network1.lab",
        "",
        "virtual IPs",
        "  vip     holder",
        "  public  proxy1.lab",
        "",
        "galera",
        "  (none)",
        "",
        "problems",
        "  degraded  storage1 is powered off",
    ]
