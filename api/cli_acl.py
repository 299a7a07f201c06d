"""``tessera keys ...`` and ``tessera acl ...``: keys, rules, roles, explanations and history.

These commands need only the database (and Redis when configured), never the index, so they work
while a server owns the embedded engine. Changes are recorded as made by ``cli:<os user>``.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime, timedelta

import typer
from rich.table import Table

from acl.admin import Actor
from acl.enforcer import AccessControl, Decision
from acl.keys import parse_roles
from api.cli_common import decision_of, err, one_line_errors, out
from api.runtime import AccessServices, build_access_services
from core.errors import InvalidInputError
from core.settings import get_settings
from core.types import tenant_id

keys_app = typer.Typer(help="Issue, list and revoke API keys.", no_args_is_help=True)
acl_app = typer.Typer(help="Access policies: rules, roles, explain, dry-run, history.", no_args_is_help=True)


def access_services() -> AccessServices:
    return build_access_services(get_settings())


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
    services = access_services()
    try:
        issued = services.admin.issue_key(
            cli_actor(tenant), user, roles=parse_roles(roles), expires_at=_expiry(expires_in_days)
        )
    finally:
        services.close()
    until = issued.expires_at.isoformat() if issued.expires_at else "never"
    err.print(f"key {issued.key_id} for {issued.user}@{issued.tenant}, expires {until}")
    out.print(issued.token, highlight=False)


@keys_app.command("list")
@one_line_errors
def keys_list(tenant: str = typer.Option(..., "--tenant")) -> None:
    """List a tenant's keys (ids, users, expiry; never secrets)."""
    services = access_services()
    try:
        rows = services.admin.list_keys(tenant_id(tenant))
    finally:
        services.close()
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
    services = access_services()
    try:
        services.admin.revoke_key(cli_actor(tenant), key_id, reason=reason)
    finally:
        services.close()
    out.print(f"revoked {key_id}")
