"""Identity as one object: its parts, the bootstrap, and the token check every service uses."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from stacklab.api.context import RequestContext
from stacklab.api.errors import NotFound, Unauthorized
from stacklab.clock import Clock
from stacklab.config import Config
from stacklab.identity import models as m
from stacklab.identity.auth import Authenticator, TokenInfo
from stacklab.identity.catalog import Catalog
from stacklab.identity.credentials import ApplicationCredentials, Credentials
from stacklab.identity.domain_config import DomainConfigs
from stacklab.identity.endpoint_filter import EndpointFilter
from stacklab.identity.endpoint_policy import EndpointPolicy
from stacklab.identity.oauth1 import OAuth1
from stacklab.identity.policy_blobs import PolicyBlobs
from stacklab.identity.resources import ProjectsAndDomains, Resources
from stacklab.identity.roles import SYSTEM, Roles
from stacklab.identity.state import IdentityState
from stacklab.identity.trusts import Trusts
from stacklab.identity.users import Users
from stacklab.ids import IdSource
from stacklab.store.database import Database

# The roles keystone-manage bootstrap creates, each implying the next.
BOOTSTRAP_ROLES = ("admin", "member", "reader")


@dataclass(frozen=True)
class CatalogEntry:
    type: str
    name: str
    description: str
    url: str


# Users the other services authenticate as (nova calls neutron, neutron calls nova…).
SERVICE_USERS = ("nova", "neutron", "glance", "placement", "cinder", "heat")


class IdentityService:
    def __init__(self, db: Database, clock: Clock, ids: IdSource, config: Config) -> None:
        self.state = IdentityState(db, clock, ids, config)
        self.resources = Resources(self.state)
        self.projects = ProjectsAndDomains(self.resources)
        self.domain_configs = DomainConfigs(self.state)
        self.policy_blobs = PolicyBlobs(self.state)
        self.endpoint_filter = EndpointFilter(self.state)
        self.endpoint_policy = EndpointPolicy(self.state)
        self.users = Users(self.state)
        self.roles = Roles(self.state)
        self.catalog = Catalog(self.state)
        self.app_creds = ApplicationCredentials(self.state, self.roles)
        self.credentials = Credentials(self.state)
        self.trusts = Trusts(self.state, self.roles)
        self.users.on_delete.append(self.trusts.delete_for_user)
        self.oauth1 = OAuth1(self.state, self.roles)
        self.users.on_delete.append(self.oauth1.delete_for_user)
        self.auth = Authenticator(self.state, self.resources, self.users, self.roles,
                                  self.catalog, self.app_creds, self.trusts, self.oauth1)

    @property
    def db(self) -> Database:
        return self.state.db

    def start(self, catalog: list[CatalogEntry]) -> bool:
        """Load keys, bootstrap, publish the catalog. True at the cloud's very first start."""
        self.auth.load_keys()
        first_start = self.bootstrap()
        with self.db.session() as session:
            region = self.state.config.stacklab.region
            if session.get(m.Region, region) is None:
                self.catalog.create_region(session, {"description": ""}, region_id=region)
            for entry in catalog:
                self.catalog.ensure_service_endpoints(
                    session, type=entry.type, name=entry.name, description=entry.description,
                    url=entry.url, region_id=region)
        self.state.load_revocations()
        return first_start

    def admin_project_id(self) -> str:
        """The bootstrap's ``admin`` project (owner of the lab's shared resources)."""
        with self.db.session() as session:
            project = session.scalar(select(m.Project).where(
                m.Project.name == "admin",
                m.Project.domain_id == self.state.config.identity.default_domain_id))
            return project.id if project is not None else ""

    def bootstrap(self) -> bool:
        """What ``keystone-manage bootstrap`` does; True if the store was empty."""
        config = self.state.config
        first = False
        with self.db.session() as session:
            default_domain = config.identity.default_domain_id
            if session.get(m.Domain, default_domain) is None:
                first = True
                self.resources.create_domain(
                    session, {"name": "Default", "description": "The default domain"},
                    domain_id=default_domain)
            roles: dict[str, m.Role] = {}
            for name in (*BOOTSTRAP_ROLES, "service", "manager"):
                found = session.scalar(select(m.Role).where(m.Role.name == name,
                                                            m.Role.domain_id.is_(None)))
                roles[name] = found or self.roles.create_role(
                    session, {"name": name, "options": {"immutable": True}})
            session.flush()
            # keystone-manage bootstrap's chain, admin => manager => member => reader, so
            # the course's admin => member => reader holds through the manager role.
            for prior, implied in (("admin", "manager"), ("manager", "member"),
                                   ("member", "reader")):
                if session.get(m.ImpliedRole, (roles[prior].id, roles[implied].id)) is None:
                    session.add(m.ImpliedRole(prior_role_id=roles[prior].id,
                                              implied_role_id=roles[implied].id))
            projects = {}
            for name, description in (("admin", "Bootstrap project for initializing the cloud."),
                                      ("service", "Project of the service users")):
                found_project = session.scalar(select(m.Project).where(
                    m.Project.name == name, m.Project.domain_id == default_domain))
                projects[name] = found_project or self.resources.create_project(
                    session, {"name": name, "description": description}, default_domain)
            admin = session.scalar(select(m.User).where(m.User.name == "admin",
                                                        m.User.domain_id == default_domain))
            if admin is None:
                session.flush()
                admin = self.users.create_user(
                    session, {"name": "admin", "password": config.stacklab.admin_password},
                    default_domain)
                session.flush()
                self.roles.grant(session, "user", admin.id, "project", projects["admin"].id,
                                 roles["admin"].id)
                self.roles.grant(session, "user", admin.id, "system", SYSTEM, roles["admin"].id)
            # The services' own users, as DevStack makes them: admin in the service project.
            for name in SERVICE_USERS:
                if session.scalar(select(m.User).where(m.User.name == name,
                                                       m.User.domain_id == default_domain)):
                    continue
                session.flush()
                user = self.users.create_user(
                    session, {"name": name, "password": config.stacklab.admin_password},
                    default_domain)
                session.flush()
                for role in ("admin", "service"):
                    self.roles.grant(session, "user", user.id, "project", projects["service"].id,
                                     roles[role].id)
        self.state.changed()
        return first

    # -- the token check of every service (keystonemiddleware's job) -----------------

    def authenticate_request(self, token: str, context: RequestContext) -> TokenInfo:
        self.state.refresh()
        try:
            info = self.auth.validate(token)
        except NotFound:
            raise Unauthorized() from None
        self.auth.fill_context(info, context)
        return info
