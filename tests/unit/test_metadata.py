"""Metadata strings are swapped for their redactions in place; filters re-check what the engine matched."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from core.errors import InvalidInputError
from core.metadata import Metadata, check_metadata, strings_of, with_strings
from retrieval.ports import SearchFilters

_SCALARS = st.one_of(st.text(max_size=8), st.integers(), st.booleans(), st.floats(allow_nan=False))
_METADATA = st.dictionaries(
    st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True),
    st.one_of(_SCALARS, st.lists(_SCALARS, max_size=4)),
    max_size=6,
)


@given(_METADATA)
def test_replacing_strings_changes_only_strings_and_keeps_their_places(metadata: Metadata) -> None:
    strings = strings_of(metadata)
    marked = [f"<{i}>" for i in range(len(strings))]
    replaced = with_strings(metadata, marked)
    assert strings_of(replaced) == marked
    assert list(replaced) == list(metadata)
    for key, value in metadata.items():
        before = value if isinstance(value, list) else [value]
        after = replaced[key] if isinstance(replaced[key], list) else [replaced[key]]  # type: ignore[list-item]
        assert len(before) == len(after)
        for old, new in zip(before, after, strict=True):
            assert (isinstance(old, str) and isinstance(new, str)) or old == new


def test_filter_recheck_matches_like_the_engine() -> None:
    metadata: Metadata = {"team": "eng", "year": 2026, "tags": ["a", "b"], "flag": True, "score": 1.0}
    assert SearchFilters(metadata_any=(("team", ("eng", "x")),)).admits(metadata)
    assert SearchFilters(metadata_any=(("tags", ("b",)),)).admits(metadata)
    assert SearchFilters(metadata_any=(("year", (2026,)),)).admits(metadata)
    assert not SearchFilters(metadata_any=(("year", ("2026",)),)).admits(metadata)
    assert not SearchFilters(metadata_any=(("flag", (1,)),)).admits(metadata)  # True is not 1 to the engine
    assert not SearchFilters(metadata_any=(("score", (1,)),)).admits(metadata)
    assert not SearchFilters(metadata_any=(("team", ("eng",)), ("year", (2025,)))).admits(metadata)
    assert SearchFilters().admits({})


@given(st.integers())
def test_an_integer_is_kept_exactly_when_the_engine_can_store_it(value: int) -> None:
    fits = -(2**53) < value < 2**53
    try:
        kept = check_metadata({"n": value, "ns": [value]})
    except InvalidInputError as exc:
        assert not fits and "2^53" in exc.detail
    else:
        assert fits and kept == {"n": value, "ns": [value]}
