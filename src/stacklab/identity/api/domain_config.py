"""``/v3/domains/{domain_id}/config``: a domain's own identity configuration, and its defaults."""

from __future__ import annotations

from typing import Any

from stacklab.api.service import Call, Reply
from stacklab.identity import schemas
from stacklab.identity.api.base import api, backend

CONFIG = "/v3/domains/{domain_id}/config"
PATHS = (CONFIG, f"{CONFIG}/{{group}}", f"{CONFIG}/{{group}}/{{option}}")


def _where(call: Call) -> tuple[str | None, str | None]:
    return call.params.get("group"), call.params.get("option")


@api.route("PUT", CONFIG, policy="identity:create_domain_config", schema=schemas.DOMAIN_CONFIG)
async def create_domain_config(call: Call) -> Reply:
    with backend(call) as (service, session):
        domain = service.resources.get_domain(session, call.params["domain_id"])
        config, created = service.domain_configs.create(session, domain.id, call.body["config"])
    # keystone answers 201 to a first configuration, 200 to one replaced.
    return Reply({"config": config}, status=201 if created else 200)


async def show_domain_config(call: Call) -> dict[str, Any]:
    group, option = _where(call)
    # Everybody may read the password rules; the rest is for admins.
    compliance = group == "security_compliance"
    call.authorize("identity:get_security_compliance_domain_config" if compliance
                   else "identity:get_domain_config")
    with backend(call) as (service, session):
        domain = service.resources.get_domain(session, call.params["domain_id"])
        if compliance:
            return {"config": service.domain_configs.security_compliance(domain.id, option)}
        return {"config": service.domain_configs.get(session, domain.id, group, option)}


async def update_domain_config(call: Call) -> dict[str, Any]:
    group, option = _where(call)
    with backend(call) as (service, session):
        domain = service.resources.get_domain(session, call.params["domain_id"])
        return {"config": service.domain_configs.update(session, domain.id, call.body["config"],
                                                        group, option)}


async def delete_domain_config(call: Call) -> None:
    group, option = _where(call)
    with backend(call) as (service, session):
        domain = service.resources.get_domain(session, call.params["domain_id"])
        service.domain_configs.delete(session, domain.id, group, option)


for _path in PATHS:
    api.route("GET", _path)(show_domain_config)
    api.route("PATCH", _path, policy="identity:update_domain_config",
              schema=schemas.DOMAIN_CONFIG)(update_domain_config)
    api.route("DELETE", _path, policy="identity:delete_domain_config", status=204)(
        delete_domain_config)


async def show_default_config(call: Call) -> dict[str, Any]:
    with backend(call) as (service, _session):
        return {"config": service.domain_configs.defaults(*_where(call))}


for _path in ("/v3/domains/config/default", "/v3/domains/config/{group}/default",
              "/v3/domains/config/{group}/{option}/default"):
    api.route("GET", _path, policy="identity:get_domain_config_default")(show_default_config)
