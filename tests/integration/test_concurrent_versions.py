"""Two writers and a deleter of one document, as two API processes (or the CLI beside a server) would be.

The first tests replay the races of issue 7 through the public services, each runtime with its own
database engine over one shared vector store; a one-shot ``Gate`` holds a runtime at a chosen engine
call, so every interleaving is forced, never slept into. The property test at the end drives the write
and delete steps themselves through every interleaving hypothesis picks.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qdrant_client import QdrantClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from acl.filters import WriteGrant
from api.runtime import Runtime, build_runtime
from core.access import AccessFilter
from core.db import make_engine, migrate
from core.errors import ConflictError, NotFoundError
from core.settings import IngestSettings, Settings
from core.types import TenantId
from ingest.models import ItemStatus
from ingest.prepare import InlinePreparer
from ingest.versions import VersionWriter
from provenance.models import ChunkRecord, Document, DocumentVersion
from retrieval.bm25 import QdrantBm25Encoder
from retrieval.edge import EdgeVectorStore
from retrieval.ports import ChunkPayload, ChunkPoint, Query, SearchFilters, VectorStore
from retrieval.search import SearchRequest
from retrieval.server import QdrantServerStore
from tests.support.fakes import FakeEmbedder, FakeRedactor
from tests.support.records import record

T = TenantId("acme")
OPERATOR = WriteGrant.everything(T)
DIM = 384
EMBEDDER = FakeEmbedder(DIM)
BM25 = QdrantBm25Encoder()
NOW = datetime(2026, 12, 1, tzinfo=UTC)


class FakeUnusedStore:
    """For steps that touch only the database."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the vector store was not expected to be used ({name})")


class Gate:
    """Holds the first caller that reaches it until the test lets it go."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self._released = threading.Event()
        self._used = False

    def pause(self) -> None:
        if self._used:
            return
        self._used = True
        self.reached.set()
        assert self._released.wait(30), "the test never released the gate"

    def release(self) -> None:
        self._released.set()


@dataclass
class GatedStore:
    """A view of the shared store that pauses at a ``Gate`` after an upsert or before a removal."""

    inner: VectorStore
    after_upsert: Gate | None = None
    before_delete: Gate | None = None

    def upsert(self, tenant: TenantId, points: Any) -> None:
        self.inner.upsert(tenant, points)
        if self.after_upsert is not None:
            self.after_upsert.pause()

    def close(self) -> None:
        return None  # the shared store is closed once, by the fixture

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)
        if not name.startswith("delete") or self.before_delete is None:
            return method
        gate = self.before_delete

        def paused(*args: Any, **kwargs: Any) -> Any:
            gate.pause()
            return method(*args, **kwargs)

        return paused


@pytest.fixture(params=["edge", "server-memory"])
def shared_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    store: VectorStore
    if request.param == "edge":
        store = EdgeVectorStore(tmp_path / "shards", dimension=DIM)
    else:
        store = QdrantServerStore(QdrantClient(":memory:"), dimension=DIM)
    yield store
    store.close()


@pytest.fixture
def process(shared_store: VectorStore, database_url: str, tmp_path: Path) -> Iterator[Callable[..., Runtime]]:
    """Start a "process": its own runtime and database engine, over the shared store."""
    started: list[Runtime] = []

    def start(**gates: Gate) -> Runtime:
        settings = Settings(
            data_dir=tmp_path / "data", database_url=database_url, ingest=IngestSettings(redaction_workers=0)
        )
        runtime = build_runtime(
            settings,
            store=GatedStore(shared_store, **gates),  # type: ignore[arg-type]
            embedder=lambda: EMBEDDER,
            preparer=lambda: InlinePreparer(FakeRedactor()),
        )
        started.append(runtime)
        return runtime

    yield start
    for runtime in started:
        runtime.close()


def in_thread(action: Callable[[], Any]) -> Callable[[], Any]:
    """Run ``action`` on a thread; the returned callable joins it and returns (or raises) its result."""
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = action()
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()

    def join() -> Any:
        thread.join(30)
        assert not thread.is_alive()
        if "error" in result:
            raise result["error"]
        return result["value"]

    return join


def ingest(runtime: Runtime, text: str) -> Any:
    [outcome] = runtime.pipeline.run(T, [record("doc", text)], grant=OPERATOR)
    return outcome


def assert_consistent(runtime: Runtime, store: VectorStore) -> int | None:
    """The database and the engine agree on the document: either it is gone from both, or its current
    version's chunks are all searchable and no other version's points remain. Returns that version."""
    with Session(runtime.engine) as session:
        document = session.get(Document, (T, "doc"))
        if document is None:
            assert store.count(T, "doc") == 0
            assert session.exec(select(ChunkRecord).where(ChunkRecord.tenant == T)).all() == []
            return None
        current = session.get(DocumentVersion, (T, "doc", document.current_version))
        assert current is not None
    hits = runtime.search.search(AccessFilter.everything(T), SearchRequest("words", k=50))
    assert sorted(h.payload.chunk_id for h in hits) == [
        f"doc#v{current.version}#c{i}" for i in range(current.chunk_count)
    ]
    assert {h.payload.write_id for h in hits} == {current.write_id}
    assert store.count(T, "doc") == current.chunk_count
    return current.version


def test_a_writer_s_cleanup_never_removes_a_newer_write(
    process: Callable[..., Runtime], shared_store: VectorStore
) -> None:
    """Issue 7: A publishes; B allocates the next version and uploads; A's cleanup used to delete B's
    points just before B published, leaving "indexed" in the database and nothing in the engine."""
    a_cleans, b_publishes = Gate(), Gate()
    a = process(before_delete=a_cleans)
    b = process(after_upsert=b_publishes)
    ingest(process(), "first words")
    a_done = in_thread(lambda: ingest(a, "words of writer a"))
    assert a_cleans.reached.wait(30)  # A has published and is about to remove older points
    b_done = in_thread(lambda: ingest(b, "words of writer b"))
    assert b_publishes.reached.wait(30)  # B has uploaded its points, not yet published
    a_cleans.release()
    assert a_done().status == ItemStatus.INDEXED
    b_publishes.release()
    b_outcome = b_done()
    assert b_outcome.status == ItemStatus.INDEXED
    assert assert_consistent(b, shared_store) == b_outcome.version


def test_two_writers_get_distinct_versions_and_the_newest_stays_current(
    process: Callable[..., Runtime], shared_store: VectorStore
) -> None:
    """B reads its version number, then A writes a whole version before B publishes: B's number must
    not collide with A's, and B, being older, must not take over as current."""
    b_publishes = Gate()
    a, b = process(), process(after_upsert=b_publishes)
    ingest(a, "first words")
    b_done = in_thread(lambda: ingest(b, "words of writer b"))
    assert b_publishes.reached.wait(30)
    a_outcome = ingest(a, "words of writer a")
    b_publishes.release()
    b_outcome = b_done()
    assert (a_outcome.status, b_outcome.status) == (ItemStatus.INDEXED, ItemStatus.INDEXED)
    assert b_outcome.version < a_outcome.version
    assert assert_consistent(a, shared_store) == a_outcome.version


def test_a_write_started_before_a_delete_does_not_bring_the_document_back(
    process: Callable[..., Runtime], shared_store: VectorStore
) -> None:
    b_publishes = Gate()
    a, b = process(), process(after_upsert=b_publishes)
    ingest(a, "first words")
    b_done = in_thread(lambda: ingest(b, "words of writer b"))
    assert b_publishes.reached.wait(30)
    a.documents.delete(T, "doc")
    b_publishes.release()
    assert b_done().status == ItemStatus.FAILED  # the delete came after B began: it wins
    assert assert_consistent(a, shared_store) is None


def test_a_write_after_a_delete_survives_the_delete_s_engine_cleanup(
    process: Callable[..., Runtime], shared_store: VectorStore
) -> None:
    """The delete has forgotten the document in the database and not yet removed its points when a new
    write lands; the delete's engine cleanup must leave the new write's points alone."""
    purge = Gate()
    deleter, writer = process(before_delete=purge), process()
    ingest(writer, "first words")
    deleted = in_thread(lambda: deleter.documents.delete(T, "doc"))
    assert purge.reached.wait(30)
    outcome = ingest(writer, "words written after the delete")
    purge.release()
    deleted()
    assert outcome.status == ItemStatus.INDEXED
    assert assert_consistent(writer, shared_store) == outcome.version


# --- every interleaving of the steps themselves --------------------------------------------------


@dataclass
class Model:
    """What the document must be after the steps, whatever their order: the newest version published
    since the last delete that found the document, or none."""

    current: int | None
    deleted_through: int = 0
    allocated: int = 0


Steps = list[Callable[[], None]]


def writer_steps(versions: VersionWriter, model: Model, doc: str, name: str, chunks: int) -> Steps:
    state: dict[str, Any] = {}

    def allocate() -> None:
        state["version"] = versions.allocate(T, doc)
        model.allocated = max(model.allocated, state["version"])

    def upload() -> None:
        state["draft"] = draft(doc, state["version"], name, chunks)
        versions.upload(T, state["draft"][2])

    def publish() -> None:
        row, records, _ = state["draft"]
        try:
            current = versions.publish(row, records)
        except ConflictError:  # the document was deleted after this write took its number
            assert row.version <= model.deleted_through
            state["published"] = False
            return
        assert row.version > model.deleted_through
        newest = model.current is None or row.version > model.current
        assert current == newest
        if current:
            model.current = row.version
        state["published"] = current

    def tidy() -> None:
        if state["published"]:
            versions.tidy(state["draft"][0])

    return [allocate, upload, publish, tidy]


def deleter_steps(versions: VersionWriter, model: Model, doc: str) -> Steps:
    state: dict[str, int] = {}

    def forget() -> None:
        try:
            state["through"] = versions.forget(T, doc)
        except NotFoundError:
            assert model.current is None
            return
        assert model.current is not None
        model.current = None
        model.deleted_through = model.allocated

    def purge() -> None:
        if "through" in state:
            versions.purge(T, doc, state["through"])

    return [forget, purge]


def draft(
    doc: str, version: int, writer: str, chunks: int
) -> tuple[DocumentVersion, list[ChunkRecord], list[ChunkPoint]]:
    write_id = f"{writer}-{version}"
    texts = [f"words {writer} part {i}" for i in range(chunks)]
    row = DocumentVersion(
        tenant=T,
        doc_id=doc,
        version=version,
        content_sha256="0" * 64,
        source_sha256="0" * 64,
        write_id=write_id,
        text=" ".join(texts),
        labels=["public"],
        chunk_count=chunks,
        ingested_at=NOW,
    )
    records, points = [], []
    for i, text in enumerate(texts):
        chunk_id = f"{doc}#v{version}#c{i}"
        records.append(
            ChunkRecord(
                tenant=T,
                chunk_id=chunk_id,
                doc_id=doc,
                version=version,
                chunk_index=i,
                char_start=0,
                char_end=len(text),
            )
        )
        payload = ChunkPayload(
            chunk_id=chunk_id,
            doc_id=doc,
            version=version,
            chunk_index=i,
            title="",
            source_uri="",
            text=text,
            char_start=0,
            char_end=len(text),
            page=None,
            labels=("public",),
            content_sha256="0" * 64,
            ingested_at=NOW,
            source_updated_at=None,
            write_id=write_id,
        )
        points.append(ChunkPoint(payload, EMBEDDER.embed_query(text), BM25.encode_document(text)))
    return row, records, points


@st.composite
def interleavings(draw: st.DrawFn) -> tuple[list[int], list[int], bool]:
    """Chunk counts of the two writers, the order in which the three actors take their next step
    (writer 0 and 1 take four steps each, the deleter two), and whether a version exists up front."""
    order = draw(st.permutations([0] * 4 + [1] * 4 + [2] * 2))
    chunks = [draw(st.integers(1, 3)), draw(st.integers(1, 3))]
    return chunks, list(order), draw(st.booleans())


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    built = make_engine(database_url)
    migrate(built)
    yield built
    built.dispose()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=interleavings())
def test_any_interleaving_of_two_writers_and_a_deleter_leaves_db_and_engine_agreeing(
    engine: Engine, shared_store: VectorStore, case: tuple[list[int], list[int], bool]
) -> None:
    chunks, order, existing = case
    doc = f"doc-{secrets.token_hex(4)}"  # a fresh document for every example
    versions = VersionWriter(engine, shared_store)
    model = Model(current=None)
    if existing:
        for step in writer_steps(versions, model, doc, "seed", 2):
            step()
    actors = [
        writer_steps(versions, model, doc, "a", chunks[0]),
        writer_steps(versions, model, doc, "b", chunks[1]),
        deleter_steps(versions, model, doc),
    ]
    for index in order:
        actors[index].pop(0)()  # the next step of that actor
    check_agreement(engine, shared_store, doc, model.current)


def check_agreement(engine: Engine, store: VectorStore, doc: str, expected: int | None) -> None:
    with Session(engine) as session:
        document = session.get(Document, (T, doc))
        current = None if document is None else session.get(DocumentVersion, (T, doc, expected))
    if expected is None:
        assert document is None
        assert store.count(T, doc) == 0
        return
    assert document is not None and document.current_version == expected and current is not None
    hits = store.search(
        T,
        Query(sparse=BM25.encode_query("words"), filters=SearchFilters(doc_ids=(doc,))),
        allowed=AccessFilter.everything(T),
        k=50,
        candidates=50,
    )
    assert sorted(h.payload.chunk_id for h in hits) == [
        f"{doc}#v{expected}#c{i}" for i in range(current.chunk_count)
    ]
    assert {h.payload.write_id for h in hits} == {current.write_id}
    assert store.count(T, doc) == store.count(T, doc, version=expected) == current.chunk_count


def test_writers_racing_for_a_new_document_s_first_number_all_get_distinct_ones(engine: Engine) -> None:
    """The first number of a document inserts its allocation row; losers of that race must move on to
    the next number, not fail or repeat the winner's."""
    versions = VersionWriter(engine, FakeUnusedStore())
    start = threading.Barrier(6)
    numbers: list[int] = []

    def allocate_three() -> None:
        start.wait()
        numbers.extend(versions.allocate(T, "fresh") for _ in range(3))

    threads = [threading.Thread(target=allocate_three) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(numbers) == list(range(1, 19))
