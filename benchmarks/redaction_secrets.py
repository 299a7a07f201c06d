"""Secrets recall and hard negatives kept, scored on a JSONL file of labelled cases through any redactor.

A case is ``{"id", "label": "secret"|"negative", "family", "text", "secret"|"keep"}``. A secret counts
as caught when its value no longer appears anywhere in the stored (redacted) text; a negative counts as
kept when its ``keep`` part still appears verbatim. ``__main__`` runs the cases through the real
``PresidioRedactor`` three times — as built, with its secret recognizers alone, and with main's old
regex list in their place — and prints each with documents per second (``--prose`` times a prose corpus
too; ``--detectors`` compares the detectors themselves, detect-secrets' plugins among them):

    python -m benchmarks.redaction_secrets --fixtures ../shared/data/secrets/public_fixtures.jsonl \
        [--prose ../shared/data/scifact/corpus.jsonl] [--detectors] [--misses]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Redact = Callable[[list[str]], list[str]]


@dataclass(frozen=True)
class Case:
    id: str
    label: str
    family: str
    text: str
    value: str  # the secret to remove, or the part of a negative to keep


@dataclass(frozen=True)
class Miss:
    id: str
    family: str
    value: str
    stored: str


@dataclass
class Tally:
    hits: int = 0
    total: int = 0

    @property
    def share(self) -> float:
        return self.hits / self.total if self.total else 1.0


@dataclass
class SecretsScore:
    recall: Tally = field(default_factory=Tally)
    kept: Tally = field(default_factory=Tally)
    recall_by_family: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    kept_by_family: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    missed_secrets: list[Miss] = field(default_factory=list)
    lost_negatives: list[Miss] = field(default_factory=list)
    seconds: float = 0.0
    docs: int = 0

    @property
    def docs_per_second(self) -> float:
        return self.docs / self.seconds if self.seconds else 0.0


def read_cases(path: Path) -> list[Case]:
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        value = row["secret"] if row["label"] == "secret" else row["keep"]
        cases.append(Case(row["id"], row["label"], row["family"], row["text"], value))
    return cases


def score_secrets(redact: Redact, fixtures_path: Path | str) -> SecretsScore:
    """Run every case's text through ``redact`` once (timed) and count what was caught and kept."""
    cases = read_cases(Path(fixtures_path))
    started = time.perf_counter()
    stored = redact([case.text for case in cases])
    score = SecretsScore(seconds=time.perf_counter() - started, docs=len(cases))
    for case, text in zip(cases, stored, strict=True):
        if case.label == "secret":
            caught = case.value not in text
            _count(score.recall, score.recall_by_family[case.family], caught)
            if not caught:
                score.missed_secrets.append(Miss(case.id, case.family, case.value, text))
        else:
            kept = case.value in text
            _count(score.kept, score.kept_by_family[case.family], kept)
            if not kept:
                score.lost_negatives.append(Miss(case.id, case.family, case.value, text))
    return score


def _count(overall: Tally, family: Tally, hit: bool) -> None:
    for tally in (overall, family):
        tally.total += 1
        tally.hits += int(hit)


def report(name: str, score: SecretsScore, *, show_misses: bool) -> Iterator[str]:
    yield f"== {name}"
    yield f"secrets recall   {score.recall.share:.3f} ({score.recall.hits}/{score.recall.total})"
    yield f"negatives kept   {score.kept.share:.3f} ({score.kept.hits}/{score.kept.total})"
    yield f"docs/s one pass  {score.docs_per_second:.1f} ({score.docs} docs in {score.seconds:.2f} s)"
    for family, tally in sorted(score.recall_by_family.items()):
        yield f"  recall  {family:<24} {tally.share:.3f} ({tally.hits}/{tally.total})"
    for family, tally in sorted(score.kept_by_family.items()):
        yield f"  kept    {family:<24} {tally.share:.3f} ({tally.hits}/{tally.total})"
    if show_misses:
        for miss in score.missed_secrets:
            yield f"  missed  {miss.id} {miss.family}: {_line_of(miss)!r}"
        for miss in score.lost_negatives:
            yield f"  lost    {miss.id} {miss.family}: {miss.value!r} -> {_line_of(miss)!r}"


def _line_of(miss: Miss) -> str:
    """The stored line around the value (or the first 160 characters when it is gone)."""
    at = miss.stored.find(miss.value)
    if at < 0:
        return miss.stored[:160]
    start = miss.stored.rfind("\n", 0, at) + 1
    end = miss.stored.find("\n", at + len(miss.value))
    return miss.stored[start : end if end >= 0 else None][:240]


def _presidio(recognizers: str) -> Redact:
    """The real redactor: ``current`` as built, ``legacy`` with main's old regex list in place of the
    secret recognizers, ``secrets-only`` with the PII recognizers taken out."""
    from ingest.redact import PresidioRedactor

    redactor = PresidioRedactor()
    registry = redactor._analyzer.registry
    if recognizers == "legacy":
        _swap_in_legacy_recognizers(registry)
    elif recognizers == "secrets-only":
        from ingest.secrets import SECRET_ENTITIES

        registry.recognizers = [
            r for r in registry.recognizers if set(r.supported_entities) <= set(SECRET_ENTITIES)
        ]

    def redact(texts: list[str]) -> list[str]:
        return [r.text for r in redactor.redact(texts)]

    redact(["warm-up: token=abc password=xyz"])
    return redact


def _swap_in_legacy_recognizers(registry: Any) -> None:
    from presidio_analyzer import Pattern, PatternRecognizer

    from benchmarks.legacy_secret_patterns import LEGACY_SECRET_PATTERNS
    from ingest.secrets import SECRET_ENTITIES

    registry.recognizers = [
        r for r in registry.recognizers if not set(r.supported_entities) & set(SECRET_ENTITIES)
    ]
    for legacy in LEGACY_SECRET_PATTERNS:
        registry.add_recognizer(
            PatternRecognizer(
                supported_entity=legacy.entity,
                name=legacy.name,
                patterns=[Pattern(legacy.name, legacy.regex, legacy.score)],
            )
        )


def _prose(path: Path, limit: int) -> list[str]:
    texts = []
    for line in path.read_text(encoding="utf-8").splitlines()[:limit]:
        row = json.loads(line)
        texts.append(f"{row.get('title', '')}\n\n{row.get('text', '')}")
    return texts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--fixtures", type=Path, required=True)
    parser.add_argument("--misses", action="store_true", help="list every missed secret and lost negative")
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds, configurations interleaved")
    parser.add_argument("--prose", type=Path, help="JSONL of prose documents (title, text) to time as well")
    parser.add_argument("--prose-docs", type=int, default=200)
    parser.add_argument(
        "--detectors", action="store_true", help="also compare the detectors without presidio"
    )
    args = parser.parse_args(argv)
    configurations = {
        "redactor, current secret recognizers": "current",
        "redactor, old regex list (main before this change)": "legacy",
        "redactor, secret recognizers alone (PII recognizers off)": "secrets-only",
    }
    redactors = {name: _presidio(recognizers) for name, recognizers in configurations.items()}
    for name, redact in redactors.items():
        score = score_secrets(redact, args.fixtures)
        shown = args.misses and configurations[name] != "legacy"
        print("\n".join(report(name, score, show_misses=shown)))
    corpora = {"secrets fixtures": [case.text for case in read_cases(args.fixtures)]}
    if args.prose:
        corpora[f"prose ({args.prose.name}, {args.prose_docs} docs)"] = _prose(args.prose, args.prose_docs)
    print(f"== redaction docs/s, best of {args.rounds} interleaved rounds")
    for corpus, texts in corpora.items():
        best = _interleaved(redactors, texts, args.rounds)
        for name, docs_per_second in best.items():
            print(f"  {corpus:<40} {docs_per_second:8.1f}  {name}")
    if args.detectors:
        from benchmarks.secret_detectors import compare

        print("\n".join(compare(args.fixtures)))
    return 0


def _interleaved(redactors: dict[str, Redact], texts: list[str], rounds: int) -> dict[str, float]:
    """Docs/s per redactor, the best of ``rounds``, run in turn so a busy moment hits them alike."""
    best = dict.fromkeys(redactors, float("inf"))
    for _ in range(rounds):
        for name, redact in redactors.items():
            started = time.perf_counter()
            redact(texts)
            best[name] = min(best[name], time.perf_counter() - started)
    return {name: len(texts) / seconds for name, seconds in best.items()}


if __name__ == "__main__":
    sys.exit(main())
