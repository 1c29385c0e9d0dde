"""Domain-specific configuration (``/v3/domains/{id}/config``), with keystone's rules.

Only the options that shape a domain's identity driver may be set: ``[identity]
driver`` and ``list_limit``, and the ``[ldap]`` options keystone allows, its
``password`` kept apart as sensitive (stored, never shown). stacklab has no
LDAP driver: the configuration is stored and served, not acted on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from stacklab.api.errors import Forbidden, NotFound
from stacklab.identity import models as m
from stacklab.identity.state import IdentityState

# keystone's defaults of the options a domain may override, in keystone's order.
LDAP_DEFAULTS: dict[str, Any] = {
    "url": "ldap://localhost", "user": None, "suffix": "cn=example,cn=com",
    "query_scope": "one", "page_size": 0, "alias_dereferencing": "default",
    "debug_level": None, "chase_referrals": None, "user_tree_dn": None, "user_filter": None,
    "user_objectclass": "inetOrgPerson", "user_id_attribute": "cn",
    "user_name_attribute": "sn", "user_mail_attribute": "mail",
    "user_description_attribute": "description", "user_pass_attribute": "userPassword",
    "user_enabled_attribute": "enabled", "user_enabled_invert": False,
    "user_enabled_mask": 0, "user_enabled_default": "True",
    "user_attribute_ignore": ["default_project_id"],
    "user_default_project_id_attribute": None, "user_enabled_emulation": False,
    "user_enabled_emulation_dn": None, "user_enabled_emulation_use_group_config": False,
    "user_additional_attribute_mapping": [], "group_tree_dn": None, "group_filter": None,
    "group_objectclass": "groupOfNames", "group_id_attribute": "cn",
    "group_name_attribute": "ou", "group_members_are_ids": False,
    "group_member_attribute": "member", "group_desc_attribute": "description",
    "group_attribute_ignore": [], "group_additional_attribute_mapping": [],
    "tls_cacertfile": None, "tls_cacertdir": None, "use_tls": False,
    "tls_req_cert": "demand", "use_pool": True, "pool_size": 10, "pool_retry_max": 3,
    "pool_retry_delay": 0.1, "pool_connection_timeout": -1, "pool_connection_lifetime": 600,
    "use_auth_pool": True, "auth_pool_size": 100, "auth_pool_connection_lifetime": 60,
}
ALLOWED: dict[str, tuple[str, ...]] = {"identity": ("driver", "list_limit"),
                                       "ldap": tuple(LDAP_DEFAULTS)}
SENSITIVE: dict[str, tuple[str, ...]] = {"identity": (), "ldap": ("password",)}
# Readable by anyone through ``/config/security_compliance`` (of the default domain).
SECURITY_COMPLIANCE = ("password_regex", "password_regex_description")

Config = dict[str, dict[str, Any]]


def invalid(reason: str) -> Forbidden:
    return Forbidden(f"Invalid domain specific configuration: {reason}.")


def config_not_found(domain_id: str, what: str) -> NotFound:
    return NotFound(f"Could not find {what} in domain configuration for domain {domain_id}.")


def _what(group: str | None, option: str | None) -> str:
    if option:
        return f"option {option} in group {group}"
    if group:
        return f"group {group}"
    return "any options"


class DomainConfigs:
    def __init__(self, state: IdentityState) -> None:
        self.state = state

    # -- checks ----------------------------------------------------------------------

    @staticmethod
    def check_group_and_option(group: str | None, option: str | None) -> None:
        if not group:
            return
        if group not in ALLOWED and group not in SENSITIVE:
            raise invalid(f"Group {group} is not supported for domain specific configurations")
        if option and option not in ALLOWED.get(group, ()) \
                and option not in SENSITIVE.get(group, ()):
            raise invalid(f"Option {option} in group {group} is not supported for domain "
                          "specific configurations")

    def check_config(self, config: Mapping[str, Any]) -> None:
        if not config:
            raise invalid("No options specified")
        for group, options in config.items():
            if not options or not isinstance(options, Mapping):
                raise invalid(f"The value of group {group} specified in the config should be "
                              "a dictionary of options")
            for option in options:
                self.check_group_and_option(group, option)

    # -- reading ---------------------------------------------------------------------

    def _rows(self, session: Session, domain_id: str, group: str | None = None,
              option: str | None = None, *, sensitive: bool | None = False) \
            -> list[m.DomainConfigOption]:
        query = select(m.DomainConfigOption).where(m.DomainConfigOption.domain_id == domain_id)
        if sensitive is not None:
            query = query.where(m.DomainConfigOption.sensitive == sensitive)
        if group:
            query = query.where(m.DomainConfigOption.group == group)
        if option:
            query = query.where(m.DomainConfigOption.option == option)
        return list(session.scalars(query.order_by(m.DomainConfigOption.group,
                                                   m.DomainConfigOption.option)))

    @staticmethod
    def _as_config(rows: list[m.DomainConfigOption]) -> Config:
        config: Config = {}
        for row in rows:
            config.setdefault(row.group, {})[row.option] = row.value["value"]
        return config

    def get(self, session: Session, domain_id: str, group: str | None = None,
            option: str | None = None) -> dict[str, Any]:
        """The domain's (whitelisted) options, of one group or one option if asked."""
        self.check_group_and_option(group, option)
        rows = self._rows(session, domain_id, group, option)
        if not rows:
            raise config_not_found(domain_id, _what(group, option))
        if option:
            return {rows[0].option: rows[0].value["value"]}
        return self._as_config(rows)

    def security_compliance(self, domain_id: str, option: str | None = None) -> dict[str, Any]:
        """The password rules every user may read, of the default domain only."""
        if domain_id != self.state.config.identity.default_domain_id:
            raise invalid("Reading security compliance information for any domain other than "
                          "the default domain is not allowed or supported.")
        if option and option not in SECURITY_COMPLIANCE:
            raise invalid("Reading security compliance values other than password_regex and "
                          "password_regex_description is not allowed.")
        # stacklab sets no password rules: keystone's defaults, both unset.
        if option:
            return {option: None}
        return {"security_compliance": dict.fromkeys(SECURITY_COMPLIANCE)}

    def defaults(self, group: str | None = None, option: str | None = None) -> dict[str, Any]:
        self.check_group_and_option(group, option)
        if group and option and option not in ALLOWED[group]:
            raise invalid(f"Reading the default for option {option} in group {group} is not "
                          "supported")
        known = {"identity": {"driver": "sql",
                              "list_limit": self.state.config.identity.list_limit},
                 "ldap": dict(LDAP_DEFAULTS)}
        if option and group:
            return {option: known[group][option]}
        if group:
            return {group: known[group]}
        return known

    # -- writing ---------------------------------------------------------------------

    def _store(self, session: Session, domain_id: str, config: Mapping[str, Any]) -> None:
        for group, options in config.items():
            for option, value in options.items():
                row = session.get(m.DomainConfigOption, (domain_id, group, option))
                if row is None:
                    session.add(m.DomainConfigOption(
                        domain_id=domain_id, group=group, option=option, value={"value": value},
                        sensitive=option in SENSITIVE.get(group, ())))
                else:
                    row.value = {"value": value}
        session.flush()

    def create(self, session: Session, domain_id: str,
               config: Mapping[str, Any]) -> tuple[Config, bool]:
        """Replace the domain's configuration; whether it had none before (keystone's 201)."""
        self.check_config(config)
        had = bool(self._rows(session, domain_id, sensitive=None))
        session.execute(delete(m.DomainConfigOption).where(
            m.DomainConfigOption.domain_id == domain_id))
        self._store(session, domain_id, config)
        return self._as_config(self._rows(session, domain_id)), not had

    def update(self, session: Session, domain_id: str, config: Mapping[str, Any],
               group: str | None = None, option: str | None = None) -> Config:
        """Merge options into the configuration; a group or option named in the path must
        be the body's only one, and must exist already."""
        update = {group: config} if group and option else config
        self.check_config(update)
        self.check_group_and_option(group, option)
        if group:
            if len(update) != 1 or (option and len(update.get(group) or {}) != 1):
                if option:
                    raise invalid(f"Trying to update option {option} in group {group}, so "
                                  "that, and only that, option must be specified  in the config")
                raise invalid(f"Trying to update group {group}, so that, and only that, group "
                              "must be specified in the config")
            if group not in update:
                raise invalid(f"request to update group {group}, but config provided contains "
                              f"group {next(iter(update))} instead")
            if option and option not in update[group]:
                raise invalid(f"Trying to update option {option} in group {group}, but config "
                              f"provided contains option {next(iter(update[group]))} instead")
            if not self._rows(session, domain_id, group, option, sensitive=None):
                raise config_not_found(domain_id, _what(group, option))
        self._store(session, domain_id, update)
        return self.get(session, domain_id)

    def delete(self, session: Session, domain_id: str, group: str | None = None,
               option: str | None = None) -> None:
        self.check_group_and_option(group, option)
        if group:
            current = self._as_config(self._rows(session, domain_id, sensitive=None))
            if not current.get(group):
                raise config_not_found(domain_id, _what(group, None))
            if option and not current[group].get(option):
                raise config_not_found(domain_id, _what(group, option))
        query = delete(m.DomainConfigOption).where(m.DomainConfigOption.domain_id == domain_id)
        if group:
            query = query.where(m.DomainConfigOption.group == group)
        if option:
            query = query.where(m.DomainConfigOption.option == option)
        session.execute(query)

    def drop_domain(self, session: Session, domain_id: str) -> None:
        """A deleted domain's configuration goes with it."""
        session.execute(delete(m.DomainConfigOption).where(
            m.DomainConfigOption.domain_id == domain_id))
