"""OS-OAUTH1 delegation driven by the real clients against the session's live cloud: the
``openstack`` CLI's consumer, request token and access token commands, keystoneauth's
``V3OAuth1`` plugin for the token, and the REST API for a user's access tokens."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from acceptance.conftest import LiveCloud

pytestmark = pytest.mark.acceptance
# The clients' OAuth1 support (keystoneclient's and keystoneauth's) needs oauthlib.
pytest.importorskip("oauthlib")


def admin_session(live: LiveCloud) -> Any:
    return live.connect().session


def test_delegation_with_the_cli_and_keystoneauth(live: LiveCloud) -> None:
    from keystoneauth1 import session as ks_session
    from keystoneauth1.extras.oauth1 import V3OAuth1

    consumer = live.openstack_json("consumer", "create", "--description", "oauth-consumer")
    request = live.openstack_json("request", "token", "create", "--consumer-key",
                                  consumer["id"], "--consumer-secret", consumer["secret"],
                                  "--project", "admin")
    verifier = live.openstack_json("request", "token", "authorize", "--request-key",
                                   request["id"], "--role", "member")["oauth_verifier"]
    access = live.openstack_json("access", "token", "create", "--consumer-key", consumer["id"],
                                 "--consumer-secret", consumer["secret"], "--request-key",
                                 request["id"], "--request-secret", request["secret"],
                                 "--verifier", verifier)

    plugin = V3OAuth1(f"{live.auth_url}/v3", consumer_key=consumer["id"],
                      consumer_secret=consumer["secret"], access_key=access["id"],
                      access_secret=access["secret"])
    delegated = ks_session.Session(auth=plugin)
    got = plugin.get_access(delegated)
    assert got.oauth_access_token_id == access["id"]
    assert got.oauth_consumer_id == consumer["id"]
    assert got.role_names == ["member"]
    token = plugin.get_token(delegated)

    admin = admin_session(live)
    user_id = admin.get_user_id()
    headers = {"X-Auth-Token": admin.get_token()}
    base = f"{live.auth_url}/v3/users/{user_id}/OS-OAUTH1/access_tokens"
    listed = httpx.get(base, headers=headers).json()["access_tokens"]
    assert access["id"] in [t["id"] for t in listed]
    check = {**headers, "X-Subject-Token": token}
    assert httpx.head(f"{live.auth_url}/v3/auth/tokens", headers=check).status_code == 200
    assert httpx.delete(f"{base}/{access['id']}", headers=headers).status_code == 204
    # The delegated token dies with its access token.
    assert httpx.head(f"{live.auth_url}/v3/auth/tokens", headers=check).status_code == 404
    live.openstack("consumer", "delete", consumer["id"])
