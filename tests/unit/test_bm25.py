"""BM25 document vectors carry the document's title, once."""

from __future__ import annotations

from retrieval.bm25 import QdrantBm25Encoder

bm25 = QdrantBm25Encoder()


def terms(vector_indices: tuple[int, ...]) -> set[int]:
    return set(vector_indices)


def test_a_chunk_without_the_title_gets_the_title_terms() -> None:
    plain = bm25.encode_document("the second paragraph says nothing about the subject")
    with_title = bm25.encode_document(
        "the second paragraph says nothing about the subject", title="Zebrafish"
    )
    [zebrafish] = bm25.encode_query("zebrafish").indices
    assert zebrafish not in terms(plain.indices)
    assert zebrafish in terms(with_title.indices)


def test_a_chunk_that_starts_with_its_title_is_not_given_it_twice() -> None:
    text = "Zebrafish fins\nRegrowth of zebrafish fins after amputation."
    assert bm25.encode_document(text, title="Zebrafish fins") == bm25.encode_document(text)


def test_a_blank_title_changes_nothing() -> None:
    assert bm25.encode_document("some words", title="   ") == bm25.encode_document("some words")
