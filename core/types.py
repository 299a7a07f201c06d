"""Identities shared by every package: who is asking and on behalf of which tenant."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NewType

from core.errors import InvalidInputError

TenantId = NewType("TenantId", str)

_TENANT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def tenant_id(raw: str) -> TenantId:
    """Validate a tenant name; it becomes part of directory and collection names, so it is strict."""
    if not _TENANT_RE.fullmatch(raw):
        raise InvalidInputError(
            f"tenant must be 1-63 chars of a-z, 0-9, '_' or '-', starting alphanumeric, got {raw!r}"
        )
    return TenantId(raw)


@dataclass(frozen=True)
class Principal:
    """An authenticated caller. The tenant always comes from the credential, never the request; what
    the caller may do comes from the tenant's policy (``acl``), not from here."""

    tenant: TenantId
    user: str
    key_id: str | None = None
