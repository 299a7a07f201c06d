"""The shapes a document takes on its way in: parsed segments, then one redacted text with spans."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from core.metadata import Metadata


@dataclass(frozen=True)
class Segment:
    """One element of a parsed source (a title, paragraph, table, …) and the page it sits on."""

    text: str
    kind: str
    page: int | None = None


@dataclass(frozen=True)
class Source:
    """A unit of ingest: raw bytes of a file, or the text of a JSONL record, plus what we know of it.

    A file's bytes are either held (``data``) or left on disk (``path``) and read only by ``read()``
    when the pipeline gets to them, so a job of many uploads keeps paths, not payloads, in memory.
    """

    name: str  # what the user recognises: a path, an upload's filename, "records.jsonl#12"
    doc_id: str
    title: str = ""
    source_uri: str = ""
    data: bytes | None = None
    text: str | None = None
    filename: str = ""
    source_updated_at: datetime | None = None
    metadata: Metadata = field(default_factory=dict)  # raw until redacted with the text
    path: Path | None = None  # bytes read on demand from here (a file on disk, a spooled upload)

    def read(self) -> bytes:
        """The raw bytes: ``data`` when held, else the file at ``path``; a JSONL record has none."""
        if self.data is not None:
            return self.data
        if self.path is not None:
            return self.path.read_bytes()
        return b""


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    page: int | None
    kind: str


@dataclass(frozen=True)
class PreparedDocument:
    """Redacted text ready to chunk: ``spans`` locate each element inside ``text``."""

    text: str
    spans: tuple[Span, ...]
    media_type: str
    redaction_counts: dict[str, int]

    @property
    def page_count(self) -> int | None:
        pages = [s.page for s in self.spans if s.page is not None]
        return max(pages) if pages else None


SEGMENT_SEPARATOR = "\n\n"


def join_segments(segments: list[Segment], media_type: str, counts: dict[str, int]) -> PreparedDocument:
    """Lay segments end to end; offsets into the joined text are what chunks and hits refer to."""
    parts: list[str] = []
    spans: list[Span] = []
    cursor = 0
    for segment in segments:
        if not segment.text.strip():
            continue
        if parts:
            parts.append(SEGMENT_SEPARATOR)
            cursor += len(SEGMENT_SEPARATOR)
        parts.append(segment.text)
        spans.append(Span(cursor, cursor + len(segment.text), segment.page, segment.kind))
        cursor += len(segment.text)
    return PreparedDocument("".join(parts), tuple(spans), media_type, counts)
