"""Administering access: rules, role assignments, keys, history and reverts, one transaction each.

Every change is announced to the other API processes (``acl.versions``) before it commits and
published after, so it takes effect on their next request. The REST admin routes and the CLI both
call this service; neither touches the tables itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session

from acl import keys as api_keys
from acl import policies
from acl.builtin import legacy_rules
from acl.enforcer import AccessControl
from acl.graph import Explanation
from acl.models import ApiKey
from acl.policies import Op, RuleOp
from acl.policy_models import PolicyChange
from acl.rules import Action, Rule, parse_csv, to_csv
from core.db import session_scope
from core.errors import InvalidInputError
from core.types import TenantId


@dataclass(frozen=True)
class RulePage:
    """One page of rules or role assignments, with the policy version it was read at."""

    version: int
    total: int
    rules: list[Rule]


@dataclass(frozen=True)
class Actor:
    """Who makes a change, as the history records it: an API user, or ``cli:<os user>``."""

    tenant: TenantId
    name: str


class PolicyAdmin:
    def __init__(self, engine: Engine, access: AccessControl) -> None:
        self._engine = engine
        self._access = access

    # -- rules -------------------------------------------------------------------------------------

    def change(
        self, actor: Actor, ops: Sequence[RuleOp], *, reason: str, kind: str = "rules"
    ) -> PolicyChange:
        if not ops:
            raise InvalidInputError("a change needs at least one rule to add or remove")
        return self._commit(
            actor, lambda s: policies.record_change(s, actor.tenant, actor.name, kind, reason, ops)
        )

    def rules(self, tenant: TenantId) -> tuple[list[Rule], int]:
        with Session(self._engine) as session:
            version = policies.head_version(session, tenant)
            return policies.tenant_rules(session, tenant), version

    def permissions(
        self, tenant: TenantId, *, subject: str | None = None, limit: int, offset: int = 0
    ) -> RulePage:
        with Session(self._engine) as session:
            version = policies.head_version(session, tenant)
            total, rules = policies.permission_page(
                session, tenant, subject=subject, limit=limit, offset=offset
            )
        return RulePage(version, total, rules)

    def assignments(
        self,
        tenant: TenantId,
        *,
        member: str | None = None,
        role: str | None = None,
        limit: int,
        offset: int = 0,
    ) -> RulePage:
        with Session(self._engine) as session:
            version = policies.head_version(session, tenant)
            total, rules = policies.assignment_page(
                session, tenant, member=member, role=role, limit=limit, offset=offset
            )
        return RulePage(version, total, rules)

    def role_names(self, tenant: TenantId) -> list[str]:
        """The roles that exist: every name something is assigned to, and every subject of a rule that
        is neither a key's user nor assigned to anything itself (a role nobody holds yet)."""
        with Session(self._engine) as session:
            subjects, members, roles = policies.subject_names(session, tenant)
            users = api_keys.key_users(session, tenant)
        return sorted(roles | (subjects - members - users))

    def export_csv(self, tenant: TenantId) -> str:
        rules, _ = self.rules(tenant)
        return "".join(to_csv(rules))

    def import_csv(self, actor: Actor, text: str, *, reason: str) -> PolicyChange:
        """Replace the tenant's rules by the CSV's; the first bad line rejects the whole import."""
        rules = parse_csv(text, actor.tenant)
        if not rules:
            raise InvalidInputError("the CSV holds no rules; an import replaces every rule, so refusing")
        return self._commit(actor, lambda s: policies.replace_all(s, actor.tenant, rules, actor.name, reason))

    def history(self, tenant: TenantId, *, limit: int, before: int | None) -> list[PolicyChange]:
        with Session(self._engine) as session:
            return policies.history(session, tenant, limit=limit, before=before)

    def revert(self, actor: Actor, version: int, *, reason: str) -> PolicyChange:
        return self._commit(actor, lambda s: policies.revert_to(s, actor.tenant, version, actor.name, reason))

    def explain(self, tenant: TenantId, user: str, obj: str, action: Action) -> tuple[Explanation, int]:
        return self._access.explain(tenant, user, obj, action)

    # -- keys --------------------------------------------------------------------------------------

    def issue_key(
        self, actor: Actor, user: str, *, roles: Sequence[str] = (), expires_at: datetime | None = None
    ) -> api_keys.IssuedKey:
        """A key for ``user``; a tenant's first key creates its built-in roles. ``roles`` are assigned
        to the user with the grants they carried before policies existed (``acl.builtin``)."""
        issued: list[api_keys.IssuedKey] = []

        def work(session: Session) -> PolicyChange | None:
            policies.ensure_tenant(session, actor.tenant, actor.name)
            key = api_keys.create_key(session, actor.tenant, user, expires_at=expires_at)
            issued.append(key)
            wanted = legacy_rules(actor.tenant, key.user, roles)
            present = set(policies.stored_rules(session, actor.tenant, wanted))
            ops = [RuleOp(Op.ADD, r) for r in dict.fromkeys(wanted) if r not in present]
            return policies.record_change(
                session, actor.tenant, actor.name, "key-created", f"key {key.key_id} for {key.user}", ops
            )

        self._commit(actor, work)
        return issued[0]

    def revoke_key(self, actor: Actor, key_id: str, *, reason: str = "") -> ApiKey:
        revoked: list[ApiKey] = []

        def work(session: Session) -> PolicyChange:
            revoked.append(api_keys.revoke_key(session, actor.tenant, key_id))
            # No rule changes, but a new version: every process checks keys again on its next request.
            return policies.record_change(
                session, actor.tenant, actor.name, "key-revoked", reason or f"key {key_id} revoked", []
            )

        self._commit(actor, work)
        return revoked[0]

    def list_keys(self, tenant: TenantId) -> list[ApiKey]:
        with Session(self._engine) as session:
            return api_keys.list_keys(session, tenant)

    # -- one transaction per change ----------------------------------------------------------------

    def _commit(self, actor: Actor, work: Callable[[Session], PolicyChange | None]) -> PolicyChange:
        versions = self._access.versions
        with session_scope(self._engine) as session:
            change = work(session)
            if change is None:
                raise InvalidInputError("nothing to change")
            versions.announce(actor.tenant, change.version)  # before the commit: see acl.versions
        versions.published(actor.tenant, change.version)
        return change
