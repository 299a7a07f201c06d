from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from generation.sentences import content_words, split_sentences


def test_sentences_keep_their_exact_offsets() -> None:
    text = "Rotate keys every 90 days. Use the vault, e.g. HashiCorp Vault.\n\nSee Fig. 2 for details!"
    found = list(split_sentences(text))
    assert [s.text for s in found] == [
        "Rotate keys every 90 days.",
        "Use the vault, e.g. HashiCorp Vault.",
        "See Fig. 2 for details!",
    ]
    assert all(text[s.start : s.end] == s.text for s in found)


def test_list_items_are_sentences_of_their_own() -> None:
    text = "Steps to follow:\n- stop the pump first\n- close the valve after"
    assert [s.text for s in split_sentences(text)] == [
        "Steps to follow:",
        "- stop the pump first",
        "- close the valve after",
    ]


@given(st.text(max_size=400))
def test_any_text_splits_into_ranges_of_itself(text: str) -> None:
    previous_end = 0
    for sentence in split_sentences(text):
        assert text[sentence.start : sentence.end] == sentence.text
        assert sentence.start >= previous_end and sentence.text.strip() == sentence.text
        previous_end = sentence.end


def test_content_words_drop_stopwords_and_meet_plurals() -> None:
    assert content_words("How do I rotate the pumps?") == ["rotate", "pump"]
