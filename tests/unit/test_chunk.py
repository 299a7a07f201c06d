from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.chunk import Chunker, HuggingFaceTokenCounter
from ingest.document import Segment, join_segments
from retrieval.embedders import default_model_path
from tests.support.fakes import WordCounter

words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=60)
sentences = st.lists(st.text(alphabet="abcdefghij .!?\n", min_size=1, max_size=80), min_size=1, max_size=8)


@st.composite
def documents(draw: st.DrawFn) -> list[Segment]:
    count = draw(st.integers(min_value=1, max_value=6))
    return [
        Segment(
            text=" ".join(draw(sentences)), kind="NarrativeText", page=draw(st.sampled_from([None, 1, 2]))
        )
        for _ in range(count)
    ]


@settings(max_examples=200, deadline=None)
@given(segments=documents(), max_tokens=st.integers(8, 40), overlap=st.integers(0, 7))
def test_chunks_are_exact_slices_of_the_stored_text(
    segments: list[Segment], max_tokens: int, overlap: int
) -> None:
    document = join_segments(segments, "text/plain", {})
    chunks = Chunker(WordCounter(), max_tokens=max_tokens, overlap_tokens=overlap).chunk(document)
    for chunk in chunks:
        assert 0 <= chunk.char_start < chunk.char_end <= len(document.text)
        assert chunk.text == document.text[chunk.char_start : chunk.char_end]
        assert chunk.text.strip() == chunk.text  # no leading or trailing whitespace


@settings(max_examples=200, deadline=None)
@given(segments=documents(), max_tokens=st.integers(8, 40), overlap=st.integers(0, 7))
def test_every_word_lands_in_some_chunk(segments: list[Segment], max_tokens: int, overlap: int) -> None:
    document = join_segments(segments, "text/plain", {})
    chunks = Chunker(WordCounter(), max_tokens=max_tokens, overlap_tokens=overlap).chunk(document)
    covered = [False] * len(document.text)
    for chunk in chunks:
        for i in range(chunk.char_start, chunk.char_end):
            covered[i] = True
    for i, char in enumerate(document.text):
        if not char.isspace():
            assert covered[i], f"character {i} ({char!r}) is in no chunk"


@settings(max_examples=100, deadline=None)
@given(segments=documents(), max_tokens=st.integers(8, 40))
def test_chunks_respect_the_token_budget(segments: list[Segment], max_tokens: int) -> None:
    document = join_segments(segments, "text/plain", {})
    counter = WordCounter()
    for chunk in Chunker(counter, max_tokens=max_tokens, overlap_tokens=4).chunk(document):
        assert counter.count([chunk.text])[0] <= max_tokens


def test_chunks_never_span_two_pages() -> None:
    segments = [
        Segment("page one text. more words here.", "NarrativeText", 1),
        Segment("page two.", "Title", 2),
    ]
    chunks = Chunker(WordCounter(), max_tokens=100, overlap_tokens=10).chunk(join_segments(segments, "x", {}))
    assert [(c.page, c.text) for c in chunks] == [(1, "page one text. more words here."), (2, "page two.")]


def test_overlap_repeats_the_previous_sentence() -> None:
    text = "One two three. Four five six. Seven eight nine. Ten eleven twelve."
    chunks = Chunker(WordCounter(), max_tokens=8, overlap_tokens=4).chunk(
        join_segments([Segment(text, "NarrativeText")], "x", {})
    )
    assert [c.text for c in chunks] == [
        "One two three. Four five six.",
        "Four five six. Seven eight nine.",
        "Seven eight nine. Ten eleven twelve.",
    ]


def test_overlap_must_be_smaller_than_chunk() -> None:
    with pytest.raises(ValueError, match="overlap_tokens"):
        Chunker(WordCounter(), max_tokens=10, overlap_tokens=10)


def test_real_tokenizer_keeps_chunks_within_the_model_window() -> None:
    counter = HuggingFaceTokenCounter(default_model_path())
    text = ("Pneumococcal vaccination reduces invasive disease in adults over sixty-five. " * 40).strip()
    long_sentence = "x" + " antidisestablishmentarianism" * 400
    document = join_segments(
        [Segment(text, "NarrativeText"), Segment(long_sentence, "NarrativeText")], "x", {}
    )
    chunks = Chunker(counter, max_tokens=200, overlap_tokens=40).chunk(document)
    assert len(chunks) > 3
    assert max(counter.count([c.text for c in chunks])) <= 200
    assert all(document.text[c.char_start : c.char_end] == c.text for c in chunks)
