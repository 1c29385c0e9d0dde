"""Identity's tables.

Unlike keystone, domains have their own table rather than being projects
with ``is_domain``; the API renders both the way keystone does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from stacklab.store.base import Base


class Domain(Base):
    __tablename__ = "identity_domain"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    tags: Mapped[list[str]] = mapped_column(default=list)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Project(Base):
    __tablename__ = "identity_project"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    domain_id: Mapped[str] = mapped_column(ForeignKey("identity_domain.id"), index=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("identity_project.id"), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    tags: Mapped[list[str]] = mapped_column(default=list)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)


class User(Base):
    __tablename__ = "identity_user"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    domain_id: Mapped[str] = mapped_column(ForeignKey("identity_domain.id"), index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    default_project_id: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(String(255))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    password_created_at: Mapped[float | None] = mapped_column(Float)
    password_expires_at: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[float] = mapped_column(Float)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Group(Base):
    __tablename__ = "identity_group"
    __table_args__ = (UniqueConstraint("domain_id", "name"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    domain_id: Mapped[str] = mapped_column(ForeignKey("identity_domain.id"), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Membership(Base):
    __tablename__ = "identity_membership"
    user_id: Mapped[str] = mapped_column(
        ForeignKey("identity_user.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[str] = mapped_column(
        ForeignKey("identity_group.id", ondelete="CASCADE"), primary_key=True, index=True)


class Role(Base):
    __tablename__ = "identity_role"
    __table_args__ = (UniqueConstraint("name", "domain_id"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    # None: a global role (keystone stores '<<null>>').
    domain_id: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ImpliedRole(Base):
    __tablename__ = "identity_implied_role"
    prior_role_id: Mapped[str] = mapped_column(
        ForeignKey("identity_role.id", ondelete="CASCADE"), primary_key=True)
    implied_role_id: Mapped[str] = mapped_column(
        ForeignKey("identity_role.id", ondelete="CASCADE"), primary_key=True)


class Assignment(Base):
    """A role on a target for an actor. ``kind`` as keystone: UserProject, GroupDomain, ..."""

    __tablename__ = "identity_assignment"
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    actor_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    target_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    role_id: Mapped[str] = mapped_column(
        ForeignKey("identity_role.id", ondelete="CASCADE"), primary_key=True, index=True)
    inherited: Mapped[bool] = mapped_column(Boolean, primary_key=True, default=False)


class Region(Base):
    __tablename__ = "identity_region"
    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    description: Mapped[str | None] = mapped_column(Text)
    parent_region_id: Mapped[str | None] = mapped_column(String(255))
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CatalogService(Base):
    __tablename__ = "identity_service"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Endpoint(Base):
    __tablename__ = "identity_endpoint"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    service_id: Mapped[str] = mapped_column(
        ForeignKey("identity_service.id", ondelete="CASCADE"), index=True)
    interface: Mapped[str] = mapped_column(String(8))
    url: Mapped[str] = mapped_column(Text)
    region_id: Mapped[str | None] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ApplicationCredential(Base):
    __tablename__ = "identity_application_credential"
    __table_args__ = (UniqueConstraint("user_id", "name"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[str] = mapped_column(
        ForeignKey("identity_user.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[str] = mapped_column(String(64))
    secret_hash: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[float | None] = mapped_column(Float)
    unrestricted: Mapped[bool] = mapped_column(Boolean, default=False)
    system: Mapped[str | None] = mapped_column(String(16))
    role_ids: Mapped[list[str]] = mapped_column(default=list)
    access_rules: Mapped[list[Any]] = mapped_column(default=list)


class Credential(Base):
    __tablename__ = "identity_credential"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        ForeignKey("identity_user.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[str | None] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(255))
    blob: Mapped[str] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class RevocationEvent(Base):
    """A token revocation: every token matching all set fields and issued before is void."""

    __tablename__ = "identity_revocation_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str | None] = mapped_column(String(64))
    project_id: Mapped[str | None] = mapped_column(String(64))
    domain_id: Mapped[str | None] = mapped_column(String(64))
    role_id: Mapped[str | None] = mapped_column(String(64))
    audit_id: Mapped[str | None] = mapped_column(String(32))
    audit_chain_id: Mapped[str | None] = mapped_column(String(32))
    application_credential_id: Mapped[str | None] = mapped_column(String(64))
    issued_before: Mapped[float] = mapped_column(Float)
    revoked_at: Mapped[float] = mapped_column(Float)


class FernetKey(Base):
    """The key repository, kept in the store so every controller shares it."""

    __tablename__ = "identity_fernet_key"
    index: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))


class Trust(Base):
    """OS-TRUST: a trustor's roles on a project, delegated to a trustee.

    Deleted trusts stay (``deleted_at``), as keystone soft-deletes them.
    """

    __tablename__ = "identity_trust"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    trustor_user_id: Mapped[str] = mapped_column(String(64), index=True)
    trustee_user_id: Mapped[str] = mapped_column(String(64), index=True)
    project_id: Mapped[str | None] = mapped_column(String(64))
    impersonation: Mapped[bool] = mapped_column(Boolean)
    expires_at: Mapped[float | None] = mapped_column(Float)
    remaining_uses: Mapped[int | None] = mapped_column(Integer)
    redelegated_trust_id: Mapped[str | None] = mapped_column(String(64))
    redelegation_count: Mapped[int | None] = mapped_column(Integer)
    deleted_at: Mapped[float | None] = mapped_column(Float)
    role_ids: Mapped[list[str]] = mapped_column(default=list)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class DomainConfigOption(Base):
    """One option of a domain's specific configuration (``/v3/domains/{id}/config``)."""

    __tablename__ = "identity_domain_config"
    domain_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    group: Mapped[str] = mapped_column(String(255), primary_key=True)
    option: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column()  # {"value": <any JSON>}
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)


class Policy(Base):
    """The v3 policy API's opaque blobs (keystone stores, never enforces them)."""

    __tablename__ = "identity_policy"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(255))
    blob: Mapped[str] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class EndpointGroup(Base):
    """OS-EP-FILTER: endpoints chosen by their attributes."""

    __tablename__ = "identity_endpoint_group"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    filters: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ProjectEndpointGroup(Base):
    __tablename__ = "identity_project_endpoint_group"
    endpoint_group_id: Mapped[str] = mapped_column(
        ForeignKey("identity_endpoint_group.id", ondelete="CASCADE"), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class ProjectEndpoint(Base):
    __tablename__ = "identity_project_endpoint"
    endpoint_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class OAuthConsumer(Base):
    """OS-OAUTH1: a consumer; its secret signs requests, so it is kept as keystone keeps it."""

    __tablename__ = "identity_oauth_consumer"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str | None] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(64))
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AccessRule(Base):
    """An application credential access rule of a user's; it outlives the credentials that
    use it (credentials keep a copy of each of their rules)."""

    __tablename__ = "identity_access_rule"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    service: Mapped[str | None] = mapped_column(String(64))
    path: Mapped[str | None] = mapped_column(String(128))
    method: Mapped[str | None] = mapped_column(String(16))


class OAuthRequestToken(Base):
    """OS-OAUTH1: a consumer's request for a project, until it is exchanged for an access
    token; authorizing it records the user, the roles and the verifier."""

    __tablename__ = "identity_oauth_request_token"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_secret: Mapped[str] = mapped_column(String(64))
    consumer_id: Mapped[str] = mapped_column(String(64), index=True)
    requested_project_id: Mapped[str] = mapped_column(String(64))
    role_ids: Mapped[list[str]] = mapped_column(default=list)
    authorizing_user_id: Mapped[str | None] = mapped_column(String(64))
    verifier: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[float | None] = mapped_column(Float)


class OAuthAccessToken(Base):
    """OS-OAUTH1: what a consumer signs token requests with, on behalf of a user."""

    __tablename__ = "identity_oauth_access_token"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    access_secret: Mapped[str] = mapped_column(String(64))
    consumer_id: Mapped[str] = mapped_column(String(64), index=True)
    authorizing_user_id: Mapped[str] = mapped_column(String(64), index=True)
    project_id: Mapped[str] = mapped_column(String(64))
    role_ids: Mapped[list[str]] = mapped_column(default=list)
    expires_at: Mapped[float | None] = mapped_column(Float)


class PolicyAssociation(Base):
    """OS-ENDPOINT-POLICY: a policy blob for an endpoint, a service, or a service in a
    region; the row's shape says which (the others are None)."""

    __tablename__ = "identity_policy_association"
    __table_args__ = (UniqueConstraint("endpoint_id", "service_id", "region_id"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    policy_id: Mapped[str] = mapped_column(String(64), index=True)
    endpoint_id: Mapped[str | None] = mapped_column(String(64))
    service_id: Mapped[str | None] = mapped_column(String(64))
    region_id: Mapped[str | None] = mapped_column(String(64))
