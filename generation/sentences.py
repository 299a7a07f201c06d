"""Sentences of a text with their exact character offsets, and the words that make them comparable.

The extractive answerer cites each sentence by its range in the stored text, so splitting never
rewrites the text: every sentence is ``text[start:end]`` with surrounding whitespace left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# A sentence ends at ., ! or ? (with closing quotes or brackets) before whitespace, or at a blank line
# or a line break that starts a list item or heading. Abbreviations like "e.g." and "Fig." and decimal
# numbers do not end one.
_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n\s*\n|\n(?=\s*(?:[-*•]|\d+[.)]|#)\s)")
_ABBREVIATIONS = frozenset(
    {
        "e.g",
        "i.e",
        "cf",
        "etc",
        "al",
        "fig",
        "figs",
        "eq",
        "eqs",
        "vs",
        "approx",
        "dr",
        "mr",
        "mrs",
        "ms",
        "prof",
        "no",
        "nos",
        "vol",
        "pp",
        "st",
        "inc",
        "ltd",
        "co",
        "corp",
    }
)
_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
_STOPWORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "being",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "it's",
        "me",
        "my",
        "no",
        "nor",
        "not",
        "of",
        "on",
        "or",
        "our",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "to",
        "too",
        "us",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
    }
)
MIN_SENTENCE_CHARS = 12


@dataclass(frozen=True)
class Sentence:
    start: int  # offsets into the text that was split
    end: int
    text: str


def split_sentences(text: str) -> Iterator[Sentence]:
    cursor = 0
    for boundary in _END.finditer(text):
        if _ends_in_abbreviation(text, boundary.start()):
            continue
        yield from _trimmed(text, cursor, boundary.start())
        cursor = boundary.end()
    yield from _trimmed(text, cursor, len(text))


def _ends_in_abbreviation(text: str, end: int) -> bool:
    if end == 0 or text[end - 1] != ".":
        return False
    word = re.search(r"([^\s(]+)\.$", text[max(0, end - 12) : end])
    return word is not None and (word.group(1).lower() in _ABBREVIATIONS or len(word.group(1)) == 1)


def _trimmed(text: str, start: int, end: int) -> Iterator[Sentence]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end - start >= MIN_SENTENCE_CHARS:
        yield Sentence(start, end, text[start:end])


def content_words(text: str) -> list[str]:
    """Lower-case words without stopwords, lightly stemmed so "pumps" meets "pump"."""
    return [_stem(w) for w in (m.group().lower() for m in _WORD.finditer(text)) if w not in _STOPWORDS]


def _stem(word: str) -> str:
    for suffix in ("ies", "ing", "es", "ed", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word
