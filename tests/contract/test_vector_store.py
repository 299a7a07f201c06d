"""The VectorStore contract, run against every real adapter.

Embedded engine (qdrant-edge) always; Qdrant server adapter on qdrant-client's in-process mode always,
and on a real server when ``TESSERA_QDRANT__URL`` is set.
"""

from __future__ import annotations

import os
import secrets
import statistics
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import qdrant_edge as qe
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from qdrant_client import QdrantClient, models

from core.access import AccessFilter
from core.errors import ConflictError, UnavailableError, UpstreamError
from core.metadata import Metadata
from core.types import TenantId
from retrieval.bm25 import QdrantBm25Encoder
from retrieval.edge import EdgeVectorStore
from retrieval.payload import to_payload
from retrieval.ports import (
    ChunkPayload,
    ChunkPoint,
    Fusion,
    FusionMethod,
    Query,
    SearchFilters,
    VectorStore,
)
from retrieval.server import QdrantServerStore
from tests.support.fakes import FakeEmbedder

DIM = 32
A, B = TenantId("tenant-a"), TenantId("tenant-b")
embedder = FakeEmbedder(DIM)
bm25 = QdrantBm25Encoder()

SERVER_URL = os.environ.get("TESSERA_QDRANT__URL")
ADAPTERS = ["edge", "server-memory"] + (["server-real"] if SERVER_URL else [])


@pytest.fixture(params=ADAPTERS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    adapter: VectorStore
    if request.param == "edge":
        adapter = EdgeVectorStore(tmp_path / "shards", dimension=DIM)
    elif request.param == "server-memory":
        adapter = QdrantServerStore(QdrantClient(":memory:"), dimension=DIM)
    else:
        prefix = f"contract_{secrets.token_hex(3)}"
        adapter = QdrantServerStore.connect(
            SERVER_URL or "", api_key=None, dimension=DIM, prefix=prefix, timeout_s=10
        )
    yield adapter
    for tenant in (A, B):
        adapter.drop_tenant(tenant)
    adapter.close()


def point(
    doc_id: str,
    text: str,
    *,
    version: int = 1,
    index: int = 0,
    labels: tuple[str, ...] = ("public",),
    write_id: str = "w1",
    metadata: Metadata | None = None,
) -> ChunkPoint:
    payload = ChunkPayload(
        chunk_id=f"{doc_id}#v{version}#c{index}",
        doc_id=doc_id,
        version=version,
        chunk_index=index,
        title=doc_id,
        source_uri=f"test:{doc_id}",
        text=text,
        char_start=0,
        char_end=len(text),
        page=None,
        labels=labels,
        content_sha256="0" * 64,
        ingested_at=datetime(2026, 11, 27, tzinfo=UTC),
        source_updated_at=None,
        element_type="NarrativeText",
        write_id=write_id,
        metadata=metadata if metadata is not None else {"team": "core", "year": 2026, "tags": ["a", "b"]},
    )
    return ChunkPoint(payload, embedder.embed_query(text), bm25.encode_document(text))


def plant_foreign_point(store: VectorStore, inside: TenantId, claimed_tenant: str, text: str) -> None:
    """Write a point whose payload names another tenant straight into ``inside``'s shard/collection,
    bypassing the adapter: what a bug or a corrupted import could leave behind."""
    foreign = point("planted", text)
    payload = to_payload(TenantId(claimed_tenant), foreign.payload)
    vector = {"dense": list(foreign.dense)}
    if isinstance(store, EdgeVectorStore):
        store.upsert(inside, [point("seed", "seed")])  # make sure the shard exists
        held = store._open(inside, create=True)
        assert held is not None
        held.shard.update(
            qe.UpdateOperation.upsert_points([qe.Point(id=str(uuid.uuid4()), vector=vector, payload=payload)])
        )
    else:
        assert isinstance(store, QdrantServerStore)
        store.upsert(inside, [point("seed", "seed")])
        store._client.upsert(
            store._collection(inside),
            points=[models.PointStruct(id=str(uuid.uuid4()), vector=vector, payload=payload)],
        )


def query(text: str, **filters: Any) -> Query:
    return Query(
        dense=embedder.embed_query(text), sparse=bm25.encode_query(text), filters=SearchFilters(**filters)
    )


def everyone(tenant: TenantId) -> AccessFilter:
    return AccessFilter.everything(tenant)


def test_round_trip_keeps_every_provenance_field(store: VectorStore) -> None:
    original = point("doc-1", "the quick brown fox jumps")
    store.upsert(A, [original])
    [hit] = store.search(A, query("quick brown fox"), allowed=everyone(A), k=5, candidates=10)
    assert hit.payload == original.payload
    assert hit.tenant == A


@pytest.mark.parametrize("mode", ["dense", "sparse", "hybrid"])
def test_best_match_ranks_first_in_every_mode(store: VectorStore, mode: str) -> None:
    store.upsert(
        A, [point("cats", "cats purr and chase mice"), point("rockets", "rockets burn liquid oxygen fuel")]
    )
    full = query("liquid oxygen rockets")
    q = Query(dense=full.dense if mode != "sparse" else None, sparse=full.sparse if mode != "dense" else None)
    hits = store.search(A, q, allowed=everyone(A), k=2, candidates=10)
    assert hits[0].payload.doc_id == "rockets"


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
def test_hits_carry_their_stored_dense_vector_only_when_asked(store: VectorStore, mode: str) -> None:
    stored = point("rockets", "rockets burn liquid oxygen fuel")
    store.upsert(A, [stored, point("cats", "cats purr and chase mice")])
    full = query("liquid oxygen rockets")
    asked = Query(dense=full.dense, sparse=full.sparse if mode == "hybrid" else None, with_dense=True)
    [best, _] = store.search(A, asked, allowed=everyone(A), k=2, candidates=10)
    assert best.dense == pytest.approx(list(stored.dense), abs=1e-6)
    [plain, _] = store.search(A, query("liquid oxygen rockets"), allowed=everyone(A), k=2, candidates=10)
    assert plain.dense is None


def test_tenant_b_never_sees_tenant_a(store: VectorStore) -> None:
    store.upsert(A, [point("secret-plan", "merger with globex next quarter")])
    store.upsert(B, [point("lunch", "the cafeteria serves soup")])
    hits = store.search(B, query("merger with globex"), allowed=everyone(B), k=10, candidates=10)
    assert all(h.tenant == B for h in hits)
    assert "secret-plan" not in {h.payload.doc_id for h in hits}
    assert store.count(B, "secret-plan") == 0


def test_access_filter_for_another_tenant_is_refused(store: VectorStore) -> None:
    store.upsert(A, [point("doc", "text")])
    with pytest.raises(PermissionError):
        store.search(A, query("text"), allowed=everyone(B), k=1, candidates=1)


def test_labels_filter_hides_chunks_the_principal_may_not_read(store: VectorStore) -> None:
    store.upsert(
        A, [point("pay", "salary bands for engineers", labels=("hr",)), point("wiki", "salary FAQ public")]
    )
    allowed = AccessFilter(A, frozenset({"public"}))
    hits = store.search(A, query("salary"), allowed=allowed, k=10, candidates=10)
    assert {h.payload.doc_id for h in hits} == {"wiki"}


def test_caller_filters_narrow_but_never_widen(store: VectorStore) -> None:
    store.upsert(A, [point("one", "alpha beta"), point("two", "alpha gamma", labels=("hr",))])
    only_public = AccessFilter(A, frozenset({"public"}))
    hits = store.search(A, query("alpha", labels_any=("hr",)), allowed=only_public, k=10, candidates=10)
    assert hits == []
    hits = store.search(A, query("alpha", doc_ids=("two",)), allowed=everyone(A), k=10, candidates=10)
    assert [h.payload.doc_id for h in hits] == ["two"]


def test_metadata_filters_match_values_list_items_and_integers(store: VectorStore) -> None:
    store.upsert(
        A,
        [
            point("eng", "release notes", metadata={"team": "eng", "year": 2025, "tags": ["ops", "db"]}),
            point("legal", "release terms", metadata={"team": "legal", "year": 2026, "flag": True}),
            point("bare", "release party", metadata={}),
        ],
    )

    def found(*conditions: tuple[str, tuple[str | int, ...]]) -> set[str]:
        hits = store.search(
            A, query("release", metadata_any=conditions), allowed=everyone(A), k=10, candidates=10
        )
        return {h.payload.doc_id for h in hits}

    assert found(("team", ("eng",))) == {"eng"}
    assert found(("team", ("eng", "legal"))) == {"eng", "legal"}
    assert found(("tags", ("db",))) == {"eng"}  # any list item matches
    assert found(("year", (2026,))) == {"legal"}
    assert found(("year", ("2026",))) == set()  # a string never matches an integer
    assert found(("team", ("eng",)), ("year", (2026,))) == set()  # every key must match
    assert found(("missing", ("x",))) == set()


def test_delete_older_versions_never_touches_the_version_given_or_a_newer_one(store: VectorStore) -> None:
    store.upsert(
        A,
        [
            point("d", "first", version=1, write_id="w1"),
            point("d", "second", version=2, write_id="w2"),
            point("d", "second again", version=2, index=1, write_id="w2"),
            point("d", "third", version=3, write_id="w3"),
            point("e", "other document", version=1),
        ],
    )
    assert store.count(A, "d", version=2) == 2
    assert store.delete_older_versions(A, "d", 2) == 1
    assert (store.count(A, "d", version=1), store.count(A, "d", version=2)) == (0, 2)
    assert store.delete_older_versions(A, "d", 4) == 3  # a delete of every version so far
    assert store.count(A, "d") == 0
    assert store.count(A, "e") == 1
    assert store.count(B) == 0


def test_delete_write_removes_exactly_that_write(store: VectorStore) -> None:
    store.upsert(
        A, [point("d", "kept", version=1, write_id="w1"), point("d", "gone", version=2, write_id="w2")]
    )
    assert store.delete_write(A, "d", "w2") == 1
    assert store.count(A, "d") == store.count(A, "d", version=1) == 1


def test_two_writes_of_the_same_chunk_do_not_overwrite_each_other(store: VectorStore) -> None:
    store.upsert(A, [point("d", "writer one", write_id="w1")])
    store.upsert(A, [point("d", "writer two", write_id="w2")])
    assert store.count(A, "d") == 2
    assert store.delete_write(A, "d", "w1") == 1
    [hit] = store.search(A, query("writer"), allowed=everyone(A), k=5, candidates=5)
    assert hit.payload.text == "writer two"


def test_the_engine_filter_itself_drops_points_claiming_another_tenant(store: VectorStore) -> None:
    """Separate shards are not the only wall: the tenant condition runs inside the engine too."""
    plant_foreign_point(store, inside=B, claimed_tenant=A, text="acquisition target list")
    hits = store.search(B, query("acquisition target list"), allowed=everyone(B), k=10, candidates=20)
    assert "planted" not in {h.payload.doc_id for h in hits}
    assert all(h.tenant == B for h in hits)


def test_unknown_tenant_is_empty_not_an_error(store: VectorStore) -> None:
    assert (
        store.search(TenantId("nobody"), query("x"), allowed=everyone(TenantId("nobody")), k=3, candidates=3)
        == []
    )
    assert store.count(TenantId("nobody")) == 0
    assert store.delete_older_versions(TenantId("nobody"), "x", 5) == 0


def test_upsert_of_the_same_chunk_and_write_replaces_it(store: VectorStore) -> None:
    store.upsert(A, [point("d", "first")])
    store.upsert(A, [point("d", "second")])
    assert store.count(A, "d") == 1


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    docs_a=st.lists(
        st.sampled_from(["apple pie", "apple tart", "pear cake", "plum jam"]), min_size=1, max_size=4
    ),
    words=st.sampled_from(["apple", "pear", "plum", "cake"]),
)
def test_isolation_holds_for_any_content(store: VectorStore, docs_a: list[str], words: str) -> None:
    """Whatever A stores and whatever B asks, B's results hold only B's points."""
    store.upsert(A, [point(f"a{i}", text) for i, text in enumerate(docs_a)])
    store.upsert(B, [point("b0", "unrelated words entirely")])
    hits = store.search(B, query(words), allowed=everyone(B), k=10, candidates=20)
    assert {h.payload.doc_id for h in hits} <= {"b0"}
    assert all(h.tenant == B for h in hits)


FUSIONS = [
    Fusion(FusionMethod.RRF, rrf_k=60),
    Fusion(FusionMethod.RRF, rrf_k=2, dense_weight=3.0),
    Fusion(FusionMethod.DBSF),
]


def test_a_heavier_dense_weight_lets_the_dense_ranking_win(store: VectorStore) -> None:
    """Both lists hold both documents in opposite orders: dense favours 'first' (the query's words),
    BM25 'second' (the query's term, more often in a shorter text)."""
    store.upsert(A, [point("first", "red green blue zebra"), point("second", "zebra zebra")])
    dense = embedder.embed_query("red green blue")
    sparse = bm25.encode_query("zebra")

    def winner(fusion: Fusion) -> str:
        q = Query(dense=dense, sparse=sparse, fusion=fusion)
        return store.search(A, q, allowed=everyone(A), k=2, candidates=2)[0].payload.doc_id

    # Qdrant's weighted RRF scores rank r as 1 / (r / w + k - 1): with k = 1 that is w / r.
    assert winner(Fusion(FusionMethod.RRF, rrf_k=1, dense_weight=5.0)) == "first"
    assert winner(Fusion(FusionMethod.RRF, rrf_k=1, dense_weight=0.2)) == "second"


def test_dbsf_sums_each_list_s_scores_scaled_to_mean_plus_minus_three_sigma(store: VectorStore) -> None:
    texts = ["alpha beta gamma delta", "epsilon", "alpha epsilon zeta", "beta beta", "gamma epsilon"]
    store.upsert(A, [point(f"d{i}", text) for i, text in enumerate(texts)])
    dense, sparse = embedder.embed_query("alpha beta gamma"), bm25.encode_query("epsilon gamma")
    wide = {"allowed": everyone(A), "k": 5, "candidates": 5}
    expected: dict[str, float] = {}
    for single in (Query(dense=dense), Query(sparse=sparse)):
        listed = {h.payload.doc_id: h.score for h in store.search(A, single, **wide)}
        mean = statistics.mean(listed.values())
        sigma = statistics.stdev(listed.values())  # sample deviation, as Qdrant computes it
        for doc, raw in listed.items():
            expected[doc] = expected.get(doc, 0.0) + (raw - (mean - 3 * sigma)) / (6 * sigma)
    fused = Query(dense=dense, sparse=sparse, fusion=Fusion(FusionMethod.DBSF))
    got = {h.payload.doc_id: h.score for h in store.search(A, fused, **wide)}
    assert got == pytest.approx(expected, rel=1e-4)


WORDS = ["apple", "pear", "plum", "cake", "jam", "tart", "pie", "fig", "lime", "kiwi"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=6), min_size=2, max_size=8),
    asked=st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
    fusion=st.sampled_from(FUSIONS),
)
def test_both_adapters_fuse_to_the_same_ranking(
    tmp_path: Path, texts: list[list[str]], asked: list[str], fusion: Fusion
) -> None:
    """The embedded engine and the server adapter give every document the same fused score.

    Documents tied inside one retriever's list may come in either order, and their rank-based
    scores with them, so those cases are left out (engines break ties differently)."""
    tenant = TenantId(f"t{secrets.token_hex(4)}")
    edge = EdgeVectorStore(tmp_path / secrets.token_hex(4), dimension=DIM)
    server = QdrantServerStore(QdrantClient(":memory:"), dimension=DIM)
    points = [point(f"d{i}", " ".join(words)) for i, words in enumerate(texts)]
    text = " ".join(asked)
    q = Query(dense=embedder.embed_query(text), sparse=bm25.encode_query(text), fusion=fusion)
    wide = {"allowed": everyone(tenant), "k": len(points), "candidates": len(points)}
    try:
        ranked = []
        for adapter in (edge, server):
            adapter.upsert(tenant, points)
            ranked.append({h.payload.doc_id: h.score for h in adapter.search(tenant, q, **wide)})
        for single in (Query(dense=q.dense), Query(sparse=q.sparse)):
            scores = [round(h.score, 5) for h in edge.search(tenant, single, **wide)]
            assume(len(set(scores)) == len(scores))
    finally:
        edge.close()
        server.close()
    from_edge, from_server = ranked
    assert from_edge.keys() == from_server.keys()
    for doc, fused in from_edge.items():
        assert fused == pytest.approx(from_server[doc], rel=1e-3, abs=1e-4), doc


def test_embedded_index_has_one_owner(tmp_path: Path) -> None:
    first = EdgeVectorStore(tmp_path / "shards", dimension=DIM, owner="first owner")
    try:
        with pytest.raises(ConflictError, match="first owner"):
            EdgeVectorStore(tmp_path / "shards", dimension=DIM)
    finally:
        first.close()
    EdgeVectorStore(tmp_path / "shards", dimension=DIM).close()  # free again once closed


def test_a_damaged_shard_is_not_reported_as_held_by_another_process(tmp_path: Path) -> None:
    first = EdgeVectorStore(tmp_path / "shards", dimension=DIM)
    first.upsert(A, [point("doc", "some words")])
    first.close()
    (tmp_path / "shards" / A / "edge_config.json").write_text("{ not json")
    second = EdgeVectorStore(tmp_path / "shards", dimension=DIM)
    try:
        with pytest.raises(UnavailableError, match="cannot be read") as raised:
            second.count(A)
        assert not isinstance(raised.value, ConflictError)
        assert second.count(B) == 0  # other tenants' shards are unaffected
    finally:
        second.close()


def test_a_full_disk_is_reported_as_a_full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine says so only in its message (one exception type for everything)."""

    def no_space(*args: object) -> None:
        raise Exception("Service runtime error: failed to flush: No space left on device (os error 28)")

    monkeypatch.setattr(EdgeVectorStore, "_load_or_create", no_space)
    store = EdgeVectorStore(tmp_path / "shards", dimension=DIM)
    try:
        with pytest.raises(UnavailableError, match="disk holding the embedded index is full"):
            store.upsert(A, [point("doc", "some words")])
    finally:
        store.close()


def test_a_shard_held_by_another_process_is_a_conflict(tmp_path: Path) -> None:
    first = EdgeVectorStore(tmp_path / "shards", dimension=DIM)
    first.upsert(A, [point("doc", "some words")])
    first.close()
    config = qe.EdgeConfig(
        vectors={"dense": qe.EdgeVectorParams(size=DIM, distance=qe.Distance.Cosine)},
        sparse_vectors={"bm25": qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)},
    )
    holder = qe.EdgeShard.load(str(tmp_path / "shards" / A), config)  # a process that ignored .owner
    store = EdgeVectorStore(tmp_path / "shards", dimension=DIM)
    try:
        with pytest.raises(ConflictError, match="held by another process"):
            store.count(A)
    finally:
        store.close()
        holder.close()


def test_an_unreachable_server_is_an_upstream_error_on_every_call() -> None:
    client = QdrantClient(url="http://127.0.0.1:9", timeout=1, check_compatibility=False)
    store = QdrantServerStore(client, dimension=DIM)
    try:
        assert store.ready() is False
        with pytest.raises(UpstreamError):
            store.drop_tenant(A)
        with pytest.raises(UpstreamError):
            store.upsert(A, [point("doc", "some words")])
    finally:
        store.close()


def test_embedded_index_survives_a_restart(tmp_path: Path) -> None:
    first = EdgeVectorStore(tmp_path / "shards", dimension=DIM)
    first.upsert(A, [point("kept", "persistent words")])
    first.close()
    second = EdgeVectorStore(tmp_path / "shards", dimension=DIM)
    try:
        hits = second.search(A, query("persistent words"), allowed=everyone(A), k=1, candidates=5)
        assert [h.payload.doc_id for h in hits] == ["kept"]
    finally:
        second.close()
