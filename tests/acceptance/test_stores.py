"""``stacklab up`` on a MariaDB store ([database] connection = mysql+pymysql://…), driven by
the real ``openstack`` CLI: the schema brought to head on an empty database, a token, a
network with a subnet, and a server that goes ACTIVE on it (docs/stores.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from acceptance.conftest import start_cloud, stop_cloud
from support.engines import scratch_database

pytestmark = pytest.mark.acceptance

CIRROS = "cirros-0.6.2-x86_64-disk"


def test_up_on_mariadb_serves_the_cli(tmp_path: Path) -> None:
    with scratch_database("mysql") as url:
        conf = tmp_path / "stacklab.conf"
        conf.write_text(f"[database]\nconnection = {url}\n")
        cloud = start_cloud(tmp_path, "--config", str(conf), "--seed", "15")
        try:
            token = cloud.openstack_json("token", "issue")
            assert token["project_id"] and token["id"]
            network = cloud.openstack_json("network", "create", "stores-net")
            cloud.openstack_json("subnet", "create", "--network", network["id"],
                                 "--subnet-range", "10.15.0.0/24", "stores-subnet")
            server = cloud.openstack_json("server", "create", "--flavor", "m1.small",
                                          "--image", CIRROS, "--network", network["id"],
                                          "--wait", "stores-server")
            assert server["status"] == "ACTIVE"
            addresses = server["addresses"]["stores-net"]
            assert addresses and addresses[0].startswith("10.15.0.")
            cloud.openstack("server", "delete", "--wait", server["id"])
        finally:
            code = stop_cloud(cloud)
        assert code == 0
