"""Ingest throughput, measured in one run as ratios against the raw encoder on the same documents.

Figures: the encoder alone (baseline docs/s), end-to-end ingest through ``build_runtime`` with redaction on
and off, and a re-ingest of the unchanged corpus. One-time startup (model load, worker spawn) is excluded
from every figure; each runtime gets its own temporary data directory.

    python -m benchmarks.ingest_throughput --corpus ../shared/data/scifact/corpus.jsonl --docs 400 [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlmodel import col, select

from api.runtime import Runtime, build_runtime
from core.db import session_scope
from core.settings import ChunkingSettings, IngestSettings, Settings
from core.types import TenantId, tenant_id
from ingest.document import Source
from ingest.models import ItemStatus
from ingest.pipeline import ItemOutcome
from ingest.prepare import Outcome, Preparer, ProcessPreparer
from ingest.sources import BadSource, read_jsonl
from provenance.models import DocumentVersion
from retrieval.embedders import SentenceTransformerEmbedder

TENANT = tenant_id("bench")
WARMUP_DOCS = 2
E2E_TARGET = 0.7
REINGEST_TARGET = 50.0


@dataclass(frozen=True)
class Corpus:
    items: list[Source]
    warmup: list[Source]

    @property
    def texts(self) -> list[str]:
        """What the baseline encodes: one text per document, as a naive indexer would."""
        return [f"{s.title}\n\n{s.text or ''}" for s in self.items]


@dataclass
class Breakdown:
    """Where the parent's wall time went during a timed ingest (only with ``--breakdown``)."""

    embed_s: float = 0.0
    embed_texts: int = 0
    wait_for_preparer_s: float = 0.0

    def reset(self) -> None:
        self.embed_s, self.embed_texts, self.wait_for_preparer_s = 0.0, 0, 0.0

    def rest_s(self, total_s: float) -> float:
        """Chunking, BM25, SQLite and vector-store writes: everything the parent did besides the two above."""
        return total_s - self.embed_s - self.wait_for_preparer_s


@dataclass
class IngestRun:
    label: str
    docs: int
    seconds: float
    chunks: int
    failed: int
    redaction_counts: dict[str, int]
    reingest_seconds: float | None = None
    reingest_unchanged: int | None = None
    breakdown: dict[str, float] = field(default_factory=dict)

    @property
    def docs_per_s(self) -> float:
        return self.docs / self.seconds

    @property
    def reingest_speedup(self) -> float | None:
        return self.seconds / self.reingest_seconds if self.reingest_seconds else None


def load_corpus(path: Path, docs: int) -> Corpus:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if len(lines) < docs + WARMUP_DOCS:
        raise SystemExit(f"--docs {docs} needs {docs + WARMUP_DOCS} records, {path} has {len(lines)}")

    def sources(chunk: list[str]) -> list[Source]:
        parsed = list(read_jsonl("\n".join(chunk).encode(), str(path)))
        bad = [p for p in parsed if isinstance(p, BadSource)]
        if bad:
            raise SystemExit(f"{bad[0].name}: {bad[0].error}")
        return [p for p in parsed if isinstance(p, Source)]

    return Corpus(sources(lines[:docs]), sources(lines[docs : docs + WARMUP_DOCS]))


def measure_baseline(settings: Settings, texts: Sequence[str]) -> float:
    """Seconds the bare encoder takes to embed ``texts`` once warm (load time excluded)."""
    embedder = SentenceTransformerEmbedder(
        settings.embedding.model_path,
        batch_size=settings.embedding.batch_size,
        device=settings.embedding.device,
    )
    embedder.embed_documents(texts[:1])
    started = time.perf_counter()
    embedder.embed_documents(texts)
    return time.perf_counter() - started


class _TimedEmbedder:
    def __init__(self, inner: SentenceTransformerEmbedder, into: Breakdown) -> None:
        self._inner, self._into = inner, into

    @property
    def dimension(self) -> int:
        return self._inner.dimension

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        started = time.perf_counter()
        try:
            return self._inner.embed_documents(texts)
        finally:
            self._into.embed_s += time.perf_counter() - started
            self._into.embed_texts += len(texts)

    def embed_query(self, text: str) -> list[float]:
        return self._inner.embed_query(text)


class _TimedPreparer:
    def __init__(self, inner: Preparer, into: Breakdown) -> None:
        self._inner, self._into = inner, into

    def start(self, sources: Sequence[Source]) -> Callable[[], list[Outcome]]:
        wait = self._inner.start(sources)

        def timed_wait() -> list[Outcome]:
            started = time.perf_counter()
            try:
                return wait()
            finally:
                self._into.wait_for_preparer_s += time.perf_counter() - started

        return timed_wait

    def close(self) -> None:
        self._inner.close()


@contextmanager
def open_runtime(settings: Settings, breakdown: Breakdown | None) -> Iterator[Runtime]:
    """A runtime on a fresh temporary data directory, instrumented only when a breakdown is asked for."""
    with tempfile.TemporaryDirectory(prefix="tessera-bench-") as tmp:
        settings = settings.model_copy(update={"data_dir": Path(tmp)})
        if breakdown is None:
            runtime = build_runtime(settings)
        else:
            runtime = build_runtime(
                settings,
                embedder=lambda: _TimedEmbedder(
                    SentenceTransformerEmbedder(
                        settings.embedding.model_path,
                        batch_size=settings.embedding.batch_size,
                        device=settings.embedding.device,
                    ),
                    breakdown,
                ),
                preparer=lambda: _TimedPreparer(
                    ProcessPreparer(workers=settings.ingest.redaction_workers, redact=settings.ingest.redact),
                    breakdown,
                ),
            )
        try:
            yield runtime
        finally:
            runtime.close()


def ingest(runtime: Runtime, tenant: TenantId, items: Sequence[Source]) -> tuple[float, list[ItemOutcome]]:
    started = time.perf_counter()
    outcomes = list(runtime.pipeline.run(tenant, items))
    return time.perf_counter() - started, outcomes


def redaction_totals(runtime: Runtime, tenant: TenantId, doc_ids: Sequence[str]) -> dict[str, int]:
    """Entities redacted across the current versions of ``doc_ids``, from the provenance database."""
    totals: Counter[str] = Counter()
    with session_scope(runtime.engine) as session:
        rows = session.exec(
            select(DocumentVersion.redaction_counts).where(
                DocumentVersion.tenant == tenant, col(DocumentVersion.doc_id).in_(list(doc_ids))
            )
        ).all()
    for counts in rows:
        totals.update(counts)
    return dict(sorted(totals.items()))


def measure_ingest(
    label: str, settings: Settings, corpus: Corpus, *, reingest: bool, breakdown: bool
) -> IngestRun:
    timings = Breakdown() if breakdown else None
    with open_runtime(settings, timings) as runtime:
        ingest(runtime, TENANT, corpus.warmup)  # loads the encoder, chunker and worker process
        if timings is not None:
            timings.reset()  # count the timed run only
        seconds, outcomes = ingest(runtime, TENANT, corpus.items)
        run = IngestRun(
            label=label,
            docs=len(corpus.items),
            seconds=seconds,
            chunks=sum(o.chunks for o in outcomes if o.status == ItemStatus.INDEXED),
            failed=sum(o.status == ItemStatus.FAILED for o in outcomes),
            redaction_counts=redaction_totals(runtime, TENANT, [s.doc_id for s in corpus.items]),
        )
        if timings is not None:
            run.breakdown = {
                "embed_s": timings.embed_s,
                "embed_texts": timings.embed_texts,
                "wait_for_preparer_s": timings.wait_for_preparer_s,
                "rest_s": timings.rest_s(seconds),
            }
        if reingest:
            run.reingest_seconds, again = ingest(runtime, TENANT, corpus.items)
            run.reingest_unchanged = sum(o.status == ItemStatus.UNCHANGED for o in again)
    return run


@dataclass
class Report:
    docs: int
    settings: dict[str, object]
    baseline_seconds: float
    redaction_on: IngestRun
    redaction_off: IngestRun | None

    @property
    def baseline_docs_per_s(self) -> float:
        return self.docs / self.baseline_seconds

    def as_json(self) -> dict[str, object]:
        def run(r: IngestRun | None) -> dict[str, object] | None:
            if r is None:
                return None
            return {
                **asdict(r),
                "docs_per_s": r.docs_per_s,
                "ratio_to_baseline": r.docs_per_s / self.baseline_docs_per_s,
                "reingest_speedup": r.reingest_speedup,
            }

        on = self.redaction_on
        return {
            "docs": self.docs,
            "settings": self.settings,
            "baseline": {"seconds": self.baseline_seconds, "docs_per_s": self.baseline_docs_per_s},
            "redaction_on": run(on),
            "redaction_off": run(self.redaction_off),
            "targets": {
                "e2e_ratio": E2E_TARGET,
                "e2e_ratio_met": on.docs_per_s / self.baseline_docs_per_s >= E2E_TARGET,
                "reingest_speedup": REINGEST_TARGET,
                "reingest_speedup_met": (on.reingest_speedup or 0.0) >= REINGEST_TARGET,
            },
        }

    def lines(self) -> Iterator[str]:
        yield f"documents: {self.docs}   settings: {self.settings}"
        yield f"baseline   encoder alone      {self.baseline_docs_per_s:8.1f} docs/s  ({self.baseline_seconds:.2f} s)"
        for r in (self.redaction_on, self.redaction_off):
            if r is not None:
                yield from self._run_lines(r)

    def _run_lines(self, r: IngestRun) -> Iterator[str]:
        ratio = r.docs_per_s / self.baseline_docs_per_s
        mark = "" if r is not self.redaction_on else ("  ok" if ratio >= E2E_TARGET else "  BELOW TARGET")
        yield (
            f"{r.label:<28}{r.docs_per_s:8.1f} docs/s  ({r.seconds:.2f} s)  "
            f"{ratio:.2f}x baseline (target >= {E2E_TARGET}){mark}"
        )
        total = sum(r.redaction_counts.values())
        yield f"    chunks {r.chunks} ({r.chunks / r.docs:.2f}/doc), failed {r.failed}, redactions {total} {r.redaction_counts}"
        if r.breakdown:
            b = r.breakdown
            yield (
                f"    parent time: embed {b['embed_s']:.2f} s ({int(b['embed_texts'])} texts), "
                f"waiting for preparer {b['wait_for_preparer_s']:.2f} s, "
                f"chunk + BM25 + writes {b['rest_s']:.2f} s"
            )
        if r.reingest_seconds is not None and r.reingest_speedup is not None:
            mark = "ok" if r.reingest_speedup >= REINGEST_TARGET else "BELOW TARGET"
            yield (
                f"    re-ingest unchanged: {r.reingest_seconds * 1000:.0f} ms, {r.reingest_unchanged} unchanged, "
                f"{r.reingest_speedup:.0f}x faster (target >= {REINGEST_TARGET:.0f}x) {mark}"
            )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--corpus", type=Path, required=True, help="JSONL of {_id|id, title, text}")
    parser.add_argument("--docs", type=int, default=400, help="documents to time (default 400)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.add_argument("--max-tokens", type=int, help="Settings.chunking.max_tokens (default from settings)")
    parser.add_argument("--overlap", type=int, help="Settings.chunking.overlap_tokens")
    parser.add_argument("--window", type=int, help="Settings.ingest.pipeline_batch_docs")
    parser.add_argument("--workers", type=int, help="Settings.ingest.redaction_workers (0 = inline)")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads in this process")
    parser.add_argument("--skip-redaction-off", action="store_true", help="only the redaction-on run")
    parser.add_argument(
        "--breakdown", action="store_true", help="time embedding and preparer waits inside the pipeline"
    )
    args = parser.parse_args(argv)
    if args.docs < 1:
        parser.error(f"--docs must be at least 1, got {args.docs}")
    return args


def settings_from(args: argparse.Namespace) -> Settings:
    """The service's own settings, with only the knobs named on the command line changed."""
    base = Settings()
    chunking = {
        k: v
        for k, v in {"max_tokens": args.max_tokens, "overlap_tokens": args.overlap}.items()
        if v is not None
    }
    ingest_ = {
        k: v
        for k, v in {"pipeline_batch_docs": args.window, "redaction_workers": args.workers}.items()
        if v is not None
    }
    return base.model_copy(
        update={
            "chunking": ChunkingSettings.model_validate({**base.chunking.model_dump(), **chunking}),
            "ingest": IngestSettings.model_validate({**base.ingest.model_dump(), **ingest_}),
        }
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    import torch

    settings = settings_from(args)
    corpus = load_corpus(args.corpus, args.docs)
    baseline = measure_baseline(settings, corpus.texts)
    on = measure_ingest("ingest, redaction on", settings, corpus, reingest=True, breakdown=args.breakdown)
    off = None
    if not args.skip_redaction_off:
        no_redaction = settings.model_copy(
            update={"ingest": settings.ingest.model_copy(update={"redact": False})}
        )
        off = measure_ingest(
            "ingest, redaction off", no_redaction, corpus, reingest=False, breakdown=args.breakdown
        )
    report = Report(
        docs=len(corpus.items),
        settings={
            "max_tokens": settings.chunking.max_tokens,
            "overlap_tokens": settings.chunking.overlap_tokens,
            "window": settings.ingest.pipeline_batch_docs,
            "redaction_workers": settings.ingest.redaction_workers,
            "batch_size": settings.embedding.batch_size,
            "torch_threads": torch.get_num_threads(),
        },
        baseline_seconds=baseline,
        redaction_on=on,
        redaction_off=off,
    )
    if args.json:
        print(json.dumps(report.as_json()))
    else:
        print("\n".join(report.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
