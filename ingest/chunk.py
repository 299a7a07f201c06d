"""Split a prepared document into chunks with exact character offsets into its stored text.

Units are sentences inside elements; chunks pack whole units up to ``max_tokens`` encoder tokens, never
cross a page, and start with the previous chunk's last units (up to ``overlap_tokens``) for context.
A unit longer than a chunk is cut at token boundaries.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ingest.document import PreparedDocument

# A sentence ends at . ! ? followed by space and something that can start one, or at a line break.
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[A-Z0-9<])|\n+")


class TokenCounter(Protocol):
    def count(self, texts: Sequence[str]) -> list[int]: ...

    def offsets(self, text: str) -> list[tuple[int, int]]:
        """Character span of each token of ``text``."""
        ...


@dataclass(frozen=True)
class Chunk:
    index: int
    char_start: int
    char_end: int
    page: int | None
    text: str
    element_type: str = ""


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    page: int | None
    tokens: int
    kind: str = ""


class HuggingFaceTokenCounter:
    """Counts with the encoder's own tokenizer so chunk sizes match what the model will see."""

    def __init__(self, model_dir: str) -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(Path(model_dir) / "tokenizer.json"))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()

    def count(self, texts: Sequence[str]) -> list[int]:
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encodings]

    def offsets(self, text: str) -> list[tuple[int, int]]:
        return list(self._tokenizer.encode(text, add_special_tokens=False).offsets)


class Chunker:
    def __init__(self, counter: TokenCounter, *, max_tokens: int = 200, overlap_tokens: int = 20) -> None:
        if overlap_tokens >= max_tokens:
            raise ValueError(f"overlap_tokens ({overlap_tokens}) must be below max_tokens ({max_tokens})")
        self._counter = counter
        self._max = max_tokens
        self._overlap = overlap_tokens

    def chunk(self, document: PreparedDocument) -> list[Chunk]:
        units = self._units(document)
        chunks: list[Chunk] = []
        for group in self._pack(units):
            start, end = group[0].start, group[-1].end
            text = document.text[start:end]
            chunks.append(Chunk(len(chunks), start, end, group[0].page, text, group[0].kind))
        return chunks

    def _units(self, document: PreparedDocument) -> list[_Unit]:
        spans: list[tuple[int, int, int | None, str]] = []
        for span in document.spans:
            for start, end in _sentences(document.text, span.start, span.end):
                spans.append((start, end, span.page, span.kind))
        counts = self._counter.count([document.text[s:e] for s, e, _, _ in spans]) if spans else []
        units: list[_Unit] = []
        for (start, end, page, kind), tokens in zip(spans, counts, strict=True):
            if tokens <= self._max:
                units.append(_Unit(start, end, page, tokens, kind))
            else:
                units.extend(self._split_long(document.text, start, end, page, kind))
        return units

    def _split_long(self, text: str, start: int, end: int, page: int | None, kind: str) -> list[_Unit]:
        """Cut an over-long unit into token windows that end between words where possible.

        Cutting inside a word would let the tokenizer split the fragment differently and exceed the budget.
        """
        piece = text[start:end]
        offsets = self._counter.offsets(piece)
        pieces: list[_Unit] = []
        first = 0
        while first < len(offsets):
            last = min(first + self._max, len(offsets))  # exclusive
            if last < len(offsets):
                last = _word_boundary(piece, offsets, first, last)
            pieces.append(
                _Unit(start + offsets[first][0], start + offsets[last - 1][1], page, last - first, kind)
            )
            if last >= len(offsets):
                break
            first = max(first + 1, last - self._overlap)
        return pieces

    def _pack(self, units: list[_Unit]) -> list[list[_Unit]]:
        groups: list[list[_Unit]] = []
        current: list[_Unit] = []
        fresh = 0  # units in `current` not carried over from the previous chunk
        for unit in units:
            size = sum(u.tokens for u in current)
            page_changes = bool(current) and unit.page != current[0].page
            if current and (size + unit.tokens > self._max or page_changes):
                if fresh:
                    groups.append(current)
                current = [] if page_changes else self._carry(current, unit.tokens)
                fresh = 0
            current.append(unit)
            fresh += 1
        if current and fresh:
            groups.append(current)
        return groups

    def _carry(self, previous: list[_Unit], incoming: int) -> list[_Unit]:
        carried: list[_Unit] = []
        budget = min(self._overlap, self._max - incoming)
        for unit in reversed(previous[1:]):  # never carry the whole previous chunk
            if unit.tokens > budget:
                break
            carried.insert(0, unit)
            budget -= unit.tokens
        return carried


def _word_boundary(text: str, offsets: list[tuple[int, int]], first: int, last: int) -> int:
    """The latest window end in the back half of ``[first, last)`` that falls between two words."""
    for candidate in range(last, first + (last - first) // 2, -1):
        if offsets[candidate][0] > offsets[candidate - 1][1]:  # a gap (whitespace) before the next token
            return candidate
    return last


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans inside ``text[start:end]`` with surrounding whitespace trimmed off."""
    spans: list[tuple[int, int]] = []
    cursor = start
    for match in _SENTENCE_BREAK.finditer(text, start, end):
        spans.append((cursor, match.start()))
        cursor = match.end()
    spans.append((cursor, end))
    trimmed: list[tuple[int, int]] = []
    for s, e in spans:
        piece = text[s:e]
        lead = len(piece) - len(piece.lstrip())
        trail = len(piece) - len(piece.rstrip())
        if e - trail > s + lead:
            trimmed.append((s + lead, e - trail))
    return trimmed
