"""Payment card numbers and IBANs as people write them.

Cards: any 12-19 digit number that passes the Luhn check, however it is grouped.

presidio's card recognizer knows the issuers' prefixes and lengths of some years ago; a number that
passes Luhn but starts differently, or has 19 digits, went through. The check digit is what makes a
card number a card number, so this recognizer asks only for that and for a usual way of writing it:
digits alone, or in groups split by one kind of separator (space or dash), never glued to a letter.

IBANs: presidio's recognizer (checksum and per-country format), also when typed in lower case.
"""

from __future__ import annotations

import re
from typing import Any

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import IbanRecognizer

# Digit groups joined by single spaces or dashes (the last may be one digit, "4222 2222 2222 2"); the
# same separator throughout is checked below.
_CANDIDATE = re.compile(r"(?<![\w.,+/-])\d{2,19}(?:[ -]\d{2,19}){0,5}(?:[ -]\d)?(?![\w/]|[.,-]\d)")
_SEPARATORS = re.compile(r"[ -]")
SCORE = 0.8


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def card_spans(text: str) -> list[tuple[int, int]]:
    """Where in ``text`` a card number is written (start, end), longest reading first."""
    spans: list[tuple[int, int]] = []
    for match in _CANDIDATE.finditer(text):
        written = match.group()
        separators = set(_SEPARATORS.findall(written))
        digits = _SEPARATORS.sub("", written)
        if len(separators) <= 1 and 12 <= len(digits) <= 19 and luhn_valid(digits):
            spans.append((match.start(), match.end()))
    return spans


class LuhnCardRecognizer(EntityRecognizer):  # type: ignore[misc]  # presidio ships no type hints
    def __init__(self) -> None:
        super().__init__(supported_entities=["CREDIT_CARD"], name="LuhnCardRecognizer")

    def load(self) -> None:
        return None

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        return [RecognizerResult("CREDIT_CARD", start, end, SCORE) for start, end in card_spans(text)]


_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


class CaseBlindIbanRecognizer(IbanRecognizer):  # type: ignore[misc]
    """presidio's IBAN check over the text with ASCII letters upper-cased: same length, same offsets."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: Any = None, regex_flags: int | None = None
    ) -> list[RecognizerResult]:
        upper = text.translate(_ASCII_UPPER)
        if regex_flags is None:
            found: list[RecognizerResult] = super().analyze(upper, entities, nlp_artifacts)
        else:
            found = super().analyze(upper, entities, nlp_artifacts, regex_flags)
        return found
