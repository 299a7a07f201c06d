"""Sources as a JSONL record would give them, for tests that skip the parser's file handling."""

from __future__ import annotations

from datetime import datetime

from core.metadata import Metadata
from ingest.document import Source


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
