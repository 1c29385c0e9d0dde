"""How a server with ``user_data_format: SOFTWARE_CONFIG`` learns its deployments (heat's
``software_config_transport``, heat/engine/resources/server_base.py's
``_create_transport_credentials`` and ``_populate_deployments_metadata``).

The server resource's metadata gets heat's ``os-collect-config`` section, the agent's
configuration, beside ``deployments`` (which every change of the server's software
deployments rewrites, ``orchestration/software.py``):

- POLL_SERVER_CFN (heat's ``default_software_config_transport``): the agent polls
  heat-api-cfn's ``DescribeStackResource`` for ``<server>.Metadata``, signing each request
  (EC2 signature version 2) with a key pair heat made for the server. Upstream the pair is
  a keystone EC2 credential of a stack domain user; keystone has no ``ec2tokens`` here, so
  the pair is the resource's own, kept in its data (``access_key``, ``secret_key``, heat's
  names), and heat-api-cfn checks the signature against it: the pair opens that one
  resource, as heat's ``access_allowed`` does.
- POLL_SERVER_HEAT: the agent logs in to keystone as a stack user heat made for the server
  (``user_id``, ``password``, ``project_id``) and reads the resource's metadata from
  heat-api. Upstream the user lives in heat's stack domain, in a project of its own; the
  lab has no stack domain, so the user is in the stack's own project with only heat's
  ``heat_stack_user`` role, which heat's policy lets read and signal resources (upstream's
  own project isolates it further). It goes with the server.

POLL_TEMP_URL (a Swift TempURL) and ZAQAR_MESSAGE (a Zaqar queue) need services the lab
does not run: refused when the stack is checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stacklab.orchestration.resources.base import Context

POLL_SERVER_CFN = "POLL_SERVER_CFN"
_HEX = "0123456789abcdef"
_PASSWORD = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
# heat's occ_keys: the sections of os-collect-config a transport writes.
_OCC_SOURCES = ("heat", "zaqar", "cfn", "request")
POLL_SERVER_HEAT = "POLL_SERVER_HEAT"
_MISSING = {
    "POLL_TEMP_URL": "an object store (swift) for the TempURL, which this cloud does not "
                     "run",
    "ZAQAR_MESSAGE": "a messaging service (zaqar), which this cloud does not run",
}


def software_config(properties: Mapping[str, Any]) -> bool:
    """heat's ``user_data_software_config``: only then is the transport used."""
    return properties.get("user_data_format") == "SOFTWARE_CONFIG"


def transport_refusal(properties: Mapping[str, Any]) -> str | None:
    """Why the server's transport cannot be served here (``None``: it can)."""
    if not software_config(properties):
        return None
    transport = properties.get("software_config_transport") or POLL_SERVER_CFN
    missing = _MISSING.get(transport)
    if missing is None:
        return None
    return (f"software_config_transport {transport} is not supported: it needs {missing}; "
            f"use {POLL_SERVER_CFN}.")


async def populate_deployments_metadata(ctx: Context, properties: Mapping[str, Any]
                                        ) -> None:
    """The transport's credentials (made once) and the metadata the server's
    os-collect-config reads: heat's ``ec2`` collector first (the boot-time config), then
    the transport's, then ``local``."""
    if not software_config(properties):
        return
    transport = properties.get("software_config_transport") or POLL_SERVER_CFN
    ctx.metadata["deployments"] = list(ctx.metadata.get("deployments") or [])
    # A transport given up is kept with its values all None, as heat does: that
    # overrides what the agent was configured with at boot.
    previous = dict(ctx.metadata.get("os-collect-config") or {})
    overridden = {key: dict.fromkeys(value) for key, value in previous.items()
                  if key in _OCC_SOURCES and isinstance(value, Mapping)}
    if transport == POLL_SERVER_HEAT:
        if "user_id" not in ctx.data:
            # heat's generate_openstack_password: 32 characters of letters and digits.
            ctx.data["password"] = ctx.random_string(32, _PASSWORD)
            ctx.data["user_id"] = await ctx.create_stack_user(ctx.data["password"])
        ctx.metadata["os-collect-config"] = {
            **overridden, "collectors": ["ec2", "heat", "local"],
            "heat": {"user_id": ctx.data["user_id"], "password": ctx.data["password"],
                     "auth_url": ctx.keystone_url(), "project_id": ctx.project_id,
                     "stack_id": f"{ctx.stack_name}/{ctx.stack_id}",
                     "resource_name": ctx.resource_name, "region_name": "RegionOne"}}
        return
    if "access_key" not in ctx.data:
        ctx.data["access_key"] = ctx.random_string(32, _HEX)
        ctx.data["secret_key"] = ctx.random_string(32, _HEX)
    ctx.metadata["os-collect-config"] = {
        **overridden, "collectors": ["ec2", "cfn", "local"],
        "cfn": {"metadata_url": ctx.cfn_url(),
                "access_key_id": ctx.data["access_key"],
                "secret_access_key": ctx.data["secret_key"],
                "stack_name": ctx.stack_name,
                "path": f"{ctx.resource_name}.Metadata"}}


async def update_transport(ctx: Context, properties: Mapping[str, Any]) -> None:
    """heat's ``_update_software_config_transport``: the new transport's credentials and
    section (the stack user of POLL_SERVER_HEAT deleted when it is given up)."""
    if not software_config(properties):
        return
    if (properties.get("software_config_transport") or POLL_SERVER_CFN) != POLL_SERVER_HEAT:
        await delete_transport_credentials(ctx)
    await populate_deployments_metadata(ctx, properties)


async def delete_transport_credentials(ctx: Context) -> None:
    """heat's ``_delete_user``: the stack user goes with the server (the key pair lives in
    the resource's data and goes with it)."""
    user_id = ctx.data.pop("user_id", None)
    if user_id:
        await ctx.delete_stack_user(user_id)
        ctx.data.pop("password", None)


def os_collect_config(ctx: Context) -> dict[str, Any]:
    """The server's ``os_collect_config`` attribute: the section as the metadata holds it."""
    return dict(ctx.metadata.get("os-collect-config") or {})
