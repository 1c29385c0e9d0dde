"""tempest.conf as the harness writes it: the cloud's answers in, every option once."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest

from conformance import tempest_conf
from conformance.cloud import Facts, stacklab_conf
from conformance.tempest_conf import GATE, OURS, options, render

FACTS = Facts(
    auth_url="http://127.0.0.1:4242/identity/v3", services={"identity", "compute", "image",
                                                            "network"},
    image_id="img-1", flavor_id="1", flavor_alt_id="2", public_network_id="net-1",
    public_network_name="public", compute_min_microversion="2.1",
    compute_max_microversion="2.96", network_extensions=["router", "security-group"])


def test_the_conf_holds_what_the_cloud_advertises(tmp_path: Path) -> None:
    conf = configparser.ConfigParser()
    conf.read_string(render(FACTS, tmp_path))
    assert conf["identity"]["uri_v3"] == FACTS.auth_url
    assert conf["compute"]["min_microversion"] == "2.1"
    assert conf["compute"]["max_microversion"] == "2.96"
    assert (conf["compute"]["flavor_ref"], conf["compute"]["flavor_ref_alt"]) == ("1", "2")
    assert conf["network"]["public_network_id"] == "net-1"
    assert conf["network-feature-enabled"]["api_extensions"] == "router,security-group"
    assert conf["validation"]["run_validation"] == "false"
    for service in ("cinder", "heat", "swift"):
        assert conf["service_available"][service] == "false"


VOLUME_FACTS = Facts(**{**FACTS.__dict__, "services": FACTS.services | {"volumev3"},
                         "volume_catalog_type": "block-storage",
                         "volume_min_microversion": "3.0",
                         "volume_max_microversion": "3.71"})


def test_a_volume_service_in_the_catalog_turns_cinder_on_once_its_tests_pass(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempest_conf, "VOLUME_TESTS_PASS", False)
    conf = configparser.ConfigParser()
    conf.read_string(render(VOLUME_FACTS, tmp_path))
    assert conf["service_available"]["cinder"] == "false"
    assert not conf.has_section("volume")
    # A run asking for the volume tests turns it on, as VOLUME_TESTS_PASS does for all.
    asked = render(VOLUME_FACTS, tmp_path, volume=True)
    monkeypatch.setattr(tempest_conf, "VOLUME_TESTS_PASS", True)
    for conf_text in (asked, render(VOLUME_FACTS, tmp_path)):
        conf = configparser.ConfigParser()
        conf.read_string(conf_text)
        assert conf["service_available"]["cinder"] == "true"
        assert conf["volume"]["catalog_type"] == "block-storage"
        assert (conf["volume"]["min_microversion"], conf["volume"]["max_microversion"]) == (
            "3.0", "3.71")
        # No backups served: their tests are off, and the docs say whose gap it is.
        assert conf["volume-feature-enabled"]["backup"] == "false"
    # Not without Block Storage in the catalog, whatever the run asks.
    conf = configparser.ConfigParser()
    conf.read_string(render(FACTS, tmp_path, volume=True))
    assert conf["service_available"]["cinder"] == "false"


def test_multiattach_is_tested_with_the_type_the_harness_made(tmp_path: Path) -> None:
    conf = configparser.ConfigParser()
    conf.read_string(render(VOLUME_FACTS, tmp_path, volume=True))
    assert conf["compute-feature-enabled"]["volume_multiattach"] == "false"
    facts = Facts(**{**VOLUME_FACTS.__dict__, "volume_type_multiattach": "multiattach"})
    conf = configparser.ConfigParser()
    conf.read_string(render(facts, tmp_path, volume=True))
    assert conf["compute-feature-enabled"]["volume_multiattach"] == "true"
    assert conf["volume"]["volume_type_multiattach"] == "multiattach"
    # Not when the volume tests are not run at all.
    conf = configparser.ConfigParser()
    conf.read_string(render(facts, tmp_path))
    assert conf["compute-feature-enabled"]["volume_multiattach"] == \
        ("true" if tempest_conf.VOLUME_TESTS_PASS else "false")


def test_backups_are_tested_when_the_cloud_serves_them(tmp_path: Path) -> None:
    facts = Facts(**{**VOLUME_FACTS.__dict__, "volume_backups": True})
    conf = configparser.ConfigParser()
    conf.read_string(render(facts, tmp_path, volume=True))
    assert conf["volume-feature-enabled"]["backup"] == "true"


def test_every_option_is_set_once_and_every_flag_off_says_whose_gap(tmp_path: Path) -> None:
    seen = [(option.section, option.name)
            for option in options(VOLUME_FACTS, tmp_path, volume=True)]
    assert len(seen) == len(set(seen))
    # Flags whose "false" runs more tests rather than fewer.
    inverted = {"image_format_enforcement"}
    for option in options(VOLUME_FACTS, tmp_path, volume=True):
        if (option.value == "false" and option.section.endswith("-feature-enabled")
                and option.name not in inverted):
            assert option.kind in (GATE, OURS), option
        assert option.why, option


def test_a_second_image_and_the_loopback_image_url_are_used(tmp_path: Path) -> None:
    facts = Facts(**{**FACTS.__dict__, "image_alt_id": "img-2",
                     "http_image": "http://127.0.0.1:5000/cirros.img"})
    conf = configparser.ConfigParser()
    conf.read_string(render(facts, tmp_path))
    assert (conf["compute"]["image_ref"], conf["compute"]["image_ref_alt"]) == ("img-1", "img-2")
    assert conf["image"]["http_image"] == "http://127.0.0.1:5000/cirros.img"
    assert conf["image"]["http_qcow2_image"] == "http://127.0.0.1:5000/cirros.img"


def test_without_them_image_ref_alt_is_image_ref_and_no_http_image(tmp_path: Path) -> None:
    conf = configparser.ConfigParser()
    conf.read_string(render(FACTS, tmp_path))
    assert conf["compute"]["image_ref_alt"] == "img-1"
    assert not conf.has_option("image", "http_image")


def test_the_sample_images_manifest_is_named_when_made(tmp_path: Path) -> None:
    conf = configparser.ConfigParser()
    conf.read_string(render(FACTS, tmp_path))
    assert not conf.has_option("image", "images_manifest_file")
    assert conf["image-feature-enabled"]["image_format_enforcement"] == "true"
    facts = Facts(**{**FACTS.__dict__, "images_manifest": "/run/format-images/manifest.yaml"})
    conf.read_string(render(facts, tmp_path))
    assert conf["image"]["images_manifest_file"] == "/run/format-images/manifest.yaml"


def test_tempest_knows_the_filters_the_cloud_is_started_with(tmp_path: Path) -> None:
    conf = configparser.ConfigParser()
    conf.read_string(render(FACTS, tmp_path))
    tempest_filters = conf["compute-feature-enabled"]["scheduler_enabled_filters"].split(",")
    cloud_conf = configparser.ConfigParser()
    cloud_conf.read_string(stacklab_conf())
    cloud_filters = cloud_conf["filter_scheduler"]["enabled_filters"].split(",")
    assert tempest_filters == cloud_filters
    assert {"SameHostFilter", "DifferentHostFilter"} <= set(cloud_filters)


def test_orchestration_in_the_catalog_writes_heat_plugin_s_section(tmp_path: Path) -> None:
    conf = configparser.ConfigParser()
    facts = Facts(**{**FACTS.__dict__, "services": FACTS.services | {"orchestration"}})
    conf.read_string(render(facts, tmp_path))
    assert conf["service_available"]["heat"] == "true"
    heat = conf["heat_plugin"]
    # The plugin authenticates by itself from these, already while listing its tests.
    assert heat["auth_url"] == FACTS.auth_url
    assert heat["auth_version"] == "3"
    assert (heat["username"], heat["project_name"]) == ("admin", "admin")
    assert heat["catalog_type"] == "orchestration"
    assert (heat["image_ref"], heat["minimal_instance_type"]) == ("img-1", "1")


def test_without_orchestration_there_is_no_heat_plugin_section(tmp_path: Path) -> None:
    conf = configparser.ConfigParser()
    conf.read_string(render(FACTS, tmp_path))
    assert "heat_plugin" not in conf
