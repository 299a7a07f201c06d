"""Figures of ``benchmarks.ingest_throughput``: ratios against the baselines, as text or JSON."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

E2E_TARGET = 0.7
REINGEST_TARGET = 50.0
ON = "ingest, redaction on"


@dataclass(frozen=True)
class Encoding:
    """One timed encoder call (or several) and how many tokens the encoder really saw."""

    docs: int
    texts: int
    tokens: int
    seconds: float
    own_cores: float
    other_cores: float


@dataclass(frozen=True)
class Baseline:
    """The encoder alone, timed just before and just after an ingest."""

    name: str
    before: Encoding
    after: Encoding

    @property
    def docs_per_s(self) -> float:
        return (self.before.docs + self.after.docs) / (self.before.seconds + self.after.seconds)


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
    baselines: dict[str, Baseline] = field(default_factory=dict)  # measured just before and after

    @property
    def docs_per_s(self) -> float:
        return self.docs / self.seconds

    @property
    def reingest_speedup(self) -> float | None:
        return self.seconds / self.reingest_seconds if self.reingest_seconds else None

    def ratio(self, baseline: str = "whole") -> float:
        return self.docs_per_s / self.baselines[baseline].docs_per_s


@dataclass
class Report:
    settings: dict[str, Any]
    runs: list[IngestRun]

    def median_ratio(self, baseline: str = "whole") -> float:
        return statistics.median(r.ratio(baseline) for r in self.runs if r.label == ON)

    def as_json(self) -> dict[str, Any]:
        first = self.runs[0]
        return {
            "docs": first.docs,
            "settings": self.settings,
            "runs": [
                {
                    **asdict(r),
                    "docs_per_s": r.docs_per_s,
                    "ratio_to_whole_texts": r.ratio(),
                    "ratio_to_truncated_texts": r.ratio("truncated"),
                    "reingest_speedup": r.reingest_speedup,
                }
                for r in self.runs
            ],
            "e2e_ratio_median": self.median_ratio(),
            "e2e_ratio_median_truncated": self.median_ratio("truncated"),
            "e2e_ratio_target": E2E_TARGET,
            "e2e_ratio_met": self.median_ratio() >= E2E_TARGET,
            "reingest_speedup_target": REINGEST_TARGET,
            "reingest_speedup_met": (first.reingest_speedup or 0.0) >= REINGEST_TARGET,
        }

    def lines(self) -> Iterator[str]:
        yield f"{self.runs[0].docs} documents; settings {self.settings}"
        for run in self.runs:
            yield from _run_lines(run)
        met = self.median_ratio() >= E2E_TARGET
        yield (
            f"redaction on, median of {sum(r.label == ON for r in self.runs)}: "
            f"{self.median_ratio():.2f} x whole texts [target >= {E2E_TARGET}: "
            f"{'ok' if met else 'BELOW TARGET'}]; {self.median_ratio('truncated'):.2f} x truncated texts"
        )


def _run_lines(r: IngestRun) -> Iterator[str]:
    for b in r.baselines.values():
        yield (
            f"{b.name:<26}{b.docs_per_s:7.1f} docs/s  (before {b.before.seconds:.2f} s, after "
            f"{b.after.seconds:.2f} s, {b.before.own_cores:.2f} cores; {b.before.texts} texts, "
            f"{b.before.tokens} tokens){_noise(b.before.other_cores, b.after.other_cores)}"
        )
    yield (
        f"{r.label:<26}{r.docs_per_s:7.1f} docs/s  ({r.seconds:.2f} s, {r.own_cores:.2f} cores)  "
        f"{r.ratio():.2f} x whole texts; {r.ratio('truncated'):.2f} x truncated texts{_noise(r.other_cores)}"
    )
    found = sum(r.redaction_counts.values())
    yield f"    {r.chunks} chunks ({r.chunks / r.docs:.2f}/doc), {r.failed} failed"
    yield f"    {found} redactions in the provenance DB {r.redaction_counts}"
    if r.breakdown:
        d = r.breakdown
        yield (
            f"    embedding {d['embed_s']:.2f} s (the same chunks alone: {d['embed_alone_s']:.2f} s, "
            f"{int(d['embed_tokens'])} tokens); waiting for preparer {d['wait_for_preparer_s']:.2f} s; "
            f"planning, chunking, waiting for the writer {d['rest_s']:.2f} s"
        )
        yield f"    {d['ratio_to_chunks_alone']:.2f} x the encoder alone on the same chunks"
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
