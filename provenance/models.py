"""What we know about every stored document, version and chunk — the provenance behind each hit.

Only redacted text is ever stored here; ``source_sha256`` is a hash of the raw source used to notice
that a re-ingest changed nothing, it cannot be turned back into the source.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, Text
from sqlmodel import Field, SQLModel


class Document(SQLModel, table=True):
    __tablename__ = "documents"

    tenant: str = Field(primary_key=True, max_length=63)
    doc_id: str = Field(primary_key=True, max_length=512)
    current_version: int
    title: str = Field(default="", max_length=1000)
    source_uri: str = Field(default="", max_length=2000)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class DocumentVersion(SQLModel, table=True):
    __tablename__ = "document_versions"

    tenant: str = Field(primary_key=True, max_length=63)
    doc_id: str = Field(primary_key=True, max_length=512)
    version: int = Field(primary_key=True)
    title: str = Field(default="", max_length=1000)
    source_uri: str = Field(default="", max_length=2000)
    media_type: str = Field(default="", max_length=200)
    content_sha256: str = Field(max_length=64)
    source_sha256: str = Field(max_length=64)
    write_id: str = Field(max_length=32)
    text: str = Field(sa_column=Column(Text, nullable=False))
    labels: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    redaction_counts: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The source's own metadata, string values redacted (core.metadata); "metadata" is SQLAlchemy's name.
    doc_metadata: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The redaction policy the text was stored under (ingest.redact); "" on versions stored before it was
    # recorded, which never match a policy, so their next ingest processes them again.
    redaction_policy: str = Field(default="", max_length=64)
    chunk_count: int = 0
    page_count: int | None = None
    ingested_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    source_updated_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class VersionAllocation(SQLModel, table=True):
    """Per document, the highest version number handed out and the highest one deleted.

    It outlives the document: a number is never handed out twice, and a write that took its number
    before a delete cannot publish after it (its number is at or below ``deleted_through``).
    """

    __tablename__ = "version_allocations"

    tenant: str = Field(primary_key=True, max_length=63)
    doc_id: str = Field(primary_key=True, max_length=512)
    last_version: int
    deleted_through: int = 0


class ChunkRecord(SQLModel, table=True):
    __tablename__ = "chunks"
    __table_args__ = (Index("ix_chunks_doc_version", "tenant", "doc_id", "version"),)

    tenant: str = Field(primary_key=True, max_length=63)
    chunk_id: str = Field(primary_key=True, max_length=600)
    doc_id: str = Field(max_length=512)
    version: int
    chunk_index: int
    char_start: int
    char_end: int
    page: int | None = None
    element_type: str = Field(default="", max_length=64)
