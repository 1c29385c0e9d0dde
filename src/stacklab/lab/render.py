"""The lab's status and faults as text, from what ``/stacklab/v1`` answers (for the CLI).

Pure functions of the JSON: the CLI prints what these return. Every section of the
status is rendered alike from its title, columns, rows and problems, so a section
added on the server side shows up here without a change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

STOPPED = "stopped"


def table(rows: Sequence[Sequence[Any]], indent: str = "") -> list[str]:
    """Rows as left-aligned columns two spaces apart (the last column not padded)."""
    if not rows:
        return []
    texts = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in texts if i < len(row))
              for i in range(max(len(row) for row in texts))]
    return [indent + "  ".join(cell.ljust(widths[i]) if i < len(row) - 1 else cell
                               for i, cell in enumerate(row)).rstrip()
            for row in texts]


def _services(node: Mapping[str, Any]) -> str:
    # A powered-off node runs nothing: its power says so, each process need not.
    states = node.get("service_states") or {}
    marked = node["state"] == "up"
    return " ".join(f"{service}({STOPPED})" if marked and states.get(service) == STOPPED
                    else service for service in node["services"])


def faults_lines(faults: Mapping[str, Any], indent: str = "") -> list[str]:
    """Each fault in force, one per line; one line saying none when there is none."""
    rows: list[list[str]] = []
    rows += [["powered off", node] for node in faults.get("nodes_down", [])]
    rows += [["stopped", f"{entry['service']} on {entry['node']}"]
             for entry in faults.get("services_stopped", [])]
    rows += [["detached", f"{entry['node']} from {entry['network']}"]
             for entry in faults.get("networks_detached", [])]
    rows += [["cut", " - ".join(pair)] for pair in faults.get("cut", [])]
    rows += [["link", f"{' - '.join(entry['nodes'])}: latency {entry['latency']:g} s, "
                      f"loss {entry['loss']:.0%}"] for entry in faults.get("links", [])]
    return table(rows, indent) if rows else [f"{indent}no faults in force"]


def status_lines(body: Mapping[str, Any]) -> list[str]:
    """``stacklab status``: the verdict, the nodes, the faults, each section, the problems."""
    lines = [f"endpoint {body['endpoint']}  status {body['status']}"]
    lines += table([[node["fqdn"], node["state"], ",".join(node["roles"]), _services(node)]
                    for node in body["nodes"]])
    lines += ["", "faults", *faults_lines(body.get("faults") or {}, "  ")]
    for section in body.get("sections", []):
        lines += ["", section["title"]]
        rows = section["rows"]
        lines += table([section["columns"], *rows], "  ") if rows else ["  (none)"]
    problems = body.get("problems", [])
    lines += ["", "problems"]
    lines += table([[p["severity"], p["message"]] for p in problems], "  ") if problems \
        else ["  none"]
    return lines
