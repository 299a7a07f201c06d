"""Card numbers are caught by their check digit, however they are grouped; IBANs in any letter case."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from ingest.payments import CaseBlindIbanRecognizer, LuhnCardRecognizer, card_spans, luhn_valid


def _with_check_digit(body: str) -> str:
    """``body`` plus the one digit that makes it pass Luhn."""
    return next(body + d for d in string.digits if luhn_valid(body + d))


def _grouped(number: str, sizes: list[int], separator: str) -> str:
    groups, start = [], 0
    for size in sizes:
        groups.append(number[start : start + size])
        start += size
    if start < len(number):
        groups.append(number[start:])
    return separator.join(g for g in groups if g)


_cards = st.integers(min_value=12, max_value=19).flatmap(
    lambda n: st.text(alphabet=string.digits, min_size=n - 1, max_size=n - 1).map(_with_check_digit)
)
_layouts = st.sampled_from([[4, 4, 4, 4, 3], [4, 6, 5], [4, 6, 4], [19]])
_filler = st.text(alphabet=string.ascii_letters + " .,:;", max_size=30)


@given(card=_cards, layout=_layouts, separator=st.sampled_from(["", " ", "-"]), before=_filler, after=_filler)
def test_a_luhn_valid_card_in_any_common_grouping_is_found(
    card: str, layout: list[int], separator: str, before: str, after: str
) -> None:
    written = _grouped(card, layout, separator)
    text = f"{before} {written} {after}"
    start = len(before) + 1
    assert (start, start + len(written)) in card_spans(text)


@given(card=_cards)
def test_a_wrong_check_digit_is_not_a_card(card: str) -> None:
    wrong = card[:-1] + str((int(card[-1]) + 1) % 10)
    assert card_spans(f"ref {wrong} ok") == []


def test_issuers_presidio_does_not_know_are_cards_too() -> None:
    # a 19-digit Visa and a JCB 15-digit number starting 1800; both pass Luhn
    for number in ("4111111111111111110", "180000000000002"):
        assert luhn_valid(number)
        [result] = LuhnCardRecognizer().analyze(f"card {number} on file", ["CREDIT_CARD"])
        assert (result.start, result.end) == (5, 5 + len(number))


def test_numbers_glued_to_letters_or_mixing_separators_are_not_cards() -> None:
    assert card_spans("GSE4111111111111111") == []
    assert card_spans("4111-1111 1111-1111") == []
    assert card_spans("4111.1111.1111.1111") == []  # dotted groups are versions and addresses


def test_an_iban_typed_in_lower_case_is_found() -> None:
    text = "pay de89370400440532013000 today"
    [result] = CaseBlindIbanRecognizer().analyze(text, ["IBAN_CODE"])
    assert text[result.start : result.end] == "de89370400440532013000"
