"""Which cloud a lab command (``stacklab status``, ``node``, ``netns``, ``wait``) talks to, and
with which admin credentials: flags first, then what OpenStack clients read, then what
``stacklab up`` wrote (an ephemeral cloud writes only the clouds.yaml entry)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from stacklab.cli import NO_CREDENTIALS, endpoint_of, locate, parser
from stacklab.clouds_yaml import cloud_entry, openrc, write_clouds_yaml

EPHEMERAL = "http://127.0.0.1:40001"
PERSISTENT = "http://127.0.0.1:40002"
OTHER = "http://127.0.0.1:40003"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A HOME of the test's own, with no OS_* variables."""
    for name in ("OS_CLOUD", "OS_CLIENT_CONFIG_FILE", "OS_AUTH_URL", "OS_USERNAME",
                 "OS_PASSWORD", "OS_PROJECT_NAME", "OS_USER_DOMAIN_NAME",
                 "OS_PROJECT_DOMAIN_NAME", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def clouds_yaml(home: Path) -> Path:
    return home / ".config" / "openstack" / "clouds.yaml"


def stacklab_up_wrote(home: Path, url: str, password: str = "secret", *,
                      state_dir: Path | None = None, name: str = "stacklab") -> None:
    """What ``stacklab up`` writes: the clouds.yaml entry, and for a state dir its openrc and
    endpoint file."""
    entry = cloud_entry(f"{url}/identity", password, "RegionOne")
    write_clouds_yaml(clouds_yaml(home), entry, name)
    if state_dir is not None:
        state_dir.mkdir(parents=True, exist_ok=True)
        (state_dir / "openrc").write_text(openrc(entry))
        (state_dir / "endpoint").write_text(url + "\n")


def located(*argv: str) -> tuple[str, str | None, str | None]:
    """(endpoint, password, source) that ``stacklab status ARGV`` would use."""
    cloud = locate(parser().parse_args(["status", *argv]))
    credentials = cloud.credentials
    return (cloud.endpoint, credentials.password if credentials else None,
            credentials.source if credentials else None)


def test_the_clouds_yaml_entry_of_an_ephemeral_cloud_is_enough(home: Path) -> None:
    stacklab_up_wrote(home, EPHEMERAL)
    assert located() == (EPHEMERAL, "secret", f"{clouds_yaml(home)} (cloud 'stacklab')")


def test_the_entry_names_the_cloud_started_last_over_an_older_state_dir(home: Path) -> None:
    # A persistent cloud once ran with the default state dir; an ephemeral one runs now.
    stacklab_up_wrote(home, PERSISTENT, "persistent-pw",
                      state_dir=home / ".local" / "share" / "stacklab")
    stacklab_up_wrote(home, EPHEMERAL)
    assert located()[:2] == (EPHEMERAL, "secret")
    # Without the entry, the state dir's openrc.
    clouds_yaml(home).unlink()
    assert located()[:2] == (PERSISTENT, "persistent-pw")


def test_nothing_written_is_no_credentials_on_the_default_port(home: Path) -> None:
    cloud = locate(parser().parse_args(["node", "down", "network1"]))
    assert (cloud.endpoint, cloud.credentials) == ("http://127.0.0.1:8080", None)
    assert cloud.missing == NO_CREDENTIALS
    assert "--state-dir" in cloud.missing and "--os-cloud" in cloud.missing


def test_os_cloud_names_an_entry_of_the_file_os_client_config_file_names(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stacklab_up_wrote(home, EPHEMERAL)
    elsewhere = home / "lab.yaml"
    write_clouds_yaml(elsewhere, cloud_entry(f"{OTHER}/identity", "other-pw", "RegionOne"),
                      "lab")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(elsewhere))
    assert located("--os-cloud", "lab")[:2] == (OTHER, "other-pw")
    # The variable, as the openstack CLI reads it.
    monkeypatch.setenv("OS_CLOUD", "lab")
    assert located()[:2] == (OTHER, "other-pw")
    missing = locate(parser().parse_args(["status", "--os-cloud", "nowhere"]))
    assert missing.credentials is None
    assert missing.missing == f"no admin credentials: {elsewhere} has no complete cloud " \
        "'nowhere'"


def test_a_sourced_openrc_comes_before_what_stacklab_up_wrote(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stacklab_up_wrote(home, EPHEMERAL)
    for name, value in {"OS_AUTH_URL": f"{OTHER}/identity/v3", "OS_USERNAME": "admin",
                        "OS_PASSWORD": "sourced", "OS_PROJECT_NAME": "admin"}.items():
        monkeypatch.setenv(name, value)
    assert located() == (OTHER, "sourced", "the OS_* variables")


def test_state_dir_means_its_openrc_and_endpoint_only(home: Path) -> None:
    state = home / "state"
    stacklab_up_wrote(home, EPHEMERAL)
    stacklab_up_wrote(home, PERSISTENT, "persistent-pw", state_dir=state, name="unused")
    assert located("--state-dir", str(state)) == (PERSISTENT, "persistent-pw",
                                                  str(state / "openrc"))
    # An ephemeral cloud started with a state dir writes nothing there.
    empty = home / "ephemeral-state"
    cloud = locate(parser().parse_args(["status", "--state-dir", str(empty)]))
    assert cloud.credentials is None
    assert cloud.missing == f"no admin credentials: {empty}/openrc is missing or incomplete"


def test_url_picks_the_credentials_for_that_address(home: Path) -> None:
    stacklab_up_wrote(home, PERSISTENT, "persistent-pw",
                      state_dir=home / ".local" / "share" / "stacklab")
    stacklab_up_wrote(home, EPHEMERAL)
    assert located("--url", f"{PERSISTENT}/")[:2] == (PERSISTENT, "persistent-pw")
    assert located("--url", EPHEMERAL)[:2] == (EPHEMERAL, "secret")
    # No credentials for that address: the first found, which the cloud will judge.
    assert located("--url", OTHER)[:2] == (OTHER, "secret")


def test_every_lab_command_takes_the_same_ways_to_name_its_cloud(home: Path) -> None:
    stacklab_up_wrote(home, EPHEMERAL)
    for argv in (["wait"], ["status"], ["node", "up", "compute1"], ["netns", "network1"]):
        args = parser().parse_args([*argv, "--os-cloud", "stacklab", "--url", OTHER])
        assert (args.os_cloud, args.url, args.state_dir) == ("stacklab", OTHER, None)
        assert locate(args).endpoint == OTHER


@pytest.mark.parametrize("auth_url", [
    "http://127.0.0.1:40001/identity", "http://127.0.0.1:40001/identity/",
    "http://127.0.0.1:40001/identity/v3", "http://127.0.0.1:40001/identity/v3/"])
def test_the_endpoint_is_the_auth_url_without_keystones_path(auth_url: str) -> None:
    assert endpoint_of(auth_url) == EPHEMERAL


def test_clouds_yaml_entries_of_other_clouds_are_left_alone(home: Path) -> None:
    write_clouds_yaml(clouds_yaml(home), {"auth": {"auth_url": "https://keystone.example.org"}},
                      "production")
    stacklab_up_wrote(home, EPHEMERAL)
    # The production entry has no password: it is never a candidate.
    assert located()[:2] == (EPHEMERAL, "secret")
    assert set(yaml.safe_load(clouds_yaml(home).read_text())["clouds"]) == {
        "production", "stacklab"}


@pytest.mark.parametrize(("option", "named"), [
    ("vip_manager = bogus", "vip_manager: 'bogus' is not one of keepalived, pacemaker"),
    ("boot_profile = bogus", "unknown boot_profile 'bogus'"),
    ("ha_time_scale = fast", "cannot read 'fast'"),
])
def test_up_refuses_a_value_it_cannot_build_the_cloud_with_in_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, named: str) -> None:
    from stacklab.cli import main

    config = tmp_path / "stacklab.ini"
    config.write_text(f"[stacklab]\n{option}\n")
    assert main(["up", "--ephemeral", "--port", "0", "--no-clouds-yaml",
                 "--config", str(config)]) == 2
    said = capsys.readouterr().err.strip().splitlines()[-1]
    assert said.startswith("stacklab: ") and named in said, said
    assert "Traceback" not in capsys.readouterr().err
