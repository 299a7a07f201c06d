"""BM25 as sparse vectors: the engine stores term weights and applies IDF itself (the ``idf`` modifier).

A document term's weight is BM25's saturated term frequency, ``tf·(k1+1) / (tf + k1·(1−b+b·len/avg_len))``;
a query term weighs 1, so the engine's dot product with IDF applied is the BM25 score. Terms map to
indices through CRC32, which is stable across processes and machines (Python's ``hash`` is not).
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from functools import lru_cache

import Stemmer

from retrieval.ports import SparseVector

_WORD = re.compile(r"[^\W_]+", re.UNICODE)

# A short English list: enough to keep the commonest words out of the index without hurting phrases.
_STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your
    yours yourself yourselves""".split()
)


class Bm25Encoder:
    def __init__(self, *, k1: float = 1.2, b: float = 0.75, avg_len: float = 150.0) -> None:
        self._k1 = k1
        self._b = b
        self._avg_len = avg_len
        self._stemmer = Stemmer.Stemmer("english")

    def tokens(self, text: str) -> list[str]:
        words = [w for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]
        return list(self._stemmer.stemWords(words))

    def encode_document(self, text: str) -> SparseVector:
        terms = self.tokens(text)
        if not terms:
            return SparseVector((), ())
        norm = self._k1 * (1 - self._b + self._b * len(terms) / self._avg_len)
        weights: dict[int, float] = {}
        for term, tf in Counter(terms).items():
            index = _term_index(term)
            weights[index] = weights.get(index, 0.0) + tf * (self._k1 + 1) / (tf + norm)
        return _sorted_vector(weights)

    def encode_query(self, text: str) -> SparseVector:
        return _sorted_vector({_term_index(term): 1.0 for term in set(self.tokens(text))})


@lru_cache(maxsize=200_000)
def _term_index(term: str) -> int:
    return zlib.crc32(term.encode("utf-8"))


def _sorted_vector(weights: dict[int, float]) -> SparseVector:
    ordered = sorted(weights.items())
    return SparseVector(tuple(i for i, _ in ordered), tuple(v for _, v in ordered))
