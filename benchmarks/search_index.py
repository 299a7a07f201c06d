"""The synthetic index for ``benchmarks.search_latency``: real texts embedded once, reused as chunks.

A few thousand real SciFact texts are embedded once and every synthetic chunk reuses one of them
(vector plus a little gaussian noise, re-normalised), spread over tenants, with matching provenance
rows so that the search re-check keeps every hit.
"""

from __future__ import annotations

import json
import secrets
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, insert

from acl.admin import Actor
from api.runtime import build_access_services
from core.clock import utcnow
from core.db import make_engine, migrate, session_scope
from core.hashing import sha256_hex
from core.settings import Settings
from core.types import TenantId
from provenance.models import ChunkRecord, Document, DocumentVersion
from retrieval.bm25 import QdrantBm25Encoder
from retrieval.edge import EdgeVectorStore
from retrieval.embedders import SentenceTransformerEmbedder
from retrieval.ports import ChunkPayload, ChunkPoint, SparseVector

Vectors = npt.NDArray[np.float32]
CHUNK_SEPARATOR = "\n\n"
MAX_CHUNKS_PER_DOC = 7  # documents get 1..7 chunks, ~4 on average


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the corpus ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BaseText:
    """A real text every synthetic chunk copies; its vectors are computed once."""

    source_id: str
    title: str
    text: str


def read_base_texts(corpus: Path, limit: int, max_chars: int) -> list[BaseText]:
    """The first ``limit`` SciFact documents as chunk-sized texts (title + abstract, cut at a word)."""
    texts: list[BaseText] = []
    with corpus.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            body = f"{row.get('title', '')}{CHUNK_SEPARATOR}{row.get('text', '')}".strip()
            if len(body) > max_chars:
                body = body[:max_chars].rsplit(" ", 1)[0]
            texts.append(BaseText(str(row["_id"]), str(row.get("title", "")), body))
            if len(texts) == limit:
                break
    return texts


def read_queries(path: Path, count: int) -> list[str]:
    with path.open(encoding="utf-8") as lines:
        queries = [str(json.loads(line)["text"]) for line in lines if line.strip()]
    if not queries:
        raise SystemExit(f"no queries in {path}")
    return [queries[i % len(queries)] for i in range(count)]


# --- the synthetic index ------------------------------------------------------------------------


@dataclass(frozen=True)
class Base:
    texts: list[BaseText]
    dense: Vectors
    sparse: list[SparseVector]


@dataclass
class Rows:
    """Provenance rows of one tenant, written in one transaction with bulk inserts."""

    documents: list[dict[str, Any]]
    versions: list[dict[str, Any]]
    chunks: list[dict[str, Any]]


@dataclass(frozen=True)
class BuildTimes:
    embed_base_s: float
    upsert_s: float
    optimize_s: float
    database_s: float
    total_s: float


class IndexBuilder:
    def __init__(self, base: Base, *, noise: float, seed: int) -> None:
        self._base = base
        self._noise = noise
        self._rng = np.random.default_rng(seed)
        self._now = utcnow()

    @property
    def dimension(self) -> int:
        return int(self._base.dense.shape[1])

    def plan(self, n_chunks: int) -> list[list[int]]:
        """Base-text indices per document, ``n_chunks`` in total."""
        documents: list[list[int]] = []
        left = n_chunks
        while left > 0:
            size = min(left, int(self._rng.integers(1, MAX_CHUNKS_PER_DOC + 1)))
            documents.append(self._rng.integers(0, len(self._base.texts), size).tolist())
            left -= size
        return documents

    def noisy(self, picks: Sequence[int]) -> Vectors:
        vectors = self._base.dense[list(picks)]
        vectors = vectors + self._rng.normal(0.0, self._noise, vectors.shape).astype(np.float32)
        normalised: Vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        return normalised

    def document(self, tenant: TenantId, number: int, picks: Sequence[int], rows: Rows) -> list[ChunkPoint]:
        """One version-1 document made of the picked texts, with its rows and points."""
        doc = _SyntheticDoc(
            tenant=tenant,
            doc_id=f"{tenant}/doc-{number:06d}",
            parts=[self._base.texts[i] for i in picks],
            write_id=secrets.token_hex(8),
            now=self._now,
        )
        points: list[ChunkPoint] = []
        for index, (span, pick, dense) in enumerate(zip(doc.spans(), picks, self.noisy(picks), strict=True)):
            payload = doc.payload(index, *span)
            points.append(ChunkPoint(payload, dense.tolist(), self._base.sparse[pick]))
            rows.chunks.append(_chunk_row(tenant, payload))
        rows.documents.append(doc.document_row())
        rows.versions.append(doc.version_row(len(points)))
        return points


@dataclass(frozen=True)
class _SyntheticDoc:
    tenant: TenantId
    doc_id: str
    parts: list[BaseText]
    write_id: str
    now: datetime

    @cached_property
    def text(self) -> str:
        return CHUNK_SEPARATOR.join(p.text for p in self.parts)

    @cached_property
    def sha256(self) -> str:
        return sha256_hex(self.text)

    @property
    def title(self) -> str:
        return self.parts[0].title

    @property
    def uri(self) -> str:
        return f"scifact://{self.parts[0].source_id}"

    def spans(self) -> Iterator[tuple[int, int]]:
        start = 0
        for part in self.parts:
            yield start, start + len(part.text)
            start += len(part.text) + len(CHUNK_SEPARATOR)

    def payload(self, index: int, start: int, end: int) -> ChunkPayload:
        text = self.text
        return ChunkPayload(
            chunk_id=f"{self.doc_id}#v1#c{index}",
            doc_id=self.doc_id,
            version=1,
            chunk_index=index,
            title=self.title,
            source_uri=self.uri,
            text=text[start:end],
            char_start=start,
            char_end=end,
            page=None,
            labels=("public",),
            content_sha256=self.sha256,
            ingested_at=self.now,
            source_updated_at=None,
            element_type="NarrativeText",
            write_id=self.write_id,
        )

    def document_row(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "doc_id": self.doc_id,
            "current_version": 1,
            "title": self.title,
            "source_uri": self.uri,
            "created_at": self.now,
            "updated_at": self.now,
        }

    def version_row(self, chunks: int) -> dict[str, Any]:
        digest = self.sha256
        return {
            "tenant": self.tenant,
            "doc_id": self.doc_id,
            "version": 1,
            "title": self.title,
            "source_uri": self.uri,
            "media_type": "text/plain",
            "content_sha256": digest,
            "source_sha256": digest,
            "write_id": self.write_id,
            "text": self.text,
            "labels": ["public"],
            "redaction_counts": {},
            "chunk_count": chunks,
            "page_count": None,
            "ingested_at": self.now,
            "source_updated_at": None,
        }


def _chunk_row(tenant: str, p: ChunkPayload) -> dict[str, Any]:
    return {
        "tenant": tenant,
        "chunk_id": p.chunk_id,
        "doc_id": p.doc_id,
        "version": p.version,
        "chunk_index": p.chunk_index,
        "char_start": p.char_start,
        "char_end": p.char_end,
        "page": p.page,
        "element_type": "NarrativeText",
    }


def embed_base(texts: list[BaseText], embedder: SentenceTransformerEmbedder) -> Base:
    sparse = QdrantBm25Encoder()
    dense = np.asarray(embedder.embed_documents([t.text for t in texts]), dtype=np.float32)
    return Base(texts, dense, [sparse.encode_document(t.text) for t in texts])


def build_index(
    settings: Settings, builder: IndexBuilder, tenants: Sequence[TenantId], n_chunks: int, batch: int
) -> tuple[float, float, float]:
    """Upsert every tenant's points in batches, optimise each shard, write the rows; returns timings."""
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    store = EdgeVectorStore(settings.shards_dir, dimension=builder.dimension, owner="benchmark build")
    upsert_s = optimize_s = database_s = 0.0
    try:
        for position, tenant in enumerate(tenants):
            share = n_chunks // len(tenants) + (1 if position < n_chunks % len(tenants) else 0)
            rows = Rows([], [], [])
            started = time.perf_counter()
            pending: list[ChunkPoint] = []
            for number, picks in enumerate(builder.plan(share)):
                pending += builder.document(tenant, number, picks, rows)
                if len(pending) >= batch:
                    store.upsert(tenant, pending)
                    pending = []
            store.upsert(tenant, pending)
            upsert_s += time.perf_counter() - started
            started = time.perf_counter()
            store.optimize(tenant)
            optimize_s += time.perf_counter() - started
            started = time.perf_counter()
            _write_rows(engine, rows)
            database_s += time.perf_counter() - started
            log(f"  {tenant}: {share} chunks in {len(rows.documents)} documents")
    finally:
        store.close()
        engine.dispose()
    return upsert_s, optimize_s, database_s


def _write_rows(engine: Engine, rows: Rows) -> None:
    with session_scope(engine) as session:
        session.execute(insert(Document), rows.documents)
        session.execute(insert(DocumentVersion), rows.versions)
        session.execute(insert(ChunkRecord), rows.chunks)


def issue_keys(settings: Settings, tenants: Sequence[TenantId]) -> list[str]:
    """An admin key per tenant; a tenant's first key also creates its built-in roles."""
    services = build_access_services(settings)
    try:
        return [
            services.admin.issue_key(Actor(t, "benchmark"), "bench", roles=("admin",)).token for t in tenants
        ]
    finally:
        services.close()
