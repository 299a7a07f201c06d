"""The write side of a decision, and the checks every writer makes with it.

A document is writable when *every* one of its labels may be written and none is denied, so nobody
publishes into, overwrites or deletes text under a label they could not have written. The read side is
``core.access.AccessFilter``; both come from the tenant's policy (``acl.enforcer``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from acl.rules import AUDIT_OBJECT, LABEL_RE, RESERVED_PREFIXES
from core.access import EVERY_LABEL, EveryLabel, LabelGrant
from core.errors import ForbiddenError, InvalidInputError
from core.types import TenantId

PUBLIC_LABEL = "public"


@dataclass(frozen=True)
class WriteGrant:
    """The labels a principal may write in its tenant, decided once and handed to whoever writes (the
    ingest pipeline checks each item against it), so writers never re-derive the rule."""

    tenant: TenantId
    labels: LabelGrant
    denied: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not isinstance(self.labels, frozenset | EveryLabel):
            raise TypeError(f"labels must be a frozenset or EVERY_LABEL, got {type(self.labels).__name__}")
        if not isinstance(self.denied, frozenset):
            raise TypeError(f"denied must be a frozenset, got {type(self.denied).__name__}")

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
        if tenant != self.tenant or not wanted or not wanted.isdisjoint(self.denied):
            return False
        return isinstance(self.labels, EveryLabel) or wanted <= self.labels

    def refused(self, labels: Iterable[str]) -> list[str]:
        """The labels of ``labels`` this grant does not cover, for the error message."""
        wanted = frozenset(labels)
        held = self.labels if isinstance(self.labels, frozenset) else None
        return sorted(
            label for label in wanted if label in self.denied or (held is not None and label not in held)
        )


def normalise_labels(labels: Iterable[str]) -> tuple[str, ...]:
    """Every chunk carries at least one label, so an unlabelled document is ``public``."""
    cleaned = sorted({label.strip() for label in labels if label.strip()})
    for label in cleaned:
        if not LABEL_RE.fullmatch(label):
            raise InvalidInputError(f"label must be lowercase letters, digits, '_.:-', got {label!r}")
        if label.startswith(RESERVED_PREFIXES) or label == AUDIT_OBJECT:
            raise InvalidInputError(f"label {label!r} is reserved for policy objects (tool:, admin:, audit)")
    return tuple(cleaned) if cleaned else (PUBLIC_LABEL,)


def check_writer(grant: WriteGrant, action: str) -> None:
    """Refuse callers that can write nothing before anything is read or looked up (no existence oracle)."""
    if not grant.writes_anything:
        raise ForbiddenError(f"{action} needs write permission on at least one label")


def check_ingest(grant: WriteGrant, labels: Iterable[str]) -> None:
    """The whole job's labels, checked before it is queued; existing documents are checked per item
    by the pipeline (``WriteGrant``), where their labels are known."""
    check_writer(grant, "ingesting")
    wanted = frozenset(labels)
    if grant.permits(grant.tenant, wanted):
        return
    raise ForbiddenError(
        f"cannot label documents {', '.join(grant.refused(wanted))}: no write permission on them"
    )


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
