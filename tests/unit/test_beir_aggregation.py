"""Chunk hits collapse into a document ranking: the eval's part between the engine and the metrics."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evals.beir import Aggregation, rank_documents
from retrieval.ports import ChunkPayload, Hit

BLANK = ChunkPayload(
    chunk_id="",
    doc_id="",
    version=1,
    chunk_index=0,
    title="",
    source_uri="",
    text="",
    char_start=0,
    char_end=0,
    page=None,
    labels=("public",),
    content_sha256="0" * 64,
    ingested_at=datetime(2026, 12, 1, tzinfo=UTC),
    source_updated_at=None,
)


def hits(*scored: tuple[str, float]) -> list[Hit]:
    return [
        Hit("t", replace(BLANK, doc_id=doc, chunk_id=f"{doc}#{i}"), s) for i, (doc, s) in enumerate(scored)
    ]


def test_best_chunk_ranks_documents_by_their_best_hit() -> None:
    ranked = rank_documents(hits(("a", 0.9), ("b", 0.8), ("a", 0.7), ("c", 0.1)), Aggregation(top=1))
    assert ranked == [("a", 0.9), ("b", 0.8), ("c", 0.1)]


def test_summing_two_chunks_lifts_a_document_that_matches_twice() -> None:
    found = hits(("one", 0.9), ("twice", 0.8), ("twice", 0.5), ("one", 0.05), ("one", 0.04))
    ranked = rank_documents(found, Aggregation(top=2))
    assert [doc for doc, _ in ranked] == ["twice", "one"]
    assert ranked[0][1] == pytest.approx(1.3)
    assert ranked[1][1] == pytest.approx(0.95)  # only its two best count


def test_top_must_be_positive() -> None:
    with pytest.raises(ValueError, match="got 0"):
        Aggregation(top=0)


@given(st.lists(st.tuples(st.sampled_from("abcdef"), st.floats(0, 1)), max_size=30))
def test_best_chunk_keeps_the_engine_s_order_of_first_appearances(pairs: list[tuple[str, float]]) -> None:
    ordered = sorted(pairs, key=lambda pair: pair[1], reverse=True)  # the engine answers best first
    ranked = [doc for doc, _ in rank_documents(hits(*ordered), Aggregation(top=1))]
    assert ranked == list(dict.fromkeys(doc for doc, _ in ordered))
