"""The windowed phone recognizer must find exactly what presidio's own finds, on any text."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

from ingest.phones import (
    CodeAwarePhoneRecognizer,
    WindowedPhoneRecognizer,
    digit_windows,
    fewest_phone_digits,
    local_phone_spans,
)

_FORMATS = (
    phonenumbers.PhoneNumberFormat.NATIONAL,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.E164,
)
_PHONES = [
    phonenumbers.format_number(number, form)
    for region in ("US", "GB", "DE", "FR", "IL", "IN", "CA", "BR", "NU", "JP")
    for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE)
    if (number := phonenumbers.example_number_for_type(region, kind)) is not None
    for form in _FORMATS
]
_PIECES = st.one_of(
    st.sampled_from(_PHONES),
    st.sampled_from(_PHONES).map(lambda p: f"({p[:3]}) {p[3:]}"),
    st.sampled_from([" ", "\n", ", ", ". ", " ext. 1234", " x56", "call ", "tel:", "+", "(", ")", "-", "/"]),
    st.sampled_from(["the", "patients", "CI", "p<0.001", "95%", "2019", "1.23-4.56", "abc", "No."]),
    st.text(alphabet="0123456789 -.()+/x", max_size=20),
    st.text(max_size=12),
)

_plain = PhoneRecognizer()
_windowed = WindowedPhoneRecognizer()


def _found(recognizer: PhoneRecognizer, text: str) -> list[tuple[int, int, float]]:
    return sorted((r.start, r.end, r.score) for r in recognizer.analyze(text, ["PHONE_NUMBER"]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES, max_size=14).map("".join))
def test_windowed_recognizer_equals_presidios_own(text: str) -> None:
    assert _found(_windowed, text) == _found(_plain, text)


def test_long_prose_between_numbers_is_skipped() -> None:
    text = "word " * 200 + "call +1 202-555-0143 now" + " word" * 200
    windows = digit_windows(text)
    assert len(windows) == 1 and windows[0][1] - windows[0][0] < 100
    assert [text[r.start : r.end] for r in _windowed.analyze(text, ["PHONE_NUMBER"])] == ["+1 202-555-0143"]


def test_the_digit_bound_is_below_every_regions_example_numbers() -> None:
    fewest = fewest_phone_digits()
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is not None:
                assert len(phonenumbers.national_significant_number(number)) >= fewest, region


def test_runs_too_short_for_any_phone_number_are_not_looked_at() -> None:
    assert digit_windows("95% CI, p<0.05, n=12 and 1.5-2") == []
    assert digit_windows("in 2019 we") == [(0, 10)]


@pytest.mark.parametrize(
    "number",
    [
        "467 3395",
        "9472 7916",
        "60-56-85-91",
        "(37) 788-063",
        "+1-984-182-0190",
        "416 60 039",
        "03.93.92.16.85",
    ],
)
def test_local_formats_presidio_rejects_are_found(number: str) -> None:
    text = f"You can reach me on {number} after six."
    assert [text[s:e] for s, e, _ in local_phone_spans(text)] == [number]


@pytest.mark.parametrize(
    "text",
    [
        "cells were treated with PD 0332991 for 24 h",
        "between 1995-2005 and 2003-04-05",
        "95% CI 1.23-4.56, p<0.001",
        "12 345 patients and 1 234 567 cells",
        "ssn 536-90-4399",
        "order 94987771 shipped",  # one unbroken run needs a word like "phone" before it
    ],
)
def test_codes_ranges_dates_and_figures_are_not_local_phones(text: str) -> None:
    assert local_phone_spans(text) == []


def test_an_unbroken_run_counts_after_a_phone_word() -> None:
    assert [s for s, _, _ in local_phone_spans("phone: 9498777106")] == [7]


def test_a_number_after_a_code_is_not_a_phone_even_for_presidio() -> None:
    text = "treated with PD 0332991 and called +1 202-555-0143"
    found = CodeAwarePhoneRecognizer().analyze(text, ["PHONE_NUMBER"])
    assert [text[r.start : r.end] for r in found] == ["+1 202-555-0143"]
    assert "0332991" in "".join(text[r.start : r.end] for r in _plain.analyze(text, ["PHONE_NUMBER"]))
