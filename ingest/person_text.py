"""What every PERSON rule asks of a text: its words, the names they start, and spaCy's own guesses.

Kept apart from the rules (``ingest.person``) so that each module stays small enough to read whole.
"""

from __future__ import annotations

import re
from typing import Any

from ingest.names import given_names, surnames
from ingest.person_words import NOT_NAMES, TECHNICAL_NOUNS

MAX_NAME_WORDS = 4

Found = tuple[int, int, float]  # start, end, score

QUOTES = "'\u2019"
WORD = rf"[^\W\d_]+(?:[{QUOTES}-][^\W\d_]+)*"
WORDS = re.compile(rf"(?<![\w{QUOTES}-]){WORD}")
# Words that may continue a name: single spaces between, an initial may carry a dot.
RUN = re.compile(rf"{WORD}\.?(?:[ ]{WORD}\.?){{0,{MAX_NAME_WORDS - 1}}}")

GLUED = re.compile(rf"[\d+/-]|[{QUOTES}]?[^\W\d_]")


def is_initial(word: str) -> bool:
    return len(word.rstrip(".")) == 1 and word[0].isupper()


def capitalised(word: str) -> bool:
    """Written like a name: a capital first, and not all capitals ("Ella", "McKay", "O'Neil")."""
    letters = word.rstrip(".")
    return len(letters) > 1 and letters[0].isupper() and not letters.isupper() and "." not in letters


def known(word: str) -> bool:
    lower = word.lower()
    return lower in given_names() or lower in surnames()


def lower_name_word(token: str) -> bool:
    return token.isalpha() and token.lower() not in NOT_NAMES and token.lower() not in TECHNICAL_NOUNS


class NameText:
    """One text with what every rule asks of it worked out once."""

    def __init__(self, text: str, nlp_artifacts: Any) -> None:
        self.text = text
        words = WORDS.findall(text)
        self.lower_words = frozenset(w for w in words if w.islower())
        # In a one-line Headline Case title a capital says nothing about a word being a name (an
        # address block or a signature is capitalised too, and full of names: hence one line only).
        long_words = [w for w in words if len(w) > 3]
        self.headline = (
            "\n" not in text.strip()
            and len(long_words) >= 5
            and sum(w[0].isupper() for w in long_words) > 0.6 * len(long_words)
        )
        entities = getattr(getattr(nlp_artifacts, "tokens", None), "ents", None) or ()  # the spaCy Doc
        self.people = [e for e in entities if e.label_ == "PERSON"]

    def technical_after(self, end: int) -> bool:
        match = WORDS.search(self.text, end, min(len(self.text), end + 40))
        return match is not None and match.group().lower() in TECHNICAL_NOUNS

    def name_run(self, start: int, *, lower_ok: bool = False) -> tuple[int, int] | None:
        """The name starting at ``start``: its capitalised words and initials, up to the first other word.

        With ``lower_ok`` (after "my name is") a lower-case name is taken too, continued in lower case.
        """
        match = RUN.match(self.text, start)
        if match is None:
            return None
        end, words = start, 0
        for word in re.finditer(r"\S+", match.group()):
            token = word.group()
            lower = lower_ok and token.islower() and lower_name_word(token)
            if not (capitalised(token) or is_initial(token) or lower):
                break
            end = start + word.end() - (token.endswith(".") and not is_initial(token))
            words += not is_initial(token)
            lower_ok = lower  # a lower-case name goes on in lower case only
        if words == 0 or self.technical_after(end) or self.text.startswith("://", end):
            return None  # initials alone ("I", "A.") are not a name, nor a URL's scheme ("mysql://")
        return start, end
