"""Small deterministic doubles for unit tests. Every port also has tests on its real adapter."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence

from ingest.redact import Redaction

_WORD = re.compile(r"\w+")


class FakeEmbedder:
    """Bag of words hashed into a unit vector: texts sharing words are close, and results never vary."""

    def __init__(self, dimension: int = 384) -> None:
        self._dimension = dimension
        self.calls = 0
        self.texts_embedded = 0

    @property
    def dimension(self) -> int:
        return self._dimension

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * self._dimension
        for word in _WORD.findall(text.lower()) or ["<empty>"]:
            digest = hashlib.sha256(word.encode()).digest()
            for i in range(0, 8, 2):
                index = int.from_bytes(digest[i : i + 2], "big") % self._dimension
                vector[index] += 1.0 if digest[i + 8] % 2 else -1.0
        norm = math.sqrt(sum(v * v for v in vector)) or 1.0
        return [v / norm for v in vector]

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls += 1
        self.texts_embedded += len(texts)
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


class FakeRedactor:
    """Replaces e-mail addresses only; enough to see that redaction runs before storage."""

    _EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")

    def redact(self, texts: Sequence[str]) -> list[Redaction]:
        results = []
        for text in texts:
            redacted, n = self._EMAIL.subn("<EMAIL_ADDRESS>", text)
            results.append(Redaction(redacted, {"EMAIL_ADDRESS": n} if n else {}))
        return results

    def redact_identifiers(self, texts: Sequence[str]) -> list[Redaction]:
        return self.redact(texts)  # an address inside a URI is replaced the same way


class WordCounter:
    """Token counter that treats each word or punctuation mark as a token (for chunker tests)."""

    _TOKEN = re.compile(r"\w+|[^\w\s]")

    def count(self, texts: Sequence[str]) -> list[int]:
        return [len(self._TOKEN.findall(t)) for t in texts]

    def offsets(self, text: str) -> list[tuple[int, int]]:
        return [(m.start(), m.end()) for m in self._TOKEN.finditer(text)]
