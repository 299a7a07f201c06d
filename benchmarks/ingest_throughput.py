"""Ingest throughput, measured in one run as ratios against the bare encoder on the same documents.

Figures: end-to-end ingest through ``build_runtime`` with redaction on and off, and a re-ingest of the
unchanged corpus, against two baselines on each document's ``title + "\\n\\n" + text``:

- **whole texts** (the target's baseline): the encoder alone over every token of every document, each
  cut into windows of the model's maximum length, which is the least encoding that indexes all the text;
- **truncated texts**: the encoder called once per document, which silently drops what lies past the
  model's 256 tokens (28 % of SciFact's tokens), shown for comparison.
 One-time
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from pydantic import ValidationError
from sqlmodel import col, select

from acl.filters import WriteGrant
from api.runtime import Runtime, build_runtime, default_embedder, default_preparer
from benchmarks.ingest_report import Baseline, Encoding, IngestRun, Report
from core.cores import CoreShare
from core.db import session_scope
from core.settings import Settings
from core.types import TenantId, tenant_id
from ingest.chunk import HuggingFaceTokenCounter
from ingest.document import Source
from ingest.models import ItemStatus
from ingest.pipeline import ItemOutcome
from ingest.prepare import Outcome, Preparer
from ingest.sources import BadSource, read_jsonl
from provenance.models import DocumentVersion
from retrieval.embedders import SentenceTransformerEmbedder
from retrieval.ports import Embedder

TENANT = tenant_id("bench")
WARMUP_DOCS = 2
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

    def time(self, calls: Sequence[Sequence[str]], *, docs: int | None = None) -> Encoding:
        """Time ``embed_documents`` once per call given (batching and padding depend on the calls)."""
        limit = self._embedder.max_tokens
        texts = [text for call in calls for text in call]
        tokens = sum(min(n + SPECIAL_TOKENS, limit) for n in self._counter.count(texts))
        with Stopwatch() as watch:
            for call in calls:
                self._embedder.embed_documents(call)
        return Encoding(
            docs or len(texts), len(texts), tokens, watch.seconds, watch.own_cores, watch.other_cores
        )

    def windows(self, texts: Sequence[str]) -> list[str]:
        """Each text cut at token boundaries into pieces the model takes whole (no overlap)."""
        size = self._embedder.max_tokens - SPECIAL_TOKENS
        pieces = []
        for text in texts:
            offsets = self._counter.offsets(text)
            for first in range(0, len(offsets), size):
                last = offsets[min(first + size, len(offsets)) - 1]
                pieces.append(text[offsets[first][0] : last[1]])
        return pieces


@dataclass
class Recorder:
    """Parent-side timings inside the pipeline: embedding calls and waits for the preparer's results."""

    embed_s: float = 0.0
    wait_s: float = 0.0
    embed_calls: list[list[str]] = field(default_factory=list)

    def reset(self) -> None:
        self.embed_s, self.wait_s, self.embed_calls = 0.0, 0.0, []

    def embedder(self, inner: Embedder) -> _TimedEmbedder:
        return _TimedEmbedder(inner, self)

    def preparer(self, inner: Preparer) -> _TimedPreparer:
        return _TimedPreparer(inner, self)


class _TimedEmbedder:
    def __init__(self, inner: Embedder, recorder: Recorder) -> None:
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
            cores = CoreShare()
            runtime = build_runtime(
                settings,
                embedder=lambda: recorder.embedder(default_embedder(settings, cores)),
                preparer=lambda: recorder.preparer(default_preparer(settings, cores)),
            )
        try:
            yield runtime
        finally:
            runtime.close()


def timed_ingest(runtime: Runtime, items: Sequence[Source]) -> tuple[Stopwatch, list[ItemOutcome]]:
    with Stopwatch() as watch:
        outcomes = list(runtime.pipeline.run(TENANT, items, grant=WriteGrant.everything(TENANT)))
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
            # The pipeline's own overhead: 1.0 would mean ingest costs no more than encoding its chunks.
            "ratio_to_chunks_alone": alone.seconds / run.seconds,
        }
    return run


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
    parser.add_argument("--threads", type=int, help="torch.set_num_threads here (the baseline's too)")
    parser.add_argument("--skip-redaction-off", action="store_true", help="time redaction on only")
    parser.add_argument("--breakdown", action="store_true", help="show where the ingest time went")
    parser.add_argument(
        "--rounds", type=int, default=5, help="ingests with redaction on; the verdict is their median"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    if args.docs < 1:
        parser.error(f"--docs must be at least 1, got {args.docs}")
    return args


def settings_from(args: argparse.Namespace) -> Settings:
    """The service's own settings (environment included), with only the knobs given here changed."""
    settings = Settings()
    chunking = {"max_tokens": args.max_tokens, "overlap_tokens": args.overlap}
    ingest = {"pipeline_batch_docs": args.window, "redaction_workers": args.workers}
    embedding = {"batch_size": args.batch_size}
    try:
        chosen = settings.model_validate(
            {
                **settings.model_dump(),
                "chunking": {**settings.chunking.model_dump(), **_given(chunking)},
                "ingest": {**settings.ingest.model_dump(), **_given(ingest)},
                "embedding": {**settings.embedding.model_dump(), **_given(embedding)},
            }
        )
    except ValidationError as exc:
        raise SystemExit(f"invalid setting: {exc}") from None
    overlap, largest = chosen.chunking.overlap_tokens, chosen.chunking.max_tokens
    if overlap >= largest:  # the chunker would fail every document
        raise SystemExit(f"overlap_tokens must be below max_tokens, got {overlap} and {largest}")
    return chosen


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
    windows = encoder.windows(corpus.texts)

    def baselines() -> tuple[Encoding, Encoding]:
        return encoder.time([windows], docs=len(corpus.texts)), encoder.time([corpus.texts])

    # Baselines and ingests alternate, and each ingest is compared with the baselines on either side
    # of it: this machine's speed drifts by 10 % within minutes, so distant baselines would mislead.
    plan = [("ingest, redaction on", settings, i == 0) for i in range(args.rounds)]
    if not args.skip_redaction_off:
        plan.append(("ingest, redaction off", without_redaction(settings), False))
    runs: list[IngestRun] = []
    before = baselines()
    for label, chosen, first in plan:
        run = measure_ingest(
            label, chosen, corpus, reingest=first, encoder=encoder if args.breakdown and first else None
        )
        after = baselines()
        run.baselines = {
            "whole": Baseline("baseline: whole texts", before[0], after[0]),
            "truncated": Baseline("baseline: truncated", before[1], after[1]),
        }
        runs.append(run)
        before = after
    report = Report(settings=settings_summary(settings), runs=runs)
    print(json.dumps(report.as_json()) if args.json else "\n".join(report.lines()))
    if any(r.failed for r in runs):
        print("some documents failed to ingest: these figures measure less work", file=sys.stderr)
        return 1
    return 0


def settings_summary(settings: Settings) -> dict[str, Any]:
    return {
        "max_tokens": settings.chunking.max_tokens,
        "overlap_tokens": settings.chunking.overlap_tokens,
        "window_docs": settings.ingest.pipeline_batch_docs,
        "redaction_workers": settings.ingest.redaction_workers,
        "batch_size": settings.embedding.batch_size,
        "torch_threads": torch.get_num_threads(),
    }


if __name__ == "__main__":
    sys.exit(main())
