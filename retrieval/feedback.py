"""Pseudo-relevance feedback: a second engine query shaped by the best chunks of the first.

The top chunks of a first search are taken as relevant without anyone judging them, and the query
moves toward them before the real search runs:

- BM25 side (RM3, Lavrenko & Croft's relevance model as Anserini applies it): the query's terms are
  mixed with the terms that weigh most across the feedback chunks, each chunk's terms weighed as the
  index weighs them (saturated term frequency, the title in front); the engine still applies IDF.
- Dense side (Rocchio): the query vector plus a fraction of the mean of the feedback chunks' stored
  vectors, so the second dense search looks for "more like these".

Both cost one more engine query and no model call: the chunk texts come with the hits and the vectors
are the ones stored at ingest. Feedback is only ever drawn from hits the caller may see (the engine
filter and the label re-check), so it can't pull another tenant's or a hidden document's words in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from core.access import AccessFilter
from core.settings import FeedbackSettings
from retrieval.ports import Hit, Query, SparseEncoder, SparseVector, VectorStore


@dataclass(frozen=True)
class Feedback:
    """How far the second query moves toward the first one's ``docs`` best chunks."""

    docs: int
    terms: int
    query_weight: float  # RM3: the original BM25 query's share; 1 leaves it untouched
    dense_weight: float  # Rocchio: the feedback centroid's weight against the query's 1; 0 leaves it

    @classmethod
    def from_settings(cls, settings: FeedbackSettings) -> Feedback | None:
        if settings.docs == 0:
            return None
        return cls(settings.docs, settings.terms, settings.query_weight, settings.dense_weight)

    @property
    def wants_dense(self) -> bool:
        """Whether the first search must return the chunks' stored dense vectors."""
        return self.dense_weight > 0

    def second_query(
        self,
        store: VectorStore,
        sparse: SparseEncoder,
        allowed: AccessFilter,
        query: Query,
        *,
        candidates: int,
    ) -> Query:
        """Run ``query`` for the feedback chunks and return the query to search with instead.

        ``candidates`` is the main search's, so the first ranking is the one the caller would get.
        """
        first = store.search(
            allowed.tenant,
            replace(query, with_dense=self.wants_dense),
            allowed=allowed,
            k=self.docs,
            candidates=candidates,
        )
        # The second wall, as the search's own re-check: only chunks the caller may see feed back.
        seen = [h for h in first if allowed.allows(h.tenant, h.payload.labels)]
        return self.refine(query, seen, sparse)

    def refine(self, query: Query, hits: Sequence[Hit], sparse: SparseEncoder) -> Query:
        """The second query; ``hits`` are the first search's, best first, already access-checked."""
        top = list(hits[: self.docs])
        if not top:
            return query
        dense = query.dense
        if dense is not None and self.wants_dense:
            vectors = [h.dense for h in top if h.dense is not None]
            dense = rocchio(dense, vectors, self.dense_weight) if vectors else dense
        expanded = query.sparse
        if expanded is not None and self.query_weight < 1:
            documents = [sparse.encode_document(h.payload.text, title=h.payload.title) for h in top]
            expanded = rm3(expanded, documents, terms=self.terms, query_weight=self.query_weight)
        return replace(query, dense=dense, sparse=expanded)


def rm3(
    query: SparseVector, documents: Sequence[SparseVector], *, terms: int, query_weight: float
) -> SparseVector:
    """The query's terms (weight shared equally) mixed with the ``terms`` heaviest feedback terms.

    Each document's term weights are normalised to sum to 1 (its term distribution) and the
    documents are averaged: every feedback chunk counts the same, whichever retriever found it.
    """
    relevance: dict[int, float] = {}
    used = [d for d in documents if d.values and sum(d.values) > 0]
    for document in used:
        total = sum(document.values)
        for index, value in zip(document.indices, document.values, strict=True):
            relevance[index] = relevance.get(index, 0.0) + value / total / len(used)
    best = sorted(relevance.items(), key=lambda item: (-item[1], item[0]))[:terms]
    mass = sum(weight for _, weight in best)
    mixed: dict[int, float] = {}
    if query.indices:
        share = query_weight / len(query.indices)
        for index in query.indices:
            mixed[index] = mixed.get(index, 0.0) + share
    for index, weight in best:
        mixed[index] = mixed.get(index, 0.0) + (1 - query_weight) * weight / mass
    ordered = sorted(mixed)
    return SparseVector(tuple(ordered), tuple(mixed[i] for i in ordered))


def rocchio(query: Sequence[float], vectors: Sequence[Sequence[float]], weight: float) -> list[float]:
    """``query + weight * mean(vectors)``, unit length (the engine compares by cosine)."""
    dimension = len(query)
    moved = [q + weight * sum(v[i] for v in vectors) / len(vectors) for i, q in enumerate(query[:dimension])]
    norm = math.sqrt(sum(x * x for x in moved))
    return [x / norm for x in moved] if norm > 0 else list(query)
