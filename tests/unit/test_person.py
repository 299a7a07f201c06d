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
        "username mysql://app:secret@db.internal:3306/app",
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


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("The prize went to Kónya and Ryhänen this year.", ["Kónya", "Ryhänen"]),  # foreign letters
        ("Please forward it to Bekbolat Musliyevich today", ["Bekbolat Musliyevich"]),  # a surname ending
        ("We talked with Petrenko about it", ["Petrenko"]),
        ("Quenby Dartrell\n\nplumber\n\nPhone:\n0123 4567\n\nE-mail:\nqd@example.org", ["Quenby Dartrell"]),
        ("quenby dartrell\nacme\nunit 9\n0123 4567 office\n0123 4568 fax", ["quenby dartrell"]),  # a card
        ("Send it to Quenby Dartrell, quenbydartrell@example.org, by noon", ["Quenby Dartrell"]),
        ("cc: q.dartrell@example.org (Quenby Dartrell)", ["Quenby Dartrell"]),  # the address spells it
    ],
)
def test_names_in_no_list_are_found_by_their_shape_or_their_card(text: str, names: list[str]) -> None:
    assert _names(text) == names


@pytest.mark.parametrize(
    "text",
    [
        "Sjögren syndrome and Müller cells were studied",  # eponyms before a technical noun
        "We used a Bayesian model on the Atlantic cohort",  # English words with surname-like endings
        "The office is at 594 Hegedűs utca, Domoszló\n Hungary 34796",  # an address
        "Deliver to 12 Mellemstræde, Vordingborg",  # a street name
        "Write to UshurmaDratchev@example.org",  # an e-mail address's local part is not a name
        "Quarterly Report\nPhone sales rose by a tenth",  # a heading over a line with one contact word
        "Cell Lines\nPhone: 0123 4567\nFax: 0123 4568",  # a heading of common words over a card
        "Our café and the naïve group",  # borrowed words with foreign letters
    ],
)
def test_addresses_eponyms_and_borrowed_words_are_not_people(text: str) -> None:
    assert _names(text) == []


@given(st.sampled_from(["Kovalenko", "Ivanova", "Nieminen", "Popescu", "Andersson", "Wiśniewska"]))
def test_a_foreign_surname_is_found_alone_but_not_as_part_of_an_address(surname: str) -> None:
    assert _names(f"The report was sent to {surname} on Friday.") == [surname]
    assert _names(f"The report was sent to 14 {surname} 22, Suite 9.") == []


@pytest.mark.parametrize("text", ["Kenyan runners won the race", "The Karnofsky performance status fell"])
def test_terms_with_a_surnames_ending_stay(text: str) -> None:
    assert _names(text) == []
