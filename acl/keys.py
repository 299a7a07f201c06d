"""Issue, verify and revoke API keys. Only a hash of the secret is kept; the key is shown once.

A key reads ``tsk_<id>_<secret>``: the id finds the row, the secret is compared in constant time. The key
says who calls (tenant and user) and until when; what that user may do is the tenant's policy.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from acl.models import ApiKey
from acl.policy_models import PolicyHead
from acl.rules import LABEL_RE, check_name
from core.clock import as_utc, utcnow
from core.errors import InvalidInputError, NotFoundError, UnauthenticatedError
from core.hashing import sha256_hex
from core.types import Principal, TenantId, tenant_id

_KEY_RE = re.compile(r"^tsk_([0-9a-f]{16})_([A-Za-z0-9_-]{20,100})$")


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    token: str  # shown once, never stored
    tenant: TenantId
    user: str
    expires_at: datetime | None


def parse_roles(raw: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    roles = sorted({r.strip() for r in items if r.strip()})
    for role in roles:
        if not LABEL_RE.fullmatch(role):
            raise InvalidInputError(f"role must be lowercase letters, digits, '_.:-', got {role!r}")
    return tuple(roles)


def check_user(user: str) -> str:
    return check_name(user.strip(), "user")


def create_key(session: Session, tenant: str, user: str, *, expires_at: datetime | None = None) -> IssuedKey:
    checked_tenant = tenant_id(tenant)
    checked_user = check_user(user)
    if expires_at is not None and as_utc(expires_at) <= utcnow():
        raise InvalidInputError(f"expires_at must be in the future, got {expires_at.isoformat()}")
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    session.add(
        ApiKey(
            id=key_id,
            tenant=checked_tenant,
            user=checked_user,
            secret_sha256=sha256_hex(secret),
            created_at=utcnow(),
            expires_at=as_utc(expires_at) if expires_at is not None else None,
        )
    )
    return IssuedKey(key_id, f"tsk_{key_id}_{secret}", checked_tenant, checked_user, expires_at)


def authenticate(session: Session, token: str) -> tuple[Principal, int, datetime | None]:
    """The key's principal, the tenant's policy version read in the same statement (so a revocation
    is seen with the version it bumped, or not at all), and when the key expires."""
    match = _KEY_RE.fullmatch(token.strip())
    if match is None:
        raise UnauthenticatedError("malformed API key")
    key_id, secret = match.groups()
    found = session.execute(
        sa_select(ApiKey, col(PolicyHead.version))
        .outerjoin(PolicyHead, col(PolicyHead.tenant) == col(ApiKey.tenant))
        .where(col(ApiKey.id) == key_id)
    ).first()
    if found is None:
        raise UnauthenticatedError("unknown or revoked API key")
    row, version = found
    if row.revoked_at is not None or not hmac.compare_digest(row.secret_sha256, sha256_hex(secret)):
        raise UnauthenticatedError("unknown or revoked API key")
    expires_at = as_utc(row.expires_at) if row.expires_at is not None else None
    if expires_at is not None and expires_at <= utcnow():
        raise UnauthenticatedError("the API key has expired")
    principal = Principal(tenant=TenantId(row.tenant), user=row.user, key_id=row.id)
    return principal, int(version or 0), expires_at


def revoke_key(session: Session, tenant: TenantId, key_id: str) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None or row.tenant != tenant:
        raise NotFoundError(f"API key {key_id!r} not found")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
    return row


def list_keys(session: Session, tenant: TenantId) -> list[ApiKey]:
    return list(
        session.exec(select(ApiKey).where(ApiKey.tenant == tenant).order_by(col(ApiKey.created_at))).all()
    )


def key_users(session: Session, tenant: TenantId) -> set[str]:
    return set(session.exec(select(ApiKey.user).where(ApiKey.tenant == tenant)).all())
