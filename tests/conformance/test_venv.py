"""Tempest's venv: a failed install is an InstallError (the CI test skips on it), not a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance import venv


def test_an_install_that_cannot_run_says_why(tmp_path: Path) -> None:
    with pytest.raises(venv.InstallError, match="no-such-python"):
        venv.ensure(tmp_path / "v", python=str(tmp_path / "no-such-python"))
    assert not venv.ready(tmp_path / "v")


def test_a_venv_stamped_with_another_pin_is_not_ready(tmp_path: Path) -> None:
    python = tmp_path / "v" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.touch()
    (tmp_path / "v" / venv.STAMP).write_text("tempest==1.0.0\n")
    assert not venv.ready(tmp_path / "v")
    (tmp_path / "v" / venv.STAMP).write_text(venv.REQUIREMENT + "\n")
    assert venv.ready(tmp_path / "v")


def test_heat_tempest_plugin_is_pinned_beside_tempest(tmp_path: Path) -> None:
    assert f"heat-tempest-plugin=={venv.HEAT_PLUGIN_VERSION}" in venv.REQUIREMENTS
    python = tmp_path / "v" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.touch()
    # A venv of an earlier harness, with Tempest alone, gets the plugin installed.
    (tmp_path / "v" / venv.STAMP).write_text(f"tempest=={venv.TEMPEST_VERSION}\n")
    assert not venv.ready(tmp_path / "v")
