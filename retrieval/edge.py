"""The embedded Qdrant engine (``qdrant-edge-py``): one shard per tenant in ``<data_dir>/shards/<tenant>``.

A shard directory is held by one process (its WAL is locked), so in embedded mode exactly one process
— the API server, or a CLI command when no server runs — owns the index. Edge has no background
optimizer: after enough writes we build the HNSW and payload indexes ourselves (``optimize``).

Memory stays bounded however large a shard grows (docs/memory.md): vectors, HNSW graphs, payloads
and payload indexes are memory-mapped files (``EdgeMemory.placement``), segments are capped
(``max_segment_mb``) so one index build never covers the whole shard, and a shard is reopened after
builds, which drops the heap and mapped pages the builds left behind.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TextIO

import qdrant_edge as qe

from core.access import AccessFilter
from core.errors import ConflictError, TesseraError, UnavailableError
from core.hashing import point_uuid
from core.types import TenantId
from retrieval.payload import (
    DENSE,
    INTEGER_FIELDS,
    KEYWORD_FIELDS,
    SPARSE,
    FilterSpec,
    document_filter,
    from_payload,
    search_filter,
    to_payload,
)
from retrieval.ports import ChunkPoint, Fusion, FusionMethod, Hit, Query

log = logging.getLogger(__name__)

# Writes since the last optimize before we rebuild indexes; below Qdrant's own indexing threshold a
# plain scan is as fast as HNSW, above it an unindexed segment makes every search slower.
OPTIMIZE_EVERY = 2_000
OPTIMIZE_AFTER_BATCH = 500
# Writes between reopenings of a shard. The engine keeps what an index build made in RAM (about 4 kB
# a point, measured) until the shard is loaded again from its files; reopening costs about a second.
REOPEN_EVERY = 20_000
# Qdrant's own HNSW defaults, spelled out because a graph's memory placement comes with them.
_HNSW_M, _HNSW_EF_CONSTRUCT, _FULL_SCAN_KB = 16, 100, 10_000

Placement = Literal["cold", "cached"]


@dataclass(frozen=True)
class EdgeMemory:
    """Where a shard's structures live. ``cold``: memory-mapped, read from disk when first touched, so
    the resident set follows what is searched, not the shard's size; ``cached``: memory-mapped and
    read in when the shard opens (first searches faster, memory grows with the shard).
    ``max_segment_mb`` caps a segment's vectors: an index build (merge or HNSW) covers one segment,
    so its memory follows this cap, not the shard; more segments cost some search time on huge shards."""

    placement: Placement = "cold"
    max_segment_mb: int = 64  # the setting's default (core.settings.QdrantSettings)

    def __post_init__(self) -> None:
        if self.placement not in ("cold", "cached"):
            raise ValueError(f"placement must be 'cold' or 'cached', got {self.placement!r}")
        if self.max_segment_mb < 1:
            raise ValueError(f"max_segment_mb must be at least 1, got {self.max_segment_mb}")

    @property
    def engine_memory(self) -> qe.Memory:
        return qe.Memory.Cold if self.placement == "cold" else qe.Memory.Cached


def to_edge_filter(spec: FilterSpec) -> qe.Filter:
    must: list[Any] = [qe.FieldCondition(key=k, match=qe.MatchValue(value)) for k, value in spec.equals]
    must += [qe.FieldCondition(key=k, match=_match_any(values)) for k, values in spec.any_of]
    must += [qe.FieldCondition(key=k, range=qe.RangeFloat(lt=limit)) for k, limit in spec.below]
    must_not: list[Any] = [qe.FieldCondition(key=k, match=_match_any(values)) for k, values in spec.none_of]
    return qe.Filter(must=must, must_not=must_not or None)


def _edge_fusion(fusion: Fusion) -> Any:
    """The engine's fusion for ``fusion`` (typed ``Any``: the stub lists ``Fusion``, not its members)."""
    if fusion.method == FusionMethod.DBSF:
        return qe.Fusion.Dbsf()
    weights = None if fusion.dense_weight == 1.0 else [fusion.dense_weight, 1.0]
    return qe.Fusion.Rrf(k=fusion.rrf_k, weights=weights)


def _match_any(values: tuple[str | int, ...]) -> qe.MatchAny:
    strings = [v for v in values if isinstance(v, str)]
    if len(strings) == len(values):
        return qe.MatchAny(strings)
    integers = [v for v in values if isinstance(v, int)]
    if len(integers) == len(values):
        return qe.MatchAny(integers)
    raise ValueError("the values of one filter condition must be all strings or all integers")


def _hit(point: Any, *, with_dense: bool) -> Hit:
    point_tenant, payload = from_payload(dict(point.payload or {}))
    stored = point.vector if with_dense else None
    dense = list(stored[DENSE]) if stored else None
    return Hit(tenant=point_tenant, payload=payload, score=float(point.score), dense=dense)


class _TenantShard:
    def __init__(self, shard: qe.EdgeShard) -> None:
        self.shard = shard
        self.lock = threading.Lock()
        self.pending_writes = 0
        self.since_reopen = 0


class EdgeVectorStore:
    def __init__(
        self, root: Path, *, dimension: int, owner: str = "tessera", memory: EdgeMemory | None = None
    ) -> None:
        self._root = root
        self._dimension = dimension
        self._memory = memory or EdgeMemory()
        self._shards: dict[str, _TenantShard] = {}
        self._lock = threading.Lock()
        root.mkdir(parents=True, exist_ok=True)
        self._owner_file = _claim(root, owner)

    def _config(self) -> qe.EdgeConfig:
        """The shard's configuration; also given when an existing shard is loaded, so a changed memory
        setting applies to old shards too (the engine checks the vector shapes still match)."""
        memory = self._memory.engine_memory
        return qe.EdgeConfig(
            vectors={
                DENSE: qe.EdgeVectorParams(size=self._dimension, distance=qe.Distance.Cosine, memory=memory)
            },
            sparse_vectors={SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf, memory=memory)},
            hnsw_config=qe.HnswIndexConfig(
                m=_HNSW_M, ef_construct=_HNSW_EF_CONSTRUCT, full_scan_threshold=_FULL_SCAN_KB, memory=memory
            ),
            payload_memory=memory,
            id_tracker_memory=memory,
            optimizers=qe.EdgeOptimizersConfig(max_segment_size=self._memory.max_segment_mb * 1024),
            # A tenant's shard is small: fanning one query over a thread pool costs more than it saves,
            # and the pool competes with the query encoder's threads for the cores (measured: the
            # engine's share of a search fell from ~4.7 ms to ~2.2 ms right after an embedding).
            max_search_threads=1,
        )

    def _open(self, tenant: TenantId, *, create: bool) -> _TenantShard | None:
        opened = self._shards.get(tenant)
        if opened is not None:
            return opened
        with self._lock:
            if tenant in self._shards:
                return self._shards[tenant]
            path = self._root / tenant
            exists = path.is_dir() and any(path.iterdir())
            if not exists and not create:
                return None
            try:
                shard = self._load_or_create(path, exists)
            except Exception as exc:
                raise _open_error(tenant, path, exc) from exc
            self._shards[tenant] = _TenantShard(shard)
            return self._shards[tenant]

    def _load_or_create(self, path: Path, exists: bool) -> qe.EdgeShard:
        if exists:
            return qe.EdgeShard.load(str(path), self._config())  # applies runtime settings to old shards
        path.mkdir(parents=True, exist_ok=True)
        shard = qe.EdgeShard.create(str(path), self._config())
        for field, params in _field_indexes(self._memory.engine_memory):
            shard.update(qe.UpdateOperation.create_field_index(field, params))
        return shard

    def _reopen(self, tenant: TenantId, held: _TenantShard) -> None:
        """Load the shard again from its files (caller holds ``held.lock``): frees what index builds
        left in RAM and unmaps the pages they touched; cold structures are read again only on use."""
        path = self._root / tenant
        held.shard.flush()
        held.shard.close()
        try:
            held.shard = self._load_or_create(path, exists=True)
        except Exception as exc:
            # Forget the closed shard so the next call opens it afresh. No store lock here: drop_tenant
            # takes it before a shard's lock, and this runs under the shard's lock.
            self._shards.pop(tenant, None)
            raise _open_error(tenant, path, exc) from exc
        held.since_reopen = 0

    def _optimized(self, tenant: TenantId, held: _TenantShard) -> None:
        """Build indexes (caller holds ``held.lock``), reopening the shard every ``REOPEN_EVERY`` writes."""
        held.shard.optimize()
        held.since_reopen += held.pending_writes
        held.pending_writes = 0
        if held.since_reopen >= REOPEN_EVERY:
            self._reopen(tenant, held)

    def upsert(self, tenant: TenantId, points: Sequence[ChunkPoint]) -> None:
        if not points:
            return
        held = self._open(tenant, create=True)
        assert held is not None
        edge_points = [
            qe.Point(
                id=point_uuid(tenant, p.payload.chunk_id, p.payload.write_id),
                vector={
                    DENSE: list(p.dense),
                    SPARSE: qe.SparseVector(list(p.sparse.indices), list(p.sparse.values)),
                },
                payload=to_payload(tenant, p.payload),
            )
            for p in points
        ]
        with held.lock, _writing(tenant):
            held.shard.update(qe.UpdateOperation.upsert_points(edge_points))
            held.pending_writes += len(edge_points)
            if held.pending_writes >= OPTIMIZE_EVERY:
                self._optimized(tenant, held)

    def search(
        self, tenant: TenantId, query: Query, *, allowed: AccessFilter, k: int, candidates: int
    ) -> list[Hit]:
        held = self._open(tenant, create=False)
        if held is None:
            return []
        flt = to_edge_filter(search_filter(tenant, allowed, query.filters))
        stages: list[qe.Prefetch] = []
        if query.dense is not None:
            dense = qe.Query.Nearest(list(query.dense), using=DENSE)
            stages.append(qe.Prefetch(limit=candidates, query=dense, filter=flt))
        if query.sparse is not None and query.sparse.indices:
            vector = qe.SparseVector(list(query.sparse.indices), list(query.sparse.values))
            stages.append(
                qe.Prefetch(limit=candidates, query=qe.Query.Nearest(vector, using=SPARSE), filter=flt)
            )
        if not stages:
            return []
        vectors = [DENSE] if query.with_dense else None
        if len(stages) == 1:
            request = qe.QueryRequest(
                limit=k, query=stages[0].query, filter=flt, with_payload=True, with_vector=vectors
            )
        else:
            request = qe.QueryRequest(
                limit=k,
                prefetches=stages,
                query=_edge_fusion(query.fusion),
                filter=flt,
                with_payload=True,
                with_vector=vectors,
            )
        with held.lock:  # a concurrent drop_tenant/close must not pull the shard out from under us
            found = held.shard.query(request)
        return [_hit(point, with_dense=query.with_dense) for point in found]

    def delete_older_versions(self, tenant: TenantId, doc_id: str, below_version: int) -> int:
        return self._delete(tenant, document_filter(tenant, doc_id, below_version=below_version))

    def delete_write(self, tenant: TenantId, doc_id: str, write_id: str) -> int:
        return self._delete(tenant, document_filter(tenant, doc_id, only_write=write_id))

    def _delete(self, tenant: TenantId, spec: FilterSpec) -> int:
        held = self._open(tenant, create=False)
        if held is None:
            return 0
        flt = to_edge_filter(spec)
        with held.lock, _writing(tenant):
            doomed = held.shard.count(qe.CountRequest(exact=True, filter=flt))
            if doomed:
                held.shard.update(qe.UpdateOperation.delete_points_by_filter(flt))
                held.pending_writes += doomed
        return int(doomed)

    def count(self, tenant: TenantId, doc_id: str | None = None, *, version: int | None = None) -> int:
        held = self._open(tenant, create=False)
        if held is None:
            return 0
        flt = to_edge_filter(document_filter(tenant, doc_id, version=version))
        with held.lock:
            return int(held.shard.count(qe.CountRequest(exact=True, filter=flt)))

    def optimize(self, tenant: TenantId) -> None:
        """Build indexes after a batch, when enough was written to matter. The engine holds the GIL while
        it optimizes, stalling every thread of the process, so small batches skip it: an unindexed tail
        of a few hundred points is scanned in well under a millisecond."""
        held = self._open(tenant, create=False)
        if held is not None and held.pending_writes >= OPTIMIZE_AFTER_BATCH:
            with held.lock, _writing(tenant):
                self._optimized(tenant, held)

    def drop_tenant(self, tenant: TenantId) -> None:
        with self._lock:
            held = self._shards.pop(tenant, None)
            if held is not None:
                with held.lock:
                    held.shard.close()
            shutil.rmtree(self._root / tenant, ignore_errors=True)

    def ready(self) -> bool:
        return self._root.is_dir()

    def close(self) -> None:
        with self._lock:
            for held in self._shards.values():
                with held.lock:
                    held.shard.flush()
                    held.shard.close()
            self._shards.clear()
        if not self._owner_file.closed:
            self._owner_file.close()  # releases the claim


def _field_indexes(memory: qe.Memory) -> list[tuple[str, Any]]:
    """Payload indexes, memory-mapped like the rest. Only ``labels`` gets the extra HNSW links the
    engine builds per indexed value: an access filter can select a small part of a shard, while
    ``tenant`` matches every point of its shard (its links would be a second copy of the graph, built
    on every optimisation) and ids and versions select a handful of points, found by the index alone."""
    keyword = [
        (field, qe.KeywordIndexParams(memory=memory, enable_hnsw=field == "labels"))
        for field in KEYWORD_FIELDS
    ]
    integer = [
        (field, qe.IntegerIndexParams(lookup=True, range=True, memory=memory, enable_hnsw=False))
        for field in INTEGER_FIELDS
    ]
    return keyword + integer


def _open_error(tenant: TenantId, path: Path, exc: Exception) -> TesseraError:
    """Why a shard did not open, in the caller's terms. The engine reports everything as one exception
    type; its message says whether the write-ahead log is locked (another process) or not."""
    message = str(exc)
    if "WouldBlock" in message:
        return ConflictError(
            f"the embedded index at {path} is held by another process; stop it or use its REST API"
        )
    if _disk_full(message):
        return UnavailableError(_DISK_FULL)
    log.error("the embedded index of tenant %s at %s cannot be opened: %s", tenant, path, message)
    return UnavailableError(
        f"the embedded index of tenant {tenant!r} cannot be read (damaged files?); "
        "restore it from a backup or re-ingest into a fresh data directory"
    )


_DISK_FULL = "the disk holding the embedded index is full; free some space and retry"


def _disk_full(message: str) -> bool:
    return "No space left on device" in message or "os error 28" in message


@contextmanager
def _writing(tenant: TenantId) -> Iterator[None]:
    """A write the disk had no room for is a 503 that says so, not an internal error."""
    try:
        yield
    except Exception as exc:
        if _disk_full(str(exc)):
            log.error("writing to the embedded index of tenant %s failed: %s", tenant, exc)
            raise UnavailableError(_DISK_FULL) from exc
        raise


def _claim(root: Path, owner: str) -> TextIO:
    """Hold ``root/.owner`` for this process's lifetime so a second process fails with a clear reason."""
    handle = (root / ".owner").open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise ConflictError(
            f"the embedded index under {root} is in use by {holder}; stop it, or use its REST API "
            "(in embedded mode one process owns the index)"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{owner} (pid {os.getpid()})")
    handle.flush()
    return handle
