"""The search service hands the configured fusion to the engine with every hybrid query."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from core.access import AccessFilter
from core.settings import SearchSettings
from core.types import TenantId
from retrieval.bm25 import QdrantBm25Encoder
from retrieval.ports import Fusion, FusionMethod, Hit, Query
from retrieval.search import SearchRequest, SearchService
from tests.support.fakes import FakeEmbedder

TENANT = TenantId("acme")


class RecordingStore:
    """Remembers the queries it was asked; finds nothing."""

    def __init__(self) -> None:
        self.queries: list[Query] = []

    def search(
        self, tenant: TenantId, query: Query, *, allowed: AccessFilter, k: int, candidates: int
    ) -> list[Hit]:
        self.queries.append(query)
        return []


def no_writes(tenant: TenantId, doc_ids: Iterable[str]) -> dict[str, str]:
    return {}


def fusion_sent(settings: SearchSettings) -> Fusion:
    store = RecordingStore()
    embedder = FakeEmbedder(8)
    service = SearchService(
        store=store,  # type: ignore[arg-type]  # only search() is called
        embedder=lambda: embedder,
        sparse=QdrantBm25Encoder(),
        current_writes=no_writes,
        settings=settings,
    )
    service.search(AccessFilter.everything(TENANT), SearchRequest(query="glucose uptake", k=10))
    [query] = store.queries
    return query.fusion


def test_distribution_based_fusion_is_the_default() -> None:
    assert fusion_sent(SearchSettings()).method == FusionMethod.DBSF


def test_rrf_with_its_k_and_dense_weight_when_configured() -> None:
    chosen = SearchSettings(fusion="rrf", rrf_k=20, rrf_dense_weight=2.0)
    assert fusion_sent(chosen) == Fusion(FusionMethod.RRF, rrf_k=20, dense_weight=2.0)


def test_an_unknown_fusion_is_refused_when_settings_load() -> None:
    with pytest.raises(ValueError, match="fusion"):
        SearchSettings(fusion="borda")  # type: ignore[arg-type]
