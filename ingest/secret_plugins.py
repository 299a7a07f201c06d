"""detect-secrets' provider plugins as a second opinion beside our own formats.

Every regex-based plugin detect-secrets ships is used (so a new one arrives with a version bump),
except the few named below and those whose formats we spell out ourselves; only their compiled
``denylist`` expressions are read. Their settings, filters and verifiers (which call providers over
the network) are never touched.

They run on windows around runs of 16 or more token characters holding a letter and a digit, as
``ingest.phones`` does for digits: every value these plugins know is such a run, their assignment rules
look at most a line back, and most prose holds none, which keeps their cost off ordinary documents.
Measured on the public scanner cases (``benchmarks/secret_detectors.py``) the plugins alone catch
0.30 of the secrets and add nothing to ours; its keyword and high-entropy plugins add nothing either
and lose hard negatives, so they are not used. What stays covers formats we do not spell out (IBM
Cloud IAM and COS HMAC, SoftLayer, Cloudant) and any plugin a later version adds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from ingest.secret_tokens import Found
from ingest.secret_values import is_placeholder

# PrivateKey matches only the BEGIN line (the key is ours to find), IPPublic is PII's business, and
# Telegram's rule has no `AA` anchor, so it takes `…22223333:aaaa…` out of an ARN.
_LEFT_OUT = frozenset({"PrivateKeyDetector", "IPPublicDetector", "TelegramBotTokenDetector"})
# Formats ``ingest.secret_tokens`` and ``secret_credentials`` spell out themselves: measured, these
# plugins found nothing more there, and skipping them halves the plugins' cost on config-heavy text.
# The benchmark still runs them all (``every_plugin=True``).
DUPLICATED = frozenset(
    {
        "ArtifactoryDetector",
        "AWSKeyDetector",
        "AzureStorageKeyDetector",
        "BasicAuthDetector",
        "DiscordBotTokenDetector",
        "GitHubTokenDetector",
        "GitLabTokenDetector",
        "JwtTokenDetector",
        "MailchimpDetector",
        "NpmDetector",
        "OpenAIDetector",
        "PypiTokenDetector",
        "SendGridDetector",
        "SlackDetector",
        "SquareOAuthDetector",
        "StripeDetector",
        "TwilioKeyDetector",
    }
)
_ENTITIES = {
    "AWSKeyDetector": "AWS_ACCESS_KEY",
    "BasicAuthDetector": "URL_PASSWORD",
    "GitHubTokenDetector": "GITHUB_TOKEN",
    "GitLabTokenDetector": "GITLAB_TOKEN",
    "JwtTokenDetector": "JWT",
    "OpenAIDetector": "OPENAI_KEY",
    "SlackDetector": "SLACK_TOKEN",
    "StripeDetector": "STRIPE_KEY",
}
_CANDIDATE = re.compile(r"[A-Za-z0-9+/=_-]{16,}")
_LETTER_AND_DIGIT = re.compile(r"[A-Za-z][^\d]*\d|\d[^A-Za-z]*[A-Za-z]")
WINDOW = 120  # characters each side: the keyword of an assignment rule and the value itself


@cache
def _plugins(every_plugin: bool) -> tuple[tuple[str, Any], ...]:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.base import RegexBasedDetector

    classes: list[type[Any]] = list(get_mapping_from_secret_type_to_class().values())
    return tuple(
        (_ENTITIES.get(cls.__name__, "SECRET"), cls())
        for cls in sorted(classes, key=lambda c: c.__name__)
        if issubclass(cls, RegexBasedDetector)
        and cls.__name__ not in _LEFT_OUT
        and (every_plugin or cls.__name__ not in DUPLICATED)
    )


def _windows(text: str) -> list[tuple[int, int]]:
    """Line-bounded ranges around each candidate run, merged where they touch."""
    windows: list[tuple[int, int]] = []
    for run in _CANDIDATE.finditer(text):
        if not _LETTER_AND_DIGIT.search(run.group()):
            continue
        line_start = text.rfind("\n", 0, run.start()) + 1
        line_end = text.find("\n", run.end())
        start = max(line_start, run.start() - WINDOW)
        end = min(line_end if line_end >= 0 else len(text), run.end() + WINDOW)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(end, windows[-1][1]))
        else:
            windows.append((start, end))
    return windows


def _value_spans(plugin: Any, text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Where each denylist expression matched: the last captured group long enough to be the value
    (assignment rules capture it), else the whole match (``analyze_string`` would hand back a bare
    prefix such as ``ghp`` for the GitHub rule)."""
    for regex in plugin.denylist:
        for match in regex.finditer(text[start:end]):
            groups = [i for i in range(1, regex.groups + 1) if len(match.group(i) or "") >= 8]
            chosen = groups[-1] if groups else 0
            yield start + match.start(chosen), start + match.end(chosen)


def find_with_plugins(text: str, *, every_plugin: bool = False) -> Iterator[Found]:
    """Spans the plugins report; by default only those whose formats we do not spell out ourselves."""
    plugins = _plugins(every_plugin)
    for window_start, window_end in _windows(text):
        for entity, plugin in plugins:
            for start, end in _value_spans(plugin, text, window_start, window_end):
                if not is_placeholder(text[start:end]):
                    yield Found(entity, f"detect-secrets {type(plugin).__name__}", start, end, 0.9)
