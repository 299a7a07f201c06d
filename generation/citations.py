"""What an answer cites: an exact character range of one stored document version, with hashes to check it."""

from __future__ import annotations

from dataclasses import dataclass

from core.hashing import sha256_hex
from retrieval.ports import Hit


@dataclass(frozen=True)
class Citation:
    doc_id: str
    version: int
    chunk_id: str
    start: int  # character range in the stored (redacted) text of that version
    end: int
    text_sha256: str  # of the cited characters, re-checked against the stored text before serving
    content_sha256: str  # of the whole stored version, as in its provenance
    title: str
    source_uri: str
    page: int | None

    @classmethod
    def of(cls, hit: Hit, start_in_chunk: int, end_in_chunk: int) -> Citation:
        """A range of a hit's chunk, translated to the stored text (chunks are exact slices of it)."""
        payload = hit.payload
        if not 0 <= start_in_chunk < end_in_chunk <= len(payload.text):
            raise ValueError(f"range {start_in_chunk}-{end_in_chunk} is outside the chunk")
        return cls(
            doc_id=payload.doc_id,
            version=payload.version,
            chunk_id=payload.chunk_id,
            start=payload.char_start + start_in_chunk,
            end=payload.char_start + end_in_chunk,
            text_sha256=sha256_hex(payload.text[start_in_chunk:end_in_chunk]),
            content_sha256=payload.content_sha256,
            title=payload.title,
            source_uri=payload.source_uri,
            page=payload.page,
        )
