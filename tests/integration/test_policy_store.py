"""A change is applied as what its ops amount to, in order, on both databases (bulk-written)."""

from __future__ import annotations

from sqlmodel import Session

from acl import policies
from acl.policies import Op, RuleOp
from acl.rules import Action, Assignment, Permission
from core.db import make_engine, migrate, session_scope
from core.types import TenantId

ACME = TenantId("acme")


def test_ops_on_one_rule_in_one_change_apply_in_order(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    kept = Permission("ann", ACME, "hr", Action.READ)
    gone = Assignment("ann", "staff", ACME)
    try:
        with session_scope(engine) as session:
            policies.ensure_tenant(session, ACME, "test")
            policies.record_change(session, ACME, "test", "rules", "seed", [RuleOp(Op.ADD, kept)])
        with session_scope(engine) as session:
            ops = [
                RuleOp(Op.ADD, gone),
                RuleOp(Op.REMOVE, gone),  # added and removed: not there afterwards
                RuleOp(Op.REMOVE, kept),
                RuleOp(Op.ADD, kept),  # removed and added back: still there, once
                *(RuleOp(Op.ADD, Permission(f"u{i}", ACME, "public", Action.READ)) for i in range(300)),
            ]
            change = policies.record_change(session, ACME, "test", "rules", "many", ops)
        with Session(engine) as session:
            rules = policies.tenant_rules(session, ACME)
            assert rules.count(kept) == 1 and gone not in rules
            assert len(rules) == 7 + 1 + 300  # built-in, kept, the users
            replayed = policies.ops_from_json(
                policies.changes_since(session, ACME, change.version - 1)[0].ops
            )
            assert replayed == ops  # the history keeps every op, in order
    finally:
        engine.dispose()
