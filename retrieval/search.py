"""Hybrid search: dense + BM25 fused in the engine, then re-checked before anything is returned.

The engine filters by tenant and access labels; afterwards every hit is checked again against the
access filter and against the document's current version (from provenance), so a stale version in
the middle of a replacement, or a filter bug, never reaches the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from core.access import AccessFilter
from core.errors import InvalidInputError
from core.metadata import check_key
from core.settings import SearchSettings
from core.types import TenantId
from retrieval.feedback import Feedback
from retrieval.ports import (
    Embedder,
    Fusion,
    FusionMethod,
    Hit,
    Query,
    SearchFilters,
    SparseEncoder,
    VectorStore,
)

MAX_QUERY_CHARS = 4_000


class Mode(StrEnum):
    HYBRID = "hybrid"
    DENSE = "dense"
    SPARSE = "bm25"


class CurrentWrites(Protocol):
    def __call__(self, tenant: TenantId, doc_ids: Iterable[str]) -> dict[str, str]:
        """For each document, the write id of its current version (absent when deleted)."""
        ...


@dataclass(frozen=True)
class SearchRequest:
    query: str
    k: int
    mode: Mode = Mode.HYBRID
    filters: SearchFilters = field(default_factory=SearchFilters)


class SearchService:
    def __init__(
        self,
        *,
        store: VectorStore,
        embedder: Callable[[], Embedder],
        sparse: SparseEncoder,
        current_writes: CurrentWrites,
        settings: SearchSettings,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._sparse = sparse
        self._current_writes = current_writes
        self._settings = settings
        self._fusion = Fusion(
            FusionMethod(settings.fusion), rrf_k=settings.rrf_k, dense_weight=settings.rrf_dense_weight
        )
        self._feedback = Feedback.from_settings(settings.feedback)

    def validate(self, request: SearchRequest) -> None:
        if not request.query.strip():
            raise InvalidInputError("query must not be empty")
        if len(request.query) > MAX_QUERY_CHARS:
            raise InvalidInputError(
                f"query must be at most {MAX_QUERY_CHARS} characters, got {len(request.query)}"
            )
        if not 1 <= request.k <= self._settings.max_k:
            raise InvalidInputError(f"k must be between 1 and {self._settings.max_k}, got {request.k}")
        for key, values in request.filters.metadata_any:
            check_key(key)
            kinds = {type(v) for v in values}
            if not values or not (kinds == {str} or kinds == {int}):
                raise InvalidInputError(
                    f"filter metadata.{key} needs one or more values, all strings or all integers"
                )

    def search(self, allowed: AccessFilter, request: SearchRequest) -> list[Hit]:
        self.validate(request)
        tenant = allowed.tenant
        query = Query(
            dense=self._embedder().embed_query(request.query) if request.mode != Mode.SPARSE else None,
            sparse=self._sparse.encode_query(request.query) if request.mode != Mode.DENSE else None,
            filters=request.filters,
            fusion=self._fusion,
        )
        # Over-fetch a little so hits dropped by the re-check (a version being replaced) don't shorten
        # the page; candidates per retriever feed the fusion.
        limit = request.k + max(5, request.k // 2)
        candidates = max(limit, request.k * self._settings.candidate_multiplier)
        if self._feedback is not None:
            query = self._feedback.second_query(
                self._store, self._sparse, allowed, query, candidates=candidates
            )
        hits = self._store.search(tenant, query, allowed=allowed, k=limit, candidates=candidates)
        current = self._current_writes(tenant, {h.payload.doc_id for h in hits})
        kept = [
            h
            for h in hits
            if allowed.allows(h.tenant, h.payload.labels)
            and current.get(h.payload.doc_id) == h.payload.write_id
            and request.filters.admits(h.payload.metadata)
        ]
        return kept[: request.k]
