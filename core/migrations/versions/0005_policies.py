"""Casbin policies: the rule table, per-tenant version heads and change history; keys may expire.

Every tenant that has keys gets the built-in roles and, from its keys' old ``roles`` column, role
assignments and rules that grant exactly what the hard-coded rule granted before (README, "Access
control"): everyone reads ``public``; a role reads the label of its own name; ``ingest`` writes
``public`` and the labels named like its holder's roles; ``admin`` does everything.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ACTIONS = ("read", "write", "manage", "invoke")


def upgrade() -> None:
    op.create_table(
        "casbin_rule",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ptype", sa.String(length=255), nullable=False),
        *(sa.Column(f"v{i}", sa.String(length=255), nullable=True) for i in range(6)),
    )
    op.create_index("ix_casbin_rule_ptype", "casbin_rule", ["ptype"])
    op.create_index("ix_casbin_rule_v1", "casbin_rule", ["v1"])
    op.create_index("ix_casbin_rule_v2", "casbin_rule", ["v2"])
    op.create_table(
        "policy_heads",
        sa.Column("tenant", sa.String(length=63), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_table(
        "policy_changes",
        sa.Column("tenant", sa.String(length=63), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("ops", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "version"),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    _seed_from_keys()


def _seed_from_keys() -> None:
    bind = op.get_bind()
    holders: dict[str, dict[str, set[str]]] = {}
    for tenant, user, roles in bind.execute(sa.text('SELECT tenant, "user", roles FROM api_keys')):
        held = holders.setdefault(tenant, {}).setdefault(user, set())
        held.update(
            r for r in roles.split(",") if r and not r.startswith(("tool:", "admin:")) and r != "audit"
        )
    for tenant, users in sorted(holders.items()):
        rules = _rules(tenant, users)
        for rule in rules:
            values = {f"v{i}": value for i, value in enumerate(rule[1:])}
            columns = ", ".join(["ptype", *values])
            marks = ", ".join([":ptype", *(f":{k}" for k in values)])
            bind.execute(
                sa.text(f"INSERT INTO casbin_rule ({columns}) VALUES ({marks})"), {"ptype": rule[0], **values}
            )
        ops = json.dumps([{"op": "add", "rule": list(rule)} for rule in rules])
        bind.execute(
            sa.text(
                "INSERT INTO policy_changes (tenant, version, actor, at, reason, kind, ops) "
                "VALUES (:t, 1, 'migration', :at, 'roles of existing API keys', 'tenant-created', :ops)"
            ),
            {"t": tenant, "at": datetime.now(UTC), "ops": ops},
        )
        bind.execute(sa.text("INSERT INTO policy_heads (tenant, version) VALUES (:t, 1)"), {"t": tenant})


def _rules(tenant: str, users: dict[str, set[str]]) -> list[tuple[str, ...]]:
    rules: list[tuple[str, ...]] = [("p", "admin", tenant, "*", action, "allow") for action in ACTIONS]
    rules += [
        ("p", "auditor", tenant, "audit", "read", "allow"),
        ("p", "member", tenant, "public", "read", "allow"),
    ]
    rules.append(("p", "ingest", tenant, "public", "write", "allow"))
    named = sorted({role for roles in users.values() for role in roles} - {"admin", "public", "member"})
    rules += [("p", role, tenant, role, "read", "allow") for role in named]
    for user, roles in sorted(users.items()):
        rules.append(("g", user, "member", tenant))
        if "member" in roles:  # everyone is a member: the label "member" stays with those who held it
            rules.append(("p", user, tenant, "member", "read", "allow"))
        rules += [("g", user, role, tenant) for role in sorted(roles) if role != "member"]
        if "ingest" in roles:
            rules += [("p", user, tenant, role, "write", "allow") for role in sorted(roles - {"admin"})]
    return list(dict.fromkeys(rules))


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
    op.drop_table("policy_changes")
    op.drop_table("policy_heads")
    op.drop_index("ix_casbin_rule_v2", "casbin_rule")
    op.drop_index("ix_casbin_rule_v1", "casbin_rule")
    op.drop_index("ix_casbin_rule_ptype", "casbin_rule")
    op.drop_table("casbin_rule")
