"""The access decision of every request, from the tenant's casbin policy, current to the last change.

Per process, each tenant's rules are loaded once through casbin's SQLAlchemy adapter into an indexed
``TenantPolicy``; later changes are replayed from ``policy_changes`` (a few rows, not the whole policy),
so the first decision after a change costs milliseconds even at 100,000 rules. Decisions are cached per
tenant, user and policy version; the version is asked on every request (``acl.versions``), so a cached
decision never outlives the policy it was made from. Any failure to read the policy raises
``PolicyUnavailableError``: the request fails closed, and the failure is counted.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import casbin
from sqlalchemy import Engine
from sqlalchemy_adapter.adapter import Adapter, Filter
from sqlmodel import Session, col, select

from acl import policies
from acl.filters import WriteGrant
from acl.graph import Explanation, TenantPolicy
from acl.policy_models import CasbinRule
from acl.rules import Action, Effect, Permission, Rule, is_label_object, rule_from_row
from acl.versions import PolicyVersions, database_head
from core.access import AccessFilter
from core.errors import PolicyUnavailableError
from core.types import TenantId

MODEL_PATH = Path(__file__).with_name("model.conf")
MAX_CACHED_DECISIONS = 50_000

_T = TypeVar("_T")


@dataclass(frozen=True)
class Decision:
    """What one user may do in its tenant under one policy version."""

    tenant: TenantId
    user: str
    version: int
    read: AccessFilter
    write: WriteGrant
    # The user's rules on objects that are not labels (audit, tool:..., admin:...) and wildcards.
    _other: tuple[Permission, ...] = ()

    @classmethod
    def operator(cls, tenant: TenantId) -> Decision:
        """The operator at the machine (CLI without ``--as-user``, evaluations): everything in the tenant."""
        everything = tuple(Permission("operator", tenant, "*", action) for action in Action)
        return cls(
            tenant, "operator", -1, AccessFilter.everything(tenant), WriteGrant.everything(tenant), everything
        )

    def can(self, obj: str, action: Action) -> bool:
        """casbin's verdict for one object: an allow matches and no deny does."""
        if _is_label_question(obj, action):
            if action == Action.READ:
                return self.read.allows(self.tenant, (obj,))
            return self.write.permits(self.tenant, (obj,))
        matching = [p for p in self._other if p.action == action and p.matches(obj)]
        return bool(matching) and all(p.effect == Effect.ALLOW for p in matching)


def _is_label_question(obj: str, action: Action) -> bool:
    """Reading or writing one label: answered from the label grants, like the engine filter."""
    return action in (Action.READ, Action.WRITE) and obj != "*" and is_label_object(obj)


class AccessControl:
    def __init__(
        self,
        engine: Engine,
        versions: PolicyVersions,
        *,
        on_failure: Callable[[], None] = lambda: None,
    ) -> None:
        self._engine = engine
        self.versions = versions
        self._on_failure = on_failure
        self._adapter = _RowAdapter(engine, db_class=CasbinRule, create_table=False)
        self._policies: dict[TenantId, tuple[TenantPolicy, int]] = {}
        self._locks: dict[TenantId, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._decisions: OrderedDict[tuple[TenantId, str], Decision] = OrderedDict()
        self._decisions_guard = threading.Lock()

    # -- per request ---------------------------------------------------------------------------

    def version(self, tenant: TenantId) -> int:
        return self._failing_closed(lambda: self.versions.current(tenant))

    def decide(self, tenant: TenantId, user: str, *, version: int | None = None) -> Decision:
        """The user's decision under the tenant's current policy (``version`` if already asked)."""
        current = self.version(tenant) if version is None else version
        key = (tenant, user)
        with self._decisions_guard:
            cached = self._decisions.get(key)
            if cached is not None and cached.version == current:
                self._decisions.move_to_end(key)
                return cached
        decision = self._failing_closed(lambda: self._decide(tenant, user, current))
        with self._decisions_guard:
            self._decisions[key] = decision
            while len(self._decisions) > MAX_CACHED_DECISIONS:
                self._decisions.popitem(last=False)
        return decision

    def _decide(self, tenant: TenantId, user: str, current: int) -> Decision:
        with self._lock(tenant):
            policy, loaded = self._current_policy(tenant, current)
            return decision_from(policy, user, loaded)

    def explain(self, tenant: TenantId, user: str, obj: str, action: Action) -> tuple[Explanation, int]:
        return self.inspect(tenant, lambda policy: policy.explain(user, obj, action))

    def snapshot(self, tenant: TenantId) -> tuple[list[Rule], int]:
        """A copy of the tenant's current rules (for dry runs), and their version."""
        return self.inspect(tenant, lambda policy: list(policy.rules()))

    def inspect(self, tenant: TenantId, question: Callable[[TenantPolicy], _T]) -> tuple[_T, int]:
        """Ask the tenant's current policy one question under its lock, so several answers (one per
        label of a document, say) come from one version; returns the answer and that version."""
        current = self.version(tenant)

        def run() -> tuple[_T, int]:
            with self._lock(tenant):
                policy, loaded = self._current_policy(tenant, current)
                return question(policy), loaded

        return self._failing_closed(run)

    def refresh_all(self) -> None:
        """Pull every loaded tenant up to date (the watcher calls this when another process changed one)."""
        for tenant in list(self._policies):
            try:
                with self._lock(tenant):
                    self._current_policy(tenant, database_head(self._engine, tenant))
            except Exception:  # the next request retries and fails closed if it must
                self._on_failure()

    def loaded_version(self, tenant: TenantId) -> int | None:
        """The policy version this process holds for the tenant (None: not loaded yet), without I/O."""
        held = self._policies.get(tenant)
        return held[1] if held is not None else None

    # -- loading -------------------------------------------------------------------------------

    def _current_policy(self, tenant: TenantId, wanted: int) -> tuple[TenantPolicy, int]:
        """The tenant's policy at ``wanted`` or newer (caller holds the tenant's lock)."""
        held = self._policies.get(tenant)
        if held is None:
            held = self._load(tenant)
        policy, version = held
        if version < wanted:
            version = self._catch_up(tenant, policy, version)
        self._policies[tenant] = (policy, version)
        return policy, version

    def _load(self, tenant: TenantId) -> tuple[TenantPolicy, int]:
        """Every rule of the tenant through casbin's adapter, with the version they make up."""
        for _ in range(5):
            before = database_head(self._engine, tenant)
            model = casbin.Enforcer.new_model(str(MODEL_PATH))
            self._adapter.load_filtered_policy(model, _tenant_filter("p", 1, tenant))
            self._adapter.load_filtered_policy(model, _tenant_filter("g", 2, tenant))
            if database_head(self._engine, tenant) == before:  # no change committed while reading
                return TenantPolicy(tenant, _rules_of(model)), before
        raise PolicyUnavailableError("the access policy kept changing while it was being loaded")

    def _catch_up(self, tenant: TenantId, policy: TenantPolicy, version: int) -> int:
        with Session(self._engine) as session:
            changes = policies.changes_since(session, tenant, version)
        for change in changes:
            if change.version != version + 1:  # a gap: never guess, reload
                fresh, loaded = self._load(tenant)
                self._policies[tenant] = (fresh, loaded)
                self._replace(policy, fresh)
                return loaded
            for item in policies.ops_from_json(change.ops):
                (policy.add if item.op == policies.Op.ADD else policy.remove)(item.rule)
            version = change.version
        return version

    @staticmethod
    def _replace(policy: TenantPolicy, fresh: TenantPolicy) -> None:
        for rule in list(policy.rules()):
            policy.remove(rule)
        for rule in fresh.rules():
            policy.add(rule)

    def _lock(self, tenant: TenantId) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(tenant, threading.Lock())

    def _failing_closed(self, work: Callable[[], _T]) -> _T:
        try:
            return work()
        except PolicyUnavailableError:
            self._on_failure()
            raise
        except Exception as error:
            self._on_failure()
            raise PolicyUnavailableError("the access policy could not be evaluated") from error

    def close(self) -> None:
        self.versions.close()


def decision_from(policy: TenantPolicy, user: str, version: int) -> Decision:
    """The user's whole decision under ``policy``: label grants for the engine, other rules for ``can``."""
    read = policy.label_grants(user, Action.READ)
    write = policy.label_grants(user, Action.WRITE)
    other = tuple(p for p, _ in policy.permissions_of(user) if not _is_label_question(p.obj, p.action))
    tenant = policy.tenant
    return Decision(
        tenant,
        user,
        version,
        AccessFilter(tenant, read.allowed, read.denied),
        WriteGrant(tenant, write.allowed, write.denied),
        other,
    )


class _RowAdapter(Adapter):  # type: ignore[misc]
    """casbin's SQLAlchemy adapter, reading rows as plain tuples into casbin's model. The stock one
    builds an ORM object per row and re-tokenises its CSV line: most of a cold load at 100,000 rules."""

    def load_filtered_policy(self, model: casbin.model.Model, filter: Filter) -> None:
        columns = [getattr(CasbinRule, f"v{i}") for i in range(6)]
        query = select(col(CasbinRule.ptype), *columns)
        for attr in ("ptype", "v0", "v1", "v2", "v3", "v4", "v5"):
            if wanted := getattr(filter, attr):
                query = query.where(col(getattr(CasbinRule, attr)).in_(wanted))
        with self._engine.connect() as connection:
            for ptype, *values in connection.execute(query.order_by(col(CasbinRule.id))):
                assertion = model.model.get(ptype[:1], {}).get(ptype)
                if assertion is not None:
                    assertion.policy.append([v for v in values if v is not None])
        self._filtered = True


def _tenant_filter(ptype: str, domain_field: int, tenant: TenantId) -> Filter:
    query = Filter()
    query.ptype = [ptype]
    setattr(query, f"v{domain_field}", [tenant])
    return query


def _rules_of(model: casbin.model.Model) -> Iterable[Rule]:
    for ptype in ("p", "g"):
        for values in model.get_policy(ptype, ptype):
            yield rule_from_row(ptype, values)
