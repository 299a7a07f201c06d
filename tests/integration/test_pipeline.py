"""The ingest spine on the real engine and database (SQLite and PostgreSQL), with fake models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import Session, select

from acl.filters import WriteGrant
from core.access import AccessFilter
from core.settings import ChunkingSettings
from core.types import TenantId
from ingest.document import Source
from ingest.models import ItemStatus
from ingest.sources import BadSource
from provenance import store as docs_store
from provenance.models import ChunkRecord, DocumentVersion
from retrieval.search import Mode, SearchRequest
from tests.conftest import RuntimeFactory
from tests.support.fakes import FakeEmbedder
from tests.support.records import record as any_record

T = TenantId("acme")
ADMIN = AccessFilter.everything(T)
OPERATOR = WriteGrant.everything(T)


def record(doc_id: str, text: str, title: str = "") -> Source:
    return any_record(doc_id, text, title, source_updated_at=datetime(2026, 1, 1, tzinfo=UTC))


def test_ingest_then_search_returns_provenance(make_runtime: RuntimeFactory, database_url: str) -> None:
    runtime = make_runtime(database_url=database_url)
    [outcome] = runtime.pipeline.run(
        T, [record("kb-1", "Rotate database credentials every thirty days.")], grant=OPERATOR
    )
    assert (outcome.status, outcome.version) == (ItemStatus.INDEXED, 1)
    [hit] = runtime.search.search(ADMIN, SearchRequest("rotate credentials", k=5))
    assert hit.payload.doc_id == "kb-1"
    assert hit.payload.version == 1
    assert hit.payload.source_updated_at == datetime(2026, 1, 1, tzinfo=UTC)
    with Session(runtime.engine) as session:
        stored = session.exec(select(DocumentVersion)).one()
    assert stored.text[hit.payload.char_start : hit.payload.char_end] == hit.payload.text
    assert hit.payload.content_sha256 == stored.content_sha256


def test_redaction_happens_before_anything_is_stored(make_runtime: RuntimeFactory, database_url: str) -> None:
    runtime = make_runtime(database_url=database_url)
    list(
        runtime.pipeline.run(
            T,
            [record("mail", "Write to jane.doe@example.com for access.", "jane.doe@example.com")],
            grant=OPERATOR,
        )
    )
    with Session(runtime.engine) as session:
        stored = session.exec(select(DocumentVersion)).one()
    assert "jane.doe" not in stored.text and "jane.doe" not in stored.title
    assert stored.redaction_counts == {"EMAIL_ADDRESS": 2}
    hits = runtime.search.search(ADMIN, SearchRequest("write for access", k=5))
    assert hits and all("jane.doe" not in h.payload.text + h.payload.title for h in hits)


def test_unchanged_content_does_no_work(make_runtime: RuntimeFactory, database_url: str) -> None:
    embedder = FakeEmbedder()
    runtime = make_runtime(database_url=database_url, embedder=embedder)
    docs = [record(f"d{i}", f"document number {i} text") for i in range(5)]
    list(runtime.pipeline.run(T, docs, grant=OPERATOR))
    calls = embedder.texts_embedded
    again = list(runtime.pipeline.run(T, docs, grant=OPERATOR))
    assert {o.status for o in again} == {ItemStatus.UNCHANGED}
    assert embedder.texts_embedded == calls


def test_changed_content_becomes_the_next_version_and_replaces_the_old(
    make_runtime: RuntimeFactory, database_url: str
) -> None:
    runtime = make_runtime(database_url=database_url)
    list(
        runtime.pipeline.run(
            T, [record("policy", "Expenses are reimbursed within thirty days.")], grant=OPERATOR
        )
    )
    [second] = runtime.pipeline.run(
        T, [record("policy", "Expenses are reimbursed within ninety days.")], grant=OPERATOR
    )
    assert second.version == 2
    hits = runtime.search.search(ADMIN, SearchRequest("expenses reimbursed days", k=10))
    assert {(h.payload.doc_id, h.payload.version) for h in hits} == {("policy", 2)}
    assert runtime.store.count(T, "policy") == 1
    with Session(runtime.engine) as session:
        versions = session.exec(select(DocumentVersion.version).order_by(DocumentVersion.version)).all()
    assert list(versions) == [1, 2]  # history stays for provenance; only the index forgets v1


def test_changing_labels_reindexes_with_the_new_labels(
    make_runtime: RuntimeFactory, database_url: str
) -> None:
    runtime = make_runtime(database_url=database_url)
    list(runtime.pipeline.run(T, [record("salary", "salary bands")], labels=["hr"], grant=OPERATOR))
    [outcome] = runtime.pipeline.run(T, [record("salary", "salary bands")], labels=["public"], grant=OPERATOR)
    assert outcome.status == ItemStatus.INDEXED
    public = AccessFilter(T, frozenset({"public"}))
    assert [h.payload.labels for h in runtime.search.search(public, SearchRequest("salary", k=3))] == [
        ("public",)
    ]


def test_a_bad_item_fails_alone(make_runtime: RuntimeFactory, database_url: str) -> None:
    runtime = make_runtime(database_url=database_url)
    items = [
        record("good-1", "first good document"),
        BadSource("broken.jsonl#2", "invalid JSON at column 2"),
        Source(name="empty.txt", doc_id="empty.txt", data=b"   ", filename="empty.txt"),
        Source(name="tool.exe", doc_id="tool.exe", data=b"MZ\x90", filename="tool.exe"),
        record("good-2", "second good document"),
    ]
    outcomes = sorted(runtime.pipeline.run(T, items, grant=OPERATOR), key=lambda o: o.position)
    assert [o.status for o in outcomes] == [
        ItemStatus.INDEXED,
        ItemStatus.FAILED,
        ItemStatus.FAILED,
        ItemStatus.FAILED,
        ItemStatus.INDEXED,
    ]
    assert outcomes[2].error == "file is empty"
    assert outcomes[3].error is not None and "unsupported file type" in outcomes[3].error
    with Session(runtime.engine) as session:
        assert {r.doc_id for r in session.exec(select(ChunkRecord))} == {"good-1", "good-2"}


def test_a_failed_commit_leaves_nothing_in_the_index(
    make_runtime: RuntimeFactory, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = make_runtime(database_url=database_url)

    def broken_publish(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr("provenance.store.publish", broken_publish)
    [outcome] = runtime.pipeline.run(T, [record("doomed", "this never lands")], grant=OPERATOR)
    assert outcome.status == ItemStatus.FAILED
    assert outcome.error == "could not store document (RuntimeError)"
    assert runtime.store.count(T, "doomed") == 0
    assert runtime.search.search(ADMIN, SearchRequest("never lands", k=5)) == []


def test_a_job_across_many_windows_reports_every_item_once(
    make_runtime: RuntimeFactory, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 30 items cross the ramped windows (4, 8, 16, ...) while the writer thread stores the previous
    # window; one write failing in the middle must fail only its own item.
    runtime = make_runtime(database_url=database_url)
    real_publish = docs_store.publish

    def publish_failing_once(
        session: object, tenant: object, row: DocumentVersion, records: object, **options: Any
    ) -> bool:
        if row.doc_id == "rec-13":
            raise RuntimeError("database went away")
        return real_publish(session, tenant, row, records, **options)  # type: ignore[arg-type]

    monkeypatch.setattr("provenance.store.publish", publish_failing_once)
    items = [record(f"rec-{i}", f"document number {i} about topic {i % 5}") for i in range(30)]
    outcomes = list(runtime.pipeline.run(T, items, grant=OPERATOR))
    assert sorted(o.position for o in outcomes) == list(range(30))
    failed = [o.doc_id for o in outcomes if o.status == ItemStatus.FAILED]
    assert failed == ["rec-13"]
    assert runtime.store.count(T, "rec-13") == 0
    assert all(runtime.store.count(T, f"rec-{i}") > 0 for i in range(30) if i != 13)


def test_delete_removes_document_everywhere(make_runtime: RuntimeFactory, database_url: str) -> None:
    runtime = make_runtime(database_url=database_url)
    list(runtime.pipeline.run(T, [record("gone", "soon to be deleted text")], grant=OPERATOR))
    runtime.documents.delete(T, "gone")
    assert runtime.store.count(T, "gone") == 0
    assert runtime.search.search(ADMIN, SearchRequest("deleted text", k=5)) == []
    with Session(runtime.engine) as session:
        assert session.exec(select(ChunkRecord)).all() == []
        assert session.exec(select(DocumentVersion)).all() == []


def test_stale_points_are_never_returned(make_runtime: RuntimeFactory, database_url: str) -> None:
    """Mid-replacement the engine can hold two versions; search must still show exactly the current one."""
    runtime = make_runtime(database_url=database_url)
    list(runtime.pipeline.run(T, [record("doc", "alpha version text")], grant=OPERATOR))
    [v2] = runtime.pipeline.run(T, [record("doc", "beta version text")], grant=OPERATOR)
    assert v2.version == 2
    # Simulate the window between the engine write and the old version's removal: put v1 back.
    from datetime import datetime as dt

    from retrieval.ports import ChunkPayload, ChunkPoint

    stale = ChunkPayload(
        chunk_id="doc#v1#c0",
        doc_id="doc",
        version=1,
        chunk_index=0,
        title="",
        source_uri="",
        text="alpha version text",
        char_start=0,
        char_end=18,
        page=None,
        labels=("public",),
        content_sha256="0" * 64,
        ingested_at=dt(2026, 1, 1, tzinfo=UTC),
        source_updated_at=None,
    )
    runtime.store.upsert(
        T,
        [
            ChunkPoint(
                stale,
                FakeEmbedder().embed_query("alpha version text"),
                runtime.search._sparse.encode_document("alpha version text"),
            )
        ],
    )
    hits = runtime.search.search(ADMIN, SearchRequest("alpha version text", k=5))
    assert [(h.payload.doc_id, h.payload.version) for h in hits] == [("doc", 2)]


def test_a_record_with_a_lone_surrogate_fails_alone(make_runtime: RuntimeFactory, database_url: str) -> None:
    # JSON may spell "\ud800"; Python decodes it to a string no database or encoder accepts.
    runtime = make_runtime(database_url=database_url)
    items = [record("s1", "lone \ud800 here"), record("good", "a good record")]
    outcomes = sorted(runtime.pipeline.run(T, items, grant=OPERATOR), key=lambda o: o.position)
    assert [o.status for o in outcomes] == [ItemStatus.FAILED, ItemStatus.INDEXED]
    assert outcomes[0].error == "text is not valid Unicode (a lone surrogate)"


def test_bm25_finds_every_chunk_of_a_document_by_its_title(
    make_runtime: RuntimeFactory, database_url: str
) -> None:
    runtime = make_runtime(
        database_url=database_url, chunking=ChunkingSettings(max_tokens=16, overlap_tokens=0)
    )
    text = " ".join(f"Sentence number {n} talks about fins and their regrowth." for n in range(6))
    [outcome] = runtime.pipeline.run(T, [record("fish", text, title="Zebrafish")], grant=OPERATOR)
    assert outcome.chunks >= 3
    hits = runtime.search.search(ADMIN, SearchRequest("zebrafish", k=20, mode=Mode.SPARSE))
    assert sorted(h.payload.chunk_index for h in hits) == list(range(outcome.chunks))
