"""The roles retrieval plays, as Protocols, and the value types that cross them.

Adapters (``edge``, ``server``, ``embedders``) implement these; nothing here knows a technology.
Every ``VectorStore`` method takes the tenant: there is no cross-tenant path to call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from core.access import AccessFilter
from core.metadata import Metadata, Scalar
from core.types import TenantId


@dataclass(frozen=True)
class SparseVector:
    indices: tuple[int, ...]
    values: tuple[float, ...]


@dataclass(frozen=True)
class ChunkPayload:
    """Everything a hit must carry to be cited and verified without another lookup."""

    chunk_id: str
    doc_id: str
    version: int
    chunk_index: int
    title: str
    source_uri: str
    text: str
    char_start: int
    char_end: int
    page: int | None
    labels: tuple[str, ...]
    content_sha256: str
    ingested_at: datetime
    source_updated_at: datetime | None
    element_type: str = ""  # unstructured's category of the chunk's first element (Title, NarrativeText, …)
    write_id: str = ""  # which write put the point there; only the current write's points are served
    metadata: Metadata = field(default_factory=dict)  # the document's own, redacted; filterable


@dataclass(frozen=True)
class ChunkPoint:
    payload: ChunkPayload
    dense: Sequence[float]
    sparse: SparseVector


@dataclass(frozen=True)
class SearchFilters:
    """Caller-chosen narrowing, applied on top of (never instead of) the access filter."""

    doc_ids: tuple[str, ...] = ()
    labels_any: tuple[str, ...] = ()
    # Per key, the document's value (or one of its list items) must equal one of these.
    metadata_any: tuple[tuple[str, tuple[str | int, ...]], ...] = ()

    def admits(self, metadata: Metadata) -> bool:
        """The re-check of the metadata conditions after the engine."""
        return all(_matches(metadata.get(key), wanted) for key, wanted in self.metadata_any)


def _matches(value: Scalar | list[Scalar] | None, wanted: tuple[str | int, ...]) -> bool:
    items = value if isinstance(value, list) else [value]
    return any(_exact(item) and item in wanted for item in items)


def _exact(item: Scalar | None) -> bool:
    """Values the engine matches exactly: strings and integers (a float or bool never equals one)."""
    return isinstance(item, str) or (isinstance(item, int) and not isinstance(item, bool))


class FusionMethod(StrEnum):
    """How the engine merges the dense and the BM25 ranking of a hybrid query."""

    RRF = "rrf"  # reciprocal rank fusion: only ranks count
    # distribution-based score fusion: each list's scores scaled to its mean +/- 3 standard
    # deviations, then summed
    DBSF = "dbsf"


@dataclass(frozen=True)
class Fusion:
    method: FusionMethod = FusionMethod.DBSF
    rrf_k: int = 60
    # RRF only: the dense ranking's weight against BM25's 1 (the engines weight DBSF lists equally).
    dense_weight: float = 1.0


@dataclass(frozen=True)
class Query:
    """Dense, sparse, or both; with both the engine fuses the two rankings as ``fusion`` says."""

    dense: Sequence[float] | None = None
    sparse: SparseVector | None = None
    filters: SearchFilters = field(default_factory=SearchFilters)
    fusion: Fusion = field(default_factory=Fusion)
    with_dense: bool = False  # return each hit's stored dense vector (for retrieval.feedback)


@dataclass(frozen=True)
class Hit:
    tenant: str  # as stored on the point, so the caller can re-check it
    payload: ChunkPayload
    score: float
    dense: Sequence[float] | None = None  # the stored vector, when the query asked for it


class VectorStore(Protocol):
    def upsert(self, tenant: TenantId, points: Sequence[ChunkPoint]) -> None: ...

    def search(
        self, tenant: TenantId, query: Query, *, allowed: AccessFilter, k: int, candidates: int
    ) -> list[Hit]: ...

    def delete_older_versions(self, tenant: TenantId, doc_id: str, below_version: int) -> int:
        """Remove the points of the document's versions numbered below ``below_version`` (and never a
        newer one, which another writer may be about to publish); returns how many went."""
        ...

    def delete_write(self, tenant: TenantId, doc_id: str, write_id: str) -> int:
        """Remove the points of one write, e.g. after its metadata failed to commit."""
        ...

    def count(self, tenant: TenantId, doc_id: str | None = None, *, version: int | None = None) -> int:
        """Points of the tenant, of one document, or of one version of it (exact, from the index)."""
        ...

    def optimize(self, tenant: TenantId) -> None:
        """Bring indexes up to date after a batch of writes (servers do this on their own)."""
        ...

    def drop_tenant(self, tenant: TenantId) -> None: ...

    def ready(self) -> bool: ...

    def close(self) -> None: ...


class Embedder(Protocol):
    @property
    def dimension(self) -> int: ...

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...


class SparseEncoder(Protocol):
    def encode_document(self, text: str, *, title: str = "") -> SparseVector:
        """A chunk's vector; ``title`` is its document's (redacted) title, which chunks may lack."""
        ...

    def encode_query(self, text: str) -> SparseVector: ...
