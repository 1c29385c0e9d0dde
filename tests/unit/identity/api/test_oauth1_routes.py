"""OS-OAUTH1's exchange and OS-ENDPOINT-POLICY over HTTP (an in-process cloud), signed with
oauthlib's client side; bodies checked against keystone's own response schemas."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from oauthlib import oauth1 as oauthlib1
from starlette.testclient import TestClient

from stacklab.api.app import build_app
from stacklab.cloud import Cloud
from support.apiref import assert_keystone_response
from support.inprocess import admin_token, ephemeral_config

V3 = "http://testserver/identity/v3"


class Lab:
    def __init__(self, cloud: Cloud, client: TestClient) -> None:
        self.cloud = cloud
        self.client = client
        self.token = admin_token(client)
        me = client.get("/identity/v3/auth/tokens", headers={
            "X-Auth-Token": self.token, "X-Subject-Token": self.token}).json()["token"]
        self.user_id: str = me["user"]["id"]
        self.project_id: str = me["project"]["id"]
        self.role_id: str = next(r["id"] for r in me["roles"] if r["name"] == "member")

    def call(self, method: str, path: str, body: Any = None, template: str | None = None,
             status: int = 200) -> Any:
        response = self.client.request(method, f"/identity/v3{path}", json=body,
                                       headers={"X-Auth-Token": self.token})
        assert response.status_code == status, response.text
        answer = response.json() if response.content else None
        if template is not None:
            assert_keystone_response(answer, template, method)
        return answer

    def signed_post(self, path: str, key: str, secret: str, *, token: str | None = None,
                    token_secret: str | None = None, verifier: str | None = None,
                    headers: dict[str, str] | None = None, json: Any = None,
                    callback: str | None = None) -> Any:
        client = oauthlib1.Client(key, client_secret=secret, resource_owner_key=token,
                                  resource_owner_secret=token_secret, verifier=verifier,
                                  callback_uri=callback,
                                  timestamp=str(int(self.cloud.clock.now())))
        _uri, signed, _body = client.sign(V3 + path, http_method="POST")
        return self.client.post(f"/identity/v3{path}", headers={**(headers or {}), **signed},
                                json=json)


@pytest.fixture
def lab() -> Iterator[Lab]:
    cloud = Cloud(ephemeral_config())
    cloud.start("http://testserver")
    with TestClient(build_app(cloud), raise_server_exceptions=False) as client:
        yield Lab(cloud, client)
    cloud.stop()
    assert cloud.unexpected_errors == 0


def exchange(lab: Lab) -> tuple[str, str, str, str]:
    """Consumer, then request, authorize and access: the consumer's and access token's
    keys and secrets."""
    consumer = lab.call("POST", "/OS-OAUTH1/consumers", {"consumer": {"description": "d"}},
                        status=201)["consumer"]
    answer = lab.signed_post("/OS-OAUTH1/request_token", consumer["id"], consumer["secret"],
                             callback="oob", headers={"Requested-Project-Id": lab.project_id})
    assert answer.status_code == 201, answer.text
    assert answer.headers["content-type"].startswith("application/x-www-form-urlencoded")
    request = {k: v[0] for k, v in parse_qs(answer.text).items()}
    assert set(request) == {"oauth_token", "oauth_token_secret", "oauth_expires_at"}
    verifier = lab.call("PUT", f"/OS-OAUTH1/authorize/{request['oauth_token']}",
                        {"roles": [{"id": lab.role_id}]})["token"]["oauth_verifier"]
    answer = lab.signed_post("/OS-OAUTH1/access_token", consumer["id"], consumer["secret"],
                             token=request["oauth_token"],
                             token_secret=request["oauth_token_secret"], verifier=verifier)
    assert answer.status_code == 201, answer.text
    access = {k: v[0] for k, v in parse_qs(answer.text).items()}
    return consumer["id"], consumer["secret"], access["oauth_token"], access["oauth_token_secret"]


def test_oauth1_flow_and_revocation(lab: Lab) -> None:
    key, secret, access, access_secret = exchange(lab)
    answer = lab.signed_post("/auth/tokens", key, secret, token=access,
                             token_secret=access_secret,
                             json={"auth": {"identity": {"methods": ["oauth1"], "oauth1": {}}}})
    assert answer.status_code == 201, answer.text
    body = answer.json()["token"]
    assert body["OS-OAUTH1"] == {"access_token_id": access, "consumer_id": key}
    assert body["project"]["id"] == lab.project_id
    assert [r["id"] for r in body["roles"]] == [lab.role_id]
    oauth_token = answer.headers["X-Subject-Token"]

    tokens_path = f"/users/{lab.user_id}/OS-OAUTH1/access_tokens"
    listed = lab.call("GET", tokens_path,
                      template="/v3/users/{user_id}/OS-OAUTH1/access_tokens")["access_tokens"]
    assert [t["id"] for t in listed] == [access]
    assert "access_secret" not in listed[0]
    lab.call("GET", f"{tokens_path}/{access}",
             template="/v3/users/{user_id}/OS-OAUTH1/access_tokens/{access_token_id}")
    roles = lab.call("GET", f"{tokens_path}/{access}/roles")["roles"]
    assert [r["id"] for r in roles] == [lab.role_id]
    lab.call("GET", f"{tokens_path}/{access}/roles/{lab.role_id}")
    lab.call("GET", f"{tokens_path}/{access}/roles/nope", status=404)

    # The OAuth1 token is delegation: it may not manage access tokens.
    refused = lab.client.get(f"/identity/v3{tokens_path}", headers={"X-Auth-Token": oauth_token})
    assert refused.status_code == 403
    check = {"X-Auth-Token": lab.token, "X-Subject-Token": oauth_token}
    assert lab.client.head("/identity/v3/auth/tokens", headers=check).status_code == 200
    lab.call("DELETE", f"{tokens_path}/{access}", status=204)
    assert lab.client.head("/identity/v3/auth/tokens", headers=check).status_code == 404
    assert lab.call("GET", tokens_path)["access_tokens"] == []


def test_bad_signatures_and_missing_headers(lab: Lab) -> None:
    consumer = lab.call("POST", "/OS-OAUTH1/consumers", {"consumer": {}},
                        status=201)["consumer"]
    bad = lab.signed_post("/OS-OAUTH1/request_token", consumer["id"], "wrong", callback="oob",
                          headers={"Requested-Project-Id": lab.project_id})
    assert bad.status_code == 401 and bad.json()["error"]["message"] == "Invalid signature"
    missing = lab.signed_post("/OS-OAUTH1/request_token", consumer["id"], consumer["secret"],
                              callback="oob")
    assert missing.status_code == 400
    assert "Requested-Project-Id" in missing.json()["error"]["message"]
    unsigned = lab.client.post("/identity/v3/OS-OAUTH1/request_token")
    assert unsigned.status_code == 400
    lab.call("PUT", "/OS-OAUTH1/authorize/" + "0" * 32, {"roles": [{"id": lab.role_id}]},
             status=404)
    lab.call("PUT", "/OS-OAUTH1/authorize/" + "0" * 32, {"roles": [{"id": 1}]}, status=400)


def test_endpoint_policy_routes(lab: Lab) -> None:
    policy = lab.call("POST", "/policies", {"policy": {"type": "application/json",
                                                       "blob": "{}"}}, status=201)["policy"]
    endpoints = lab.call("GET", "/endpoints")["endpoints"]
    endpoint = endpoints[0]
    base = f"/policies/{policy['id']}/OS-ENDPOINT-POLICY"
    lab.call("GET", f"/endpoints/{endpoint['id']}/OS-ENDPOINT-POLICY/policy", status=404)
    lab.call("PUT", f"{base}/services/{endpoint['service_id']}", status=204)
    lab.call("GET", f"{base}/services/{endpoint['service_id']}", status=204)
    assert lab.client.head(f"/identity/v3{base}/services/{endpoint['service_id']}",
                           headers={"X-Auth-Token": lab.token}).status_code == 204
    found = lab.call("GET", f"/endpoints/{endpoint['id']}/OS-ENDPOINT-POLICY/policy",
                     template="/v3/endpoints/{endpoint_id}/OS-ENDPOINT-POLICY/policy")
    assert found["policy"]["id"] == policy["id"]
    listed = lab.call("GET", f"{base}/endpoints",
                      template="/v3/policies/{policy_id}/OS-ENDPOINT-POLICY/endpoints")
    assert endpoint["id"] in [e["id"] for e in listed["endpoints"]]
    region = endpoint["region_id"]
    lab.call("PUT", f"{base}/services/{endpoint['service_id']}/regions/{region}", status=204)
    lab.call("GET", f"{base}/services/{endpoint['service_id']}/regions/{region}", status=204)
    lab.call("PUT", f"{base}/endpoints/{endpoint['id']}", status=204)
    lab.call("GET", f"{base}/endpoints/{endpoint['id']}", status=204)
    lab.call("DELETE", f"{base}/endpoints/{endpoint['id']}", status=204)
    lab.call("GET", f"{base}/endpoints/{endpoint['id']}", status=404)
    lab.call("PUT", f"{base}/endpoints/nope", status=404)
