"""The PERSON rules on their own (no spaCy model): names people write, and the look-alikes they skip."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.names import given_names, surnames
from ingest.person import person_spans


def _names(text: str) -> list[str]:
    return [text[s:e] for s, e, _ in person_spans(text)]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Ella: are you coming?\nTom: in five minutes", ["Ella", "Tom"]),
        ("Zorba: hi\nQuill: hello\nZorba: shall we?", ["Zorba", "Quill", "Zorba"]),  # a dialogue
        ("My name is eva kleist and I moved in May", ["eva kleist"]),
        ("Bot: What's the name on the account? User: Marta Kovac", ["Marta Kovac"]),
        ("I sent it to Julieta S Almeida yesterday", ["Julieta S Almeida"]),
        ("Please ask Mr. Okonkwo to sign", ["Okonkwo"]),
        ("our founders: Margarethe, Okafor and Lindqvist.", ["Margarethe", "Okafor", "Lindqvist"]),
        ("Tomoko Hayashi lives at 4 Elm Road", ["Tomoko Hayashi"]),
        ("It was a done thing between him and Katarina's kid.", ["Katarina"]),
        ("hey tom, are we still on?", ["tom"]),
        ("eva kleist lives at 12 harbour road", ["eva kleist"]),
        ("Signed-off-by: Ana Lima <a@example.com>", ["Ana Lima"]),
        ("Oluwaseun Adeyemi (she/her) leads the team", ["Oluwaseun Adeyemi"]),
    ],
)
def test_names_the_small_model_misses_are_found(text: str, names: list[str]) -> None:
    assert _names(text) == names


@pytest.mark.parametrize(
    "text",
    [
        "Akt phosphorylation and TRPML1 and KIF3A levels rose",
        "Aurora kinase A and the Cox regression model",
        "Cas9 cut at Ki-67 positive sites; Na+ influx",
        "Here we show that Many patients improved. Will this hold?",
        "BACKGROUND: we measured. Results: it worked.",
        "Subject: quarterly report\nStatus: done",
        "He said the cells lived longer.",
        "thanks all, the patients lived longer",
    ],
)
def test_gene_symbols_headers_and_everyday_words_are_not_people(text: str) -> None:
    assert _names(text) == []


def test_the_gazetteers_hold_international_names_but_not_everyday_words() -> None:
    assert {"ella", "margarethe", "okafor"} <= given_names() | surnames()
    assert not {"will", "may", "here", "grace"} & given_names()


@given(st.sampled_from(["Ella", "Tomasz", "Ingrid", "Mateo"]), st.sampled_from(["Roe", "Nowak", "Berg"]))
def test_a_given_name_with_its_surname_is_taken_whole(first: str, last: str) -> None:
    text = f"The report was sent to {first} {last} on Friday."
    assert _names(text) == [f"{first} {last}"]
