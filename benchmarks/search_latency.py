"""Search latency through the real API, next to the bare cost of embedding the query, in one run.

Builds a large index fast: a few thousand real SciFact texts are embedded once and every synthetic
chunk reuses one of them (vector plus a little gaussian noise, re-normalised), spread over tenants,
with matching provenance rows so the search re-check keeps every hit. Then ``tessera serve`` runs on
that data directory and POST /v1/search is timed, one request after another on one keep-alive
connection, for each mode; the query-embedding baseline runs in this process while the server idles.

    python -m benchmarks.search_latency --corpus ../shared/data/scifact/corpus.jsonl \\
        --queries ../shared/data/scifact/queries_train.jsonl [--chunks 100000 --tenants 10] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, insert

from acl.keys import create_key
from core.clock import utcnow
from core.db import make_engine, migrate, session_scope
from core.hashing import sha256_hex
from core.offline import enforce_offline
from core.settings import Settings
from core.types import TenantId, tenant_id
from provenance.models import ChunkRecord, Document, DocumentVersion
from retrieval.bm25 import QdrantBm25Encoder
from retrieval.edge import EdgeVectorStore
from retrieval.embedders import SentenceTransformerEmbedder
from retrieval.ports import ChunkPayload, ChunkPoint, SparseVector

Vectors = npt.NDArray[np.float32]

TARGET_P50_RATIO = 1.5  # HTTP hybrid p50 / bare embed_query p50
TARGET_P95_MS = 60.0  # HTTP hybrid p95
MODES = ("hybrid", "dense", "bm25")
CHUNK_SEPARATOR = "\n\n"
MAX_CHUNKS_PER_DOC = 7  # documents get 1..7 chunks, ~4 on average
_METRIC_RE = re.compile(
    r'^tessera_http_request_seconds_(sum|count)\{method="POST",route="/v1/search"\} (\S+)$', re.M
)


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
        doc_id = f"{tenant}/doc-{number:06d}"
        parts = [self._base.texts[i] for i in picks]
        text = CHUNK_SEPARATOR.join(p.text for p in parts)
        content_sha = sha256_hex(text)
        title, uri = parts[0].title, f"scifact://{parts[0].source_id}"
        points: list[ChunkPoint] = []
        start = 0
        for index, (part, pick, dense) in enumerate(zip(parts, picks, self.noisy(picks), strict=True)):
            end = start + len(part.text)
            payload = ChunkPayload(
                chunk_id=f"{doc_id}#v1#c{index}",
                doc_id=doc_id,
                version=1,
                chunk_index=index,
                title=title,
                source_uri=uri,
                text=text[start:end],
                char_start=start,
                char_end=end,
                page=None,
                labels=("public",),
                content_sha256=content_sha,
                ingested_at=self._now,
                source_updated_at=None,
            )
            points.append(ChunkPoint(payload, dense.tolist(), self._base.sparse[pick]))
            rows.chunks.append(_chunk_row(tenant, payload))
            start = end + len(CHUNK_SEPARATOR)
        rows.documents.append(_document_row(tenant, doc_id, title, uri, self._now))
        rows.versions.append(_version_row(tenant, doc_id, title, uri, text, len(points), self._now))
        return points


def _document_row(tenant: str, doc_id: str, title: str, uri: str, now: datetime) -> dict[str, Any]:
    return {
        "tenant": tenant,
        "doc_id": doc_id,
        "current_version": 1,
        "title": title,
        "source_uri": uri,
        "created_at": now,
        "updated_at": now,
    }


def _version_row(
    tenant: str, doc_id: str, title: str, uri: str, text: str, chunks: int, now: datetime
) -> dict[str, Any]:
    digest = sha256_hex(text)
    return {
        "tenant": tenant,
        "doc_id": doc_id,
        "version": 1,
        "title": title,
        "source_uri": uri,
        "media_type": "text/plain",
        "content_sha256": digest,
        "source_sha256": digest,
        "text": text,
        "labels": ["public"],
        "redaction_counts": {},
        "meta": {},
        "chunk_count": chunks,
        "page_count": None,
        "ingested_at": now,
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
    engine = make_engine(settings.resolved_database_url)
    try:
        with session_scope(engine) as session:
            return [create_key(session, t, "bench", ("admin",)).token for t in tenants]
    finally:
        engine.dispose()


# --- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_command(port: int) -> list[str]:
    """``tessera serve`` from this interpreter's environment (the console script beside python)."""
    script = Path(sys.executable).parent / "tessera"
    program = [str(script)] if script.exists() else [sys.executable, "-m", "api"]
    return [*program, "serve", "--port", str(port)]


@contextmanager
def running_server(data_dir: Path, port: int, log_path: Path, timeout_s: float = 120) -> Iterator[str]:
    """Start the API on ``data_dir``, yield its base URL once /readyz answers, stop it gracefully."""
    env = {**os.environ, "TESSERA_DATA_DIR": str(data_dir)}
    with log_path.open("wb") as server_log:
        process = subprocess.Popen(serve_command(port), env=env, stdout=server_log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process, log_path, timeout_s)
        yield base
    finally:
        process.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown: lifespan closes the shards
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            log("server did not stop within 30 s; killing it")
            process.kill()
            process.wait()


def _wait_ready(base: str, process: subprocess.Popen[bytes], log_path: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}:\n{_tail(log_path)}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server not ready after {timeout_s:.0f} s:\n{_tail(log_path)}")


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# --- measurements -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    n: int
    mean_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


def summarise(seconds: Sequence[float]) -> Summary:
    ms = np.asarray(seconds) * 1000.0
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    return Summary(len(ms), float(ms.mean()), float(p50), float(p95), float(p99))


class SearchClient:
    """Sequential POST /v1/search on one keep-alive connection, round-robin over the tenants' keys."""

    def __init__(self, base: str, tokens: Sequence[str], k: int) -> None:
        self._client = httpx.Client(base_url=base, timeout=60)
        self._auth = [{"Authorization": f"Bearer {t}"} for t in tokens]
        self._k = k

    def search(self, i: int, query: str, mode: str) -> tuple[float, dict[str, Any]]:
        body = {"query": query, "k": self._k, "mode": mode}
        started = time.perf_counter()
        response = self._client.post("/v1/search", json=body, headers=self._auth[i % len(self._auth)])
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"search failed with {response.status_code}: {response.text[:500]}")
        return elapsed, response.json()

    def run(self, queries: Sequence[str], mode: str) -> list[float]:
        return [self.search(i, q, mode)[0] for i, q in enumerate(queries)]

    def server_seconds(self) -> tuple[float, int]:
        """Sum and count of /v1/search time as the app's own middleware measured it (Prometheus)."""
        found = dict(_METRIC_RE.findall(self._client.get("/metrics").text))
        return float(found.get("sum", 0.0)), int(float(found.get("count", 0)))

    def check(self, query: str) -> None:
        """The synthetic rows must agree with the index: k hits survive the re-check, offsets hold."""
        hit_lists = [self.search(i, query, "hybrid")[1]["hits"] for i in range(len(self._auth))]
        for hits in hit_lists:
            if len(hits) != self._k:
                raise SystemExit(f"expected {self._k} hits, got {len(hits)}: index and database disagree")
        hit = hit_lists[0][0]
        stored = self._client.get(
            f"/v1/documents/{hit['doc_id']}/versions/{hit['version']}/text",
            params={"start": hit["char_start"], "end": hit["char_end"]},
            headers=self._auth[0],
        ).json()
        if stored.get("text") != hit["text"]:
            raise SystemExit(f"stored text at the hit's offsets differs from the hit: {stored}")

    def close(self) -> None:
        self._client.close()


def time_embedding(embedder: SentenceTransformerEmbedder, queries: Sequence[str], warmup: int) -> list[float]:
    for query in queries[:warmup]:
        embedder.embed_query(query)
    seconds = []
    for query in queries:
        started = time.perf_counter()
        embedder.embed_query(query)
        seconds.append(time.perf_counter() - started)
    return seconds


def time_modes(client: SearchClient, queries: Sequence[str], modes: Sequence[str]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for mode in modes:
        client.run(queries[:5], mode)  # a mode's first calls may touch cold paths
        before_sum, before_n = client.server_seconds()
        summary = summarise(client.run(queries, mode))
        after_sum, after_n = client.server_seconds()
        server_mean = (after_sum - before_sum) / max(1, after_n - before_n) * 1000.0
        results[mode] = {**asdict(summary), "server_mean_ms": server_mean}
        log(f"  {mode}: p50 {summary.p50_ms:.1f} ms, p95 {summary.p95_ms:.1f} ms")
    return results


# --- the run ------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, required=True, help="BEIR corpus.jsonl (texts to reuse)")
    parser.add_argument("--queries", type=Path, required=True, help="BEIR queries .jsonl (query texts)")
    parser.add_argument("--chunks", type=int, default=100_000, help="chunks in the index")
    parser.add_argument("--tenants", type=int, default=10, help="tenants (one shard each)")
    parser.add_argument("-q", "--num-queries", type=int, default=300, help="timed queries per mode")
    parser.add_argument("-k", type=int, default=10, help="hits per search")
    parser.add_argument("--base-docs", type=int, default=3000, help="real texts embedded and reused")
    parser.add_argument("--max-chars", type=int, default=1000, help="chunk text length (~200 tokens)")
    parser.add_argument("--noise", type=float, default=0.02, help="gaussian noise per vector dimension")
    parser.add_argument("--batch", type=int, default=2000, help="points per upsert")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests after start-up")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated: hybrid,dense,bm25")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument("--keep", action="store_true", help="keep the temp data dir (its path is logged)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    if args.chunks < args.tenants or args.tenants < 1:
        parser.error(f"--chunks must be at least --tenants (>= 1), got {args.chunks} and {args.tenants}")
    if any(m not in MODES for m in args.modes.split(",")):
        parser.error(f"--modes must name some of {','.join(MODES)}, got {args.modes!r}")
    return args


def build(args: argparse.Namespace, settings: Settings, embedder: SentenceTransformerEmbedder) -> BuildTimes:
    started = time.perf_counter()
    base = embed_base(read_base_texts(args.corpus, args.base_docs, args.max_chars), embedder)
    embedded = time.perf_counter() - started
    log(f"embedded {len(base.texts)} base texts in {embedded:.1f} s; writing {args.chunks} chunks")
    builder = IndexBuilder(base, noise=args.noise, seed=args.seed)
    tenants = [tenant_id(f"tenant-{i:02d}") for i in range(args.tenants)]
    upsert_s, optimize_s, database_s = build_index(settings, builder, tenants, args.chunks, args.batch)
    return BuildTimes(embedded, upsert_s, optimize_s, database_s, time.perf_counter() - started)


def measure(
    args: argparse.Namespace, data_dir: Path, embedder: SentenceTransformerEmbedder
) -> dict[str, Any]:
    settings = Settings(data_dir=data_dir)
    tenants = [tenant_id(f"tenant-{i:02d}") for i in range(args.tenants)]
    tokens = issue_keys(settings, tenants)
    queries = read_queries(args.queries, args.num_queries)
    with running_server(data_dir, free_port(), data_dir / "server.log") as base:
        client = SearchClient(base, tokens, args.k)
        try:
            started = time.perf_counter()
            client.run(queries[: args.warmup], "hybrid")  # loads the model and opens every shard
            log(f"server warm after {time.perf_counter() - started:.1f} s")
            client.check(queries[0])
            log("embedding baseline (server idle)")
            embed = summarise(time_embedding(embedder, queries, args.warmup))
            log("timing searches")
            http = time_modes(client, queries, args.modes.split(","))
        finally:
            client.close()
    return {"embed_query": asdict(embed), "http": http}


def verdict(results: dict[str, Any]) -> dict[str, Any]:
    embed_p50 = results["embed_query"]["p50_ms"]
    hybrid = results["http"].get("hybrid")
    if hybrid is None:
        return {"met": None}
    ratio = hybrid["p50_ms"] / embed_p50
    return {
        "hybrid_p50_over_embed_p50": ratio,
        "ratio_target": TARGET_P50_RATIO,
        "hybrid_p95_ms": hybrid["p95_ms"],
        "p95_target_ms": TARGET_P95_MS,
        "met": ratio <= TARGET_P50_RATIO and hybrid["p95_ms"] <= TARGET_P95_MS,
    }


def render(report: dict[str, Any]) -> str:
    cfg, build_times, targets = report["config"], report["build"], report["targets"]
    lines = [
        f"index: {cfg['chunks']} chunks, {cfg['tenants']} tenants, k={cfg['k']}, {cfg['num_queries']} queries"
        f" per mode; built in {build_times['total_s']:.0f} s (embed {build_times['embed_base_s']:.0f},"
        f" upsert {build_times['upsert_s']:.0f}, optimize {build_times['optimize_s']:.0f},"
        f" db {build_times['database_s']:.0f})",
        f"{'':<22}{'p50':>9}{'p95':>9}{'p99':>9}{'mean':>9}{'server':>9}  (ms)",
    ]
    rows = [(f"embed_query (bare)", report["embed_query"], None)]
    rows += [(f"HTTP {m}", s, s["server_mean_ms"]) for m, s in report["http"].items()]
    for name, s, server in rows:
        server_col = f"{server:>9.2f}" if server is not None else f"{'-':>9}"
        lines.append(
            f"{name:<22}{s['p50_ms']:>9.2f}{s['p95_ms']:>9.2f}{s['p99_ms']:>9.2f}{s['mean_ms']:>9.2f}{server_col}"
        )
    if targets.get("met") is not None:
        lines.append(
            f"hybrid p50 / embed p50 = {targets['hybrid_p50_over_embed_p50']:.2f} (target <= "
            f"{TARGET_P50_RATIO}); hybrid p95 = {targets['hybrid_p95_ms']:.1f} ms (target <= "
            f"{TARGET_P95_MS:.0f} ms): {'met' if targets['met'] else 'NOT met'}"
        )
    lines.append("'server' = mean time inside the app (its Prometheus histogram), excluding uvicorn/HTTP")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    enforce_offline()
    data_dir = Path(tempfile.mkdtemp(prefix="tessera-bench-"))
    try:
        log(f"data dir {data_dir}; loading the embedding model")
        embedder = SentenceTransformerEmbedder()
        build_times = build(args, Settings(data_dir=data_dir), embedder)
        results = measure(args, data_dir, embedder)
    finally:
        if args.keep:
            log(f"kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    config = {k: v for k, v in vars(args).items() if k not in ("json", "keep", "check")}
    report = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in config.items()},
        "build": asdict(build_times),
        **results,
        "targets": verdict(results),
    }
    text = render(report)
    if args.json:
        log(text)
        print(json.dumps(report))
    else:
        print(text)
    return 1 if args.check and report["targets"].get("met") is False else 0


if __name__ == "__main__":
    sys.exit(main())
