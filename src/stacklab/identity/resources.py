"""Domains and projects (keystone's resource backend)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from stacklab.api.errors import BadRequest, Forbidden
from stacklab.api.tag_filters import PARAMETERS as TAG_FILTERS
from stacklab.api.tag_filters import TagFilter
from stacklab.identity import models as m
from stacklab.identity.errors import duplicate, not_found
from stacklab.identity.rows import filtered, row_or_404
from stacklab.identity.state import IdentityState

_COMMON = ("name", "description", "enabled", "tags", "options")


class Resources:
    def __init__(self, state: IdentityState) -> None:
        self.state = state

    # -- domains ---------------------------------------------------------------------

    def get_domain(self, session: Session, domain_id: str) -> m.Domain:
        return row_or_404(session, m.Domain, domain_id, "domain")

    def find_domain(self, session: Session, *, id: str | None = None,
                    name: str | None = None) -> m.Domain:
        if id is not None:
            return self.get_domain(session, id)
        domain = session.scalar(select(m.Domain).where(m.Domain.name == name))
        if domain is None:
            raise not_found("domain", str(name))
        return domain

    def list_domains(self, session: Session, filters: Mapping[str, Any]) -> list[m.Domain]:
        return filtered(session, m.Domain, filters, ("name", "enabled"), m.Domain.name)

    def create_domain(self, session: Session, fields: Mapping[str, Any],
                      domain_id: str | None = None) -> m.Domain:
        name = fields["name"]
        if session.scalar(select(m.Domain).where(m.Domain.name == name)) is not None:
            raise duplicate("domain", f"it is not permitted to have two domains with the same "
                                      f"name: {name}")
        domain = m.Domain(
            id=domain_id or fields.get("explicit_domain_id") or self.state.new_id(),
            name=name,
            description=fields.get("description"),
            enabled=fields.get("enabled", True),
            tags=list(fields.get("tags", [])),
            options=dict(fields.get("options", {})),
            extra=_extra(fields, (*_COMMON, "explicit_domain_id")),
        )
        session.add(domain)
        self.state.changed()
        return domain

    def update_domain(self, session: Session, domain_id: str,
                      fields: Mapping[str, Any]) -> m.Domain:
        domain = self.get_domain(session, domain_id)
        if "name" in fields and fields["name"] != domain.name and session.scalar(
                select(m.Domain).where(m.Domain.name == fields["name"])) is not None:
            raise duplicate("domain", f"it is not permitted to have two domains with the same "
                                      f"name: {fields['name']}")
        _apply(domain, fields, _COMMON)
        if fields.get("enabled") is False:
            self.state.revoke(session, domain_id=domain.id)
        self.state.changed()
        return domain

    def delete_domain(self, session: Session, domain_id: str) -> None:
        domain = self.get_domain(session, domain_id)
        if domain.enabled:
            raise Forbidden("Cannot delete a domain that is enabled, please disable it first.")
        if domain.id == self.state.config.identity.default_domain_id:
            raise Forbidden("Cannot delete the default domain.")
        for model in (m.Project, m.User, m.Group):
            session.execute(delete(model).where(model.domain_id == domain.id))
        session.execute(delete(m.DomainConfigOption).where(
            m.DomainConfigOption.domain_id == domain.id))
        session.execute(delete(m.Assignment).where(m.Assignment.target_id == domain.id))
        session.delete(domain)
        self.state.revoke(session, domain_id=domain.id)
        self.state.changed()

    # -- projects --------------------------------------------------------------------

    def get_project(self, session: Session, project_id: str) -> m.Project:
        return row_or_404(session, m.Project, project_id, "project")

    def find_project(self, session: Session, *, id: str | None = None, name: str | None = None,
                     domain_id: str | None = None) -> m.Project:
        if id is not None:
            return self.get_project(session, id)
        project = session.scalar(
            select(m.Project).where(m.Project.name == name, m.Project.domain_id == domain_id))
        if project is None:
            raise not_found("project", str(name))
        return project

    def list_projects(self, session: Session, filters: Mapping[str, Any]) -> list[m.Project]:
        # The tag filters every service shares; an empty one is no filter here.
        tags = TagFilter(*(tuple(str(filters[key]).split(",")) if filters.get(key) else None
                           for key in TAG_FILTERS))
        return filtered(session, m.Project, filters, ("name", "domain_id", "parent_id", "enabled"),
                        m.Project.name, where=tags.conditions(m.Project.tags))

    def create_project(self, session: Session, fields: Mapping[str, Any],
                       default_domain_id: str, project_id: str | None = None) -> m.Project:
        parent_id = fields.get("parent_id")
        parent = session.get(m.Project, parent_id) if parent_id else None
        if parent_id and parent is None:
            # keystone reports a dangling reference in the body as a validation error.
            raise BadRequest(f"Could not find project: {parent_id}.")
        domain_id = fields.get("domain_id") or (parent.domain_id if parent else default_domain_id)
        domain = session.get(m.Domain, domain_id)
        if domain is None:
            raise BadRequest(f"Could not find domain: {domain_id}.")
        if parent is not None and parent.domain_id != domain.id:
            raise BadRequest("Cannot create project, the parent and the project must be in the "
                             "same domain.")
        name = fields["name"]
        new_id = project_id or self.state.new_id()
        if session.scalar(select(m.Project).where(m.Project.name == name,
                                                  m.Project.domain_id == domain.id)):
            raise _duplicate_project(name, new_id)
        project = m.Project(
            id=new_id, name=name, domain_id=domain.id,
            parent_id=parent.id if parent else None, description=fields.get("description", ""),
            enabled=fields.get("enabled", True), tags=list(fields.get("tags", [])),
            options=dict(fields.get("options", {})),
            extra=_extra(fields, (*_COMMON, "domain_id", "parent_id", "is_domain")),
        )
        session.add(project)
        self.state.changed()
        return project

    def update_project(self, session: Session, project_id: str,
                       fields: Mapping[str, Any]) -> m.Project:
        project = self.get_project(session, project_id)
        for immutable in ("domain_id", "parent_id", "is_domain"):
            if immutable in fields and fields[immutable] != getattr(project, immutable, False):
                raise Forbidden(f"Update of `{immutable}` is not allowed.")
        name = fields.get("name")
        if name and name != project.name and session.scalar(select(m.Project).where(
                m.Project.name == name, m.Project.domain_id == project.domain_id)):
            raise _duplicate_project(name, project.id)
        _apply(project, fields, _COMMON)
        extra = {k: v for k, v in fields.items()
                 if k not in (*_COMMON, "domain_id", "parent_id", "is_domain")}
        if extra:
            project.extra = {**project.extra, **extra}
        if fields.get("enabled") is False:
            self.state.revoke(session, project_id=project.id)
        self.state.changed()
        return project

    def delete_project(self, session: Session, project_id: str) -> None:
        project = self.get_project(session, project_id)
        if session.scalar(select(m.Project.id).where(m.Project.parent_id == project.id)):
            raise Forbidden(f"Cannot delete the project {project.id} since it is not a leaf in "
                            "the hierarchy. Use the cascade option if you want to delete a "
                            "subtree.")
        session.execute(delete(m.Assignment).where(m.Assignment.target_id == project.id))
        # What keystone drops with a project: its endpoint associations and its trusts.
        for association in (m.ProjectEndpoint, m.ProjectEndpointGroup):
            session.execute(delete(association).where(association.project_id == project.id))
        for trust in session.scalars(select(m.Trust).where(m.Trust.project_id == project.id,
                                                           m.Trust.deleted_at.is_(None))):
            trust.deleted_at = self.state.clock.now()
        session.delete(project)
        self.state.revoke(session, project_id=project.id)
        self.state.changed()

    def ancestors(self, session: Session, project: m.Project) -> list[m.Project]:
        chain: list[m.Project] = []
        current = project
        while current.parent_id:
            parent = session.get(m.Project, current.parent_id)
            if parent is None:
                break
            chain.append(parent)
            current = parent
        return chain

    def subtree(self, session: Session, project_id: str) -> list[m.Project]:
        found: list[m.Project] = []
        frontier = [project_id]
        while frontier:
            children = list(session.scalars(
                select(m.Project).where(m.Project.parent_id.in_(frontier))))
            found.extend(children)
            frontier = [c.id for c in children]
        return found

    def set_tags(self, session: Session, project_id: str, tags: list[str]) -> m.Project:
        project = self.get_project(session, project_id)
        project.tags = list(dict.fromkeys(tags))
        self.state.changed()
        return project

    def add_tag(self, session: Session, project_id: str, tag: str) -> m.Project:
        if not (0 < len(tag) <= 255 and "," not in tag and "/" not in tag):
            raise BadRequest(f"Invalid input for field 'tag': {tag!r} is not a valid tag")
        project = self.get_project(session, project_id)
        return self.set_tags(session, project.id, [*project.tags, tag])

    def check_tag(self, session: Session, project_id: str, tag: str) -> m.Project:
        project = self.get_project(session, project_id)
        if tag not in project.tags:
            raise not_found("project tag", tag)
        return project

    def remove_tag(self, session: Session, project_id: str, tag: str) -> None:
        project = self.check_tag(session, project_id, tag)
        self.set_tags(session, project.id, [t for t in project.tags if t != tag])


def _duplicate_project(name: str, project_id: str) -> Exception:
    return duplicate("project", "it is not permitted to have two projects with either the same "
                                f"name or same id in the same domain: name is {name}, project "
                                f"id {project_id}")


def _apply(row: Any, fields: Mapping[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        if name in fields:
            value = fields[name]
            setattr(row, name, list(value) if isinstance(value, list) else value)


def _extra(fields: Mapping[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if k not in known}


class ProjectsAndDomains:
    """The projects API, where keystone's domains are projects acting as domains.

    stacklab keeps domains in their own table; ``is_domain`` projects are those
    domains, created, listed (``?is_domain=true``), shown, updated and deleted
    through ``/v3/projects`` as keystone serves them.
    """

    def __init__(self, resources: Resources) -> None:
        self.resources = resources

    def get_project(self, session: Session, project_id: str) -> m.Project | m.Domain:
        found: m.Project | m.Domain | None = session.get(m.Project, project_id)
        if found is None:
            found = session.get(m.Domain, project_id)
        if found is None:
            raise not_found("project", project_id)
        return found

    def list_projects(self, session: Session,
                      filters: Mapping[str, Any]) -> list[m.Project] | list[m.Domain]:
        if not filters.get("is_domain"):
            return self.resources.list_projects(session, filters)
        if filters.get("domain_id") or filters.get("parent_id"):
            return []  # a project acting as a domain has neither
        return self.resources.list_domains(session, filters)

    def create_project(self, session: Session, fields: Mapping[str, Any],
                       default_domain_id: str) -> m.Project | m.Domain:
        if not fields.get("is_domain"):
            return self.resources.create_project(session, fields, default_domain_id)
        if fields.get("parent_id"):
            raise BadRequest("only root projects are allowed to act as domains.")
        return self.resources.create_domain(session, {
            k: v for k, v in fields.items() if k not in ("is_domain", "domain_id", "parent_id")})

    def update_project(self, session: Session, project_id: str,
                       fields: Mapping[str, Any]) -> m.Project | m.Domain:
        found = self.get_project(session, project_id)
        if isinstance(found, m.Project):
            return self.resources.update_project(session, project_id, fields)
        for immutable, now in (("domain_id", None), ("parent_id", None), ("is_domain", True)):
            if immutable in fields and fields[immutable] != now:
                raise Forbidden(f"Update of `{immutable}` is not allowed.")
        return self.resources.update_domain(session, project_id, {
            k: v for k, v in fields.items() if k not in ("domain_id", "parent_id", "is_domain")})

    def delete_project(self, session: Session, project_id: str) -> None:
        found = self.get_project(session, project_id)
        if isinstance(found, m.Project):
            self.resources.delete_project(session, project_id)
            return
        if found.enabled:
            raise BadRequest("cannot delete an enabled project acting as a domain. Please "
                             f"disable the project {found.id} first.")
        self.resources.delete_domain(session, project_id)
