"""The ingest spine: skip unchanged → parse + redact → chunk → embed → write, one outcome per item.

Work moves in windows through three overlapping stages: the preparer parses and redacts window
*n+1* (in another process by default), this thread chunks and embeds window *n*, and a writer thread
stores window *n-1*. A version is written to the engine first, made current in the database in one
transaction, and only then are older versions' points removed (``ingest.versions``: safe with other
writers and deleters of the same document); searches re-check the current version, so they see
exactly one version of a document at any time.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice

from sqlalchemy import Engine
from sqlmodel import Session

from acl.filters import WriteGrant, normalise_labels
from core.clock import utcnow
from core.db import session_scope
from core.errors import TesseraError
from core.hashing import sha256_hex
from core.types import TenantId
from ingest.chunk import Chunk, Chunker
from ingest.document import Source
from ingest.models import ItemStatus
from ingest.prepare import Outcome, Prepared, Preparer
from ingest.sources import BadSource
from ingest.versions import VersionWriter
from provenance import store as docs
from provenance.models import ChunkRecord, DocumentVersion
from retrieval.ports import ChunkPayload, ChunkPoint, Embedder, SparseEncoder, VectorStore

log = logging.getLogger(__name__)
Settle = Callable[[Session, "ItemOutcome"], None]
TITLE_MAX = 1000  # column sizes in provenance.models
URI_MAX = 2000


@dataclass(frozen=True)
class ItemOutcome:
    position: int
    name: str
    status: ItemStatus
    doc_id: str | None = None
    version: int | None = None
    chunks: int = 0
    error: str | None = None


@dataclass(frozen=True)
class _Planned:
    position: int
    source: Source
    source_sha256: str


@dataclass(frozen=True)
class _Ready:
    planned: _Planned
    prepared: Prepared
    chunks: list[Chunk]


class IngestPipeline:
    def __init__(
        self,
        *,
        engine: Engine,
        store: VectorStore,
        embedder: Callable[[], Embedder],
        sparse: SparseEncoder,
        chunker: Callable[[], Chunker],
        preparer: Callable[[], Preparer],
        redaction_policy: str,
        window: int = 64,
    ) -> None:
        """``redaction_policy`` names what the preparer redacts (``ingest.redact``); it is part of the
        unchanged-content fingerprint. Models are built on first use, so a re-ingest that finds
        nothing changed loads none of them."""
        self._engine = engine
        self._store = store
        self._versions = VersionWriter(engine, store)
        self._redaction_policy = redaction_policy
        self._embedder = embedder
        self._sparse = sparse
        self._chunker = chunker
        self._preparer = preparer
        self._window = window

    def run(
        self,
        tenant: TenantId,
        items: Iterable[Source | BadSource],
        *,
        labels: Sequence[str] = (),
        grant: WriteGrant,
        settle: Settle | None = None,
    ) -> Iterator[ItemOutcome]:
        """Ingest ``items``, yielding one outcome per item. ``grant`` is the submitter's write
        permission; each item is checked against it and against the labels of the document it would
        overwrite. ``settle`` runs inside the transaction that publishes an item, with its INDEXED
        outcome (a job records the item there: a crash right after the commit cannot leave a published
        item recorded as never processed)."""
        acl_labels = normalise_labels(labels)
        numbered = enumerate(items)
        sizes = _window_sizes(self._window)
        pending: tuple[list[_Planned], Callable[[], list[Outcome]]] | None = None
        writing: Future[list[ItemOutcome]] | None = None
        wrote = False
        # Three stages overlap: the preparer works on window n+1, this thread embeds window n, and
        # the writer thread stores window n-1 (BM25 vectors, engine and database writes).
        writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer")
        try:
            # Runs until the items are used up and the last window has been embedded and stored.
            while True:
                window = list(islice(numbered, next(sizes)))
                started: Callable[[], list[Outcome]] | None = None
                if window:
                    planned, done = self._plan(tenant, window, acl_labels, grant)
                    yield from done
                    started = self._preparer().start([p.source for p in planned]) if planned else None
                embedded = self._embed(*pending) if pending is not None else None
                if writing is not None:
                    outcomes = writing.result()
                    wrote = wrote or any(o.status == ItemStatus.INDEXED for o in outcomes)
                    yield from outcomes
                    writing = None
                if embedded is not None:
                    failed, ready, vectors = embedded
                    yield from failed
                    writing = writer.submit(
                        self._store_all, tenant, ready, vectors, acl_labels, grant, settle
                    )
                pending = (planned, started) if started is not None else None
                if not window and pending is None and writing is None:
                    break
        finally:
            writer.shutdown(wait=True)  # a consumer that stops early still leaves no write running
        if wrote:
            self._store.optimize(tenant)

    def _plan(
        self,
        tenant: TenantId,
        window: list[tuple[int, Source | BadSource]],
        labels: tuple[str, ...],
        grant: WriteGrant,
    ) -> tuple[list[_Planned], list[ItemOutcome]]:
        """Split a window into work to do and items already settled (bad input, refused, unchanged)."""
        sources = [(i, s) for i, s in window if isinstance(s, Source)]
        with session_scope(self._engine) as session:
            known = docs.sources_by_doc(session, tenant, [s.doc_id for _, s in sources])
        planned: list[_Planned] = []
        settled: list[ItemOutcome] = []
        writes_new = grant.permits(tenant, labels)
        for position, item in window:
            if isinstance(item, BadSource):
                settled.append(ItemOutcome(position, item.name, ItemStatus.FAILED, error=item.error))
                continue
            current = known.get(item.doc_id)
            # Checked before the unchanged shortcut, so no answer ever carries a version of a document
            # the caller may not write; an existing document it may not write fails exactly like a new
            # id with labels it may not write (same status, text, no version), so existence stays hidden.
            if not writes_new or (current is not None and not grant.permits(tenant, current.labels)):
                settled.append(_refused(position, item))
                continue
            try:
                digest = _source_digest(item)
            except OSError as exc:  # a file listed earlier and gone or locked by now
                settled.append(_unreadable(position, item, f"cannot read file ({exc.strerror})"))
                continue
            except UnicodeEncodeError:  # a lone UTF-16 surrogate: no database or encoder takes it
                settled.append(_unreadable(position, item, "text is not valid Unicode (a lone surrogate)"))
                continue
            if current is not None and self._unchanged(tenant, item.doc_id, digest, labels, current):
                settled.append(
                    ItemOutcome(position, item.name, ItemStatus.UNCHANGED, item.doc_id, current.version)
                )
            else:
                planned.append(_Planned(position, item, digest))
        return planned, settled

    def _unchanged(
        self, tenant: TenantId, doc_id: str, digest: str, labels: tuple[str, ...], current: docs.StoredSource
    ) -> bool:
        """Same fingerprint, and the engine still holds every point of the current version (one
        indexed count); a version whose points went missing is written again instead."""
        if current.fingerprint != docs.fingerprint(digest, labels, self._redaction_policy):
            return False
        present = self._store.count(tenant, doc_id, version=current.version)
        if present == current.chunk_count:
            return True
        log.warning(
            "%s v%d has %d of its %d chunks in the index: re-indexing it",
            doc_id,
            current.version,
            present,
            current.chunk_count,
        )
        return False

    def _embed(
        self, planned: list[_Planned], started: Callable[[], list[Outcome]]
    ) -> tuple[list[ItemOutcome], list[_Ready], list[list[float]]]:
        """Chunk and embed a prepared window; items that failed so far come back as outcomes."""
        failed: list[ItemOutcome] = []
        ready: list[_Ready] = []
        for plan, result in zip(planned, started(), strict=True):
            if isinstance(result, TesseraError):
                failed.append(_failed(plan, result.detail))
                continue
            try:
                ready.append(_Ready(plan, result, self._chunker().chunk(result.document)))
            except Exception as exc:  # a chunker bug fails this item, not the job
                log.exception("chunking %s failed", plan.source.doc_id)
                failed.append(_failed(plan, f"could not chunk document ({type(exc).__name__})"))
        texts = [c.text for r in ready for c in r.chunks]
        return failed, ready, self._embedder().embed_documents(texts) if texts else []

    def _store_all(
        self,
        tenant: TenantId,
        ready: list[_Ready],
        vectors: list[list[float]],
        labels: tuple[str, ...],
        grant: WriteGrant,
        settle: Settle | None,
    ) -> list[ItemOutcome]:
        """On the writer thread: store each embedded document; a failure fails its own item only."""
        outcomes: list[ItemOutcome] = []
        dense = iter(vectors)
        for item in ready:
            item_vectors = [next(dense) for _ in item.chunks]
            plan = item.planned
            try:
                indexed = self._write(tenant, item, item_vectors, labels, grant, settle)
            except TesseraError as exc:
                outcomes.append(_failed(plan, exc.detail))
                continue
            except Exception as exc:
                log.exception("writing %s failed", plan.source.doc_id)
                outcomes.append(_failed(plan, f"could not store document ({type(exc).__name__})"))
                continue
            outcomes.append(indexed)
        return outcomes

    def _write(
        self,
        tenant: TenantId,
        item: _Ready,
        vectors: list[list[float]],
        labels: tuple[str, ...],
        grant: WriteGrant,
        settle: Settle | None,
    ) -> ItemOutcome:
        source = item.planned.source
        version = self._versions.allocate(tenant, source.doc_id)
        row, records, points = self._draft(tenant, item, vectors, labels, version)
        outcome = ItemOutcome(
            item.planned.position, source.name, ItemStatus.INDEXED, source.doc_id, version, len(records)
        )
        on_publish = (lambda session: settle(session, outcome)) if settle is not None else None
        # A version a newer one beat to publishing stays in the history and is reported as written.
        # The write permission is checked again at publish: the document may have been relabelled since
        # this item was planned.
        self._versions.write(
            row, records, points, on_publish, may_replace=lambda held: grant.permits(tenant, held)
        )
        return outcome

    def _draft(
        self,
        tenant: TenantId,
        item: _Ready,
        vectors: list[list[float]],
        labels: tuple[str, ...],
        version: int,
    ) -> tuple[DocumentVersion, list[ChunkRecord], list[ChunkPoint]]:
        """The rows and points of one version of a prepared, chunked and embedded document."""
        source, document = item.planned.source, item.prepared.document
        write_id = secrets.token_hex(8)
        now = utcnow()
        content_sha = sha256_hex(document.text)
        row = DocumentVersion(
            tenant=tenant,
            doc_id=source.doc_id,
            version=version,
            title=item.prepared.title[:TITLE_MAX],
            source_uri=item.prepared.source_uri[:URI_MAX],
            media_type=document.media_type,
            content_sha256=content_sha,
            source_sha256=item.planned.source_sha256,
            write_id=write_id,
            text=document.text,
            labels=list(labels),
            redaction_counts=document.redaction_counts,
            redaction_policy=self._redaction_policy,
            doc_metadata=item.prepared.metadata,
            chunk_count=len(item.chunks),
            page_count=document.page_count,
            ingested_at=now,
            source_updated_at=source.source_updated_at,
        )
        records, points = [], []
        for chunk, vector in zip(item.chunks, vectors, strict=True):
            chunk_id = f"{source.doc_id}#v{version}#c{chunk.index}"
            records.append(
                ChunkRecord(
                    tenant=tenant,
                    chunk_id=chunk_id,
                    doc_id=source.doc_id,
                    version=version,
                    chunk_index=chunk.index,
                    char_start=chunk.char_start,
                    char_end=chunk.char_end,
                    page=chunk.page,
                    element_type=chunk.element_type,
                )
            )
            payload = ChunkPayload(
                chunk_id=chunk_id,
                doc_id=source.doc_id,
                version=version,
                chunk_index=chunk.index,
                title=row.title,
                source_uri=row.source_uri,
                text=chunk.text,
                char_start=chunk.char_start,
                char_end=chunk.char_end,
                page=chunk.page,
                labels=labels,
                content_sha256=content_sha,
                ingested_at=now,
                source_updated_at=source.source_updated_at,
                element_type=chunk.element_type,
                write_id=write_id,
                metadata=item.prepared.metadata,
            )
            sparse = self._sparse.encode_document(chunk.text, title=row.title)
            points.append(ChunkPoint(payload, vector, sparse))
        return row, records, points


def _window_sizes(largest: int) -> Iterator[int]:
    """4, 8, 16, ... up to ``largest``: the encoder idles until the first window is prepared, so that
    one is small; later ones are big enough to keep the preparer a whole window ahead."""
    size = min(4, largest)
    while True:
        yield size
        size = min(size * 2, largest)


def _source_digest(source: Source) -> str:
    raw = source.read() if source.text is None else f"{source.title}\x1f{source.text}".encode()
    if not source.metadata:  # the digest sources without metadata have always had
        return sha256_hex(raw)
    # Changed metadata (a new URL, owner or tag) is a new version, so hits never carry stale values.
    return sha256_hex(raw + b"\x1f" + json.dumps(source.metadata, sort_keys=True).encode())


def _unreadable(position: int, source: Source, reason: str) -> ItemOutcome:
    return ItemOutcome(position, source.name, ItemStatus.FAILED, error=reason)


def _refused(position: int, source: Source) -> ItemOutcome:
    reason = docs.refused_write(source.doc_id)
    return ItemOutcome(position, source.name, ItemStatus.FAILED, source.doc_id, error=reason)


def _failed(plan: _Planned, reason: str) -> ItemOutcome:
    return ItemOutcome(plan.position, plan.source.name, ItemStatus.FAILED, plan.source.doc_id, error=reason)
