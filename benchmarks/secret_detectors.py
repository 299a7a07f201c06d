"""The secret detectors compared on their own (no presidio, no PII recognizers), to choose between
detect-secrets' plugins and our own formats: each configuration's spans replace the values, and the
scorer of ``benchmarks.redaction_secrets`` counts what was caught and kept.

Configurations: main's old regex list; detect-secrets' regex-based provider plugins (as wrapped in
``ingest.secret_plugins``); those plus its keyword and high-entropy plugins; our formats alone
(``ingest.secret_tokens``, ``secret_assignments``, ``secret_credentials``); ours with the provider
plugins (what the redactor runs); ours with every detect-secrets plugin.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import regex

from benchmarks.legacy_secret_patterns import LEGACY_SECRET_PATTERNS
from benchmarks.redaction_secrets import report, score_secrets
from ingest.secret_assignments import find_named_values
from ingest.secret_credentials import find_placed_credentials
from ingest.secret_plugins import find_with_plugins
from ingest.secret_tokens import Found, find_tokens
from ingest.secrets import resolve_spans

Detector = Callable[[str], Iterable[Found]]


def _legacy(text: str) -> Iterator[Found]:
    # presidio compiles patterns with the `regex` module (the old list uses variable-width look-behinds)
    for pattern in LEGACY_SECRET_PATTERNS:
        for match in regex.finditer(pattern.regex, text):
            yield Found(pattern.entity, pattern.name, match.start(), match.end(), pattern.score)


def _detect_secrets_generic(text: str) -> Iterator[Found]:
    from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString, HexHighEntropyString
    from detect_secrets.plugins.keyword import KeywordDetector

    keyword, entropy = KeywordDetector(), (Base64HighEntropyString(), HexHighEntropyString())
    for line in re.finditer(r"[^\n]+", text):
        values = set(keyword.analyze_string(line.group()))
        for plugin in entropy:
            values |= {
                v
                for v in plugin.analyze_string(line.group())
                if plugin.calculate_shannon_entropy(v) > plugin.entropy_limit
            }
        for value in values:
            for hit in re.finditer(re.escape(value), line.group()):
                yield Found(
                    "SECRET",
                    "detect-secrets generic",
                    line.start() + hit.start(),
                    line.start() + hit.end(),
                    0.8,
                )


def _ours(text: str) -> Iterator[Found]:
    yield from find_tokens(text)
    yield from find_named_values(text)
    yield from find_placed_credentials(text)


DETECTORS: dict[str, Detector] = {
    "old regex list": _legacy,
    "detect-secrets provider plugins": lambda t: find_with_plugins(t, every_plugin=True),
    "detect-secrets provider + keyword + entropy plugins": lambda t: [
        *find_with_plugins(t, every_plugin=True),
        *_detect_secrets_generic(t),
    ],
    "ours alone": _ours,
    "ours + detect-secrets plugins for formats we lack (shipped)": lambda t: [
        *_ours(t),
        *find_with_plugins(t),
    ],
    "ours + every detect-secrets provider plugin": lambda t: [
        *_ours(t),
        *find_with_plugins(t, every_plugin=True),
    ],
    "ours + every detect-secrets plugin": lambda t: [
        *_ours(t),
        *find_with_plugins(t, every_plugin=True),
        *_detect_secrets_generic(t),
    ],
}


def _redactor(detect: Detector) -> Callable[[list[str]], list[str]]:
    def redact(texts: list[str]) -> list[str]:
        stored = []
        for text in texts:
            pieces, last = [], 0
            for span in resolve_spans(text, detect(text)):
                pieces += [text[last : span.start], f"<{span.entity}>"]
                last = span.end
            stored.append("".join(pieces) + text[last:])
        return stored

    return redact


def compare(fixtures: Path) -> Iterator[str]:
    for name, detect in DETECTORS.items():
        score = score_secrets(_redactor(detect), fixtures)
        yield from (
            line
            for line in report(f"detector: {name}", score, show_misses=False)
            if not line.startswith("  ")
        )
