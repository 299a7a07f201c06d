"""Ingest throughput, measured in one run as ratios against the bare encoder on the same documents.

Figures: the encoder alone on each document's ``title + "\\n\\n" + text`` (the baseline), end-to-end ingest
through ``build_runtime`` with redaction on and off, and a re-ingest of the unchanged corpus. One-time
startup (model load, worker spawn) is excluded from every figure; each runtime gets its own temporary
data directory. ``--breakdown`` also shows where the end-to-end time went.

    python -m benchmarks.ingest_throughput --corpus ../shared/data/scifact/corpus.jsonl --docs 400 [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from sqlmodel import col, select

from api.runtime import Runtime, build_runtime
from core.db import session_scope
from core.settings import Settings
from core.types import TenantId, tenant_id
from ingest.chunk import HuggingFaceTokenCounter
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
SPECIAL_TOKENS = 2  # [CLS] and [SEP]: they count against the encoder's max_seq_length


@dataclass(frozen=True)
class Corpus:
    items: list[Source]
    warmup: list[Source]

    @property
    def texts(self) -> list[str]:
        """What the baseline encodes: one text per document."""
        return [f"{s.title}\n\n{s.text or ''}" for s in self.items]


def load_corpus(path: Path, docs: int) -> Corpus:
    """The first ``docs`` records to time, and the next few to warm up on."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if len(lines) < docs + WARMUP_DOCS:
        raise SystemExit(f"--docs {docs} needs {docs + WARMUP_DOCS} records, {path} has {len(lines)}")

    def sources(part: list[str]) -> list[Source]:
        parsed = list(read_jsonl("\n".join(part).encode(), str(path)))
        bad = [p for p in parsed if isinstance(p, BadSource)]
        if bad:
            raise SystemExit(f"{bad[0].name}: {bad[0].error}")
        return [p for p in parsed if isinstance(p, Source)]

    return Corpus(sources(lines[:docs]), sources(lines[docs : docs + WARMUP_DOCS]))


_TICKS = os.sysconf("SC_CLK_TCK")


def _busy_cpu_s() -> float:
    """CPU seconds the whole machine has spent busy since boot (Linux ``/proc/stat``)."""
    # user nice system idle iowait irq softirq steal (guest time is already inside user and nice)
    ticks = [int(n) for n in Path("/proc/stat").read_text().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / _TICKS


def _own_cpu_s() -> float:
    """CPU seconds of this process and its live children (the preparer's workers)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        pid, ppid = int(stat.parent.name), int(fields[1])
        if os.getpid() in (pid, ppid):
            total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / _TICKS


class Stopwatch:
    """Wall time of a block, the cores we kept busy, and the cores other processes took (noise to watch)."""

    seconds: float = 0.0
    own_cores: float = 0.0
    other_cores: float = 0.0

    def __enter__(self) -> Stopwatch:
        self._busy, self._own, self._started = _busy_cpu_s(), _own_cpu_s(), time.perf_counter()
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds = time.perf_counter() - self._started
        own = _own_cpu_s() - self._own
        self.own_cores = own / self.seconds
        self.other_cores = max(_busy_cpu_s() - self._busy - own, 0.0) / self.seconds


@dataclass(frozen=True)
class Encoding:
    """One timed ``embed_documents`` call and how many tokens the encoder really saw."""

    texts: int
    tokens: int
    seconds: float
    own_cores: float
    other_cores: float


class Encoder:
    """The warm encoder the baseline is measured with, also used to time chunk texts on their own."""

    def __init__(self, settings: Settings) -> None:
        self._embedder = SentenceTransformerEmbedder(
            settings.embedding.model_path,
            batch_size=settings.embedding.batch_size,
            device=settings.embedding.device,
        )
        self._counter = HuggingFaceTokenCounter(self._embedder.model_path)
        self._embedder.embed_documents(["warm up"])

    def time(self, calls: Sequence[Sequence[str]]) -> Encoding:
        """Time ``embed_documents`` once per call given (batching and padding depend on the calls)."""
        limit = self._embedder.max_tokens
        texts = [text for call in calls for text in call]
        tokens = sum(min(n + SPECIAL_TOKENS, limit) for n in self._counter.count(texts))
        with Stopwatch() as watch:
            for call in calls:
                self._embedder.embed_documents(call)
        return Encoding(len(texts), tokens, watch.seconds, watch.own_cores, watch.other_cores)


@dataclass
class Recorder:
    """Parent-side timings inside the pipeline: embedding calls and waits for the preparer's results."""

    embed_s: float = 0.0
    wait_s: float = 0.0
    embed_calls: list[list[str]] = field(default_factory=list)

    def reset(self) -> None:
        self.embed_s, self.wait_s, self.embed_calls = 0.0, 0.0, []

    def embedder(self, inner: SentenceTransformerEmbedder) -> _TimedEmbedder:
        return _TimedEmbedder(inner, self)

    def preparer(self, inner: Preparer) -> _TimedPreparer:
        return _TimedPreparer(inner, self)


class _TimedEmbedder:
    def __init__(self, inner: SentenceTransformerEmbedder, recorder: Recorder) -> None:
        self._inner, self._recorder = inner, recorder

    @property
    def dimension(self) -> int:
        return self._inner.dimension

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        started = time.perf_counter()
        vectors = self._inner.embed_documents(texts)
        self._recorder.embed_s += time.perf_counter() - started
        self._recorder.embed_calls.append(list(texts))
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return self._inner.embed_query(text)


class _TimedPreparer:
    def __init__(self, inner: Preparer, recorder: Recorder) -> None:
        self._inner, self._recorder = inner, recorder

    def start(self, sources: Sequence[Source]) -> Callable[[], list[Outcome]]:
        results = self._inner.start(sources)

        def wait() -> list[Outcome]:
            started = time.perf_counter()
            outcomes = results()
            self._recorder.wait_s += time.perf_counter() - started
            return outcomes

        return wait

    def close(self) -> None:
        self._inner.close()


@contextmanager
def open_runtime(settings: Settings, recorder: Recorder | None) -> Iterator[Runtime]:
    """The service's runtime on a fresh data directory; with a recorder, the same parts, timed."""
    with tempfile.TemporaryDirectory(prefix="tessera-bench-") as tmp:
        settings = settings.model_copy(update={"data_dir": Path(tmp)})
        if recorder is None:
            runtime = build_runtime(settings)
        else:
            embedding, ingest = settings.embedding, settings.ingest
            runtime = build_runtime(
                settings,
                embedder=lambda: recorder.embedder(
                    SentenceTransformerEmbedder(
                        embedding.model_path, batch_size=embedding.batch_size, device=embedding.device
                    )
                ),
                preparer=lambda: recorder.preparer(
                    ProcessPreparer(workers=ingest.redaction_workers, redact=ingest.redact)
                ),
            )
        try:
            yield runtime
        finally:
            runtime.close()


@dataclass
class IngestRun:
    label: str
    docs: int
    seconds: float
    own_cores: float
    other_cores: float
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


def timed_ingest(runtime: Runtime, items: Sequence[Source]) -> tuple[Stopwatch, list[ItemOutcome]]:
    with Stopwatch() as watch:
        outcomes = list(runtime.pipeline.run(TENANT, items))
    return watch, outcomes


def redaction_totals(runtime: Runtime, tenant: TenantId, doc_ids: Sequence[str]) -> dict[str, int]:
    """Entities redacted across the stored versions of ``doc_ids``, read back from the provenance DB."""
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
    label: str, settings: Settings, corpus: Corpus, *, reingest: bool, encoder: Encoder | None
) -> IngestRun:
    """Ingest the corpus into a fresh runtime; with ``encoder``, also break the time down."""
    recorder = Recorder() if encoder is not None else None
    with open_runtime(settings, recorder) as runtime:
        timed_ingest(runtime, corpus.warmup)  # loads the encoder, chunker and worker process
        if recorder is not None:
            recorder.reset()
        watch, outcomes = timed_ingest(runtime, corpus.items)
        run = IngestRun(
            label=label,
            docs=len(corpus.items),
            seconds=watch.seconds,
            own_cores=watch.own_cores,
            other_cores=watch.other_cores,
            chunks=sum(o.chunks for o in outcomes),
            failed=sum(o.status == ItemStatus.FAILED for o in outcomes),
            redaction_counts=redaction_totals(runtime, TENANT, [s.doc_id for s in corpus.items]),
        )
        if reingest:
            watch, outcomes = timed_ingest(runtime, corpus.items)
            run.reingest_seconds = watch.seconds
            run.reingest_unchanged = sum(o.status == ItemStatus.UNCHANGED for o in outcomes)
    if recorder is not None and encoder is not None:
        alone = encoder.time(recorder.embed_calls)  # the same calls again, with nothing else running
        run.breakdown = {
            "embed_s": recorder.embed_s,
            "embed_alone_s": alone.seconds,
            "embed_tokens": alone.tokens,
            "wait_for_preparer_s": recorder.wait_s,
            "rest_s": run.seconds - recorder.embed_s - recorder.wait_s,
        }
    return run


@dataclass
class Report:
    settings: dict[str, Any]
    baselines: tuple[Encoding, Encoding]  # before and after the ingests: their spread shows the noise
    runs: list[IngestRun]

    @property
    def baseline_docs_per_s(self) -> float:
        return sum(b.texts for b in self.baselines) / sum(b.seconds for b in self.baselines)

    def ratio(self, run: IngestRun) -> float:
        return run.docs_per_s / self.baseline_docs_per_s

    def as_json(self) -> dict[str, Any]:
        first = self.runs[0]
        return {
            "docs": first.docs,
            "settings": self.settings,
            "baseline": {"docs_per_s": self.baseline_docs_per_s, "runs": [asdict(b) for b in self.baselines]},
            "runs": [
                {
                    **asdict(r),
                    "docs_per_s": r.docs_per_s,
                    "ratio_to_baseline": self.ratio(r),
                    "reingest_speedup": r.reingest_speedup,
                }
                for r in self.runs
            ],
            "e2e_ratio_target": E2E_TARGET,
            "e2e_ratio_met": self.ratio(first) >= E2E_TARGET,
            "reingest_speedup_target": REINGEST_TARGET,
            "reingest_speedup_met": (first.reingest_speedup or 0.0) >= REINGEST_TARGET,
        }

    def lines(self) -> Iterator[str]:
        before, after = self.baselines
        yield f"{before.texts} documents; settings {self.settings}"
        yield (
            f"{'baseline: encoder alone':<26}{self.baseline_docs_per_s:7.1f} docs/s  "
            f"(before {before.seconds:.2f} s, after {after.seconds:.2f} s, {before.own_cores:.2f} cores; "
            f"{before.tokens} tokens after truncation){_noise(before.other_cores, after.other_cores)}"
        )
        for run in self.runs:
            yield from self._run_lines(run)

    def _run_lines(self, r: IngestRun) -> Iterator[str]:
        verdict = "ok" if self.ratio(r) >= E2E_TARGET else "BELOW TARGET"
        yield (
            f"{r.label:<26}{r.docs_per_s:7.1f} docs/s  ({r.seconds:.2f} s, {r.own_cores:.2f} cores)  "
            f"{self.ratio(r):.2f} x baseline"
            f"  [target >= {E2E_TARGET}: {verdict}]{_noise(r.other_cores)}"
        )
        found = sum(r.redaction_counts.values())
        yield f"    {r.chunks} chunks ({r.chunks / r.docs:.2f}/doc), {r.failed} failed"
        yield f"    {found} redactions in the provenance DB {r.redaction_counts}"
        if r.breakdown:
            d = r.breakdown
            yield (
                f"    embedding {d['embed_s']:.2f} s (the same chunks alone: {d['embed_alone_s']:.2f} s, "
                f"{int(d['embed_tokens'])} tokens); waiting for preparer {d['wait_for_preparer_s']:.2f} s; "
                f"chunking + BM25 + writes {d['rest_s']:.2f} s"
            )
        if r.reingest_seconds is not None and r.reingest_speedup is not None:
            verdict = "ok" if r.reingest_speedup >= REINGEST_TARGET else "BELOW TARGET"
            yield (
                f"    re-ingest unchanged: {r.reingest_seconds * 1000:.0f} ms, {r.reingest_unchanged} "
                f"unchanged, {r.reingest_speedup:.0f} x faster  [target >= {REINGEST_TARGET:.0f}: {verdict}]"
            )


def _noise(*other_cores: float) -> str:
    """A warning when other processes took a noticeable share of the machine during a measurement."""
    worst = max(other_cores)
    return f"  (!) other processes kept {worst:.2f} cores busy" if worst >= 0.1 else ""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Ingest throughput against the bare encoder.")
    parser.add_argument("--corpus", type=Path, required=True, help="JSONL of {_id|id, title, text}")
    parser.add_argument("--docs", type=int, default=400, help="documents to time (default 400)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--max-tokens", type=int, help="override Settings.chunking.max_tokens")
    parser.add_argument("--overlap", type=int, help="override Settings.chunking.overlap_tokens")
    parser.add_argument("--window", type=int, help="override Settings.ingest.pipeline_batch_docs")
    parser.add_argument(
        "--batch-size", type=int, help="override Settings.embedding.batch_size (baseline too)"
    )
    parser.add_argument("--workers", type=int, help="override Settings.ingest.redaction_workers")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads in this process")
    parser.add_argument("--skip-redaction-off", action="store_true", help="time redaction on only")
    parser.add_argument("--breakdown", action="store_true", help="show where the ingest time went")
    args = parser.parse_args(argv)
    if args.docs < 1:
        parser.error(f"--docs must be at least 1, got {args.docs}")
    return args


def settings_from(args: argparse.Namespace) -> Settings:
    """The service's own settings (environment included), with only the knobs given here changed."""
    settings = Settings()
    chunking = {"max_tokens": args.max_tokens, "overlap_tokens": args.overlap}
    ingest = {"pipeline_batch_docs": args.window, "redaction_workers": args.workers}
    embedding = {"batch_size": args.batch_size}
    return settings.model_validate(
        {
            **settings.model_dump(),
            "chunking": {**settings.chunking.model_dump(), **_given(chunking)},
            "ingest": {**settings.ingest.model_dump(), **_given(ingest)},
            "embedding": {**settings.embedding.model_dump(), **_given(embedding)},
        }
    )


def _given(options: dict[str, int | None]) -> dict[str, int]:
    return {name: value for name, value in options.items() if value is not None}


def without_redaction(settings: Settings) -> Settings:
    return settings.model_copy(update={"ingest": settings.ingest.model_copy(update={"redact": False})})


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    settings = settings_from(args)
    corpus = load_corpus(args.corpus, args.docs)
    encoder = Encoder(settings)
    before = encoder.time([corpus.texts])
    explain = encoder if args.breakdown else None
    runs = [measure_ingest("ingest, redaction on", settings, corpus, reingest=True, encoder=explain)]
    if not args.skip_redaction_off:
        off = without_redaction(settings)
        runs.append(measure_ingest("ingest, redaction off", off, corpus, reingest=False, encoder=explain))
    report = Report(
        settings={
            "max_tokens": settings.chunking.max_tokens,
            "overlap_tokens": settings.chunking.overlap_tokens,
            "window_docs": settings.ingest.pipeline_batch_docs,
            "redaction_workers": settings.ingest.redaction_workers,
            "batch_size": settings.embedding.batch_size,
            "torch_threads": torch.get_num_threads(),
        },
        baselines=(before, encoder.time([corpus.texts])),
        runs=runs,
    )
    print(json.dumps(report.as_json()) if args.json else "\n".join(report.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
