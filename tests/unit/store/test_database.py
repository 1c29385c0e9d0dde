"""A [database] connection stacklab cannot use is said at start, naming the option: a
driver whose extra is missing, a driver it does not support, a server it cannot reach."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from stacklab.cli import main
from stacklab.store.database import Database, DatabaseConfigError


@pytest.mark.parametrize(("url", "module", "extra"), [
    ("mysql+pymysql://root@127.0.0.1/stacklab", "pymysql", "mysql"),
    ("postgresql+psycopg://postgres@127.0.0.1/stacklab", "psycopg", "postgresql"),
])
def test_a_missing_driver_names_its_extra(monkeypatch: pytest.MonkeyPatch, url: str,
                                          module: str, extra: str) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    with pytest.raises(DatabaseConfigError) as raised:
        Database(url)
    backend = url.split("://")[0]
    assert str(raised.value) == (f"[database] connection: {backend} needs the '{extra}' "
                                 f"extra: pip install 'stacklab[{extra}]'")


def test_an_unsupported_driver_is_refused() -> None:
    with pytest.raises(DatabaseConfigError, match=r"^\[database\] connection: mysql\+mysqldb "
                       r"is not a driver stacklab supports"):
        Database("mysql+mysqldb://root@127.0.0.1/stacklab")


@pytest.mark.parametrize("url", ["mysql+pymysql://root:pw@127.0.0.1:1/stacklab",
                                 "postgresql+psycopg://postgres:pw@127.0.0.1:1/stacklab"])
def test_an_unreachable_server_is_said_with_the_option(url: str) -> None:
    pytest.importorskip(url.split("+")[1].split(":")[0])
    db = Database(url)
    with pytest.raises(DatabaseConfigError) as raised:
        db.check()
    message = str(raised.value)
    assert message.startswith("[database] connection: cannot use ")
    assert ":***@127.0.0.1:1/stacklab" in message and "pw@" not in message
    assert "refused" in message.lower()


def test_stacklab_up_stops_at_start_with_the_message(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "pymysql", None)
    conf = tmp_path / "stacklab.conf"
    conf.write_text("[database]\nconnection = mysql+pymysql://root@127.0.0.1/stacklab\n")
    code = main(["up", "--config", str(conf), "--port", "0", "--no-clouds-yaml",
                 "--state-dir", str(tmp_path / "state")])
    assert code == 2
    assert capsys.readouterr().err.strip() == (
        "stacklab: [database] connection: mysql+pymysql needs the 'mysql' extra: "
        "pip install 'stacklab[mysql]'")
