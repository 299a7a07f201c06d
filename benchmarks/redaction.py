"""Redaction quality and speed through the ingest path: what is caught, what is wrongly taken, how fast.

Every text goes in as a JSONL record, through ``read_jsonl`` and ``prepare_batch`` with the same
``PresidioRedactor`` that ingest uses, and a value counts as caught when it no longer appears in the
stored text (as the issue measures it through the CLI). Figures:

- recall per PII entity type, structured PII recall (every type but PERSON) and PERSON recall, on two
  fixed halves of the labelled sentences (split by template, so a held-out sentence never shares its
  wording with a tuned one); PERSON precision counts a redacted PERSON span as right when it overlaps a
  labelled PERSON;
- over-redaction: the share of SciFact title and abstract characters replaced (the corpus has no PII,
  so every replaced character is one too many), and the strings replaced most often;
- redaction docs/s on the same SciFact documents, per CPU second of this process (wall time on a
  shared machine measures the neighbours), baseline and new timed batch by batch in turns;
- secrets recall and hard negatives kept, from ``benchmarks.redaction_secrets`` when it is present.

``--baseline`` also runs the recognizer set ingest used before (presidio's card and phone recognizers,
spaCy's PERSON as is, URIs redacted as prose) in the same run.

    python -m benchmarks.redaction --pii ../shared/data/pii/presidio_synth_train.json \
        --scifact ../shared/data/scifact/corpus.jsonl --secrets ../shared/data/secrets/public_fixtures.jsonl
"""

from __future__ import annotations

import argparse
import json
import time
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.document import Source
from ingest.prepare import Prepared, prepare_batch
from ingest.redact import Finding, PresidioRedactor, Redaction, apply
from ingest.sources import read_jsonl

STRUCTURED = ("EMAIL_ADDRESS", "IBAN_CODE", "IP_ADDRESS", "US_SSN", "CREDIT_CARD", "PHONE_NUMBER")
BATCH = 16  # documents per redaction call, as a worker task takes them (ingest.prepare.TASK_DOCS)


@dataclass(frozen=True)
class Span:
    entity: str
    start: int
    end: int
    value: str


@dataclass(frozen=True)
class Sentence:
    text: str
    spans: tuple[Span, ...]
    half: str  # "tune" or "held-out"


def load_sentences(path: Path) -> list[Sentence]:
    sentences = []
    for item in json.loads(path.read_text(encoding="utf-8")):
        spans = tuple(
            Span(s["entity_type"], s["start_position"], s["end_position"], s["entity_value"])
            for s in item["spans"]
        )
        # A fixed split by template: crc32 is stable across runs and Python versions.
        half = "tune" if zlib.crc32(str(item["template_id"]).encode()) % 2 == 0 else "held-out"
        sentences.append(Sentence(item["full_text"], spans, half))
    return sentences


class RecordingRedactor:
    """Redacts exactly as the wrapped redactor does and keeps what it found in each prose text."""

    def __init__(self, inner: PresidioRedactor) -> None:
        self.inner = inner
        self.found: dict[str, list[Finding]] = {}

    def redact(self, texts: Sequence[str]) -> list[Redaction]:
        findings = self.inner.analyze(texts)
        self.found.update(zip(texts, findings, strict=True))
        return [apply(t, f) for t, f in zip(texts, findings, strict=True)]

    def redact_identifiers(self, texts: Sequence[str]) -> list[Redaction]:
        return self.inner.redact_identifiers(texts)


class BaselineRedactor(PresidioRedactor):
    """The recognizer set of ingest before this benchmark: presidio's own, spaCy's PERSON unchecked."""

    def _pii_recognizers(self) -> list[Any]:
        from presidio_analyzer.predefined_recognizers import (
            CreditCardRecognizer,
            EmailRecognizer,
            IbanRecognizer,
            IpRecognizer,
            SpacyRecognizer,
            UsSsnRecognizer,
        )

        from ingest.phones import WindowedPhoneRecognizer

        return [
            EmailRecognizer(),
            WindowedPhoneRecognizer(),
            CreditCardRecognizer(),
            UsSsnRecognizer(),
            IbanRecognizer(),
            IpRecognizer(),
            SpacyRecognizer(supported_entities=["PERSON"]),
        ]

    def redact_identifiers(self, texts: Sequence[str]) -> list[Redaction]:
        return self.redact(texts)  # URIs went through every rule, NER included


def _records(rows: Sequence[dict[str, Any]], origin: str) -> list[Source]:
    data = "\n".join(json.dumps(row) for row in rows).encode()
    sources = [s for s in read_jsonl(data, origin) if isinstance(s, Source)]
    assert len(sources) == len(rows), "every benchmark record must be a valid source"
    return sources


def _prepared(sources: Sequence[Source], redactor: RecordingRedactor) -> list[Prepared]:
    prepared: list[Prepared] = []
    for i in range(0, len(sources), BATCH):
        for outcome in prepare_batch(sources[i : i + BATCH], redactor):
            assert isinstance(outcome, Prepared), outcome
            prepared.append(outcome)
    return prepared


@dataclass
class PiiScore:
    caught: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)
    person_found: int = 0
    person_right: int = 0
    misses: list[tuple[str, str]] = field(default_factory=list)
    wrong_people: list[str] = field(default_factory=list)

    def recall(self, entities: Sequence[str]) -> float:
        total = sum(self.total[e] for e in entities)
        return sum(self.caught[e] for e in entities) / total if total else float("nan")

    def person_precision(self) -> float:
        return self.person_right / self.person_found if self.person_found else float("nan")


def score_pii(sentences: Sequence[Sentence], redactor: RecordingRedactor) -> PiiScore:
    rows = [{"id": f"pii-{i}", "text": s.text} for i, s in enumerate(sentences)]
    prepared = _prepared(_records(rows, "pii"), redactor)
    score = PiiScore()
    for sentence, outcome in zip(sentences, prepared, strict=True):
        stored = outcome.document.text
        for span in sentence.spans:
            if span.entity not in (*STRUCTURED, "PERSON"):
                continue
            score.total[span.entity] += 1
            if span.value in stored:
                score.misses.append((span.entity, span.value))
            else:
                score.caught[span.entity] += 1
        people = [s for s in sentence.spans if s.entity == "PERSON"]
        for found in redactor.found.get(sentence.text, []):
            if found.entity != "PERSON":
                continue
            score.person_found += 1
            if any(found.start < p.end and p.start < found.end for p in people):
                score.person_right += 1
            else:
                score.wrong_people.append(sentence.text[found.start : found.end])
    return score


@dataclass
class ScifactScore:
    chars: int = 0
    redacted: int = 0
    seconds: float = 0.0
    docs: int = 0
    strings: Counter[str] = field(default_factory=Counter)

    def share(self) -> float:
        return self.redacted / self.chars if self.chars else float("nan")


def score_scifact(
    sources: Sequence[Source], redactors: dict[str, RecordingRedactor]
) -> dict[str, ScifactScore]:
    """Over-redaction and speed; batch by batch, each redactor in turn, who goes first alternating."""
    scores = {name: ScifactScore() for name in redactors}
    names = list(redactors)
    for n, i in enumerate(range(0, len(sources), BATCH)):
        batch = sources[i : i + BATCH]
        for name in names if n % 2 == 0 else reversed(names):
            redactor, score = redactors[name], scores[name]
            redactor.found.clear()
            start = time.process_time()
            outcomes = prepare_batch(batch, redactor)
            score.seconds += time.process_time() - start
            score.docs += len(outcomes)
            for text, findings in redactor.found.items():
                score.chars += len(text)
                for f in findings:
                    score.redacted += f.end - f.start
                    score.strings[f"{f.entity}: {text[f.start : f.end]}"] += 1
    return scores


def _scifact_sources(path: Path, limit: int) -> list[Source]:
    rows = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip() and len(rows) < limit:
                rows.append(json.loads(line))
    return _records(rows, "scifact")


def _stored(redactor: RecordingRedactor) -> Callable[[list[str]], list[str]]:
    """Texts in, stored texts out, each text ingested as one JSONL record."""

    def run(texts: list[str]) -> list[str]:
        rows = [{"id": f"secret-{i}", "text": text} for i, text in enumerate(texts)]
        return [p.document.text for p in _prepared(_records(rows, "secrets"), redactor)]

    return run


def _secrets_block(path: Path | None, redactors: dict[str, RecordingRedactor]) -> dict[str, Any]:
    if path is None:
        return {}
    try:  # helper "secrets" writes this module; until it is merged the block is skipped
        from benchmarks.redaction_secrets import score_secrets  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        print("secrets: skipped (benchmarks.redaction_secrets is not here yet)")
        return {}
    figures = {}
    for name, redactor in redactors.items():
        score = score_secrets(_stored(redactor), path)
        figures[name] = {
            "recall": f"{score.recall.hits}/{score.recall.total} = {score.recall.share:.3f}",
            "negatives_kept": f"{score.kept.hits}/{score.kept.total} = {score.kept.share:.3f}",
        }
    return figures


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pii", type=Path, required=True, help="presidio synthetic sentences (JSON list)")
    parser.add_argument("--scifact", type=Path, required=True, help="SciFact corpus.jsonl")
    parser.add_argument("--secrets", type=Path, help="secrets fixtures (JSONL)")
    parser.add_argument("--scifact-docs", type=int, default=1500, help="SciFact documents to redact")
    parser.add_argument("--baseline", action="store_true", help="also run the previous recognizer set")
    parser.add_argument(
        "--show", type=int, default=0, help="print this many misses and wrong hits (tune half)"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)

    redactors = {"new": RecordingRedactor(PresidioRedactor())}
    if args.baseline:
        redactors = {"baseline": RecordingRedactor(BaselineRedactor()), **redactors}
    sentences = load_sentences(args.pii)
    report: dict[str, Any] = {}
    for name, redactor in redactors.items():
        for half in ("tune", "held-out"):
            score = score_pii([s for s in sentences if s.half == half], redactor)
            report.setdefault(name, {})[half] = _pii_figures(score)
            if half == "tune" and args.show and name == "new":
                _show(score, args.show)
    scifact = score_scifact(_scifact_sources(args.scifact, args.scifact_docs), redactors)
    for name, score in scifact.items():
        report[name]["scifact"] = {
            "docs": score.docs,
            "over_redaction": round(score.share(), 5),
            "docs_per_s": round(score.docs / score.seconds, 1),
            "most_replaced": score.strings.most_common(args.show or 8),
        }
    for name, secrets in _secrets_block(args.secrets, redactors).items():
        report[name]["secrets"] = secrets
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print(report)


def _pii_figures(score: PiiScore) -> dict[str, Any]:
    return {
        "per_type": {e: f"{score.caught[e]}/{score.total[e]}" for e in (*STRUCTURED, "PERSON")},
        "structured_recall": round(score.recall(STRUCTURED), 3),
        "person_recall": round(score.recall(("PERSON",)), 3),
        "person_precision": round(score.person_precision(), 3),
    }


def _show(score: PiiScore, n: int) -> None:
    print("misses:", *(f"  {e}: {v!r}" for e, v in score.misses[:n]), sep="\n")
    print("wrong PERSON:", *(f"  {v!r}" for v in score.wrong_people[:n]), sep="\n")


def _print(report: dict[str, Any]) -> None:
    for name, figures in report.items():
        print(f"== {name}")
        for half in ("tune", "held-out"):
            pii = figures[half]
            print(
                f"  {half:9} structured recall {pii['structured_recall']:.3f}  PERSON recall "
                f"{pii['person_recall']:.3f} precision {pii['person_precision']:.3f}"
            )
            print("            " + "  ".join(f"{e} {v}" for e, v in pii["per_type"].items()))
        sci = figures["scifact"]
        print(
            f"  SciFact   over-redaction {100 * sci['over_redaction']:.3f} % of characters over "
            f"{sci['docs']} docs; {sci['docs_per_s']:.1f} docs per CPU second"
        )
        print("            most replaced: " + "; ".join(f"{s} x{c}" for s, c in sci["most_replaced"]))
        if "secrets" in figures:
            print(f"  secrets   {figures['secrets']}")
    if "baseline" in report:
        speed = report["new"]["scifact"]["docs_per_s"] / report["baseline"]["scifact"]["docs_per_s"]
        print(f"speed new / baseline: {speed:.2f}x")


if __name__ == "__main__":
    main()
