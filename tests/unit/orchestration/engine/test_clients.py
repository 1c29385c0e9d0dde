"""engine.clients: the heat user's trust-scoped token kept until near its expiry, as
keystoneauth keeps its auth_ref (MIN_TOKEN_LIFE_SECONDS), and dropped with its trust."""

from __future__ import annotations

import pytest

from stacklab.api.client import ServiceCallError
from stacklab.orchestration.engine.clients import MIN_TOKEN_LIFE_SECONDS
from unit.orchestration.heat_calls import Heat, run_heat


def test_a_trust_token_is_kept_until_near_expiry_and_dropped_with_its_trust() -> None:
    async def scenario(heat: Heat) -> None:
        clients = heat.cloud.orchestration.clients
        lifetime = heat.cloud.config.token.expiration
        _, project = await heat.login()
        roles = ["member"]
        token = heat.token
        info = (await heat.client.get("/identity/v3/auth/tokens", headers={
            "X-Auth-Token": token, "X-Subject-Token": token})).json()["token"]
        trust = await clients.create_trust(token, info["user"]["id"], project, roles)
        first = await clients.trust_token(trust)
        assert await clients.trust_token(trust) == first
        await heat.clock.run_for(lifetime - MIN_TOKEN_LIFE_SECONDS - 10)
        assert await clients.trust_token(trust) == first
        await heat.clock.run_for(20)
        second = await clients.trust_token(trust)
        assert second != first
        await clients.delete_trust(trust)
        # Not the kept token: keystone is asked, and the trust is gone.
        with pytest.raises(ServiceCallError):
            await clients.trust_token(trust)

    run_heat(scenario)
