"""Request and response bodies of the REST API."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, StrictStr, field_validator
from pydantic_core import to_json

from core.clock import as_utc
from core.metadata import MAX_INT, MIN_INT
from retrieval.ports import Hit
from retrieval.search import Mode


def _whole_unicode(value: str) -> str:
    # JSON may spell a lone surrogate (``"\ud800"``); no encoder, engine or driver can store it.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"contains a lone surrogate at position {exc.start}; send valid UTF-16 pairs"
        ) from None
    return value


Text = Annotated[str, AfterValidator(_whole_unicode)]
FilterText = Annotated[StrictStr, AfterValidator(_whole_unicode)]
FilterInt = Annotated[StrictInt, Field(ge=MIN_INT, le=MAX_INT)]
UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]  # SQLite hands back naive ones


class SearchFiltersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    doc_ids: list[Text] = Field(default_factory=list, max_length=1000, description="only these documents")
    labels: list[Text] = Field(
        default_factory=list, max_length=100, description="only chunks with any of these"
    )
    metadata: dict[Text, FilterText | FilterInt | list[FilterText] | list[FilterInt]] = Field(
        default_factory=dict,
        max_length=20,
        description="only documents whose metadata.KEY (or one of its list items) equals the value or "
        "one of the listed values; every key must match",
    )

    def metadata_any(self) -> tuple[tuple[str, tuple[str | int, ...]], ...]:
        return tuple(
            (key, tuple(value) if isinstance(value, list) else (value,))
            for key, value in self.metadata.items()
        )


class SearchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: Text = Field(description="natural-language query")
    # 1000 is the ceiling of TESSERA_SEARCH__MAX_K; the configured maximum (100 by default) is a 400.
    k: int = Field(default=10, ge=1, le=1000, description="number of hits, 1..max_k (100 by default)")
    mode: Mode = Field(default=Mode.HYBRID, description="hybrid (dense + BM25, fused), dense or bm25")
    filters: SearchFiltersIn | None = None


class HitOut(BaseModel):
    chunk_id: str
    doc_id: str
    version: int
    title: str
    source_uri: str
    score: float
    text: str
    char_start: int
    char_end: int
    page: int | None
    labels: list[str]
    ingested_at: UtcDatetime
    source_updated_at: UtcDatetime | None
    content_sha256: str
    metadata: dict[str, Any] = Field(description="the document's own metadata, string values redacted")
    trace_id: str

    @classmethod
    def of(cls, hit: Hit, trace_id: str) -> HitOut:
        p = hit.payload
        return cls(
            chunk_id=p.chunk_id,
            doc_id=p.doc_id,
            version=p.version,
            title=p.title,
            source_uri=p.source_uri,
            score=hit.score,
            text=p.text,
            char_start=p.char_start,
            char_end=p.char_end,
            page=p.page,
            labels=list(p.labels),
            ingested_at=p.ingested_at,
            source_updated_at=p.source_updated_at,
            content_sha256=p.content_sha256,
            metadata=p.metadata,
            trace_id=trace_id,
        )


class SearchOut(BaseModel):
    trace_id: str
    query: str
    mode: Mode
    k: int
    hits: list[HitOut]


def search_out_json(trace_id: str, query: str, mode: Mode, k: int, hits: Sequence[Hit]) -> bytes:
    """``SearchOut(...).model_dump_json()`` byte for byte, without building and validating the models
    (that cost more than the rest of the response path). Keys in field order; as_utc as ``UtcDatetime``."""
    return to_json(
        {
            "trace_id": trace_id,
            "query": query,
            "mode": mode.value,
            "k": k,
            "hits": [{**hit_fields(h), "trace_id": trace_id} for h in hits],
        },
        inf_nan_mode="null",  # as pydantic models serialise floats by default
    )


def hit_fields(hit: Hit) -> dict[str, Any]:
    """A hit as ``HitOut``'s fields in order, without the trace id (the CLI prints these too)."""
    p = hit.payload
    return {
        "chunk_id": p.chunk_id,
        "doc_id": p.doc_id,
        "version": p.version,
        "title": p.title,
        "source_uri": p.source_uri,
        "score": hit.score,
        "text": p.text,
        "char_start": p.char_start,
        "char_end": p.char_end,
        "page": p.page,
        "labels": p.labels,
        "ingested_at": as_utc(p.ingested_at),
        "source_updated_at": as_utc(p.source_updated_at) if p.source_updated_at is not None else None,
        "content_sha256": p.content_sha256,
        "metadata": p.metadata,
    }


class RecordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=512)
    title: str = Field(default="", max_length=1000)
    text: str
    metadata: dict[str, str | int | float | bool | list[str | int | float | bool] | None] = Field(
        default_factory=dict,
        description="kept (string values redacted), returned with hits and filterable; updated_at (ISO "
        "8601) and url or source_uri also set the document's source_updated_at and source_uri",
    )

    @field_validator("metadata", mode="before")
    @classmethod
    def _integers_fit(cls, value: Any) -> Any:
        # Before the union: an integer too big for the engine would otherwise pass as a float.
        if isinstance(value, dict):
            for key, item in value.items():
                for scalar in item if isinstance(item, list) else [item]:
                    if isinstance(scalar, int) and not MIN_INT <= scalar <= MAX_INT:
                        raise ValueError(f"metadata.{key} must be an integer within ±(2^53 - 1)")
        return value


class RecordsJobIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    records: list[RecordIn] = Field(min_length=1)
    labels: list[str] = Field(default_factory=list, max_length=100)


class JobItemOut(BaseModel):
    position: int
    name: str
    status: str
    doc_id: str | None
    version: int | None
    chunks: int
    error: str | None


class JobOut(BaseModel):
    job_id: str
    status: str
    total: int
    counts: dict[str, int]
    labels: list[str]
    created_at: UtcDatetime
    finished_at: UtcDatetime | None
    items: list[JobItemOut]


class JobAcceptedOut(BaseModel):
    job_id: str
    status: str
    total: int
    href: str


class VersionOut(BaseModel):
    version: int
    title: str
    source_uri: str
    media_type: str
    content_sha256: str
    labels: list[str]
    redaction_counts: dict[str, int]
    metadata: dict[str, Any]
    chunk_count: int
    page_count: int | None
    characters: int
    ingested_at: UtcDatetime
    source_updated_at: UtcDatetime | None


class DocumentOut(BaseModel):
    doc_id: str
    current_version: int | None = Field(
        description="the version searches serve; null when the caller may not read it"
    )
    title: str
    source_uri: str
    versions: list[VersionOut]


class DocumentSummaryOut(BaseModel):
    doc_id: str
    current_version: int
    title: str
    source_uri: str


class DocumentListOut(BaseModel):
    total: int
    limit: int
    offset: int
    documents: list[DocumentSummaryOut]


class TextOut(BaseModel):
    doc_id: str
    version: int
    start: int
    end: int
    text: str
    content_sha256: str = Field(description="SHA-256 of the whole stored (redacted) text of this version")
