"""The extractive answerer: deterministic, grounded, every sentence cited by its exact stored range."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.hashing import sha256_hex
from generation.extractive import NO_EVIDENCE, answer
from retrieval.ports import Hit
from tests.support.records import chunk_payload

STORED = {
    "rotate": "Intro text here.\n\nRotate API credentials every 90 days. "
    "The vault issues new keys on request. Old keys stop working after a grace period of one day.",
    "pumps": "Pump maintenance: replace the impeller seal yearly. Pumps must be stopped before opening.",
}


def hit(doc_id: str, start: int, end: int, score: float = 1.0) -> Hit:
    text = STORED[doc_id]
    payload = chunk_payload(
        doc_id,
        text[start:end],
        chunk_id=f"{doc_id}:1:0",
        title=doc_id,
        source_uri=f"file://{doc_id}.txt",
        char_start=start,
        char_end=end,
        content_sha256=sha256_hex(text),
    )
    return Hit("acme", payload, score)


HITS = [hit("rotate", 18, len(STORED["rotate"])), hit("pumps", 0, len(STORED["pumps"]))]


def test_the_best_supporting_sentence_comes_first_and_cites_its_exact_range() -> None:
    result = answer("how often should I rotate API credentials?", HITS)
    first = result.sentences[0]
    assert first.text == "Rotate API credentials every 90 days."
    cited = first.citation
    assert (cited.doc_id, cited.version) == ("rotate", 1)
    assert STORED["rotate"][cited.start : cited.end] == first.text
    assert cited.text_sha256 == sha256_hex(first.text)
    assert result.text.startswith("Rotate API credentials every 90 days. [1]")


def test_no_supporting_sentence_is_an_honest_no_evidence_answer() -> None:
    result = answer("what is the capital of France?", HITS)
    assert not result.has_evidence and result.text == NO_EVIDENCE and result.citations == ()
    assert not answer("anything at all", []).has_evidence


def test_the_same_hits_give_the_same_answer() -> None:
    assert answer("impeller seal pumps", HITS) == answer("impeller seal pumps", list(HITS))


@given(st.text(min_size=1, max_size=60))
def test_every_cited_range_is_the_sentence_itself(question: str) -> None:
    for sentence in answer(question, HITS).sentences:
        cited = sentence.citation
        assert STORED[cited.doc_id][cited.start : cited.end] == sentence.text
