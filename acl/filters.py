"""Turn a principal into what it may read, once, for the engine filter and the re-check after it.

Until policies are administered with Casbin, the rule is: ``admin`` reads every label in its tenant;
anyone else reads ``public`` plus the labels named like their roles. A chunk is readable when it
shares at least one label with that set.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from core.access import AccessFilter
from core.errors import ForbiddenError, InvalidInputError
from core.types import Principal

ADMIN_ROLE = "admin"
INGEST_ROLE = "ingest"
PUBLIC_LABEL = "public"


def access_filter(principal: Principal) -> AccessFilter:
    if ADMIN_ROLE in principal.roles:
        return AccessFilter.everything(principal.tenant)
    return AccessFilter(tenant=principal.tenant, labels=frozenset(principal.roles) | {PUBLIC_LABEL})


_LABEL_RE = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,62}$")


def normalise_labels(labels: Iterable[str]) -> tuple[str, ...]:
    """Every chunk carries at least one label, so an unlabelled document is ``public``."""
    cleaned = sorted({label.strip() for label in labels if label.strip()})
    for label in cleaned:
        if not _LABEL_RE.fullmatch(label):
            raise InvalidInputError(f"label must be lowercase letters, digits, '_.:-', got {label!r}")
    return tuple(cleaned) if cleaned else (PUBLIC_LABEL,)


def check_ingest(principal: Principal, labels: Iterable[str]) -> None:
    """Writers are ``admin`` or ``ingest``; a non-admin may only label documents with labels it can read,
    so nobody can publish text into a label they could not see themselves."""
    if ADMIN_ROLE in principal.roles:
        return
    if INGEST_ROLE not in principal.roles:
        raise ForbiddenError("ingesting needs the role 'admin' or 'ingest'")
    readable = set(principal.roles) | {PUBLIC_LABEL}
    foreign = sorted(set(labels) - readable)
    if foreign:
        raise ForbiddenError(
            f"cannot label documents {', '.join(foreign)}: the key does not hold those roles"
        )


def check_delete(principal: Principal) -> None:
    if ADMIN_ROLE not in principal.roles:
        raise ForbiddenError("deleting documents needs the role 'admin'")
