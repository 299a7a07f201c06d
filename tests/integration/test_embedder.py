"""The real encoder: batching by token count must not change any text's vector or its order."""

from __future__ import annotations

import math

import pytest

from retrieval.embedders import SentenceTransformerEmbedder


@pytest.fixture(scope="module")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(batch_size=2)


def test_token_counts_include_special_tokens_and_stop_at_the_window(
    embedder: SentenceTransformerEmbedder,
) -> None:
    short, long = "hello world", "word " * 1000
    assert embedder.token_counts([short, long]) == [4, embedder.max_tokens]  # [CLS] hello world [SEP]


def test_batched_vectors_equal_each_text_alone_in_the_callers_order(
    embedder: SentenceTransformerEmbedder,
) -> None:
    # Character length and token count disagree here ("Zn2+/Cu" is few characters, many tokens), so a
    # sort by either reorders the batch: each vector must still land on its own text.
    texts = [
        "A long plain sentence about proteins that are expressed in the liver of adult mice.",
        "Zn2+/Cu2+ SOD1-G93A 5'-UTR",
        "short",
        "Another sentence, of middling length, about cohort studies.",
        "IL-6/STAT3",
    ]
    together = embedder.embed_documents(texts)
    for text, vector in zip(texts, together, strict=True):
        alone = embedder.embed_documents([text])[0]
        assert max(abs(a - b) for a, b in zip(vector, alone, strict=True)) < 1e-4
        assert math.isclose(sum(v * v for v in vector), 1.0, rel_tol=1e-4)
