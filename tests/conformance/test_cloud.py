"""conformance/cloud.py: what the harness waits for before Tempest starts."""

from __future__ import annotations

import time
from typing import Any

import pytest

from conformance import cloud


class Answers:
    """An Api stand-in: each GET of os-services answers the next list."""

    def __init__(self, *lists: list[dict[str, Any]]) -> None:
        self.lists = list(lists)
        self.asked = 0

    def get(self, url: str) -> Any:
        assert url == "http://cloud/volume/v3/os-services"
        self.asked += 1
        return {"services": self.lists[min(self.asked, len(self.lists)) - 1]}


def test_waits_until_every_cinder_service_has_reported(monkeypatch: pytest.MonkeyPatch
                                                       ) -> None:
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    stamp = "2026-12-03T23:06:49.773929"
    fresh: list[dict[str, Any]] = [{"binary": "cinder-volume", "updated_at": None},
                                   {"binary": "cinder-scheduler", "updated_at": stamp}]
    reported: list[dict[str, Any]] = [{"binary": "cinder-volume", "updated_at": stamp},
                                      {"binary": "cinder-scheduler", "updated_at": stamp}]
    api = Answers(fresh, fresh, reported)
    cloud.wait_for_first_reports(api, "http://cloud/volume/v3")  # type: ignore[arg-type]
    assert api.asked == 3


def test_a_service_that_never_reports_stops_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    api = Answers([{"binary": "cinder-volume", "updated_at": None}])
    with pytest.raises(RuntimeError, match="not reporting"):
        cloud.wait_for_first_reports(api, "http://cloud/volume/v3",  # type: ignore[arg-type]
                                     timeout=0.0)
