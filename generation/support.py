"""Server-side checks of a model's answer: every sentence must cite a source it was given, and say what
that source supports. What fails is removed; the caller falls back to the extractive answer when too
little remains.

Support is deterministic: the share of the sentence's content words that the best window of the cited
chunk (one sentence, or two adjacent ones) contains. The citation then points at that window's exact
range in the stored text, so a reader can check the claim against the characters it rests on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from generation.citations import Citation
from generation.extractive import CitedSentence
from generation.sentences import Sentence, content_words, split_sentences
from retrieval.ports import Hit

_CITE = re.compile(r"\s*\[(\d{1,3})\](?:\s*\[(\d{1,3})\])*")
MIN_SUPPORT = 0.6


@dataclass(frozen=True)
class Checked:
    kept: tuple[CitedSentence, ...]
    removed: tuple[str, ...]  # sentences without a valid citation or support, for the trace
    sentences: int

    @property
    def supported_share(self) -> float:
        return len(self.kept) / self.sentences if self.sentences else 0.0


def check_answer(answer: str, sources: Sequence[Hit], *, min_support: float = MIN_SUPPORT) -> Checked:
    kept: list[CitedSentence] = []
    removed: list[str] = []
    total = 0
    for sentence in split_sentences(answer):
        total += 1
        numbers = [int(n) for n in re.findall(r"\[(\d{1,3})\]", sentence.text)]
        claim = _CITE.sub("", sentence.text).strip()
        best = max(
            (_support(claim, sources[n - 1]) for n in numbers if 1 <= n <= len(sources)),
            key=lambda found: found[1],
            default=None,
        )
        if best is None or best[1] < min_support:
            removed.append(sentence.text)
            continue
        kept.append(CitedSentence(claim, best[0], round(best[1], 4)))
    return Checked(tuple(kept), tuple(removed), total)


def _support(claim: str, hit: Hit) -> tuple[Citation, float]:
    words = set(content_words(claim))
    windows = _windows(list(split_sentences(hit.payload.text)))
    best: tuple[Citation, float] | None = None
    for start, end in windows:
        window_words = set(content_words(hit.payload.text[start:end]))
        share = len(words & window_words) / len(words) if words else 0.0
        if best is None or share > best[1]:
            best = (Citation.of(hit, start, end), share)
    if best is None:  # a chunk too short to hold a sentence: the chunk itself is the window
        text = hit.payload.text
        share = len(words & set(content_words(text))) / len(words) if words and text else 0.0
        return Citation.of(hit, 0, max(1, len(text))), share
    return best


def _windows(sentences: list[Sentence]) -> list[tuple[int, int]]:
    singles = [(s.start, s.end) for s in sentences]
    pairs = [(a.start, b.end) for a, b in pairwise(sentences)]
    return singles + pairs
