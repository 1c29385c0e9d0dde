"""heat-engine's way to the other services: their public APIs, with the user's
delegated credentials (upstream's ``deferred_auth_method = trusts``).

At stack create the engine makes a keystone trust from the user to the ``heat`` service
user (impersonating, with the user's roles in the project); every later call on the
stack's behalf is made with a trust-scoped token the ``heat`` user gets for that trust,
as heat's stored context does.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import httpx

from stacklab.api.client import ServiceCallError, ServiceClient, ServiceUnreachable
from stacklab.clock import Clock

# keystoneauth's BaseIdentityPlugin.MIN_TOKEN_LIFE_SECONDS: a token that expires sooner is
# replaced by a new one before it is used.
MIN_TOKEN_LIFE_SECONDS = 120

# heat's ``heat_stack_user_role``.
STACK_USER_ROLE = "heat_stack_user"

# The header a microversioned service reads, by catalog type.
_MICROVERSION_HEADER = {"compute": "compute", "volumev3": "volume", "block-storage": "volume",
                        "placement": "placement", "orchestration": "orchestration"}


def signal_signature(secret: str, stack_id: str, resource: str) -> str:
    """The signature of a resource's signal URL: an HMAC-SHA256 of its own secret."""
    return hmac.new(secret.encode(), f"{stack_id}/{resource}".encode(),
                    hashlib.sha256).hexdigest()


class Clients:
    """Calls to any service of the catalog (by type), and the trusts behind them."""

    def __init__(self, app: Callable[[], Any], base_url: Callable[[], str], *,
                 password: str, endpoints: Mapping[str, str] | None = None,
                 clock: Clock | None = None) -> None:
        self._app = app
        self._base_url = base_url
        self._password = password
        # catalog type -> the path of its endpoint on the cloud's address (set at start).
        self.endpoints: dict[str, str] = dict(endpoints or {})
        self._clients: dict[str, ServiceClient] = {}
        self._heat_user_id: str | None = None
        # The heat user's trust-scoped tokens, kept until near expiry as keystoneauth keeps
        # its auth_ref (heat's stored context holds one auth plugin per trust): trust id ->
        # (token, expiry on ``clock``). Without a clock nothing is kept.
        self._clock = clock
        self._trust_tokens: dict[str, tuple[str, float]] = {}

    def client(self, service_type: str) -> ServiceClient:
        mount = self.endpoints.get(service_type)
        if mount is None:
            raise ServiceCallError(404, {"message": f"No endpoint of type {service_type} in "
                                         "the catalog"})
        found = self._clients.get(mount)
        if found is None:
            found = self._clients[mount] = ServiceClient(
                self._app, self._base_url, mount=mount, username="heat",
                password=self._password)
        return found

    async def call(self, token: str, service_type: str, method: str, path: str, *,
                   json: Any = None, params: Mapping[str, Any] | None = None,
                   microversion: str | None = None) -> Any:
        headers: dict[str, str] = {}
        if microversion is not None:
            kind = _MICROVERSION_HEADER.get(service_type, service_type)
            headers["OpenStack-API-Version"] = f"{kind} {microversion}"
            if kind == "compute":
                headers["X-OpenStack-Nova-API-Version"] = microversion
        if service_type == "image" and method == "PATCH":
            # glance takes an image's changes only in its JSON-patch dialect, which
            # glanceclient names (heat's image updates go through it).
            headers["Content-Type"] = "application/openstack-images-v2.1-json-patch"
        return await self.client(service_type).json(method, path, token=token, json=json,
                                                    params=params, headers=headers)

    def cfn_url(self) -> str:
        """heat-api-cfn's versioned URL on the cloud's address, with heat's trailing slash."""
        base = (self._base_url() or "http://stacklab.internal").rstrip("/")
        return f"{base}{self.endpoints.get('cloudformation', '/heat-api-cfn/v1')}/"

    def signal_url(self, stack_id: str, resource: str, secret: str) -> str:
        """heat-api-cfn's wait-condition URL for a resource, signed with its secret."""
        return (f"{self.cfn_url()}waitcondition/{stack_id}/{resource}"
                f"?Signature={signal_signature(secret, stack_id, resource)}")

    # -- keystone ----------------------------------------------------------------------

    def _identity(self) -> ServiceClient:
        return self.client("identity")

    async def _login(self, scope: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]]:
        auth: dict[str, Any] = {"identity": {"methods": ["password"], "password": {"user": {
            "name": "heat", "domain": {"id": "default"}, "password": self._password}}}}
        if scope is not None:
            auth["scope"] = dict(scope)
        mount = self.endpoints.get("identity", "/identity")
        # A login carries no token of its own (ServiceClient's calls all do).
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self._app()),
                                     base_url=self._base_url() or "http://stacklab.internal",
                                     timeout=30) as client:
            try:
                answer = await client.post(f"{mount}/v3/auth/tokens", json={"auth": auth})
            except (ConnectionError, httpx.TransportError) as error:
                raise ServiceUnreachable(str(error) or type(error).__name__) from None
        if answer.status_code != 201:
            raise ServiceCallError(answer.status_code, _body(answer))
        return answer.headers["X-Subject-Token"], answer.json()["token"]

    async def heat_user_id(self) -> str:
        if self._heat_user_id is None:
            _, body = await self._login(None)
            self._heat_user_id = str(body["user"]["id"])
        return self._heat_user_id

    async def create_trust(self, user_token: str, user_id: str, project_id: str,
                           roles: list[str]) -> str:
        """The trust from the user to heat (heat's ``create_trust_context``)."""
        trustee = await self.heat_user_id()
        body = await self._identity().json("POST", "/v3/OS-TRUST/trusts", token=user_token,
                                           json={"trust": {
                                               "trustor_user_id": user_id,
                                               "trustee_user_id": trustee,
                                               "project_id": project_id,
                                               "impersonation": True,
                                               "roles": [{"name": r} for r in roles]}})
        return str(body["trust"]["id"])

    async def trust_token(self, trust_id: str) -> str:
        kept = self._trust_tokens.get(trust_id)
        if (kept is not None and self._clock is not None
                and kept[1] - self._clock.now() > MIN_TOKEN_LIFE_SECONDS):
            return kept[0]
        token, body = await self._login({"OS-TRUST:trust": {"id": trust_id}})
        expires = _expiry(body.get("expires_at"))
        if self._clock is not None and expires is not None:
            self._trust_tokens[trust_id] = (token, expires)
        return token

    def forget_trust_token(self, trust_id: str) -> None:
        """Drop a kept token (its trust is gone, or keystone refused it)."""
        self._trust_tokens.pop(trust_id, None)

    # -- stack users (heat's StackUser, in the stack's own project) ---------------------

    def keystone_url(self) -> str:
        """keystone's v3 URL on the cloud's address (heat's
        ``server_keystone_endpoint_url``)."""
        base = (self._base_url() or "http://stacklab.internal").rstrip("/")
        return f"{base}{self.endpoints.get('identity', '/identity')}/v3"

    async def _admin_token(self) -> str:
        token, _ = await self._login({"project": {"name": "service",
                                                  "domain": {"id": "default"}}})
        return token

    async def create_stack_user(self, name: str, password: str, project_id: str) -> str:
        """A keystone user with only heat's ``heat_stack_user`` role in the project (made
        if missing, as devstack makes it): what heat's ``StackUser._create_user`` makes
        in its stack domain. heat's policy lets that role read and signal resources."""
        token = await self._admin_token()
        identity = self._identity()
        roles = (await identity.json("GET", "/v3/roles", token=token,
                                     params={"name": STACK_USER_ROLE}))["roles"]
        if roles:
            role_id = str(roles[0]["id"])
        else:
            role_id = str((await identity.json("POST", "/v3/roles", token=token, json={
                "role": {"name": STACK_USER_ROLE}}))["role"]["id"])
        user = await identity.json("POST", "/v3/users", token=token, json={"user": {
            "name": name, "password": password, "default_project_id": project_id,
            "domain_id": "default", "enabled": True}})
        user_id = str(user["user"]["id"])
        await identity.send("PUT", f"/v3/projects/{project_id}/users/{user_id}/roles/"
                            f"{role_id}", token=token)
        return user_id

    async def delete_stack_user(self, user_id: str) -> None:
        try:
            await self._identity().send("DELETE", f"/v3/users/{user_id}",
                                        token=await self._admin_token())
        except ServiceCallError as error:
            if error.status != 404:
                raise

    async def delete_trust(self, trust_id: str) -> None:
        try:
            token = await self.trust_token(trust_id)
            await self._identity().send("DELETE", f"/v3/OS-TRUST/trusts/{trust_id}",
                                        token=token)
        except ServiceCallError:
            pass  # heat logs and goes on: a trust left behind harms nothing
        finally:
            self.forget_trust_token(trust_id)


def _expiry(value: Any) -> float | None:
    """keystone's ``expires_at`` (``2026-12-04T14:23:41.000000Z``) as a timestamp."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _body(answer: httpx.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return {"message": answer.text}
