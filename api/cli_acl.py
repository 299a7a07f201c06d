"""``tessera keys ...`` and ``tessera acl ...``: keys, rules, roles, explanations and history.

These commands need only the database (and Redis when configured), never the index, so they work
while a server owns the embedded engine. Changes are recorded as made by ``cli:<os user>``.
"""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer
from rich.table import Table

from acl.admin import Actor
from acl.enforcer import AccessControl, Decision
from acl.keys import parse_roles
from acl.policies import Op, RuleOp, ops_from_json
from acl.policy_models import PolicyChange
from acl.rules import Assignment, Permission, Rule, parse_rule
from api import cli_review
from api.cli_common import decision_of, err, one_line_errors, out, read_text_file, services_for
from api.params import MAX_DB_INT, MAX_PAGE, check_db_int
from api.runtime import AccessServices
from core.clock import as_utc
from core.errors import InvalidInputError
from core.types import tenant_id

keys_app = typer.Typer(help="Issue, list and revoke API keys.", no_args_is_help=True)
acl_app = typer.Typer(help="Access policies: rules, roles, explain, dry-run, history.", no_args_is_help=True)


def decision_for(services: AccessServices, tenant: str, as_user: str | None) -> Decision:
    access: AccessControl = services.access
    return decision_of(access, tenant, as_user)


def cli_actor(tenant: str) -> Actor:
    return Actor(tenant_id(tenant), f"cli:{getpass.getuser()}")


def _expiry(days: float | None) -> datetime | None:
    if days is None:
        return None
    if days <= 0:
        raise InvalidInputError(f"--expires-in-days must be positive, got {days}")
    return datetime.now(UTC) + timedelta(days=days)


@keys_app.command("create")
@one_line_errors
def keys_create(
    tenant: str = typer.Option(..., "--tenant"),
    user: str = typer.Option(..., "--user"),
    roles: str = typer.Option(
        "", "--roles", help="comma-separated roles to assign the user, e.g. admin or finance,hr"
    ),
    expires_in_days: float | None = typer.Option(
        None, "--expires-in-days", help="the key stops working after"
    ),
) -> None:
    """Create an API key; it is printed once and only its hash is stored."""
    with services_for() as services:
        issued = services.admin.issue_key(
            cli_actor(tenant), user, roles=parse_roles(roles), expires_at=_expiry(expires_in_days)
        )
    until = issued.expires_at.isoformat() if issued.expires_at else "never"
    err.print(f"key {issued.key_id} for {issued.user}@{issued.tenant}, expires {until}")
    out.print(issued.token, highlight=False)


@keys_app.command("list")
@one_line_errors
def keys_list(tenant: str = typer.Option(..., "--tenant")) -> None:
    """List a tenant's keys (ids, users, expiry; never secrets)."""
    with services_for() as services:
        rows = services.admin.list_keys(tenant_id(tenant))
    table = Table("id", "user", "created", "expires", "revoked")
    for row in rows:
        table.add_row(
            row.id, row.user, str(row.created_at), str(row.expires_at or ""), str(row.revoked_at or "")
        )
    out.print(table)


@keys_app.command("revoke")
@one_line_errors
def keys_revoke(
    key_id: str, tenant: str = typer.Option(..., "--tenant"), reason: str = typer.Option("", "--reason")
) -> None:
    """Revoke a key; every API process refuses it from its next request on."""
    with services_for() as services:
        services.admin.revoke_key(cli_actor(tenant), key_id, reason=reason)
    out.print(f"revoked {key_id}")


# -- tessera acl ... ------------------------------------------------------------------------------------

policies_app = typer.Typer(help="Permission rules: list, add, remove.", no_args_is_help=True)
roles_app = typer.Typer(help="Role assignments: list, assign, unassign.", no_args_is_help=True)
acl_app.add_typer(policies_app, name="policies")
acl_app.add_typer(roles_app, name="roles")

TENANT = typer.Option(..., "--tenant")
REASON = typer.Option("", "--reason", help="why, for the history")


def _permission(tenant: str, subject: str, obj: str, action: str, deny: bool) -> Rule:
    effect = "deny" if deny else "allow"
    return parse_rule(("p", subject, tenant, obj, action, effect), tenant_id(tenant), where="rule")


def _print_change(change: PolicyChange) -> None:
    ops = ops_from_json(change.ops)
    added = sum(1 for o in ops if o.op == Op.ADD)
    out.print(
        f"version {change.version}: {change.kind}, +{added} -{len(ops) - added} ({change.reason})",
        highlight=False,
    )


def _change(tenant: str, ops: list[RuleOp], reason: str, kind: str) -> None:
    with services_for() as services:
        change = services.admin.change(cli_actor(tenant), ops, reason=reason, kind=kind)
    _print_change(change)


@policies_app.command("list")
@one_line_errors
def policies_list(
    tenant: str = TENANT,
    subject: str | None = typer.Option(None, "--subject", help="only this user's or role's rules"),
    limit: int = typer.Option(100, "--limit", min=1, max=MAX_PAGE),
    offset: int = typer.Option(0, "--offset", min=0, max=MAX_DB_INT),
) -> None:
    """List the tenant's permission rules."""
    with services_for() as services:
        page = services.admin.permissions(tenant_id(tenant), subject=subject, limit=limit, offset=offset)
    table = Table("subject", "object", "action", "effect")
    for rule in page.rules:
        if isinstance(rule, Permission):
            table.add_row(rule.subject, rule.obj, rule.action.value, rule.effect.value)
    out.print(table)
    shown = f"{offset + 1}-{offset + len(page.rules)}" if page.rules else "none"
    out.print(f"policy version {page.version}; rules {shown} of {page.total}", highlight=False)


@policies_app.command("add")
@one_line_errors
def policies_add(
    subject: str,
    obj: str = typer.Argument(..., metavar="OBJECT", help="a label, tool:<name>, audit, admin:<area> or *"),
    action: str = typer.Argument(..., help="read, write, invoke or manage"),
    tenant: str = TENANT,
    deny: bool = typer.Option(False, "--deny", help="a deny rule: wins over every allow"),
    reason: str = REASON,
) -> None:
    """Add a permission rule (SUBJECT may do ACTION on OBJECT)."""
    _change(tenant, [RuleOp(Op.ADD, _permission(tenant, subject, obj, action, deny))], reason, "rules")


@policies_app.command("remove")
@one_line_errors
def policies_remove(
    subject: str,
    obj: str = typer.Argument(..., metavar="OBJECT"),
    action: str = typer.Argument(...),
    tenant: str = TENANT,
    deny: bool = typer.Option(False, "--deny", help="the rule to remove is a deny rule"),
    reason: str = REASON,
) -> None:
    """Remove a permission rule."""
    _change(tenant, [RuleOp(Op.REMOVE, _permission(tenant, subject, obj, action, deny))], reason, "rules")


@roles_app.command("list")
@one_line_errors
def roles_list(
    tenant: str = TENANT,
    member: str | None = typer.Option(None, "--member"),
    role: str | None = typer.Option(None, "--role"),
    limit: int = typer.Option(100, "--limit", min=1, max=MAX_PAGE),
    offset: int = typer.Option(0, "--offset", min=0, max=MAX_DB_INT),
) -> None:
    """List role assignments, and the roles that exist."""
    checked = tenant_id(tenant)
    with services_for() as services:
        page = services.admin.assignments(checked, member=member, role=role, limit=limit, offset=offset)
        roles = services.admin.role_names(checked)
    table = Table("member", "role")
    for rule in page.rules:
        if isinstance(rule, Assignment):
            table.add_row(rule.member, rule.role)
    out.print(table)
    out.print(f"policy version {page.version}; {page.total} assignments", highlight=False)
    out.print(f"roles: {', '.join(roles)}", highlight=False)


def _assignment(tenant: str, member: str, role: str) -> Rule:
    return parse_rule(("g", member, role, tenant), tenant_id(tenant), where="assignment")


@roles_app.command("assign")
@one_line_errors
def roles_assign(member: str, role: str, tenant: str = TENANT, reason: str = REASON) -> None:
    """Make MEMBER (a user or a role) a member of ROLE."""
    _change(tenant, [RuleOp(Op.ADD, _assignment(tenant, member, role))], reason, "roles")


@roles_app.command("unassign")
@one_line_errors
def roles_unassign(member: str, role: str, tenant: str = TENANT, reason: str = REASON) -> None:
    """Take ROLE away from MEMBER."""
    _change(tenant, [RuleOp(Op.REMOVE, _assignment(tenant, member, role))], reason, "roles")


@acl_app.command("history")
@one_line_errors
def history(
    tenant: str = TENANT,
    limit: int = typer.Option(20, "--limit", min=1, max=100),
    before: int | None = typer.Option(None, "--before", min=1, max=MAX_DB_INT, help="only older versions"),
) -> None:
    """The tenant's policy versions, newest first: who, when, what kind, why, rules added and removed."""
    with services_for() as services:
        changes = services.admin.history(tenant_id(tenant), limit=limit, before=before)
    table = Table("version", "at", "actor", "kind", "reason", "added", "removed")
    for change in changes:
        ops = ops_from_json(change.ops)
        table.add_row(
            str(change.version),
            as_utc(change.at).strftime("%Y-%m-%d %H:%M:%SZ"),
            change.actor,
            change.kind,
            change.reason,
            _lines([o.rule for o in ops if o.op == Op.ADD]),
            _lines([o.rule for o in ops if o.op == Op.REMOVE]),
        )
    out.print(table)


def _lines(rules: list[Rule], shown: int = 5) -> str:
    text = "\n".join(", ".join(r.fields) for r in rules[:shown])
    return text + (f"\n(+{len(rules) - shown} more)" if len(rules) > shown else "")


@acl_app.command("revert")
@one_line_errors
def revert(version: int, tenant: str = TENANT, reason: str = REASON) -> None:
    """Undo every change after VERSION, as one new version."""
    check_db_int("VERSION", version, low=1)
    with services_for() as services:
        change = services.admin.revert(cli_actor(tenant), version, reason=reason)
    _print_change(change)


@acl_app.command("import")
@one_line_errors
def import_rules(
    file: Path = typer.Argument(..., help="casbin CSV, as `tessera acl export` writes it"),
    tenant: str = TENANT,
    reason: str = REASON,
) -> None:
    """Replace every rule of the tenant by the file's; a bad line rejects the whole import."""
    text = read_text_file(file)
    with services_for() as services:
        change = services.admin.import_csv(cli_actor(tenant), text, reason=reason or f"import {file.name}")
    _print_change(change)


@acl_app.command("export")
@one_line_errors
def export_rules(
    file: Path | None = typer.Argument(None, help="write here (default: standard output)"),
    tenant: str = TENANT,
) -> None:
    """Every rule and role assignment of the tenant as casbin CSV."""
    with services_for() as services:
        text = services.admin.export_csv(tenant_id(tenant))
    if file is None:
        sys.stdout.write(text)
        return
    file.write_text(text, encoding="utf-8")
    err.print(f"wrote {text.count(chr(10))} rules to {file}", highlight=False)


acl_app.command("explain")(cli_review.explain)
acl_app.command("dry-run")(cli_review.dry_run)
