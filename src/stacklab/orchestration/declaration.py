"""Orchestration (heat) as the cloud builds it: heat-engine on each node running it (the
controllers), heat-api and heat-api-cfn behind the load balancer, the ``heat`` service
user acting through keystone trusts."""

from __future__ import annotations

from stacklab.declaration import CatalogSpec, Key, Parts, ServiceDeclaration, Startup
from stacklab.orchestration.api import api, cfn_api
from stacklab.orchestration.engine.clients import Clients
from stacklab.orchestration.engine.worker import ENGINE_TOPIC, LISTENER_TOPIC
from stacklab.orchestration.policies import RULES
from stacklab.orchestration.service import ENGINE, OrchestrationService
from stacklab.topology import Change

ORCHESTRATION = Key("orchestration", OrchestrationService)
# heat-api-cfn serves the same service's wait conditions (its own API, its own key).
CLOUDFORMATION = Key("cloudformation", OrchestrationService)


def _build(parts: Parts) -> OrchestrationService:
    clients = Clients(parts.app, parts.base_url, password=parts.config.stacklab.admin_password,
                      clock=parts.clock)
    service = OrchestrationService(
        parts.db, parts.clock, parts.ids, parts.bus, parts.topology, parts.runtime, clients,
        lab_clock=parts.scaled_clock, options=parts.config.DEFAULT, here=parts.here)
    return service


def _start(parts: Parts, startup: Startup) -> None:
    service = parts.get(ORCHESTRATION)
    # heat finds the other services in keystone's catalog: the endpoints by type.
    service.clients.endpoints = {spec.type: spec.suffix.split("/$(")[0]
                                 for spec in startup.catalog}
    service.start()


def _stop(parts: Parts) -> None:
    parts.get(ORCHESTRATION).stop()


def _node(parts: Parts, fqdn: str) -> None:
    parts.get(ORCHESTRATION).process_changed(fqdn)


def _changed(parts: Parts, change: Change) -> None:
    if change.kind == "service" and change.service == ENGINE:
        parts.get(ORCHESTRATION).process_changed(change.nodes[0])


DECLARATION = ServiceDeclaration(
    api=api, mount="/heat-api", rules=RULES,
    # heat's endpoint names the project, as devstack registers it; keystone fills it in.
    catalog=CatalogSpec("orchestration", "heat", "Heat Orchestration Service",
                        "/heat-api/v1/$(project_id)s"),
    key=ORCHESTRATION, build=_build, start=_start, stop=_stop, node_down=_node,
    node_up=_node, changed=_changed,
    process_topics={ENGINE: (ENGINE_TOPIC, LISTENER_TOPIC)}, control_exchange="heat")


def _cfn(parts: Parts) -> OrchestrationService:
    return parts.get(ORCHESTRATION)


CFN_DECLARATION = ServiceDeclaration(
    api=cfn_api, mount="/heat-api-cfn", rules=RULES,
    catalog=CatalogSpec("cloudformation", "heat-cfn", "Heat CloudFormation Service",
                        "/heat-api-cfn/v1"),
    key=CLOUDFORMATION, build=_cfn)
