"""A document's own metadata (author, team, tags, …): what may be stored, and how it is walked.

Values are scalars or lists of scalars, so every value can be matched by the engine's payload filter
(``metadata.<key>``) and re-checked after it. Keys are plain identifiers: a dot would read as a path
into a nested object in a filter, and nested objects are not stored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from core.errors import InvalidInputError

Scalar = str | int | float | bool
MetadataValue = Scalar | list[Scalar]
Metadata = dict[str, MetadataValue]

KEY_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")
MAX_KEYS = 64
MAX_LIST_ITEMS = 100
MAX_STRING_CHARS = 2_000
# Integers a JSON client reads back exactly (I-JSON, RFC 7493); the engines' 64 bits would hold more,
# but a value past 2^53 would come back changed to most clients, and past 2^63 fail deep in a write.
MIN_INT, MAX_INT = -(2**53 - 1), 2**53 - 1


def check_key(key: object) -> str:
    if not isinstance(key, str) or not KEY_PATTERN.fullmatch(key):
        raise InvalidInputError(
            f"metadata key {str(key)[:80]!r} must be 1-64 letters, digits, '_' or '-', "
            "not starting with a digit"
        )
    return key


def _check_scalar(key: str, value: object) -> Scalar:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not MIN_INT <= value <= MAX_INT:
            raise InvalidInputError(
                f"metadata.{key} must be an integer within ±(2^53 - 1), got {str(value)[:40]}"
            )
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInputError(f"metadata.{key} must be a finite number")
        return value
    if isinstance(value, str):
        if len(value) > MAX_STRING_CHARS:
            raise InvalidInputError(f"metadata.{key} is longer than {MAX_STRING_CHARS} characters")
        return value
    raise InvalidInputError(f"metadata.{key} must be a string, number, boolean or a list of those")


def check_metadata(raw: Mapping[Any, Any]) -> Metadata:
    """The metadata to keep; ``None`` values are dropped, anything unstorable is a clear error."""
    if len(raw) > MAX_KEYS:
        raise InvalidInputError(f"metadata has {len(raw)} keys, at most {MAX_KEYS} are kept")
    kept: Metadata = {}
    for key, value in raw.items():
        name = check_key(key)
        if value is None:
            continue
        if isinstance(value, list):
            if len(value) > MAX_LIST_ITEMS:
                raise InvalidInputError(f"metadata.{name} has more than {MAX_LIST_ITEMS} items")
            kept[name] = [_check_scalar(name, item) for item in value if item is not None]
        else:
            kept[name] = _check_scalar(name, value)
    return kept


def strings_of(metadata: Metadata) -> list[str]:
    """Every string value in a fixed order (keys as stored, list items in order): what gets redacted."""
    found: list[str] = []
    for value in metadata.values():
        items = value if isinstance(value, list) else [value]
        found += [item for item in items if isinstance(item, str)]
    return found


def with_strings(metadata: Metadata, strings: list[str]) -> Metadata:
    """``metadata`` with its string values replaced, in the order ``strings_of`` gave them."""
    replacements = iter(strings)

    def swap(item: Scalar) -> Scalar:
        return next(replacements) if isinstance(item, str) else item

    replaced: Metadata = {}
    for key, value in metadata.items():
        replaced[key] = [swap(item) for item in value] if isinstance(value, list) else swap(value)
    if next(replacements, None) is not None:
        raise ValueError("more replacement strings than string values")
    return replaced
