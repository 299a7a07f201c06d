"""detect-secrets' provider plugins as one more source of secret spans.

The plugins are used through ``analyze_string`` only: their settings, filters and verifiers (which call
providers over the network) are never touched. They run line by line, and only on lines holding a run
of 16 or more token characters: every value these plugins know is at least that long, and most lines
of prose hold none, which keeps their cost off ordinary documents.

detect-secrets' keyword and high-entropy plugins are not used: measured on public scanner cases they
added no secret that ``ingest.secret_assignments`` missed and lost hard negatives (see
``benchmarks/redaction_secrets.py`` and the README notes).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from ingest.secret_tokens import Found
from ingest.secret_values import is_placeholder

_CANDIDATE = re.compile(r"[A-Za-z0-9+/=_-]{16,}")

# plugin class name -> the entity it reports
_PLUGINS: dict[str, str] = {
    "ArtifactoryDetector": "API_TOKEN",
    "AWSKeyDetector": "AWS_ACCESS_KEY",
    "AzureStorageKeyDetector": "SECRET",
    "BasicAuthDetector": "URL_PASSWORD",
    "CloudantDetector": "SECRET",
    "DiscordBotTokenDetector": "API_TOKEN",
    "GitHubTokenDetector": "GITHUB_TOKEN",
    "GitLabTokenDetector": "GITLAB_TOKEN",
    "IbmCloudIamDetector": "SECRET",
    "IbmCosHmacDetector": "SECRET",
    "JwtTokenDetector": "JWT",
    "MailchimpDetector": "API_TOKEN",
    "NpmDetector": "API_TOKEN",
    "OpenAIDetector": "OPENAI_KEY",
    "PypiTokenDetector": "API_TOKEN",
    "SendGridDetector": "API_TOKEN",
    "SlackDetector": "SLACK_TOKEN",
    "SoftlayerDetector": "SECRET",
    "SquareOAuthDetector": "API_TOKEN",
    "StripeDetector": "STRIPE_KEY",
    "TwilioKeyDetector": "API_TOKEN",
}


@cache
def _plugins() -> tuple[tuple[str, Any], ...]:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    by_name = {cls.__name__: cls for cls in get_mapping_from_secret_type_to_class().values()}
    return tuple((entity, by_name[name]()) for name, entity in _PLUGINS.items() if name in by_name)


def _lines_with_candidates(text: str) -> Iterator[tuple[int, str]]:
    """(offset, line) for each line that holds a long token-like run."""
    seen_line_starts: set[int] = set()
    for match in _CANDIDATE.finditer(text):
        start = text.rfind("\n", 0, match.start()) + 1
        if start in seen_line_starts:
            continue
        seen_line_starts.add(start)
        end = text.find("\n", match.end())
        yield start, text[start : end if end >= 0 else len(text)]


def _value_spans(plugin: Any, line: str) -> Iterator[tuple[int, int]]:
    """Where each denylist expression matched: the last captured group long enough to be the value
    (assignment-style rules capture it), else the whole match (``analyze_string`` would hand back
    a bare prefix such as ``ghp`` for the GitHub rule)."""
    for regex in plugin.denylist:
        for match in regex.finditer(line):
            groups = [i for i in range(1, (regex.groups or 0) + 1) if len(match.group(i) or "") >= 8]
            chosen = groups[-1] if groups else 0
            yield match.start(chosen), match.end(chosen)


def find_with_plugins(text: str) -> Iterator[Found]:
    for offset, line in _lines_with_candidates(text):
        for entity, plugin in _plugins():
            for start, end in _value_spans(plugin, line):
                if not is_placeholder(line[start:end]):
                    rule = f"detect-secrets {type(plugin).__name__}"
                    yield Found(entity, rule, offset + start, offset + end, 0.9)
