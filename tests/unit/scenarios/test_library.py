"""Every shipped scenario passes in virtual time (an in-process lab on a virtual clock)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stacklab.scenarios.format import library, load
from stacklab.scenarios.render import report_lines
from stacklab.scenarios.run import run_virtual


@pytest.mark.parametrize("path", library(), ids=lambda path: path.stem)
def test_the_shipped_scenario_passes_in_virtual_time(path: Path) -> None:
    report = run_virtual(load(path))
    body = report.render()
    assert report.passed, "\n".join(report_lines(body))
    assert body["expectations"] and body["timeline"]

