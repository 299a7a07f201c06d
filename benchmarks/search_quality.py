"""Search-time variants of SciFact-style retrieval over one kept eval tenant, without re-ingesting.

``tessera eval retrieval --keep`` ingests a BEIR corpus once through the real pipeline; this module then
runs the real ``SearchService`` over that index with other fusion settings, and scores every chunk
aggregation from the same hits::

    python -m benchmarks.search_quality grid --beir ../shared/data/scifact --split train \\
        --data-dir /tmp/eval-data --tenant eval_1234abcd --fusion rrf:60 --fusion dbsf --top 1 --top 2

``reencode`` copies a kept data dir and rewrites each stored chunk's vectors the way the ingest pipeline
would have written them under other BM25 parameters or title handling (same chunks, same payloads, same
point ids), so those variants cost one re-encode instead of a full ingest with redaction.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import qdrant_edge as qe

from api.runtime import Runtime, build_runtime
from core.settings import FeedbackSettings, SearchSettings, Settings
from core.types import TenantId
from evals import beir
from retrieval.bm25 import CHUNK_AVG_WORDS, DEFAULT_B, DEFAULT_K1, QdrantBm25Encoder, titled
from retrieval.edge import EdgeVectorStore
from retrieval.payload import DENSE, from_payload
from retrieval.ports import ChunkPayload, ChunkPoint, Embedder, Hit
from retrieval.search import Mode, SearchService


class CachedQueries:
    """The real encoder, asked once per distinct query: every variant searches the same 809 texts."""

    def __init__(self, embedder: Embedder, saved: Path | None = None) -> None:
        self._embedder = embedder
        self._saved = saved
        self._cache: dict[str, list[float]] = (
            json.loads(saved.read_text()) if saved and saved.exists() else {}
        )

    def save(self) -> None:
        """Keep the vectors for the next variant's run (same model, same queries)."""
        if self._saved is not None:
            self._saved.write_text(json.dumps(self._cache))

    @property
    def dimension(self) -> int:
        return self._embedder.dimension

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return self._embedder.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        if text not in self._cache:
            self._cache[text] = self._embedder.embed_query(text)
        return self._cache[text]


@dataclass(frozen=True)
class Variant:
    label: str
    mode: Mode
    settings: SearchSettings


def parse_fusion(spec: str, base: SearchSettings) -> Variant:
    """``dbsf``, ``rrf:K`` or ``rrf:K:W`` (dense weight W); candidates as ``...@M`` (multiplier M)."""
    spec, _, multiplier = spec.partition("@")
    parts = spec.split(":")
    update: dict[str, Any] = {"fusion": parts[0]}
    if parts[0] == "rrf":
        update["rrf_k"] = int(parts[1]) if len(parts) > 1 else base.rrf_k
        update["rrf_dense_weight"] = float(parts[2]) if len(parts) > 2 else 1.0
    if multiplier:
        update["candidate_multiplier"] = int(multiplier)
    label = spec + (f"@{multiplier}" if multiplier else "")
    return Variant(label, Mode.HYBRID, base.model_copy(update=update))


def parse_feedback(spec: str, base: SearchSettings) -> Variant:
    """``MODE:DOCS:TERMS:QW:DW`` - pseudo-relevance feedback (retrieval.feedback) over ``MODE``
    (hybrid, dense or bm25) from its ``DOCS`` best chunks: RM3 with ``TERMS`` terms and the original
    query's share ``QW``, Rocchio with the centroid weight ``DW``."""
    mode, docs, terms, query_weight, dense_weight = spec.split(":")
    feedback = FeedbackSettings(
        docs=int(docs), terms=int(terms), query_weight=float(query_weight), dense_weight=float(dense_weight)
    )
    return Variant(f"fb {spec}", Mode(mode), base.model_copy(update={"feedback": feedback}))


def halves(dataset: beir.BeirDataset, hits: dict[str, list[Hit]]) -> tuple[dict[str, list[Hit]], ...]:
    """The queries split in two by a stable hash of their id: tune on one half, report the other."""
    parts: tuple[dict[str, list[Hit]], dict[str, list[Hit]]] = ({}, {})
    for query_id, query_hits in hits.items():
        parts[zlib.crc32(query_id.encode()) % 2][query_id] = query_hits
    return parts


def run_grid(args: argparse.Namespace) -> None:
    dataset = beir.load(args.beir, args.split)
    settings = Settings(data_dir=args.data_dir)
    base = settings.search.model_copy(update={"max_k": beir.CHUNK_DEPTH})
    variants = [Variant("dense", Mode.DENSE, base), Variant("bm25", Mode.SPARSE, base)]
    variants = [v for v in variants if v.label in args.modes]
    variants += [parse_fusion(spec, base) for spec in args.fusion]
    variants += [parse_feedback(spec, base) for spec in args.feedback]
    runtime = build_runtime(settings, owner="benchmarks.search_quality")
    queries = CachedQueries(runtime.embedder(), args.query_cache)
    try:
        for variant in variants:
            started = time.perf_counter()
            hits = search_all(runtime, queries, TenantId(args.tenant), dataset, variant, args.depth)
            queries.save()
            elapsed = time.perf_counter() - started
            for top in args.top:
                aggregation = beir.Aggregation(top=top)
                result = beir.score(dataset, variant.mode, hits, aggregation)
                a, b = (
                    beir.score(dataset, variant.mode, h, aggregation).ndcg_at_10
                    for h in halves(dataset, hits)
                )
                print(
                    f"{variant.label:>24}  depth {args.depth:>3}  top {top}  "
                    f"nDCG@10 {result.ndcg_at_10:.4f} (halves A {a:.4f} / B {b:.4f})  "
                    f"Recall@100 {result.recall_at_100:.4f}  "
                    f"({elapsed:.0f} s, {1000 * elapsed / len(hits):.1f} ms/query)",
                    flush=True,
                )
    finally:
        runtime.close()


def search_all(
    runtime: Runtime,
    queries: CachedQueries,
    tenant: TenantId,
    dataset: beir.BeirDataset,
    variant: Variant,
    depth: int,
) -> dict[str, list[Hit]]:
    service = service_for(runtime, queries, variant)
    allowed = beir.AccessFilter.everything(tenant)
    return {
        query_id: service.search(allowed, beir.SearchRequest(query=text, k=depth, mode=variant.mode))
        for query_id, text in dataset.queries.items()
    }


def service_for(runtime: Runtime, embedder: Embedder, variant: Variant) -> SearchService:
    return SearchService(
        store=runtime.store,
        embedder=lambda: embedder,
        sparse=runtime.search._sparse,
        current_writes=runtime.search._current_writes,
        settings=variant.settings,
    )


def run_reencode(args: argparse.Namespace) -> None:
    if args.out.exists():
        sys.exit(f"{args.out} exists; pick a new directory")
    shutil.copytree(args.data_dir, args.out, ignore=shutil.ignore_patterns(".owner"))
    settings = Settings(data_dir=args.out)
    runtime = build_runtime(settings, owner="benchmarks.search_quality")
    sparse = QdrantBm25Encoder(k=args.bm25_k, b=args.bm25_b, avg_len=args.bm25_avg_len)
    store = runtime.store
    assert isinstance(store, EdgeVectorStore), "reencode works on the embedded engine's data dir"
    tenant = TenantId(args.tenant)
    try:
        stored = list(scroll(store, tenant))
        points = []
        changed = [(i, text_for(p, args.title)) for i, (p, _) in enumerate(stored) if args.title_dense]
        dense_texts = [(i, text) for i, text in changed if text != stored[i][0].text]
        embedded = embed(runtime, [text for _, text in dense_texts])
        vectors = {i: v for (i, _), v in zip(dense_texts, embedded, strict=True)}
        for i, (payload, dense) in enumerate(stored):
            title = payload.title if args.title_sparse else ""
            encoded = sparse.encode_document(payload.text, title=title)
            points.append(ChunkPoint(payload, vectors.get(i, dense), encoded))
        for start in range(0, len(points), 256):
            store.upsert(tenant, points[start : start + 256])
        store.optimize(tenant)
        print(f"re-encoded {len(points)} chunks into {args.out} ({len(vectors)} re-embedded)")
    finally:
        runtime.close()


def text_for(payload: ChunkPayload, title: str) -> str:
    """A chunk's text with its document's title in front, unless the chunk already starts with it."""
    return titled(payload.title, payload.text) if title == "prefix" else payload.text


def embed(runtime: Runtime, texts: list[str]) -> list[list[float]]:
    return runtime.embedder().embed_documents(texts) if texts else []


def scroll(store: EdgeVectorStore, tenant: TenantId) -> list[tuple[ChunkPayload, list[float]]]:
    held = store._open(tenant, create=False)
    assert held is not None, f"no shard for tenant {tenant}"
    stored: list[tuple[ChunkPayload, list[float]]] = []
    offset = None
    while True:
        page, offset = held.shard.scroll(
            qe.ScrollRequest(offset=offset, limit=1000, with_payload=True, with_vector=[DENSE])
        )
        for point in page:
            _, payload = from_payload(dict(point.payload or {}))
            vector: Any = point.vector
            stored.append((payload, list(vector[DENSE])))
        if offset is None:
            return stored


def run_latency(args: argparse.Namespace) -> None:
    """Per-query time of each variant at the API's k, with the real query encoder (embedding included),
    the variants taking turns query by query; the first variant is the baseline."""
    dataset = beir.load(args.beir, args.split)
    settings = Settings(data_dir=args.data_dir)
    base = settings.search
    variants = [Variant("default", Mode.HYBRID, base)] + [parse_feedback(s, base) for s in args.feedback]
    runtime = build_runtime(settings, owner="benchmarks.search_quality")
    texts = list(dataset.queries.values())[: args.queries]
    allowed = beir.AccessFilter.everything(TenantId(args.tenant))
    timings: dict[str, list[float]] = {v.label: [] for v in variants}
    try:
        services = {v.label: service_for(runtime, runtime.embedder(), v) for v in variants}
        for text in texts[:20]:  # warm the index pages and the encoder
            for v in variants:
                services[v.label].search(allowed, beir.SearchRequest(query=text, k=args.k, mode=v.mode))
        for _ in range(args.rounds):
            for text in texts:  # query by query in turn, so a neighbour's burst hits every variant
                for v in variants:
                    started = time.perf_counter()
                    services[v.label].search(allowed, beir.SearchRequest(query=text, k=args.k, mode=v.mode))
                    timings[v.label].append(1000 * (time.perf_counter() - started))
    finally:
        runtime.close()
    baseline = statistics.median(timings[variants[0].label])
    for v in variants:
        times = sorted(timings[v.label])
        p50, p95 = statistics.median(times), times[int(0.95 * (len(times) - 1))]
        print(f"{v.label:>24}  k {args.k}  p50 {p50:.2f} ms  p95 {p95:.2f} ms  p50 x{p50 / baseline:.2f}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    grid = commands.add_parser("grid", help="score search-time variants over a kept tenant")
    grid.add_argument("--beir", type=Path, required=True)
    grid.add_argument("--split", default="train")
    grid.add_argument("--data-dir", type=Path, required=True)
    grid.add_argument("--tenant", required=True)
    grid.add_argument("--depth", type=int, default=beir.CHUNK_DEPTH)
    grid.add_argument("--modes", nargs="*", default=["dense", "bm25"], help="single-retriever baselines")
    grid.add_argument("--fusion", action="append", default=[], help="dbsf, rrf:K or rrf:K:W, ...@M")
    grid.add_argument(
        "--feedback", action="append", default=[], help="pseudo-relevance feedback MODE:DOCS:TERMS:QW:DW"
    )
    grid.add_argument("--query-cache", type=Path, help="JSON file of query vectors, read and written")
    grid.add_argument("--top", action="append", type=int, default=[], help="chunks summed per document")
    timed = commands.add_parser("latency", help="per-query search time of feedback variants vs the default")
    timed.add_argument("--beir", type=Path, required=True)
    timed.add_argument("--split", default="train")
    timed.add_argument("--data-dir", type=Path, required=True)
    timed.add_argument("--tenant", required=True)
    timed.add_argument("--k", type=int, default=10)
    timed.add_argument("--queries", type=int, default=200)
    timed.add_argument("--rounds", type=int, default=3)
    timed.add_argument("--feedback", action="append", default=[], help="MODE:DOCS:TERMS:QW:DW")
    again = commands.add_parser("reencode", help="copy a kept data dir with re-encoded chunk vectors")
    again.add_argument("--data-dir", type=Path, required=True)
    again.add_argument("--out", type=Path, required=True)
    again.add_argument("--tenant", required=True)
    again.add_argument("--bm25-k", type=float, default=DEFAULT_K1)
    again.add_argument("--bm25-b", type=float, default=DEFAULT_B)
    again.add_argument("--bm25-avg-len", type=float, default=CHUNK_AVG_WORDS)
    again.add_argument("--title", choices=["keep", "prefix"], default="keep")
    again.add_argument("--title-dense", action="store_true", help="re-embed with the title handling")
    again.add_argument("--title-sparse", action="store_true", help="BM25 with the title (the default)")
    args = parser.parse_args(argv)
    if args.command == "grid":
        args.top = args.top or [1]
        run_grid(args)
    elif args.command == "latency":
        run_latency(args)
    else:
        run_reencode(args)


if __name__ == "__main__":
    main()
