"""A scenario report as text: verdict, failovers, the probe, expectations, timeline."""

from __future__ import annotations

from typing import Any


def report_lines(report: dict[str, Any]) -> list[str]:
    verdict = "PASSED" if report["passed"] else "FAILED"
    lines = [f"scenario {report['name']} ({report['mode']}): {verdict} after "
             f"{report['lab_seconds']:.1f} lab seconds"]
    if report.get("error"):
        lines.append(f"  error: {report['error']}")
    if report["failovers"]:
        lines.append("failovers:")
        lines += [f"  {f['what']}: {f['from']} -> {f['to']} in {f['seconds']:.2f} s "
                  f"(after step {f['step']}: {f['act']})" for f in report["failovers"]]
    if report["probe"]:
        lines.append("probe:")
        for call, entry in report["probe"].items():
            outcomes = ", ".join(f"{n} x {what}" for what, n in entry["outcomes"].items())
            lines.append(f"  {call}: {entry['ok']} ok, {entry['errors']} errors"
                         f"{' (' + outcomes + ')' if outcomes else ''}, slowest "
                         f"{entry['slowest']:.2f} s")
    lines.append("expectations:")
    for verdict_ in report["expectations"]:
        mark = "ok  " if verdict_["held"] else "FAIL"
        lines.append(f"  {mark} [{verdict_['step']}] t={verdict_['at']:.2f} "
                     f"{verdict_['condition']}: {verdict_['seen']}")
    lines.append("timeline:")
    for event in report["timeline"]:
        mark = {True: " ok", False: " !!"}.get(event.get("ok"), "")
        lines.append(f"  {event['at']:9.2f}{mark} {event['text']}")
    return lines
