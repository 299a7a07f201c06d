"""Turn a principal into what it may read and write, once; every reader and writer asks here.

Until policies are administered with Casbin, the rule is: ``admin`` reads and writes every label in its
tenant; ``ingest`` writes the labels it holds (its roles and ``public``); anyone else reads ``public``
plus the labels named like their roles and writes nothing. A chunk is readable when it shares at least
one label with the read set; a document is writable when *every* one of its labels is in the write set,
so nobody publishes into, overwrites or deletes text under a label they could not have written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from core.access import EVERY_LABEL, AccessFilter, EveryLabel, LabelGrant
from core.errors import ForbiddenError, InvalidInputError
from core.types import Principal, TenantId

ADMIN_ROLE = "admin"
INGEST_ROLE = "ingest"
PUBLIC_LABEL = "public"


def access_filter(principal: Principal) -> AccessFilter:
    if ADMIN_ROLE in principal.roles:
        return AccessFilter.everything(principal.tenant)
    return AccessFilter(tenant=principal.tenant, labels=_held_labels(principal))


@dataclass(frozen=True)
class WriteGrant:
    """The labels a principal may write in its tenant, decided here and handed to whoever writes (the
    ingest pipeline checks each item against it), so writers never re-derive the rule from roles."""

    tenant: TenantId
    labels: LabelGrant

    def __post_init__(self) -> None:
        if not isinstance(self.labels, frozenset | EveryLabel):
            raise TypeError(f"labels must be a frozenset or EVERY_LABEL, got {type(self.labels).__name__}")

    @classmethod
    def everything(cls, tenant: TenantId) -> WriteGrant:
        """The operator's grant (CLI, evaluations, benchmarks): every label of the tenant."""
        return cls(tenant, EVERY_LABEL)

    @property
    def writes_anything(self) -> bool:
        return isinstance(self.labels, EveryLabel) or bool(self.labels)

    def permits(self, tenant: str, labels: Iterable[str]) -> bool:
        """May a document carrying ``labels`` be written (created, overwritten, deleted)? A document
        always has a label, so an empty set means a caller bug and is refused, like another tenant."""
        wanted = frozenset(labels)
        if tenant != self.tenant or not wanted:
            return False
        return isinstance(self.labels, EveryLabel) or wanted <= self.labels


def write_grant(principal: Principal) -> WriteGrant:
    if ADMIN_ROLE in principal.roles:
        return WriteGrant.everything(principal.tenant)
    if INGEST_ROLE not in principal.roles:
        return WriteGrant(principal.tenant, frozenset())
    return WriteGrant(principal.tenant, _held_labels(principal))


def may_write(principal: Principal, labels: Iterable[str]) -> bool:
    """The one write decision: ingest route, pipeline, delete and CLI all come through here."""
    return write_grant(principal).permits(principal.tenant, labels)


def _held_labels(principal: Principal) -> frozenset[str]:
    return frozenset(principal.roles) | {PUBLIC_LABEL}


_LABEL_RE = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,62}$")


def normalise_labels(labels: Iterable[str]) -> tuple[str, ...]:
    """Every chunk carries at least one label, so an unlabelled document is ``public``."""
    cleaned = sorted({label.strip() for label in labels if label.strip()})
    for label in cleaned:
        if not _LABEL_RE.fullmatch(label):
            raise InvalidInputError(f"label must be lowercase letters, digits, '_.:-', got {label!r}")
    return tuple(cleaned) if cleaned else (PUBLIC_LABEL,)


def check_writer(principal: Principal, action: str) -> None:
    """Refuse keys that can write nothing before anything is read or looked up (no existence oracle)."""
    if not write_grant(principal).writes_anything:
        raise ForbiddenError(f"{action} needs the role '{ADMIN_ROLE}' or '{INGEST_ROLE}'")


def check_ingest(principal: Principal, labels: Iterable[str]) -> None:
    """The whole job's labels, checked before it is queued; existing documents are checked per item
    by the pipeline (``WriteGrant``), where their labels are known."""
    check_writer(principal, "ingesting")
    wanted = frozenset(labels)
    grant = write_grant(principal)
    if grant.permits(principal.tenant, wanted):
        return
    held = grant.labels if isinstance(grant.labels, frozenset) else frozenset()
    foreign = sorted(wanted - held)
    raise ForbiddenError(f"cannot label documents {', '.join(foreign)}: the key does not hold those roles")


def check_delete(grant: WriteGrant, doc_id: str, version_labels: Iterable[Iterable[str]]) -> None:
    """Deleting removes every version, so the caller must be able to write the labels of each one.

    Overwriting checks only the current version (older versions stay in the history, untouched), but a
    delete would also destroy an older version labelled, say, ``hr`` that an ``eng`` writer could
    never have written itself.
    """
    if not all(grant.permits(grant.tenant, labels) for labels in version_labels):
        raise ForbiddenError(
            f"deleting document {doc_id!r} needs write permission over the labels of all its versions"
        )
