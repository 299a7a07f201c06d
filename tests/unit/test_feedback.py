"""Pseudo-relevance feedback: what the second query is made of, and what may feed it."""

from __future__ import annotations

import math
from collections.abc import Iterable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.access import AccessFilter
from core.settings import FeedbackSettings, SearchSettings
from core.types import TenantId
from retrieval.bm25 import QdrantBm25Encoder
from retrieval.feedback import Feedback, rm3, rocchio
from retrieval.ports import Hit, Query, SparseVector
from retrieval.search import Mode, SearchRequest, SearchService
from tests.support.fakes import FakeEmbedder
from tests.support.records import chunk_payload

TENANT = TenantId("acme")
bm25 = QdrantBm25Encoder()
embedder = FakeEmbedder(16)


def chunk(doc_id: str, text: str, *, tenant: str = TENANT, labels: tuple[str, ...] = ("public",)) -> Hit:
    payload = chunk_payload(doc_id, text, labels=labels)
    return Hit(tenant=tenant, payload=payload, score=1.0, dense=embedder.embed_query(text))


class ScriptedStore:
    """Answers every search with the same hits; remembers what it was asked."""

    def __init__(self, hits: list[Hit]) -> None:
        self.hits = hits
        self.asked: list[tuple[Query, int]] = []

    def search(
        self, tenant: TenantId, query: Query, *, allowed: AccessFilter, k: int, candidates: int
    ) -> list[Hit]:
        self.asked.append((query, k))
        return self.hits[:k]


def every_write(tenant: TenantId, doc_ids: Iterable[str]) -> dict[str, str]:
    return dict.fromkeys(doc_ids, "")


def searched(
    store: ScriptedStore, feedback: FeedbackSettings, *, allowed: AccessFilter | None = None
) -> list[Hit]:
    service = SearchService(
        store=store,  # type: ignore[arg-type]  # only search() is called
        embedder=lambda: embedder,
        sparse=bm25,
        current_writes=every_write,
        settings=SearchSettings(feedback=feedback),
    )
    allowed = allowed or AccessFilter.everything(TENANT)
    return service.search(allowed, SearchRequest(query="insulin resistance", k=10, mode=Mode.HYBRID))


def terms(text: str) -> set[int]:
    return set(bm25.encode_query(text).indices)


def test_off_by_default_one_engine_query() -> None:
    store = ScriptedStore([chunk("d1", "insulin resistance in adipose tissue")])
    searched(store, FeedbackSettings())
    assert len(store.asked) == 1


def test_the_second_query_carries_the_feedback_chunks_terms_and_moves_toward_them() -> None:
    hits = [chunk("d1", "insulin resistance and adipose inflammation"), chunk("d2", "adipose macrophages")]
    store = ScriptedStore(hits)
    searched(store, FeedbackSettings(docs=2, terms=5, query_weight=0.5, dense_weight=1.0))
    (first, first_k), (second, _) = store.asked
    assert first_k == 2 and first.with_dense
    assert terms("adipose") <= set(second.sparse.indices)  # type: ignore[union-attr]
    assert terms("insulin resistance") <= set(second.sparse.indices)  # type: ignore[union-attr]
    centroid = [sum(pair) / 2 for pair in zip(hits[0].dense, hits[1].dense, strict=True)]  # type: ignore[arg-type]
    assert cosine(second.dense, centroid) > cosine(first.dense, centroid)  # type: ignore[arg-type]


def test_chunks_the_caller_may_not_see_never_feed_the_query() -> None:
    visible = chunk("d1", "insulin resistance in muscle")
    hidden = chunk("d2", "merger globex confidential", labels=("board",))
    foreign = chunk("d3", "acquisition initech", tenant="other")
    store = ScriptedStore([hidden, foreign, visible])
    allowed = AccessFilter(tenant=TENANT, labels=frozenset({"public"}))
    searched(store, FeedbackSettings(docs=3, terms=20, dense_weight=1.0), allowed=allowed)
    _, (second, _) = store.asked
    leaked = terms("merger globex confidential acquisition initech")
    assert not leaked & set(second.sparse.indices)  # type: ignore[union-attr]
    assert second.dense == pytest.approx(
        rocchio(embedder.embed_query("insulin resistance"), [visible.dense], 1.0)
    )  # type: ignore[list-item]


def test_no_feedback_hits_leave_the_query_as_it_was() -> None:
    feedback = Feedback.from_settings(FeedbackSettings(docs=3, dense_weight=0.5))
    assert feedback is not None
    query = Query(dense=[1.0, 0.0], sparse=bm25.encode_query("insulin"))
    assert feedback.refine(query, [], bm25) == query


def test_rm3_keeps_the_query_share_and_prefers_terms_the_chunks_share() -> None:
    query = SparseVector((1, 2), (1.0, 1.0))
    docs = [SparseVector((3, 4), (1.0, 1.0)), SparseVector((3, 5), (1.0, 1.0))]
    vector = rm3(query, docs, terms=2, query_weight=0.6)
    expanded = dict(zip(vector.indices, vector.values, strict=True))
    assert expanded[1] == pytest.approx(0.3) and expanded[2] == pytest.approx(0.3)
    assert expanded[3] > expanded[4]  # in both chunks against one
    assert 5 not in expanded  # only the two heaviest feedback terms
    assert sum(expanded.values()) == pytest.approx(1.0)


vectors = st.lists(st.floats(-1, 1), min_size=4, max_size=4).filter(lambda v: sum(x * x for x in v) > 0.01)


@given(query=vectors, docs=st.lists(vectors, min_size=1, max_size=5), weight=st.floats(0.05, 4))
def test_rocchio_is_unit_length_and_never_moves_away_from_the_feedback(
    query: list[float], docs: list[list[float]], weight: float
) -> None:
    moved = rocchio(query, docs, weight)
    centroid = [sum(column) / len(docs) for column in zip(*docs, strict=True)]
    assert math.sqrt(sum(x * x for x in moved)) == pytest.approx(1.0)
    if sum(x * x for x in centroid) > 1e-6:
        assert cosine(moved, centroid) >= cosine(query, centroid) - 1e-9


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))
