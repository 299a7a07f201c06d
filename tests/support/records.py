"""Sources as a JSONL record would give them, and chunks as the index stores them, for tests that skip
the parser or the pipeline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from core.metadata import Metadata
from ingest.document import Source
from retrieval.ports import ChunkPayload


def record(
    doc_id: str,
    text: str,
    title: str = "",
    *,
    metadata: Metadata | None = None,
    source_updated_at: datetime | None = None,
) -> Source:
    return Source(
        name=doc_id,
        doc_id=doc_id,
        title=title,
        text=text,
        source_uri=f"test:{doc_id}",
        source_updated_at=source_updated_at,
        metadata=metadata or {},
    )


def chunk_payload(doc_id: str, text: str, **fields: Any) -> ChunkPayload:
    """A stored chunk that is the whole of a one-chunk version 1; any field can be overridden."""
    defaults: dict[str, Any] = {
        "chunk_id": f"{doc_id}#c0",
        "doc_id": doc_id,
        "version": 1,
        "chunk_index": 0,
        "title": "",
        "source_uri": f"test:{doc_id}",
        "text": text,
        "char_start": 0,
        "char_end": len(text),
        "page": None,
        "labels": ("public",),
        "content_sha256": "0" * 64,
        "ingested_at": datetime(2026, 12, 2, tzinfo=UTC),
        "source_updated_at": None,
    }
    return ChunkPayload(**(defaults | fields))
