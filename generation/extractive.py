"""The deterministic answerer: the best supporting sentences of the permitted hits, each cited exactly.

It is the answer when no model is configured, and the fallback whenever a model call fails, runs out
of budget or produces what validation refuses. Same hits in, same answer out: no model, no sampling.

Sentences are scored by how much of the question's weight they cover (each content word weighted by
its rarity among the candidate sentences, so "the pump" counts for less than "impeller"), plus a small
prior for the hit's retrieval rank. A sentence must cover at least ``min_coverage`` of the question;
if none does, the honest answer is that the documents hold no evidence.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from generation.citations import Citation
from generation.sentences import content_words, split_sentences
from retrieval.ports import Hit

NO_EVIDENCE = "The documents available to you do not answer this question."


@dataclass(frozen=True)
class ExtractiveSettings:
    max_sentences: int = 3
    max_chars: int = 900
    min_coverage: float = 0.25
    rank_prior: float = 0.15  # how much the top hit's sentence is favoured over the tenth's
    max_overlap: float = 0.6  # a sentence this similar to a chosen one adds nothing


@dataclass(frozen=True)
class CitedSentence:
    text: str
    citation: Citation
    coverage: float  # share of the question's weight this sentence covers


@dataclass(frozen=True)
class ExtractiveAnswer:
    sentences: tuple[CitedSentence, ...]

    @property
    def has_evidence(self) -> bool:
        return bool(self.sentences)

    @property
    def citations(self) -> tuple[Citation, ...]:
        return tuple(s.citation for s in self.sentences)

    @property
    def text(self) -> str:
        """Each sentence followed by its citation number, ``[1]``, ``[2]``, ... in citation order."""
        if not self.sentences:
            return NO_EVIDENCE
        return " ".join(f"{s.text} [{n}]" for n, s in enumerate(self.sentences, start=1))


@dataclass(frozen=True)
class _Candidate:
    hit: Hit
    rank: int
    start: int
    end: int
    text: str
    words: frozenset[str]


def answer(
    question: str, hits: Sequence[Hit], settings: ExtractiveSettings | None = None
) -> ExtractiveAnswer:
    config = settings or ExtractiveSettings()
    asked = Counter(content_words(question))
    candidates = [
        _Candidate(hit, rank, s.start, s.end, s.text, frozenset(content_words(s.text)))
        for rank, hit in enumerate(hits)
        for s in split_sentences(hit.payload.text)
    ]
    if not asked or not candidates:
        return ExtractiveAnswer(())
    weights = _rarity(asked, candidates)
    total = sum(weights[w] * n for w, n in asked.items())
    scored = []
    for candidate in candidates:
        coverage = sum(weights[w] * n for w, n in asked.items() if w in candidate.words) / total
        if coverage >= config.min_coverage:
            prior = config.rank_prior / (1 + candidate.rank)
            scored.append((coverage + prior, coverage, candidate))
    # Best first; ties by rank and position, so the choice never depends on dict or set order.
    scored.sort(key=lambda item: (-item[0], item[2].rank, item[2].start))
    return ExtractiveAnswer(tuple(_choose(scored, config)))


def _rarity(asked: Counter[str], candidates: Sequence[_Candidate]) -> dict[str, float]:
    count = len(candidates)
    return {
        word: math.log(1 + count / (1 + sum(word in c.words for c in candidates))) + 0.1 for word in asked
    }


def _choose(scored: list[tuple[float, float, _Candidate]], config: ExtractiveSettings) -> list[CitedSentence]:
    chosen: list[CitedSentence] = []
    chosen_words: list[frozenset[str]] = []
    length = 0
    for _, coverage, candidate in scored:
        if len(chosen) == config.max_sentences:
            break
        if any(_overlap(candidate.words, words) > config.max_overlap for words in chosen_words):
            continue
        if chosen and length + len(candidate.text) > config.max_chars:
            continue
        citation = Citation.of(candidate.hit, candidate.start, candidate.end)
        chosen.append(CitedSentence(candidate.text, citation, round(coverage, 4)))
        chosen_words.append(candidate.words)
        length += len(candidate.text)
    return chosen


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / max(1, len(a | b))
