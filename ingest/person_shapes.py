"""PERSON rules that need no name list: the shape of a word, and the layout of a contact block.

A name that is in no gazetteer (most surnames outside the US census) still shows itself:

- **shape**: a capitalised word with letters English does not write (``Kónya``, ``Ryhänen``,
  ``Đorđević``) or an ending that in English text only surnames have (``-ov``, ``-enko``, ``-ski``,
  ``-nen``, ``-escu``, ``-sson`` ...). Endings that English words share ("Bayesian", "Atlantic",
  "Heidelberg") are not on the list;
- **contact block**: the first line of a signature or a card, a few words alone on their line, when the
  lines after it hold two contact labels ("fax", "mobile", "e-mail:") or a label and an e-mail address;
- **e-mail**: words that, run together, spell the local part of an e-mail address in the same text
  ("Ada Kralj ... adakralj@example.com", "j.roe@...").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from itertools import pairwise

from ingest.names import everyday_words
from ingest.person_words import (
    BORROWED_WORDS,
    FIELD_LABELS,
    PLACE_ENDINGS,
    SURNAME_ENDINGS,
    TECHNICAL_NOUNS,
)

_SHORTEST_WITH_ENDING = 5  # "Ivanov" yes; "Kiev", "Slav", "Shiva"-like short words no
_ENGLISH_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz'\u2019-")
# A Latin letter with a mark (Latin-1, Extended-A and -B), or a capitalised word with a surname's ending.
_SHAPE_HINT = re.compile(rf"[\u00c0-\u024f]|[A-Z][a-z]+(?:{'|'.join(SURNAME_ENDINGS)})\b")
_EMAIL = re.compile(r"(?<![\w.+-])(?P<local>[A-Za-z][\w.+-]*)@[\w-]+(?:\.[\w-]+)+")
_LINE_NAME = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*|[^\W\d_]\.?")
_CONTACT_LABEL = re.compile(r"(?i)(?<![\w-])(?:phone|tel|fax|mobile|cell|office|e-?mail|website|address)\b")
_CARD_SIGNALS = 2  # "fax" and "mobile", or a label and an address: a card, not "Report\nPhone sales rose"
_CONTACT_LINES = 6  # how many lines below the first a phone or e-mail still belongs to the same card


def may_hold_shaped(text: str) -> bool:
    """A quick look at the whole text: most hold no marked letter and no surname ending at all."""
    return _SHAPE_HINT.search(text) is not None


def foreign_shaped(word: str) -> bool:
    """Written like a surname English does not have: foreign letters, or a surname's ending."""
    if not word[:1].isupper():
        return False
    ascii_only = word.isascii()
    if ascii_only and (len(word) < _SHORTEST_WITH_ENDING or not word.endswith(SURNAME_ENDINGS)):
        return False  # most words of a text leave here, before anything is lower-cased
    lower = word.lower()
    if lower in BORROWED_WORDS or lower.endswith(PLACE_ENDINGS) or not word[1:].islower():
        return False  # "UshurmaDratchev" is an address's local part, "HeLa" a cell line
    # Letters with marks only ("é", "ñ", "ø", "ł"), not other scripts' symbols or Greek letters in a
    # formula: every letter must decompose to, or be, a Latin letter.
    return ascii_only or all(_latin(c) for c in lower if c not in _ENGLISH_LETTERS)


def near_digits(text: str, start: int, end: int) -> bool:
    """A number just before, within two words after, or on the next line: "594 Hegedűs utca",
    "Gdańsk, Poland 52096", "Domoszló\\n Hungary 34796" are addresses."""
    before = text[max(0, start - 30) : start].rsplit("\n", 1)[-1].split()
    lines = text[end : end + 60].split("\n")
    after = " ".join(lines[0].split()[:2] + (lines[1].split() if len(lines) > 1 else []))
    return bool(before and any(c.isdigit() for c in before[-1])) or any(c.isdigit() for c in after)


def _latin(char: str) -> bool:
    return char.isalpha() and "LATIN" in unicodedata.name(char, "")


def contact_block_spans(text: str) -> Iterator[tuple[int, int]]:
    """The name on the first line of a card: "Ana Lima\\nAcme\\nfax 0123 4567" -> "Ana Lima"."""
    line_start = 0
    for line in text.split("\n"):
        stripped = line.strip()
        if stripped:
            break
        line_start += len(line) + 1
    else:
        return
    words = stripped.split()
    if not 2 <= len(words) <= 4 or not all(_LINE_NAME.fullmatch(w) for w in words):
        return
    if sum(len(w.rstrip(".")) > 1 for w in words) < 2 or words[0].lower() in FIELD_LABELS:
        return
    common = everyday_words() | TECHNICAL_NOUNS
    if any(w.lower() in common for w in words):
        return  # "Report of the team", "Cell lines": a heading, not a name
    if not (all(w[0].isupper() for w in words) or all(w.islower() for w in words)):
        return  # "Ana Lima" or "ana lima", not a sentence fragment like "Call me"
    lines_below = [b for b in text[line_start + len(line) :].split("\n") if b.strip()]
    below = "\n".join(lines_below[:_CONTACT_LINES])
    signals = {m.group().lower().replace("-", "") for m in _CONTACT_LABEL.finditer(below)}
    if len(signals) + bool(_EMAIL.search(below)) >= _CARD_SIGNALS:
        start = line_start + line.index(stripped)
        yield start, start + len(stripped)


def email_name_spans(text: str) -> Iterator[tuple[int, int]]:
    """Two or three words that spell an e-mail address's local part: "Ada Kralj" for "adakralj@..."."""
    if "@" not in text:
        return
    locals_ = {re.sub(r"[._+-]|\d", "", m.group("local")).lower() for m in _EMAIL.finditer(text)}
    locals_.discard("")
    if not locals_:
        return
    words = list(re.finditer(r"(?<![\w@.])[^\W\d_]+(?![\w@])", text))
    for i in range(len(words)):
        for size in (3, 2):
            run = words[i : i + size]
            if len(run) < size or any(text[a.end() : b.start()] not in (" ", "\t") for a, b in pairwise(run)):
                continue
            spelled = "".join(w.group() for w in run).lower()
            initial_first = run[0].group()[0].lower() + "".join(w.group() for w in run[1:]).lower()
            if len(spelled) > 5 and (spelled in locals_ or initial_first in locals_):
                yield run[0].start(), run[-1].end()
                break
