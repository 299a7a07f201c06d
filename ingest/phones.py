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
