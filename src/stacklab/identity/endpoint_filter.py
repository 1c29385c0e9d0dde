"""OS-EP-FILTER: endpoint groups, and the endpoints associated with projects.

An endpoint group picks endpoints by their attributes (service, region,
interface); a project sees the endpoints associated with it directly and those
of the groups associated with it. keystone keeps these associations apart from
the catalog a token carries unless its ``endpoint_filter`` catalog driver is
configured, and so does stacklab: they are served, not applied to tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from stacklab.api.errors import BadRequest, NotFound
from stacklab.identity import models as m
from stacklab.identity.rows import row_or_404
from stacklab.identity.state import IdentityState

FILTER_KEYS = ("service_id", "region_id", "interface")
_CLIENT_ERROR = (" The server could not comply with the request since it is either malformed "
                 "or otherwise incorrect. The client is assumed to be in error.")


class EndpointFilter:
    def __init__(self, state: IdentityState) -> None:
        self.state = state

    # -- endpoint groups -------------------------------------------------------------

    def get_endpoint_group(self, session: Session, group_id: str) -> m.EndpointGroup:
        group = session.get(m.EndpointGroup, group_id)
        if group is None:
            raise NotFound(f"Could not find Endpoint Group: {group_id}.")
        return group

    def list_endpoint_groups(self, session: Session,
                             filters: Mapping[str, Any]) -> list[m.EndpointGroup]:
        query = select(m.EndpointGroup).order_by(m.EndpointGroup.name, m.EndpointGroup.id)
        if filters.get("name") is not None:
            query = query.where(m.EndpointGroup.name == filters["name"])
        return list(session.scalars(query))

    def create_endpoint_group(self, session: Session,
                              fields: Mapping[str, Any]) -> m.EndpointGroup:
        if not fields.get("filters"):
            raise BadRequest("filters field is required and cannot be empty")
        _check_filters(fields["filters"])
        group = m.EndpointGroup(id=self.state.new_id(), name=fields["name"],
                                description=fields.get("description"),
                                filters=dict(fields["filters"]))
        session.add(group)
        return group

    def update_endpoint_group(self, session: Session, group_id: str,
                              fields: Mapping[str, Any]) -> m.EndpointGroup:
        if "filters" in fields:
            _check_filters(fields["filters"])
        group = self.get_endpoint_group(session, group_id)
        for name in ("name", "description", "filters"):
            if name in fields:
                setattr(group, name, dict(fields[name]) if name == "filters" else fields[name])
        return group

    def delete_endpoint_group(self, session: Session, group_id: str) -> None:
        group = self.get_endpoint_group(session, group_id)
        session.execute(delete(m.ProjectEndpointGroup).where(
            m.ProjectEndpointGroup.endpoint_group_id == group.id))
        session.delete(group)

    def endpoints_in_group(self, session: Session, group_id: str) -> list[m.Endpoint]:
        """The endpoints whose attributes equal every one of the group's filters."""
        wanted = self.get_endpoint_group(session, group_id).filters
        return [endpoint for endpoint in session.scalars(select(m.Endpoint).order_by(
            m.Endpoint.id)) if all(getattr(endpoint, key, None) == value
                                   for key, value in wanted.items())]

    # -- endpoint groups and projects ------------------------------------------------

    def group_in_project(self, session: Session, group_id: str,
                         project_id: str) -> m.ProjectEndpointGroup:
        row_or_404(session, m.Project, project_id, "project")
        self.get_endpoint_group(session, group_id)
        found = session.get(m.ProjectEndpointGroup, (group_id, project_id))
        if found is None:
            raise NotFound("Endpoint Group Project Association not found")
        return found

    def add_group_to_project(self, session: Session, group_id: str, project_id: str) -> None:
        row_or_404(session, m.Project, project_id, "project")
        self.get_endpoint_group(session, group_id)
        if session.get(m.ProjectEndpointGroup, (group_id, project_id)) is None:
            session.add(m.ProjectEndpointGroup(endpoint_group_id=group_id,
                                               project_id=project_id))

    def remove_group_from_project(self, session: Session, group_id: str,
                                  project_id: str) -> None:
        session.delete(self.group_in_project(session, group_id, project_id))

    def projects_of_group(self, session: Session, group_id: str) -> list[m.Project]:
        self.get_endpoint_group(session, group_id)
        ids = session.scalars(select(m.ProjectEndpointGroup.project_id).where(
            m.ProjectEndpointGroup.endpoint_group_id == group_id))
        return _existing(session, m.Project, ids)

    def groups_of_project(self, session: Session, project_id: str) -> list[m.EndpointGroup]:
        ids = session.scalars(select(m.ProjectEndpointGroup.endpoint_group_id).where(
            m.ProjectEndpointGroup.project_id == project_id))
        return _existing(session, m.EndpointGroup, ids)

    # -- endpoints and projects ------------------------------------------------------

    def _endpoint_and_project(self, session: Session, endpoint_id: str,
                              project_id: str) -> None:
        row_or_404(session, m.Endpoint, endpoint_id, "endpoint")
        row_or_404(session, m.Project, project_id, "project")

    def add_endpoint_to_project(self, session: Session, endpoint_id: str,
                                project_id: str) -> None:
        self._endpoint_and_project(session, endpoint_id, project_id)
        if session.get(m.ProjectEndpoint, (endpoint_id, project_id)) is None:
            session.add(m.ProjectEndpoint(endpoint_id=endpoint_id, project_id=project_id))

    def check_endpoint_in_project(self, session: Session, endpoint_id: str,
                                  project_id: str) -> m.ProjectEndpoint:
        self._endpoint_and_project(session, endpoint_id, project_id)
        return self._association(session, endpoint_id, project_id)

    def _association(self, session: Session, endpoint_id: str,
                     project_id: str) -> m.ProjectEndpoint:
        found = session.get(m.ProjectEndpoint, (endpoint_id, project_id))
        if found is None:
            raise NotFound(f"Endpoint {endpoint_id} not found in project {project_id}")
        return found

    def remove_endpoint_from_project(self, session: Session, endpoint_id: str,
                                     project_id: str) -> None:
        # keystone looks only at the association here, not at the endpoint or project.
        session.delete(self._association(session, endpoint_id, project_id))

    def projects_of_endpoint(self, session: Session, endpoint_id: str) -> list[m.Project]:
        row_or_404(session, m.Endpoint, endpoint_id, "endpoint")
        ids = session.scalars(select(m.ProjectEndpoint.project_id).where(
            m.ProjectEndpoint.endpoint_id == endpoint_id))
        return _existing(session, m.Project, ids)

    def endpoints_of_project(self, session: Session, project_id: str) -> list[m.Endpoint]:
        """Endpoints associated with the project, directly or through its groups."""
        row_or_404(session, m.Project, project_id, "project")
        ids = session.scalars(select(m.ProjectEndpoint.endpoint_id).where(
            m.ProjectEndpoint.project_id == project_id))
        found = {endpoint.id: endpoint for endpoint in _existing(session, m.Endpoint, ids)}
        for group in self.groups_of_project(session, project_id):
            for endpoint in self.endpoints_in_group(session, group.id):
                found.setdefault(endpoint.id, endpoint)
        return list(found.values())


def _check_filters(filters: Mapping[str, Any]) -> None:
    for key in filters:
        if key not in FILTER_KEYS:
            raise BadRequest(f"Expecting to find {' or '.join(FILTER_KEYS)} in endpoint_group."
                             + _CLIENT_ERROR)


def _existing(session: Session, model: Any, ids: Any) -> list[Any]:
    rows = (session.get(model, i) for i in ids)
    return [row for row in rows if row is not None]

