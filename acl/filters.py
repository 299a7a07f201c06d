"""Turn a principal into what it may read, once, for the engine filter and the re-check after it.

Until policies are administered with Casbin, the rule is: ``admin`` reads every label in its tenant;
anyone else reads ``public`` plus the labels named like their roles. A chunk is readable when it
shares at least one label with that set.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.types import Principal
from retrieval.ports import AccessFilter

ADMIN_ROLE = "admin"
PUBLIC_LABEL = "public"


def access_filter(principal: Principal) -> AccessFilter:
    if ADMIN_ROLE in principal.roles:
        return AccessFilter(tenant=principal.tenant, labels=None)
    return AccessFilter(tenant=principal.tenant, labels=frozenset(principal.roles) | {PUBLIC_LABEL})


def permits(allowed: AccessFilter, tenant: str, labels: Iterable[str]) -> bool:
    """The re-check after the engine: fail closed on any mismatch."""
    if tenant != allowed.tenant:
        return False
    if allowed.labels is None:
        return True
    return not allowed.labels.isdisjoint(labels)


def normalise_labels(labels: Iterable[str]) -> tuple[str, ...]:
    """Every chunk carries at least one label, so an unlabelled document is ``public``."""
    cleaned = sorted({label.strip() for label in labels if label.strip()})
    return tuple(cleaned) if cleaned else (PUBLIC_LABEL,)
