"""Migration 0005 on a database with keys from before policies: each key's user keeps exactly the
access the hard-coded rule gave its roles, now as role assignments and rules in the tenant's policy."""

from __future__ import annotations

from itertools import combinations

from sqlalchemy import text

from acl.enforcer import AccessControl
from acl.rules import Action
from acl.versions import DatabaseVersions
from core.db import make_engine
from core.types import TenantId
from tests.integration.test_migration_0004 import migrate_to

OLD_KEY = text(
    'INSERT INTO api_keys (id, tenant, "user", roles, secret_sha256, created_at) '
    "VALUES (:id, :tenant, :user, :roles, 'x', '2026-11-27 00:00:00+00:00')"
)
LABELS = ["public", "hr", "finance", "eng", "ingest", "admin", "member"]
KEYS = [
    ("acme", "ann", "admin"),
    ("acme", "ivy", "eng,ingest"),
    ("acme", "hana", "hr"),
    ("acme", "sam", ""),
    ("globex", "gus", "finance,hr"),
    ("globex", "max", "member"),
]


def old_rule(tenant: str, roles: set[str], asked_tenant: str, labels: set[str], action: Action) -> bool:
    """The rule as the README stated it before policies (acl/filters.py at 7fa47cd^)."""
    if asked_tenant != tenant or not labels:
        return False
    if "admin" in roles:
        return True
    held = roles | {"public"}
    if action == Action.READ:
        return bool(held & labels)
    return "ingest" in roles and labels <= held


def test_old_keys_keep_exactly_the_access_of_their_roles(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate_to(engine, "head")
        migrate_to(engine, "0004", down=True)
        with engine.begin() as connection:
            for number, (tenant, user, roles) in enumerate(KEYS):
                connection.execute(
                    OLD_KEY, {"id": f"{number:016x}", "tenant": tenant, "user": user, "roles": roles}
                )
        migrate_to(engine, "head")
        access = AccessControl(engine, DatabaseVersions(engine))
        label_sets = [set(c) for n in (1, 2) for c in combinations(LABELS, n)]
        for tenant, user, raw in KEYS:
            roles = {r for r in raw.split(",") if r}
            decision = access.decide(TenantId(tenant), user)
            for labels in label_sets:
                for asked in ("acme", "globex"):
                    assert decision.read.allows(asked, labels) == old_rule(
                        tenant, roles, asked, labels, Action.READ
                    ), (user, labels, asked, "read")
                    assert decision.write.permits(asked, labels) == old_rule(
                        tenant, roles, asked, labels, Action.WRITE
                    ), (user, labels, asked, "write")
            assert decision.can("admin:policies", Action.MANAGE) == ("admin" in roles)
    finally:
        engine.dispose()
