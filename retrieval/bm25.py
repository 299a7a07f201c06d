"""BM25 as sparse vectors, with Qdrant's own tokenizer and weighting (shipped in ``qdrant-edge-py``).

Documents get saturated term frequencies, queries get weight 1 per term; the engine applies IDF through
the sparse vector's ``idf`` modifier, so both adapters score BM25 identically without a model server.
"""

from __future__ import annotations

from qdrant_edge import Bm25, Bm25Config

from retrieval.ports import SparseVector

# Chunks hold at most ~200 encoder tokens (~130 words after stopwords); BM25's length
# normalisation should be centred on that rather than the library's default of 256.
CHUNK_AVG_WORDS = 120.0


class QdrantBm25Encoder:
    def __init__(self, *, k: float = 1.2, b: float = 0.75, avg_len: float = CHUNK_AVG_WORDS) -> None:
        self._model = Bm25(Bm25Config(k=k, b=b, avg_len=avg_len, language="english"))

    def encode_document(self, text: str) -> SparseVector:
        vector = self._model.embed_document(text)
        return SparseVector(tuple(vector.indices), tuple(vector.values))

    def encode_query(self, text: str) -> SparseVector:
        vector = self._model.embed_query(text)
        return SparseVector(tuple(vector.indices), tuple(vector.values))
