"""Change a tenant's policy: every change is validated, numbered, recorded and applied in one transaction.

A change is a list of operations (add or remove one rule). It takes the tenant's next version from
``policy_heads`` with one UPDATE, which PostgreSQL row-locks and SQLite file-locks until commit, so two
admins editing at once get consecutive versions and every process replays the same sequence. Removing
a rule that is not there, or adding one that is, is refused as a whole: a change never half-applies.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, func, insert, update
from sqlmodel import Session, col, select

from acl.builtin import builtin_rules
from acl.policy_models import CasbinRule, PolicyChange, PolicyHead
from acl.rules import Assignment, Permission, Rule, rule_from_row
from core.clock import utcnow
from core.errors import ConflictError, InvalidInputError, NotFoundError
from core.types import TenantId

MAX_OPS_PER_CHANGE = 200_000


class Op(StrEnum):
    ADD = "add"
    REMOVE = "remove"


@dataclass(frozen=True)
class RuleOp:
    op: Op
    rule: Rule

    def inverse(self) -> RuleOp:
        return RuleOp(Op.REMOVE if self.op == Op.ADD else Op.ADD, self.rule)

    def as_json(self) -> dict[str, Any]:
        return {"op": self.op.value, "rule": list(self.rule.fields)}


def ops_from_json(raw: Iterable[dict[str, Any]]) -> list[RuleOp]:
    out = []
    for item in raw:
        fields = list(item["rule"])
        out.append(RuleOp(Op(item["op"]), rule_from_row(fields[0], fields[1:])))
    return out


def head_version(session: Session, tenant: TenantId) -> int:
    head = session.get(PolicyHead, tenant)
    return head.version if head is not None else 0


def ensure_tenant(session: Session, tenant: TenantId, actor: str) -> bool:
    """Give a new tenant its built-in roles (version 1); True when this call created them."""
    if session.get(PolicyHead, tenant) is not None:
        return False
    session.add(PolicyHead(tenant=tenant, version=0))
    session.flush()
    record_change(
        session,
        tenant,
        actor,
        "tenant-created",
        "built-in roles",
        [RuleOp(Op.ADD, r) for r in builtin_rules(tenant)],
    )
    return True


def record_change(
    session: Session, tenant: TenantId, actor: str, kind: str, reason: str, ops: Sequence[RuleOp]
) -> PolicyChange:
    """Apply ``ops`` to the stored rules and record them as the tenant's next version."""
    if len(ops) > MAX_OPS_PER_CHANGE:
        raise InvalidInputError(f"a change holds at most {MAX_OPS_PER_CHANGE} rules, got {len(ops)}")
    version = _next_version(session, tenant)
    _check_applicable(session, tenant, ops)
    # What the ops amount to, in one bulk insert: an import of 100,000 rules took half a minute as
    # one ORM object per row. The recorded change keeps every op, in order.
    net = _net(ops)
    for item in net:
        if item.op == Op.REMOVE:
            session.execute(delete(CasbinRule).where(*_row_matches(item.rule)))
    added = [_row(item.rule) for item in net if item.op == Op.ADD]
    if added:
        session.execute(insert(CasbinRule), added)
    change = PolicyChange(
        tenant=tenant,
        version=version,
        actor=actor,
        at=utcnow(),
        reason=reason[:2000],
        kind=kind,
        ops=[item.as_json() for item in ops],
    )
    session.add(change)
    session.flush()
    return change


def _next_version(session: Session, tenant: TenantId) -> int:
    bumped = session.execute(
        update(PolicyHead)
        .where(col(PolicyHead.tenant) == tenant)
        .values(version=col(PolicyHead.version) + 1)
        .returning(col(PolicyHead.version))
    ).scalar_one_or_none()
    if bumped is None:
        raise NotFoundError(f"tenant {tenant!r} has no policy yet: issue its first key")
    return int(bumped)


def _check_applicable(session: Session, tenant: TenantId, ops: Sequence[RuleOp]) -> None:
    """Replay the ops over the stored rules they touch; refuse the whole change at the first that
    would add a present rule or remove an absent one (naming it), so nothing half-applies."""
    present = set(stored_rules(session, tenant, [item.rule for item in ops]))
    for number, item in enumerate(ops, start=1):
        if item.rule.tenant != tenant:
            raise InvalidInputError(f"rule {number}: rules may only name your own tenant {tenant!r}")
        there = item.rule in present
        if item.op == Op.ADD and there:
            raise ConflictError(f"rule {number} already exists: {', '.join(item.rule.fields)}")
        if item.op == Op.REMOVE and not there:
            raise NotFoundError(f"rule {number} does not exist: {', '.join(item.rule.fields)}")
        (present.add if item.op == Op.ADD else present.discard)(item.rule)


def stored_rules(session: Session, tenant: TenantId, rules: Sequence[Rule]) -> Iterable[Rule]:
    """The stored rules among ``rules``, found by subject so a big change costs few queries."""
    subjects = sorted({r.subject if isinstance(r, Permission) else r.member for r in rules})
    for start in range(0, len(subjects), 500):
        chunk = subjects[start : start + 500]
        rows = session.exec(
            select(CasbinRule).where(
                col(CasbinRule.v0).in_(chunk),
                ((col(CasbinRule.ptype) == "p") & (col(CasbinRule.v1) == tenant))
                | ((col(CasbinRule.ptype) == "g") & (col(CasbinRule.v2) == tenant)),
            )
        )
        for row in rows:
            yield rule_from_row(row.ptype, (row.v0, row.v1, row.v2, row.v3, row.v4, row.v5))


def _row(rule: Rule) -> dict[str, str | None]:
    values: list[str | None] = [*rule.fields[1:], None, None, None, None, None, None][:6]
    return {"ptype": rule.fields[0]} | {f"v{i}": v for i, v in enumerate(values)}


def _row_matches(rule: Rule) -> list[Any]:
    values = rule.fields[1:]
    conditions = [col(CasbinRule.ptype) == rule.fields[0]]
    conditions += [col(getattr(CasbinRule, f"v{i}")) == v for i, v in enumerate(values)]
    return conditions


def tenant_rules(session: Session, tenant: TenantId) -> list[Rule]:
    """Every stored rule of the tenant, read straight from the table (exports, dry runs)."""
    rows = session.exec(
        select(CasbinRule).where(
            ((col(CasbinRule.ptype) == "p") & (col(CasbinRule.v1) == tenant))
            | ((col(CasbinRule.ptype) == "g") & (col(CasbinRule.v2) == tenant))
        )
    )
    return [rule_from_row(r.ptype, (r.v0, r.v1, r.v2, r.v3, r.v4, r.v5)) for r in rows]


def permission_page(
    session: Session, tenant: TenantId, *, subject: str | None, limit: int, offset: int
) -> tuple[int, list[Rule]]:
    """One page of the tenant's permission rules (by subject, object, action), and how many there are."""
    where = [col(CasbinRule.ptype) == "p", col(CasbinRule.v1) == tenant]
    if subject is not None:
        where.append(col(CasbinRule.v0) == subject)
    order = (col(CasbinRule.v0), col(CasbinRule.v2), col(CasbinRule.v3), col(CasbinRule.v4))
    return _page(session, where, order, limit, offset)


def assignment_page(
    session: Session, tenant: TenantId, *, member: str | None, role: str | None, limit: int, offset: int
) -> tuple[int, list[Rule]]:
    """One page of the tenant's role assignments (by role, then member), and how many there are."""
    where = [col(CasbinRule.ptype) == "g", col(CasbinRule.v2) == tenant]
    if member is not None:
        where.append(col(CasbinRule.v0) == member)
    if role is not None:
        where.append(col(CasbinRule.v1) == role)
    return _page(session, where, (col(CasbinRule.v1), col(CasbinRule.v0)), limit, offset)


def _page(
    session: Session, where: list[Any], order: tuple[Any, ...], limit: int, offset: int
) -> tuple[int, list[Rule]]:
    total = session.exec(select(func.count()).select_from(CasbinRule).where(*where)).one()
    rows = session.exec(select(CasbinRule).where(*where).order_by(*order).limit(limit).offset(offset))
    return int(total), [rule_from_row(r.ptype, (r.v0, r.v1, r.v2, r.v3, r.v4, r.v5)) for r in rows]


def subject_names(session: Session, tenant: TenantId) -> tuple[set[str], set[str], set[str]]:
    """The names the tenant's rules mention: subjects of permissions, members, and roles assigned to."""
    subjects = session.exec(
        select(CasbinRule.v0).where(col(CasbinRule.ptype) == "p", col(CasbinRule.v1) == tenant).distinct()
    )
    assigned = session.exec(
        select(CasbinRule.v0, CasbinRule.v1)
        .where(col(CasbinRule.ptype) == "g", col(CasbinRule.v2) == tenant)
        .distinct()
    )
    members: set[str] = set()
    roles: set[str] = set()
    for member, role in assigned:
        members.add(member or "")
        roles.add(role or "")
    return {s for s in subjects if s}, members, roles


def changes_since(session: Session, tenant: TenantId, version: int) -> list[PolicyChange]:
    return list(
        session.exec(
            select(PolicyChange)
            .where(col(PolicyChange.tenant) == tenant, col(PolicyChange.version) > version)
            .order_by(col(PolicyChange.version))
        )
    )


def history(session: Session, tenant: TenantId, *, limit: int, before: int | None) -> list[PolicyChange]:
    query = select(PolicyChange).where(col(PolicyChange.tenant) == tenant)
    if before is not None:
        query = query.where(col(PolicyChange.version) < before)
    return list(session.exec(query.order_by(col(PolicyChange.version).desc()).limit(limit)))


def revert_to(session: Session, tenant: TenantId, version: int, actor: str, reason: str) -> PolicyChange:
    """Undo every change after ``version`` (their ops inverted, newest first) as one new change."""
    head = head_version(session, tenant)
    if not 1 <= version < head:
        raise InvalidInputError(
            f"version must be between 1 and {head - 1} (the newest is {head}), got {version}"
        )
    undo: list[RuleOp] = []
    for change in reversed(changes_since(session, tenant, version)):
        undo += [item.inverse() for item in reversed(ops_from_json(change.ops))]
    return record_change(
        session, tenant, actor, "revert", reason or f"revert to version {version}", _net(undo)
    )


def replace_all(
    session: Session, tenant: TenantId, rules: Sequence[Rule], actor: str, reason: str
) -> PolicyChange:
    """An import: the tenant's rules become exactly ``rules`` (the difference is what is recorded)."""
    current = set(tenant_rules(session, tenant))
    wanted = set(rules)
    ops = [RuleOp(Op.REMOVE, r) for r in sorted(current - wanted, key=_order)]
    ops += [RuleOp(Op.ADD, r) for r in sorted(wanted - current, key=_order)]
    return record_change(session, tenant, actor, "import", reason, ops)


def _net(ops: Sequence[RuleOp]) -> list[RuleOp]:
    """The ops that still change something: on one rule, valid ops alternate (add, remove, add, ...),
    so an even number of them cancels out and an odd number amounts to the first."""
    counts = Counter(item.rule for item in ops)
    first: dict[Rule, RuleOp] = {}
    for item in ops:
        first.setdefault(item.rule, item)
    return [item for rule, item in first.items() if counts[rule] % 2 == 1]


def _order(rule: Rule) -> tuple[bool, tuple[str, ...]]:
    return (isinstance(rule, Assignment), rule.fields)
