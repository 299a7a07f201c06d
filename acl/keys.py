"""Issue, verify and revoke API keys. Only a hash of the secret is kept; the key is shown once.

A key reads ``tsk_<id>_<secret>``: the id finds the row, the secret is compared in constant time.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass

from sqlmodel import Session, col, select

from acl.models import ApiKey
from core.clock import utcnow
from core.errors import InvalidInputError, NotFoundError, UnauthenticatedError
from core.hashing import sha256_hex
from core.types import Principal, TenantId, tenant_id

_KEY_RE = re.compile(r"^tsk_([0-9a-f]{16})_([A-Za-z0-9_-]{20,100})$")
_ROLE_RE = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,62}$")


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    token: str  # shown once, never stored
    tenant: TenantId
    user: str
    roles: tuple[str, ...]


def parse_roles(raw: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    roles = sorted({r.strip() for r in items if r.strip()})
    for role in roles:
        if not _ROLE_RE.fullmatch(role):
            raise InvalidInputError(f"role must be lowercase letters, digits, '_.:-', got {role!r}")
    return tuple(roles)


def create_key(session: Session, tenant: str, user: str, roles: tuple[str, ...]) -> IssuedKey:
    checked_tenant = tenant_id(tenant)
    if not user.strip():
        raise InvalidInputError("user must not be empty")
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    session.add(
        ApiKey(
            id=key_id,
            tenant=checked_tenant,
            user=user.strip(),
            roles=",".join(roles),
            secret_sha256=sha256_hex(secret),
            created_at=utcnow(),
        )
    )
    return IssuedKey(key_id, f"tsk_{key_id}_{secret}", checked_tenant, user.strip(), roles)


def authenticate(session: Session, token: str) -> Principal:
    match = _KEY_RE.fullmatch(token.strip())
    if match is None:
        raise UnauthenticatedError("malformed API key")
    key_id, secret = match.groups()
    row = session.get(ApiKey, key_id)
    if row is None or row.revoked_at is not None:
        raise UnauthenticatedError("unknown or revoked API key")
    if not hmac.compare_digest(row.secret_sha256, sha256_hex(secret)):
        raise UnauthenticatedError("unknown or revoked API key")
    roles = frozenset(r for r in row.roles.split(",") if r)
    return Principal(tenant=TenantId(row.tenant), user=row.user, roles=roles, key_id=row.id)


def revoke_key(session: Session, tenant: TenantId, key_id: str) -> None:
    row = session.get(ApiKey, key_id)
    if row is None or row.tenant != tenant:
        raise NotFoundError(f"API key {key_id!r} not found")
    row.revoked_at = utcnow()
    session.add(row)


def list_keys(session: Session, tenant: TenantId) -> list[ApiKey]:
    return list(
        session.exec(select(ApiKey).where(ApiKey.tenant == tenant).order_by(col(ApiKey.created_at))).all()
    )
