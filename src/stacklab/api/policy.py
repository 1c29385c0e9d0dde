"""Policy enforcement in one place, for every service, with oslo.policy itself.

Each service contributes its default rules (upstream's names and check
strings); an operator's policy file in oslo.policy syntax (YAML or JSON)
overrides them by name, exactly as ``[oslo_policy] policy_file`` does.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from oslo_config import cfg
from oslo_policy import _checks as oslo_checks
from oslo_policy import policy as oslo

from stacklab.api.context import RequestContext
from stacklab.api.errors import Forbidden


@oslo_checks.register("field")
class FieldCheck(oslo_checks.Check):
    """neutron's ``field:<collection>:<attribute>=<value>`` check (``field:networks:shared=True``).

    The target carries the attribute itself when it is the resource (a
    network's ``shared``) and, for its children, under the parent's name
    (a port's ``network:shared``), which is where the check looks first.
    """

    def __init__(self, kind: str, match: str) -> None:
        collection, _, condition = match.partition(":")
        attribute, _, value = condition.partition("=")
        self.parent_key = f"{collection.removesuffix('s')}:{attribute}"
        self.attribute = attribute
        self.value = value
        super().__init__(kind, match)

    def __call__(self, target: Mapping[str, Any], cred: Any, enforcer: Any,
                 current_rule: str | None = None) -> bool:
        for key in (self.parent_key, self.attribute):
            if key in target:
                if self.value.startswith("~"):  # a regular expression (device owners)
                    return re.search(self.value[1:], str(target[key])) is not None
                return str(target[key]).lower() == self.value.lower()
        return False


@dataclass(frozen=True)
class PolicyRule:
    name: str
    check_str: str
    scope_types: tuple[str, ...] = ()
    description: str = ""


class PolicyEngine:
    def __init__(
        self,
        rules: Iterable[PolicyRule],
        *,
        policy_file: str = "",
        enforce_scope: bool = True,
        enforce_new_defaults: bool = True,
    ) -> None:
        # Decisions already taken, by rule, target and credentials: a check's answer
        # depends on nothing else, and oslo.policy's evaluation costs more than the
        # request's own work for the simplest calls.
        self._decisions: dict[Hashable, bool] = {}
        conf = cfg.ConfigOpts()
        # No config files: oslo would otherwise pick up a policy.yaml from ~ or /etc.
        conf(args=[], project="stacklab", default_config_files=[], default_config_dirs=[])
        self._enforcer = oslo.Enforcer(conf, policy_file="/nonexistent/stacklab-policy.yaml")
        conf.set_override("policy_dirs", [], group="oslo_policy")
        if "enforce_scope" in conf.oslo_policy:
            # oslo.policy 6 always checks scope types and dropped the switch.
            conf.set_override("enforce_scope", enforce_scope, group="oslo_policy")
        conf.set_override("enforce_new_defaults", enforce_new_defaults, group="oslo_policy")
        self._enforcer.register_defaults(
            [
                oslo.RuleDefault(r.name, r.check_str, description=r.description or None,
                                 scope_types=list(r.scope_types) or None)
                for r in rules
            ]
        )
        self._enforcer.load_rules()
        if policy_file:
            self.load_overrides(Path(policy_file).expanduser())
        # Rules are loaded once; without this, oslo re-checks the (absent) policy file
        # and re-walks the defaults on every enforce().
        self._enforcer.use_conf = False

    def load_overrides(self, path: Path) -> None:
        self._decisions.clear()
        overrides = oslo.parse_file_contents(path.read_text())
        self._enforcer.set_rules(
            oslo.Rules.from_dict(overrides), overwrite=False, use_conf=False
        )

    def authorize(self, rule: str, target: Mapping[str, Any], context: RequestContext) -> None:
        """Raise 403 unless ``context`` may do ``rule`` on ``target``."""
        # A None in the target must never satisfy a check: oslo.policy compares
        # text, so "domain_id:%(target.domain_id)s" would match None to an
        # unscoped None. A missing key makes that one check False instead.
        known = {key: value for key, value in target.items() if value is not None}
        if rule not in self._enforcer.registered_rules:
            # A typo in a rule name must not pass as an ordinary 403.
            raise RuntimeError(f"policy rule {rule!r} is not registered")
        key = _decision_key(rule, known, context)
        allowed = self._decisions.get(key) if key is not None else None
        if allowed is None:
            try:
                allowed = bool(self._enforcer.enforce(rule, known,
                                                      context.policy_credentials(),
                                                      do_raise=False))
            except oslo.InvalidScope:
                allowed = False
            if key is not None:
                if len(self._decisions) >= _DECISIONS_KEPT:
                    self._decisions.clear()
                self._decisions[key] = allowed
        if not allowed:
            raise Forbidden(f"You are not authorized to perform the requested action: {rule}.")

    def allows(self, rule: str, target: Mapping[str, Any], context: RequestContext) -> bool:
        try:
            self.authorize(rule, target, context)
        except Forbidden:
            return False
        return True

    def has_rule(self, rule: str) -> bool:
        return rule in self._enforcer.registered_rules

    def rules(self) -> dict[str, str]:
        return {name: str(check) for name, check in self._enforcer.rules.items()}


# How many decisions the engine remembers before it forgets them all.
_DECISIONS_KEPT = 4096
_SCALARS = (str, int, float, bool, type(None))


def _decision_key(rule: str, target: Mapping[str, Any],
                  context: RequestContext) -> Hashable | None:
    """What a decision is remembered by; None (not remembered) for a target holding more
    than a few plain values, such as a whole resource checked field by field."""
    if len(target) > 8 or not all(isinstance(v, _SCALARS) for v in target.values()):
        return None
    return (rule, tuple(sorted(target.items())), context.policy_key())
