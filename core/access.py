"""The access decision every reader carries: which tenant, and which labels inside it.

It lives in ``core`` because the deciders (``acl``) and the enforcers (``retrieval``, ``provenance``,
``ingest``) both need it, and neither may import the other. "Every label" is a value of its own
(``EVERY_LABEL``), never ``None``: a decider that forgets to fill in the labels must not grant all of
them, so the constructor refuses anything that is not one of the two shapes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core.types import TenantId


@dataclass(frozen=True)
class EveryLabel:
    """The explicit grant of every label of the tenant (administrators, operators on the CLI)."""


EVERY_LABEL = EveryLabel()

LabelGrant = frozenset[str] | EveryLabel


@dataclass(frozen=True)
class AccessFilter:
    """What a principal may read inside its tenant: a chunk needs one label of ``labels`` (a label set or
    ``EVERY_LABEL``) and none of ``denied`` — explicit denies win over any allow."""

    tenant: TenantId
    labels: LabelGrant
    denied: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not isinstance(self.labels, frozenset | EveryLabel):
            raise TypeError(f"labels must be a frozenset or EVERY_LABEL, got {type(self.labels).__name__}")
        if not isinstance(self.denied, frozenset):
            raise TypeError(f"denied must be a frozenset, got {type(self.denied).__name__}")
        if not isinstance(self.tenant, str) or not self.tenant:
            raise TypeError("an access filter needs its tenant")

    @classmethod
    def everything(cls, tenant: TenantId) -> AccessFilter:
        return cls(tenant, EVERY_LABEL)

    @property
    def reads_every_label(self) -> bool:
        return isinstance(self.labels, EveryLabel)

    def label_set(self) -> frozenset[str] | None:
        """The labels to filter on, or None when no label condition applies (every label granted)."""
        return None if isinstance(self.labels, EveryLabel) else self.labels

    def allows(self, tenant: str, labels: Iterable[str]) -> bool:
        """The re-check after the engine: any mismatch fails closed."""
        if tenant != self.tenant:
            return False
        held = frozenset(labels)
        if not held or not held.isdisjoint(self.denied):
            return False
        if isinstance(self.labels, EveryLabel):
            return True
        return not self.labels.isdisjoint(held)
