"""Judgements on a candidate value: is it a placeholder, a code reference, an identifier, or random enough
to be a credential?

These are what keep redaction off ``${NPM_TOKEN}``, ``<your-token-here>``, ``ghp_xxxx…``,
``X25519.key_length`` or ``SalesResults-1.2`` while still taking ``DB_PASSWORD=hunter2``. They read
only the value (and, for prose, what follows it), never a list of known examples.
"""

from __future__ import annotations

import math
import re
from collections import Counter

_TEMPLATE_MARKS = ("${", "{{", "}}", "<%", "%>", "$(", "#{", "%(", "@{", "[[")
_PLACEHOLDER_WORDS = re.compile(
    r"(?i)your|here|placeholder|changeme|change_me|replace|redacted|dummy|insert|"
    r"\benter\b|todo|fixme|xxxx|\*\*\*|\.\.\.|secret_?value_?here"
)
_WRAPPED = re.compile(r"^(?:<[^<>]*>|\[[^\[\]]*\]|\{[^{}]*\}|\([^()]*\)|%[^%]+%)$")
_SHELL_VARIABLE = re.compile(r"^\$[A-Za-z_]\w*$")
_YAML_TAG = re.compile(r"^![A-Za-z]+$")  # `!Ref DbPassword`, `!vault |`: the value is elsewhere
_RESERVED = frozenset(
    {
        "none",
        "null",
        "nil",
        "true",
        "false",
        "undefined",
        "empty",
        "yes",
        "no",
        "on",
        "off",
        "required",
        "optional",
        "string",
        "str",
        "int",
        "bool",
        "password",
        "passwd",
        "secret",
        "token",
        "key",
        "hidden",
        "masked",
        "default",
        "example",
        "sample",
        "test",
        "changeit",
        "env",
        "new",
        "this",
        "self",
    }
)
# `self.password`, `os.environ[`, `config.get(`, `X25519.key_length`: code that names a value elsewhere.
_CODE_REFERENCE = re.compile(
    r"^[A-Za-z_$][\w$]*(?:(?:\.|::|->)[A-Za-z_$][\w$]*)+(?:\(|\[)?$|^[A-Za-z_$][\w$.]*[(\[]"
)
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# A word, a number, a short code (`q3`, `s3`, `v2`) or a word with a number (`arm64`, `utf8`).
_WORD_PART = re.compile(r"^(?:[A-Z]?[a-z]+)+$|^[A-Z]+$|^\d+$|^\w{1,3}$|^[A-Za-z]{2,8}\d{1,3}$")
_SEPARATORS = re.compile(r"[_\-.\s/:]+")


def shannon_entropy(value: str) -> float:
    """Bits per character of the value's own character distribution."""
    if not value:
        return 0.0
    counts = Counter(value)
    size = len(value)
    return -sum(n / size * math.log2(n / size) for n in counts.values())


def is_placeholder(value: str, *, prefix: str = "") -> bool:
    """A template, a variable reference, a documented stand-in or a run of x's; ``prefix`` is a token's
    fixed start (``ghp_``), left out when judging repetition."""
    if not value:
        return True
    if (
        any(mark in value for mark in _TEMPLATE_MARKS)
        or _WRAPPED.match(value)
        or _SHELL_VARIABLE.match(value)
    ):
        return True
    if _YAML_TAG.match(value):
        return True
    if value[0] in "<{[":
        return True  # an opening bracket starts a template or a description, never a generated key
    if _PLACEHOLDER_WORDS.search(value[len(prefix) :] if value.startswith(prefix) else value):
        return True
    body = _SEPARATORS.sub("", value[len(prefix) :] if value.startswith(prefix) else value)
    if not body:
        return True
    top = Counter(body).most_common(1)[0][1]
    return len(set(body)) <= 2 or top / len(body) >= 0.75


def is_reserved_word(value: str) -> bool:
    return value.lower().strip("'\"") in _RESERVED


def is_code_reference(value: str) -> bool:
    return bool(_CODE_REFERENCE.match(value))


def is_uuid(value: str) -> bool:
    return bool(_UUID.match(value))


def is_hex(value: str) -> bool:
    return bool(_HEX.match(value))


def is_identifier_like(value: str) -> bool:
    """Words and numbers joined by separators (``DOC_Vector_5_32``, ``SalesResults-1.2``, ``us-east-1``):
    names of things, not keys."""
    parts = [p for p in _SEPARATORS.split(value) if p]
    return bool(parts) and all(_WORD_PART.match(p) for p in parts)


def looks_random(value: str, *, min_length: int = 8) -> bool:
    """Long enough and mixed enough to be generated: letters with digits or symbols, or mixed case,
    and not merely words joined together."""
    if len(value) < min_length or is_identifier_like(value):
        return False
    has_digit = any(c.isdigit() for c in value)
    has_alpha = any(c.isalpha() for c in value)
    mixed_case = any(c.isupper() for c in value) and any(c.islower() for c in value)
    has_symbol = any(not c.isalnum() for c in value)
    if not has_alpha and not (has_symbol and len(value) >= 16):
        return False
    return (has_digit or mixed_case or has_symbol) and shannon_entropy(value) >= 2.5


def looks_generated(value: str, *, min_length: int = 20, min_entropy: float = 3.9) -> bool:
    """The stricter test for a value whose name says nothing: long, letters and digits, high entropy,
    and not a hex digest or a UUID (commit SHAs, checksums and ids are hex)."""
    if len(value) < min_length or is_hex(value.replace("-", "")) or is_identifier_like(value):
        return False
    if not (any(c.isdigit() for c in value) and any(c.isalpha() for c in value)):
        return False
    return shannon_entropy(value) >= min_entropy
