"""The search re-check: only the current write of a live document is ever served (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlmodel import Session

from acl.filters import WriteGrant
from api.runtime import Runtime
from core.access import AccessFilter
from core.types import TenantId
from provenance import store as docs
from retrieval.ports import ChunkPoint
from retrieval.search import SearchRequest
from tests.conftest import RuntimeFactory
from tests.support.fakes import FakeEmbedder
from tests.support.records import record

T = TenantId("acme")
OTHER = TenantId("globex")
IDS = [f"doc-{i:02d}" for i in range(40)]
REPLACED = IDS[::3]
DELETED = IDS[1::7]  # two of them replaced first
LIVE = [d for d in IDS if d not in DELETED]


@pytest.fixture
def runtime(make_runtime: RuntimeFactory, database_url: str) -> Runtime:
    runtime = make_runtime(database_url=database_url)
    first = [record(d, f"first words of {d}") for d in IDS]
    list(runtime.pipeline.run(T, first, grant=WriteGrant.everything(T)))
    list(runtime.pipeline.run(OTHER, [record(IDS[0], "elsewhere")], grant=WriteGrant.everything(OTHER)))
    return runtime


def replace_and_delete(runtime: Runtime) -> None:
    second = [record(d, f"second words of {d}") for d in REPLACED]
    list(runtime.pipeline.run(T, second, grant=WriteGrant.everything(T)))
    for doc_id in DELETED:
        runtime.documents.delete(T, doc_id)


def current_by_orm(runtime: Runtime, tenant: TenantId, doc_ids: Sequence[str]) -> dict[str, str]:
    with Session(runtime.engine) as session:
        versions = [docs.current_version(session, tenant, d) for d in doc_ids]
    return {v.doc_id: v.write_id for v in versions if v is not None}


@pytest.mark.parametrize("count", [1, 15, 16, 17, 33, 40])  # around the sizes the re-check's SQL comes in
def test_current_writes_are_those_of_each_live_document_s_current_version(
    runtime: Runtime, count: int
) -> None:
    replace_and_delete(runtime)
    asked = [*IDS[:count], "never-written", IDS[0]]  # unknown ids and repeats change nothing
    with runtime.engine.connect() as connection:
        assert docs.current_writes(connection, T, asked) == current_by_orm(runtime, T, asked)
        assert docs.current_writes(connection, OTHER, asked) == current_by_orm(runtime, OTHER, asked)
        assert docs.current_writes(connection, T, []) == {}


def test_points_of_a_replaced_version_or_a_deleted_document_are_never_served(runtime: Runtime) -> None:
    everything = AccessFilter.everything(T)
    before = runtime.search.search(everything, SearchRequest("words", k=100))
    assert {(h.payload.doc_id, h.payload.version) for h in before} == {(d, 1) for d in IDS}
    replace_and_delete(runtime)
    # The window of a replacement or a delete: the engine still holds the old points, each with its
    # real write id, so only the database's current version tells them apart from servable ones.
    embedder, sparse = FakeEmbedder(), runtime.search._sparse
    runtime.store.upsert(
        T,
        [
            ChunkPoint(
                h.payload, embedder.embed_query(h.payload.text), sparse.encode_document(h.payload.text)
            )
            for h in before
            if h.payload.doc_id in REPLACED or h.payload.doc_id in DELETED
        ],
    )
    after = runtime.search.search(everything, SearchRequest("words", k=100))
    assert {(h.payload.doc_id, h.payload.version) for h in after} == {
        (d, 2 if d in REPLACED else 1) for d in LIVE
    }
