"""heat's software configs and deployments as data (heat/engine/service_software_config.py,
heat/db/api.py's software_* and heat/engine/software_config_io.py).

A config is immutable: made, shown, listed (newest first, ``limit``/``marker``), deleted
unless a deployment refers to it. A deployment binds a config to a server (any string:
heat does not check it) with input values; its state and output values are whatever its
updates and signals set. A project sees its own (a deployment also from its
``stack_user_project_id``); an admin (heat's ``context.is_admin``) sees everything. Each
change of a server's deployments is pushed into the metadata of the stack resource whose
physical id is the server (``deployments``), as heat does for os-collect-config.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from stacklab.clock import Clock, isotime
from stacklab.ids import IdSource
from stacklab.orchestration import models as m
from stacklab.orchestration.errors import HeatError
from stacklab.orchestration.resources.properties import (
    ANY,
    BOOLEAN,
    STRING,
    Property,
    check_properties,
)
from stacklab.orchestration.template.errors import TemplateError
from stacklab.orchestration.template.parameters import AllowedValues
from stacklab.store.database import Database

IO_TYPES = ("String", "Number", "CommaDelimitedList", "Json", "Boolean")

INPUT_SCHEMA: Mapping[str, Property] = {
    "name": Property(STRING, "Name of the input.", required=True),
    "description": Property(STRING, "Description of the input."),
    "type": Property(STRING, "Type of the value of the input.", default="String",
                     constraints=(AllowedValues(list(IO_TYPES)),)),
    "default": Property(ANY, "Default value for the input if none is specified."),
    "replace_on_change": Property(BOOLEAN, "Replace the deployment instead of updating it "
                                  "when the input value changes.", default=False),
}
OUTPUT_SCHEMA: Mapping[str, Property] = {
    "name": Property(STRING, "Name of the output.", required=True),
    "description": Property(STRING, "Description of the output."),
    "type": Property(STRING, "Type of the value of the output.", default="String",
                     constraints=(AllowedValues(list(IO_TYPES)),)),
    "error_output": Property(BOOLEAN, "Denotes that the deployment is in an error state if "
                             "this output has a value.", default=False),
}


def _invalid(reason: str) -> HeatError:
    """heat's ``exception.Invalid``."""
    return HeatError(f"Data supplied was not valid: {reason}", status=400, kind="Invalid")


def io_list(kind: str, values: Any) -> list[dict[str, Any]]:
    """heat's InputConfig/OutputConfig of each entry (``value`` kept on inputs), defaults
    filled, Nones dropped; a bad entry is a 400 naming the field."""
    if values is None:
        return []
    if not isinstance(values, list) or not all(isinstance(v, Mapping) for v in values):
        raise HeatError(f"Software Config I/O Schema must be a list of maps: {kind}",
                        status=400, kind="ValueError")
    schema = INPUT_SCHEMA if kind == "inputs" else OUTPUT_SCHEMA
    out = []
    for index, entry in enumerate(values):
        entry = dict(entry)
        has_value, value = "value" in entry, entry.pop("value", None)
        try:
            checked = check_properties(schema, entry, path=[kind, index])
        except TemplateError as error:
            raise HeatError(str(error), status=400, kind="ValueError") from None
        item = {k: v for k, v in checked.items() if v is not None}
        if kind == "inputs" and not item.get("replace_on_change"):
            item.pop("replace_on_change", None)
        if has_value:
            item["value"] = value
        out.append(item)
    return out


def format_config(row: m.SoftwareConfig, *, detail: bool = True,
                  include_project: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"id": row.id, "name": row.name, "group": row.group,
                            "creation_time": isotime(row.created_at)}
    if detail:
        config = row.config or {}
        for key in ("config", "inputs", "outputs", "options"):
            body[key] = config.get(key)
    if include_project:
        body["project"] = row.project_id
    return body


def format_deployment(row: m.SoftwareDeployment) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row.id, "server_id": row.server_id, "input_values": row.input_values,
        "output_values": row.output_values, "action": row.action, "status": row.status,
        "status_reason": row.status_reason, "config_id": row.config_id,
        "creation_time": isotime(row.created_at)}
    if row.updated_at is not None:
        body["updated_time"] = isotime(row.updated_at)
    return body


class SoftwareStore:
    """Configs and deployments, each call one transaction, seen as ``project`` sees them
    (``admin``: all of them)."""

    def __init__(self, db: Database, clock: Clock, ids: IdSource) -> None:
        self.db = db
        self.clock = clock
        self.ids = ids

    # -- configs -----------------------------------------------------------------------

    def _config(self, session: Session, project: str, admin: bool,
                config_id: str) -> m.SoftwareConfig:
        row = session.get(m.SoftwareConfig, config_id) if isinstance(config_id, str) else None
        if row is None or not (admin or row.project_id == project):
            raise HeatError(f"Software config with id {config_id} not found", status=404,
                            kind="NotFound")
        return row

    def create_config(self, project: str, *, name: Any, group: Any, config: Any,
                      inputs: Any, outputs: Any, options: Any) -> dict[str, Any]:
        for field, value in (("name", name), ("group", group)):
            if value is not None and not isinstance(value, str):
                raise _invalid(f'"{field}" must be a string')
            if isinstance(value, str) and len(value) > 255:
                raise _invalid(f'"{field}" should be no more than 255 characters')
        if options is not None and not isinstance(options, Mapping):
            raise _invalid('"options" must be a map')
        stored = {"inputs": io_list("inputs", inputs), "outputs": io_list("outputs", outputs),
                  "options": dict(options or {}), "config": config}
        with self.db.session() as session:
            row = m.SoftwareConfig(id=self.ids.uuid(), name=name, group=group, config=stored,
                                   project_id=project, created_at=self.clock.now())
            session.add(row)
            session.flush()
            return format_config(row)

    def show_config(self, project: str, admin: bool, config_id: str) -> dict[str, Any]:
        with self.db.session() as session:
            return format_config(self._config(session, project, admin, config_id))

    def list_configs(self, project: str, admin: bool, *, limit: int | None = None,
                     marker: str | None = None) -> list[dict[str, Any]]:
        with self.db.session() as session:
            query = select(m.SoftwareConfig)
            if not admin:
                query = query.where(m.SoftwareConfig.project_id == project)
            rows = list(session.scalars(query.order_by(m.SoftwareConfig.created_at.desc(),
                                                       m.SoftwareConfig.id.desc())))
            ids = [row.id for row in rows]
            if marker is not None and marker in ids:  # heat: an unknown marker is ignored
                rows = rows[ids.index(marker) + 1:]
            if limit is not None:
                rows = rows[:limit]
            return [format_config(row, detail=False, include_project=admin) for row in rows]

    def delete_config(self, project: str, admin: bool, config_id: str) -> None:
        with self.db.session() as session:
            row = self._config(session, project, admin, config_id)
            used = session.scalar(select(m.SoftwareDeployment.id).where(
                m.SoftwareDeployment.config_id == config_id).limit(1))
            if used is not None:
                raise HeatError(f"Software config with id {config_id} can not be deleted as "
                                "it is referenced.", status=400,
                                kind="InvalidRestrictedAction")
            session.delete(row)

    # -- deployments -------------------------------------------------------------------

    def _deployment(self, session: Session, project: str, admin: bool,
                    deployment_id: str) -> m.SoftwareDeployment:
        row = session.get(m.SoftwareDeployment, deployment_id)
        if row is None or not (admin or project in (row.project_id,
                                                    row.stack_user_project_id)):
            raise HeatError(f"Deployment with id {deployment_id} not found", status=404,
                            kind="NotFound")
        return row

    def _bound_config(self, session: Session, project: str, admin: bool,
                      config_id: Any) -> m.SoftwareConfig:
        try:
            return self._config(session, project, admin, config_id)
        except HeatError:
            raise _invalid(f"Config with id {config_id} not found") from None

    def create_deployment(self, project: str, admin: bool, *, config_id: Any, server_id: Any,
                          input_values: Any, action: Any, status: Any, status_reason: Any,
                          stack_user_project_id: Any,
                          deployment_id: str | None = None) -> dict[str, Any]:
        if not isinstance(server_id, str) or not server_id:
            raise _invalid('"server_id" must be specified')
        if len(server_id) > 255:
            raise _invalid('"server_id" should be no more than 255 characters')
        if stack_user_project_id is not None and (
                not isinstance(stack_user_project_id, str) or len(stack_user_project_id) > 64):
            raise _invalid('"stack_user_project_id" should be no more than 64 characters')
        _check_strings(action=action, status=status)
        if input_values is not None and not isinstance(input_values, Mapping):
            raise _invalid('"input_values" must be a map')
        with self.db.session() as session:
            self._bound_config(session, project, admin, config_id)
            row = m.SoftwareDeployment(
                id=deployment_id or self.ids.uuid(), config_id=config_id, server_id=server_id,
                input_values=None if input_values is None else dict(input_values),
                output_values=None, action=action, status=status,
                # heat keeps str() of it: an absent reason reads "None".
                status_reason=str(status_reason), project_id=project,
                stack_user_project_id=stack_user_project_id, created_at=self.clock.now())
            session.add(row)
            session.flush()
            self._push_metadata(session, server_id)
            return format_deployment(row)

    def show_deployment(self, project: str, admin: bool,
                        deployment_id: str) -> dict[str, Any]:
        with self.db.session() as session:
            return format_deployment(self._deployment(session, project, admin, deployment_id))

    def list_deployments(self, project: str, admin: bool,
                         server_id: str | None = None) -> list[dict[str, Any]]:
        with self.db.session() as session:
            return [format_deployment(row)
                    for row in self._deployments(session, project, admin, server_id)]

    def _deployments(self, session: Session, project: str | None, admin: bool,
                     server_id: str | None) -> list[m.SoftwareDeployment]:
        sd = m.SoftwareDeployment
        query = select(sd).order_by(sd.created_at, sd.id)
        if not admin:
            query = query.where(or_(sd.project_id == project,
                                    sd.stack_user_project_id == project))
        if server_id:
            query = query.where(sd.server_id == server_id)
        return list(session.scalars(query))

    def metadata(self, project: str | None, admin: bool,
                 server_id: str) -> list[dict[str, Any]]:
        with self.db.session() as session:
            return self._metadata(session, project, admin, server_id)

    def _metadata(self, session: Session, project: str | None, admin: bool,
                  server_id: str) -> list[dict[str, Any]]:
        """The configs deployed to a server, by config name (heat's deterministic order)."""
        configs = []
        for row in self._deployments(session, project, admin, server_id):
            config = session.get(m.SoftwareConfig, row.config_id)
            if config is not None:
                configs.append(config)
        configs.sort(key=lambda c: c.name or "")
        return [format_config(c) for c in configs]

    def update_deployment(self, project: str, admin: bool, deployment_id: str,
                          values: Mapping[str, Any]) -> dict[str, Any]:
        """heat's update: only what is given and not empty changes; the time is now."""
        _check_strings(action=values.get("action"), status=values.get("status"))
        for key in ("input_values", "output_values"):
            if values.get(key) is not None and not isinstance(values[key], Mapping):
                raise _invalid(f'"{key}" must be a map')
        with self.db.session() as session:
            row = self._deployment(session, project, admin, deployment_id)
            config_id = values.get("config_id")
            if config_id:
                self._bound_config(session, project, admin, config_id)
                row.config_id = config_id
            for key in ("input_values", "output_values"):
                if values.get(key):
                    setattr(row, key, dict(values[key]))
            for key in ("action", "status"):
                if values.get(key):
                    setattr(row, key, values[key])
            if values.get("status_reason"):
                row.status_reason = str(values["status_reason"])
            row.updated_at = self.clock.now()
            if config_id:
                self._push_metadata(session, row.server_id)
            return format_deployment(row)

    def delete_deployment(self, project: str, admin: bool, deployment_id: str) -> None:
        with self.db.session() as session:
            row = self._deployment(session, project, admin, deployment_id)
            server_id = row.server_id
            session.delete(row)
            session.flush()
            self._push_metadata(session, server_id)

    def _push_metadata(self, session: Session, server_id: str) -> None:
        """heat's ``_push_metadata_software_deployments``: the server resource's metadata
        ``deployments`` is the list of its configs (heat reads it with every project's
        deployments of that server, as the engine's admin-less stored context would)."""
        res = session.scalar(select(m.Resource).where(m.Resource.physical_id == server_id)
                             .limit(1))
        if res is None or res.action == "DELETE":
            return
        metadata = dict(res.metadata_ or {})
        metadata["deployments"] = self._metadata(session, None, True, server_id)
        res.metadata_ = metadata


def _check_strings(**values: Any) -> None:
    for field, value in values.items():
        if value is not None and not isinstance(value, str):
            raise _invalid(f'"{field}" must be a string')
        if isinstance(value, str) and len(value) > 255:
            raise _invalid(f'"{field}" should be no more than 255 characters')
