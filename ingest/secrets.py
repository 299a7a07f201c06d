"""Secret detection for redaction: what is found, and the presidio recognizers that report it.

Four sources, each reporting only the span of the secret value:

- ``ingest.secret_tokens``: provider tokens by their own shape, webhook URLs, private key blocks, JWTs;
- ``ingest.secret_assignments``: values given to secret-sounding names (assignments, flags, elements,
  comparisons, sentences);
- ``ingest.secret_credentials``: auth headers, URL and CLI credentials, long random values;
- ``ingest.secret_plugins``: detect-secrets' regex plugins for formats the others do not spell out,
  run only on windows around long token-like runs.

A false positive costs a redacted string, a false negative leaks a credential into the index; the
hard negatives (SHAs, UUIDs, versions, identifiers, placeholders) are what the value judgements in
``ingest.secret_values`` keep.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ingest.secret_assignments import find_named_values
from ingest.secret_credentials import find_placed_credentials
from ingest.secret_plugins import find_with_plugins
from ingest.secret_tokens import Found, find_tokens

if TYPE_CHECKING:
    from presidio_analyzer import EntityRecognizer

SECRET_ENTITIES: tuple[str, ...] = (
    "API_TOKEN",
    "ANTHROPIC_KEY",
    "AUTH_HEADER",
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "AZURE_CLIENT_SECRET",
    "BASIC_AUTH",
    "BEARER_TOKEN",
    "GITHUB_TOKEN",
    "GITLAB_TOKEN",
    "GOOGLE_API_KEY",
    "JWT",
    "OPENAI_KEY",
    "PASSWORD",
    "PRIVATE_KEY",
    "SECRET",
    "SLACK_TOKEN",
    "STRIPE_KEY",
    "URL_PASSWORD",
    "WEBHOOK_URL",
)
"""Every entity a secret recognizer reports, each replaced by ``<ENTITY>``."""


@dataclass(frozen=True)
class SecretSpan:
    entity: str
    start: int
    end: int
    score: float
    rule: str


def find_secrets(text: str) -> list[SecretSpan]:
    """Every secret value in ``text``, overlaps resolved (the most trusted, then the longest, wins)."""
    found = [
        *find_tokens(text),
        *find_named_values(text),
        *find_placed_credentials(text),
        *find_with_plugins(text),
    ]
    return resolve_spans(text, found)


def resolve_spans(text: str, found: Iterable[Found]) -> list[SecretSpan]:
    """Spans trimmed of surrounding whitespace, overlaps resolved (the most trusted, then the longest)."""
    return _without_overlaps(_trimmed(text, f) for f in found)


def _trimmed(text: str, found: Found) -> Found:
    start, end = found.start, found.end
    while start < end and (text[start].isspace() or text.startswith("\\n", start)):
        start += 2 if text.startswith("\\n", start) else 1
    while end > start and (text[end - 1].isspace() or text[max(start, end - 2) : end] == "\\n"):
        end -= 2 if text[max(start, end - 2) : end] == "\\n" else 1
    return Found(found.entity, found.name, start, end, found.score)


def _without_overlaps(found: Iterable[Found]) -> list[SecretSpan]:
    ranked = sorted(found, key=lambda f: (-f.score, -(f.end - f.start), f.start))
    kept: list[Found] = []
    for candidate in ranked:
        if candidate.end > candidate.start and all(
            candidate.end <= k.start or candidate.start >= k.end for k in kept
        ):
            kept.append(candidate)
    return [
        SecretSpan(f.entity, f.start, f.end, f.score, f.name) for f in sorted(kept, key=lambda f: f.start)
    ]


def secret_recognizers() -> list[EntityRecognizer]:
    """The presidio recognizers that report ``SECRET_ENTITIES`` (imports presidio: call when redacting)."""
    from ingest.secret_recognizer import SecretRecognizer

    return [SecretRecognizer()]
