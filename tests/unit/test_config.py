"""The configuration file: OpenStack sections and option names, typed by the dataclasses."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from stacklab.config import Config, lab_defaults


def load(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "stacklab.conf"
    path.write_text(text)
    config = Config()
    config.load_file(path)
    return config


def test_defaults_are_upstreams() -> None:
    config = Config()
    assert config.token.expiration == 3600
    assert config.identity.password_hash_rounds == 12
    assert config.identity.list_limit is None
    assert config.oslo_middleware.max_request_body_size == 114688
    assert config.DEFAULT.debug is False


def test_lab_defaults_lower_the_hash_rounds() -> None:
    assert lab_defaults(Config()).identity.password_hash_rounds == 4


def test_an_ini_file_sets_typed_options(tmp_path: Path) -> None:
    config = load(tmp_path, """
[DEFAULT]
debug = true
report_interval = 5

[token]
expiration = 7200
provider = fernet

[stacklab]
bind_port = 9000
public_host = lab.example
seed = 11

[identity]
list_limit = 50

[oslo_middleware]
max_request_body_size = 2048
""")
    assert config.DEFAULT.debug is True
    assert config.DEFAULT.report_interval == 5
    assert config.token.expiration == 7200
    assert config.stacklab.bind_port == 9000
    assert config.stacklab.public_host == "lab.example"
    assert config.stacklab.seed == 11
    assert config.identity.list_limit == 50
    assert config.oslo_middleware.max_request_body_size == 2048
    # Untouched options keep their defaults.
    assert config.token.revoke_by_id is True
    assert config.DEFAULT.service_down_time == 60


def test_option_names_keep_their_case_and_values_are_stripped(tmp_path: Path) -> None:
    config = load(tmp_path, "[database]\nconnection =  sqlite:///X.db  \n")
    assert config.database.connection == "sqlite:///X.db"


def test_percent_signs_are_not_interpolated(tmp_path: Path) -> None:
    config = load(tmp_path, "[database]\nconnection = mysql://u:p%40ss@db/keystone\n")
    assert config.database.connection == "mysql://u:p%40ss@db/keystone"


def test_a_bad_int_names_the_option(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\[token\] expiration: cannot read 'soon' as int"):
        load(tmp_path, "[token]\nexpiration = soon\n")


def test_a_bad_bool_names_the_option(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\[DEFAULT\] debug: cannot read 'maybe' as bool"):
        load(tmp_path, "[DEFAULT]\ndebug = maybe\n")


def test_a_bad_optional_int_names_the_option() -> None:
    with pytest.raises(ValueError, match=r"\[identity\] list_limit: cannot read 'x' as int"):
        Config().set("identity", "list_limit", "x")


def test_unknown_options_and_sections_are_ignored_with_a_warning(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="stacklab.config"):
        config = load(tmp_path, """
[token]
expiration = 60
no_such_option = 1

[no_such_section]
anything = at all
""")
    assert config.token.expiration == 60
    assert not hasattr(config.token, "no_such_option")
    assert "unknown option [token] no_such_option ignored" in caplog.text
    assert "unknown config section [no_such_section] ignored" in caplog.text


@pytest.mark.parametrize("text", ["1", "true", "True", "TRUE", "yes", "on", " On "])
def test_true_spellings(text: str) -> None:
    config = Config()
    config.set("DEFAULT", "debug", text)
    assert config.DEFAULT.debug is True


@pytest.mark.parametrize("text", ["0", "false", "False", "no", "off", "OFF"])
def test_false_spellings(text: str) -> None:
    config = Config()
    config.DEFAULT.debug = True
    config.set("DEFAULT", "debug", text)
    assert config.DEFAULT.debug is False


def test_an_empty_optional_int_is_none(tmp_path: Path) -> None:
    config = Config()
    config.identity.list_limit = 10
    config.set("identity", "list_limit", "")
    assert config.identity.list_limit is None
    config = load(tmp_path, "[stacklab]\nseed =\n[identity]\nlist_limit =   \n")
    assert config.stacklab.seed is None
    assert config.identity.list_limit is None


def test_typed_values_are_taken_as_they_are() -> None:
    config = Config()
    config.set("token", "expiration", 99)
    config.set("DEFAULT", "debug", True)
    config.set("identity", "list_limit", None)
    assert config.token.expiration == 99
    assert config.DEFAULT.debug is True
    assert config.identity.list_limit is None


def test_has_option() -> None:
    config = Config()
    assert config.has_option("token", "expiration")
    assert config.has_option("oslo_policy", "policy_file")
    assert not config.has_option("token", "nope")
    assert not config.has_option("nowhere", "expiration")


def test_state_path_expands_the_home_directory() -> None:
    config = Config()
    config.set("stacklab", "state_dir", "~/lab")
    assert config.state_path == Path.home() / "lab"
