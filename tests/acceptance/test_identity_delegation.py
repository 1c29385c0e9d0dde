"""Trusts, endpoint groups, policy blobs and endpoint regions, driven by the real ``openstack``
CLI and openstacksdk/keystoneauth against the session's live cloud (names carry ``del-``)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from acceptance.conftest import LiveCloud

pytestmark = pytest.mark.acceptance

NO_CLOUDS = {"OS_CLOUD": "", "OS_CLIENT_CONFIG_FILE": os.devnull}


def as_trustee(live: LiveCloud, user: str, password: str, trust_id: str) -> dict[str, str]:
    """An openrc that authenticates ``user`` scoped to a trust (keystoneauth's trust_id)."""
    return {**NO_CLOUDS, "OS_AUTH_URL": live.auth_url, "OS_IDENTITY_API_VERSION": "3",
            "OS_USERNAME": user, "OS_PASSWORD": password, "OS_USER_DOMAIN_NAME": "Default",
            "OS_TRUST_ID": trust_id, "OS_REGION_NAME": "RegionOne"}


def test_a_trust_created_listed_used_and_deleted(live: LiveCloud) -> None:
    admin_id = live.openstack_json("user", "show", "admin")["id"]
    trustee = live.openstack_json("user", "create", "--password", "pw-trustee",
                                  "del-trustee")
    trust = live.openstack_json("trust", "create", "--project", "admin", "--role", "member",
                                "--impersonate", "--expiration", "2099-01-01T00:00:00",
                                admin_id, trustee["id"])
    assert trust["is_impersonation"] is True and trust["project_id"]
    assert trust["expires_at"] == "2099-01-01T00:00:00.000000Z"
    assert [role["name"] for role in trust["roles"]] == ["member"]
    assert trust["id"] in [row["ID"] for row in live.openstack_json("trust", "list")]
    assert live.openstack_json("trust", "show", trust["id"])["trustee_user_id"] == trustee["id"]

    # The trustee's token through the trust: impersonating, the trustor's, on the project.
    env = as_trustee(live, "del-trustee", "pw-trustee", trust["id"])
    token = json.loads(live.openstack("token", "issue", "-f", "json", **env).stdout)
    assert token["user_id"] == admin_id and token["project_id"] == trust["project_id"]
    conn = live.connect(username="del-trustee", password="pw-trustee", project_name=None,
                        project_domain_name=None, trust_id=trust["id"])
    access = conn.session.auth.get_access(conn.session)
    assert access.trust_scoped and access.trust_id == trust["id"]
    assert access.trustor_user_id == admin_id and access.trustee_user_id == trustee["id"]
    assert access.role_names and set(access.role_names) <= {"member", "reader"}

    live.openstack("trust", "delete", trust["id"])
    gone = live.openstack("trust", "show", trust["id"], check=False)
    assert gone.returncode != 0
    refused = live.openstack("token", "issue", check=False, **env)
    assert refused.returncode != 0 and "401" in refused.stderr + refused.stdout
    live.openstack("user", "delete", trustee["id"])


def test_endpoint_groups_and_project_endpoints(live: LiveCloud, tmp_path: Path) -> None:
    service = live.openstack_json("service", "create", "--name", "del-svc", "del-type")
    filters = tmp_path / "filters.json"
    filters.write_text(json.dumps({"service_id": service["id"]}))
    group = live.openstack_json("endpoint", "group", "create", "--description", "d",
                                "del-group", str(filters))
    assert group["filters"] == {"service_id": service["id"]} or \
        json.loads(str(group["filters"]).replace("'", '"')) == {"service_id": service["id"]}
    project = live.openstack_json("project", "create", "del-project")
    live.openstack("endpoint", "group", "add", "project", "del-group", "del-project")
    endpoint = live.openstack_json("endpoint", "create", "--region", "RegionOne", "del-svc",
                                   "public", "http://del.example")
    listed = live.openstack_json("endpoint", "list", "--project", "del-project")
    assert [row["ID"] for row in listed] == [endpoint["id"]]
    live.openstack("endpoint", "group", "remove", "project", "del-group", "del-project")
    assert live.openstack_json("endpoint", "list", "--project", "del-project") == []
    live.openstack("endpoint", "add", "project", endpoint["id"], "del-project")
    assert [row["ID"] for row in live.openstack_json(
        "endpoint", "list", "--project", "del-project")] == [endpoint["id"]]
    live.openstack("endpoint", "group", "delete", "del-group")
    live.openstack("endpoint", "delete", endpoint["id"])
    live.openstack("project", "delete", project["id"])
    live.openstack("service", "delete", service["id"])


def test_policy_blob_and_project_in_a_new_domain(live: LiveCloud, tmp_path: Path) -> None:
    blob = tmp_path / "policy.json"
    blob.write_text('{"rule": "role:admin"}')
    policy = live.openstack_json("policy", "create", "--type", "application/json", str(blob))
    assert policy["type"] == "application/json" and "role:admin" in policy["rules"]
    live.openstack("policy", "delete", policy["id"])
    live.openstack_json("domain", "create", "del-domain")
    project = live.openstack_json("project", "create", "--domain", "del-domain", "del-in-domain")
    shown: dict[str, Any] = live.openstack_json("project", "show", project["id"])
    assert shown["domain_id"] == project["domain_id"] != "default"
    assert shown["is_domain"] is False


def test_endpoint_create_in_an_unknown_region_is_refused(live: LiveCloud) -> None:
    """The CLI looks the region up first (keystone refuses an unknown ``region_id``)."""
    live.openstack_json("service", "create", "--name", "del-region-svc", "del-region-type")
    refused = live.openstack("endpoint", "create", "--region", "del-NewRegion",
                             "del-region-svc", "public", "http://x.example", check=False)
    assert refused.returncode != 0
    assert live.openstack("region", "show", "del-NewRegion", check=False).returncode != 0
