"""Phone numbers found exactly as presidio's ``PhoneRecognizer`` finds them, looking only near digits.

presidio runs python-phonenumbers' matcher over the whole text once per region (eight by default), so
on prose that is mostly letters a sixth of redaction time went into scanning words. A phone number is
digits with at most four separator characters between any two of them (libphonenumber's own limit),
so the matcher needs to see only each run of such digits, with some context on either side for the
checks it makes around a candidate (a leading "+" or "(", an extension, no letter glued to it). A run
with fewer digits than the shortest valid number of any region needs no look at all: in scientific
prose most digit runs are figures like "0.05" or "95". A property test checks that the results equal
presidio's on generated texts.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import phonenumbers
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

# Digits joined by up to four non-word characters (or libphonenumber's "x" separator).
_DIGIT_RUN = re.compile(r"\d(?:(?:[^\w]|x){0,4}\d)*")
CONTEXT_CHARS = 32  # covers "+(", and " extension " before an extension's own digits


@cache
def fewest_phone_digits() -> int:
    """Digits in the shortest number python-phonenumbers could call valid, in any region.

    Taken over every region rather than only the recognizer's, because a number written with "+" and a
    country code is matched whatever the default region; the country code's own digits are not even
    counted, which only makes the bound lower (safer).
    """
    shortest: list[int] = []
    for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items():
        for region in regions:
            if region == phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY:
                metadata = phonenumbers.PhoneMetadata.metadata_for_nongeo_region(code)
            else:
                metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
            if metadata is not None and metadata.general_desc is not None:
                shortest.extend(int(n) for n in metadata.general_desc.possible_length if n > 0)
    return min(shortest)


def _digits(run: str) -> int:
    return sum(c.isdigit() for c in run)


def digit_windows(text: str) -> list[tuple[int, int]]:
    """Ranges of ``text`` around every digit run that could hold a phone number, merged where they touch."""
    windows: list[tuple[int, int]] = []
    fewest = fewest_phone_digits()
    for run in _DIGIT_RUN.finditer(text):
        if _digits(run.group()) < fewest:
            continue
        start, end = max(0, run.start() - CONTEXT_CHARS), min(len(text), run.end() + CONTEXT_CHARS)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows


class WindowedPhoneRecognizer(PhoneRecognizer):  # type: ignore[misc]  # presidio ships no type hints
    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        found: list[RecognizerResult] = []
        for start, end in digit_windows(text):
            for result in super().analyze(text[start:end], entities, nlp_artifacts):
                result.start += start
                result.end += start
                found.append(result)
        kept: list[RecognizerResult] = EntityRecognizer.remove_duplicates(found)
        return kept


# A capitalised code right before the digits makes them an identifier: "PD 0332991" (a compound),
# "ISRCTN 12345678" (a trial), "GSE 123456" (a data set). Phone words ("Tel", "FAX") are not codes.
_CODE_BEFORE = re.compile(r"(?<![\w])(?!(?:TEL|PH|FAX|MOB|CELL|TLF|NR|NO)\b)[A-Z]{1,7}[ -]?$")


def after_a_code(text: str, start: int) -> bool:
    return _CODE_BEFORE.search(text, max(0, start - 8), start) is not None


class CodeAwarePhoneRecognizer(WindowedPhoneRecognizer):
    """The windowed recognizer's numbers, less those that follow a code ("PD 0332991")."""

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        found = super().analyze(text, entities, nlp_artifacts)
        return [r for r in found if not after_a_code(text, r.start)]


# Numbers as people write them without (or beside) a country's full format: "467 3395", "9472 7916",
# "60-56-85-91", "(37) 788-063", "+1-984-182-0190". python-phonenumbers rejects many of these (too
# short for the region, or an exchange that cannot exist), yet each one dials somebody.
_GROUPED = re.compile(
    r"(?<![\w.,/+-])"
    r"(?P<number>(?:\+\d{1,3}[ .-]?(?:\(0\)[ .-]?)?)?(?:\(\d{2,5}\)[ .-]?)?"
    r"\d{2,5}(?:(?P<sep>[ .-])\d{2,5})(?:(?P=sep)\d{2,5}){0,4}(?:[ ]?(?:x|ext\.?)[ ]?\d{1,5})?)"
    r"(?![\w]|[.,-]\d|%)"
)
# One unbroken run (or a plain "(37) 788063") counts only next to a word that says it is a number.
_PLAIN = re.compile(r"(?<![\w.,/+-])(?P<number>\+?\d{7,15}|\(\d{2,5}\)[ ]?\d{5,10})(?![\w]|[.,-]\d|%)")
_CUE = re.compile(
    r"(?i)(?:phone|tel\b|telephone|call|cell|mobile|fax|contact|number|no\.|reach|text me|whatsapp|sms|ring)"
    r"[^\n\d]{0,24}$"
)
_YEARS = re.compile(r"(?:1[89]|20)\d\d[ .-](?:1[89]|20)\d\d")
_SSN_SHAPE = re.compile(r"\d{3}([ -])\d{2}\1\d{4}")  # left to the SSN recognizer, which knows the ranges
_DATE = re.compile(r"(?:1[89]|20)\d\d[.-]\d\d[.-]\d\d|\d\d[.-]\d\d[.-](?:1[89]|20)\d\d")
CUE_CHARS = 40
LOCAL_SCORE = 0.5  # below presidio's own phone score: a number both find is reported once, as presidio's
CUED_SCORE = 0.7


def _looks_like_other_number(number: str) -> bool:
    """Year ranges ("1995-2005"), dates and SSNs are digit groups too."""
    return any(shape.fullmatch(number) is not None for shape in (_YEARS, _DATE, _SSN_SHAPE))


def local_phone_spans(text: str) -> list[tuple[int, int, float]]:
    """(start, end, score) of each number written like a phone number that presidio's matcher can miss."""
    found: list[tuple[int, int, float]] = []
    for pattern, needs_cue in ((_GROUPED, False), (_PLAIN, True)):
        for match in pattern.finditer(text):
            number = match.group("number")
            digits = _digits(number)
            if not 7 <= digits <= 15 or _looks_like_other_number(number) or after_a_code(text, match.start()):
                continue
            cued = _CUE.search(text[max(0, match.start() - CUE_CHARS) : match.start()]) is not None
            if cued or not needs_cue:
                found.append((match.start(), match.end(), CUED_SCORE if cued else LOCAL_SCORE))
    return found


class LocalPhoneRecognizer(EntityRecognizer):  # type: ignore[misc]  # presidio ships no type hints
    def __init__(self) -> None:
        super().__init__(supported_entities=["PHONE_NUMBER"], name="LocalPhoneRecognizer")

    def load(self) -> None:
        return None

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        return [RecognizerResult("PHONE_NUMBER", s, e, score) for s, e, score in local_phone_spans(text)]
