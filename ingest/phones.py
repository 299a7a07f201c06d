"""Phone numbers found exactly as presidio's ``PhoneRecognizer`` finds them, looking only near digits.

presidio runs python-phonenumbers' matcher over the whole text once per region (eight by default), so
on prose that is mostly letters a sixth of redaction time went into scanning words. A phone number is
digits with at most four separator characters between any two of them (libphonenumber's own limit),
so the matcher needs to see only each run of such digits, with some context on either side for the
checks it makes around a candidate (a leading "+" or "(", an extension, no letter glued to it). A
property test checks that the results equal presidio's on generated texts.
"""

from __future__ import annotations

import re
from typing import Any

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

# Digits joined by up to four non-word characters (or libphonenumber's "x" separator).
_DIGIT_RUN = re.compile(r"\d(?:(?:[^\w]|x){0,4}\d)*")
CONTEXT_CHARS = 32  # covers "+(", and " extension " before an extension's own digits


def digit_windows(text: str) -> list[tuple[int, int]]:
    """Ranges of ``text`` around every digit run, merged where they touch."""
    windows: list[tuple[int, int]] = []
    for run in _DIGIT_RUN.finditer(text):
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
