"""The search response is written without the pydantic models, and must equal what they would write."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from api.schemas import HitOut, SearchOut, search_out_json
from core.metadata import Metadata
from retrieval.ports import ChunkPayload, Hit
from retrieval.search import Mode

_TEXT = st.text(max_size=40)  # any code point JSON must escape or pass through: quotes, controls, emoji
_SCALARS = st.one_of(_TEXT, st.integers(), st.booleans(), st.floats())  # floats include NaN and ±inf
_METADATA = st.dictionaries(_TEXT, st.one_of(_SCALARS, st.lists(_SCALARS, max_size=3)), max_size=4)
_ZONES = st.one_of(
    st.none(), st.just(UTC), st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
)
_TIMES = st.builds(lambda t, z: t.replace(tzinfo=z), st.datetimes(), _ZONES)  # naive ones too (SQLite)


@st.composite
def hits(draw: st.DrawFn) -> Hit:
    payload = ChunkPayload(
        chunk_id=draw(_TEXT),
        doc_id=draw(_TEXT),
        version=draw(st.integers(1, 2**31)),
        chunk_index=draw(st.integers(0, 1000)),
        title=draw(_TEXT),
        source_uri=draw(_TEXT),
        text=draw(st.text(max_size=300)),
        char_start=draw(st.integers(0, 10**6)),
        char_end=draw(st.integers(0, 10**6)),
        page=draw(st.none() | st.integers(1, 5000)),
        labels=tuple(draw(st.lists(_TEXT, max_size=3))),
        content_sha256=draw(st.text("0123456789abcdef", min_size=64, max_size=64)),
        ingested_at=draw(_TIMES),
        source_updated_at=draw(st.none() | _TIMES),
        write_id=draw(_TEXT),
        metadata=draw(_METADATA),
    )
    return Hit(tenant="acme", payload=payload, score=draw(st.floats()))


@given(
    trace_id=st.text("0123456789abcdef", min_size=32, max_size=32),
    query=st.text(max_size=100),
    mode=st.sampled_from(Mode),
    k=st.integers(1, 1000),
    found=st.lists(hits(), max_size=4),
)
def test_the_search_body_is_byte_for_byte_what_the_response_model_writes(
    trace_id: str, query: str, mode: Mode, k: int, found: list[Hit]
) -> None:
    models = SearchOut(
        trace_id=trace_id, query=query, mode=mode, k=k, hits=[HitOut.of(h, trace_id) for h in found]
    )
    assert search_out_json(trace_id, query, mode, k, found) == models.model_dump_json().encode()


def test_a_hit_carries_every_field_of_the_response_model_in_its_order() -> None:
    metadata: Metadata = {"team": "eng", "year": 2026}
    payload = ChunkPayload(
        chunk_id="doc#c0",
        doc_id="doc",
        version=2,
        chunk_index=0,
        title="Title",
        source_uri="file:///doc",
        text="text",
        char_start=0,
        char_end=4,
        page=None,
        labels=("public",),
        content_sha256="0" * 64,
        ingested_at=datetime(2026, 1, 1, tzinfo=UTC),
        source_updated_at=None,
        metadata=metadata,
    )
    decoded = json.loads(search_out_json("t" * 32, "q", Mode.HYBRID, 1, [Hit("acme", payload, 0.5)]))
    assert list(decoded) == list(SearchOut.model_fields)
    assert list(decoded["hits"][0]) == list(HitOut.model_fields)
