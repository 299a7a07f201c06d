"""Preparing a batch with one redaction call gives each document exactly its own texts and counts."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import TesseraError
from core.metadata import Metadata
from ingest.document import Source
from ingest.prepare import Prepared, is_identifier, prepare, prepare_batch
from ingest.redact import Redaction
from tests.support.fakes import FakeRedactor
from tests.support.records import record

_BAD = Source(name="tool.exe", doc_id="tool.exe", data=b"MZ", filename="tool.exe")
_TEXTS = st.text(alphabet="ab @.xyz\n", min_size=1, max_size=40).filter(str.strip)
_VALUES = st.text(alphabet="ab @.", max_size=12)
_METADATA = st.dictionaries(
    st.sampled_from(["owner", "team", "tags"]), st.one_of(_VALUES, st.lists(_VALUES, max_size=3)), max_size=3
)


@given(st.lists(st.tuples(_TEXTS, st.booleans(), _METADATA), min_size=1, max_size=8))
def test_a_batch_prepares_each_document_as_it_would_alone(docs: list[tuple[str, bool, Metadata]]) -> None:
    sources = [
        _BAD if bad else record(f"d{i}", f"{text} mail{i}@example.com", metadata=meta)
        for i, (text, bad, meta) in enumerate(docs)
    ]
    batch = prepare_batch(sources, FakeRedactor())
    for source, outcome in zip(sources, batch, strict=True):
        if source is _BAD:
            assert isinstance(outcome, TesseraError)
            continue
        assert isinstance(outcome, Prepared)
        alone = prepare(source, FakeRedactor())
        assert outcome.document.text == alone.document.text
        assert outcome.document.redaction_counts == alone.document.redaction_counts
        assert outcome.source_uri == alone.source_uri
        assert outcome.metadata == alone.metadata


class _BreaksOn:
    """Raises on any text containing ``marker``, like a redactor bug on one odd input."""

    def __init__(self, marker: str) -> None:
        self._marker = marker

    def redact(self, texts: Sequence[str]) -> list[Redaction]:
        if any(self._marker in t for t in texts):
            raise RuntimeError("redactor bug")
        return FakeRedactor().redact(texts)

    def redact_identifiers(self, texts: Sequence[str]) -> list[Redaction]:
        return self.redact(texts)


def test_a_text_that_breaks_the_redactor_fails_only_its_document() -> None:
    sources = [record("a", "fine"), record("b", "has BOOM inside"), record("c", "also fine")]
    outcomes = prepare_batch(sources, _BreaksOn("BOOM"))
    assert [type(o).__name__ for o in outcomes] == ["Prepared", "InvalidInputError", "Prepared"]
    assert isinstance(outcomes[1], TesseraError) and "RuntimeError" in outcomes[1].detail


def test_metadata_strings_are_redacted_in_place_and_counted_once() -> None:
    source = Source(
        name="r",
        doc_id="r",
        text="body of the record",
        source_uri="https://ann@example.com/page",
        metadata={
            "url": "https://ann@example.com/page",
            "owner": "bob@example.com",
            "tags": ["x", "c@d.io"],
            "n": 3,
        },
    )
    prepared = prepare(source, FakeRedactor())
    assert prepared.metadata == {
        "url": "https://<EMAIL_ADDRESS>/page",
        "owner": "<EMAIL_ADDRESS>",
        "tags": ["x", "<EMAIL_ADDRESS>"],
        "n": 3,
    }
    # the url is also the source_uri: its address counts once; owner and the tag count once each
    assert prepared.document.redaction_counts == {"EMAIL_ADDRESS": 3}


class _WholeProse:
    """Replaces every prose text wholesale, as a name model can: what must never reach an identifier."""

    def redact(self, texts: Sequence[str]) -> list[Redaction]:
        return [Redaction("<PERSON>" if t else t, {"PERSON": 1} if t else {}) for t in texts]

    def redact_identifiers(self, texts: Sequence[str]) -> list[Redaction]:
        return FakeRedactor().redact(texts)


_URIS = st.builds(
    "{}{}".format,
    st.sampled_from(
        ["https://wiki.example.com/", "file:///home/ella/", "s3://b/", "records.jsonl#", "docs/"]
    ),
    st.text(alphabet="abcXYZ_-./", min_size=1, max_size=20),
)


@given(uri=_URIS, text=_TEXTS, link=_URIS)
def test_source_uris_and_link_values_are_never_replaced_wholesale(uri: str, text: str, link: str) -> None:
    source = Source(name="r", doc_id="r", title="Notes", text=text, source_uri=uri, metadata={"link": link})
    prepared = prepare(source, _WholeProse())
    assert prepared.source_uri == uri
    assert prepared.metadata["link"] == link
    assert prepared.title == "<PERSON>"  # prose is still redacted
    assert set(prepared.document.text.split("\n\n")) == {"<PERSON>"}


def test_an_address_inside_a_uri_is_still_redacted() -> None:
    source = Source(name="r", doc_id="r", text="x", source_uri="mailto:ann@example.com")
    assert prepare(source, _WholeProse()).source_uri == "mailto:<EMAIL_ADDRESS>"


@pytest.mark.parametrize(
    ("value", "identifier"),
    [
        ("https://example.com/a b", False),  # a space: prose that happens to hold a URL
        ("https://example.com/a", True),
        ("mailto:ann@example.com", True),
        ("docs/hr/policy.pdf", True),
        ("Ella Roe", False),
        ("ann@example.com", False),
        ("ticket: 42", False),
    ],
)
def test_what_counts_as_an_identifier(value: str, identifier: bool) -> None:
    assert is_identifier(value) is identifier


def test_the_same_text_as_title_body_and_metadata_is_redacted_alike_everywhere() -> None:
    source = record("d", "ann@example.com", title="ann@example.com", metadata={"owner": "ann@example.com"})
    prepared = prepare(source, FakeRedactor())
    assert prepared.title == prepared.metadata["owner"] == "<EMAIL_ADDRESS>"
    assert prepared.document.text == "<EMAIL_ADDRESS>\n\n<EMAIL_ADDRESS>"
