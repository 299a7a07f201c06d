"""Batch ingest jobs and their items, so a caller can poll progress and see each item's fate."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, DateTime, Text
from sqlmodel import Field, SQLModel


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"  # every item indexed or unchanged
    PARTIAL = "partial"  # some items failed, the rest landed
    FAILED = "failed"  # no item landed


class ItemStatus(StrEnum):
    QUEUED = "queued"
    INDEXED = "indexed"
    UNCHANGED = "unchanged"
    FAILED = "failed"


class IngestJob(SQLModel, table=True):
    __tablename__ = "ingest_jobs"

    id: str = Field(primary_key=True, max_length=40)
    tenant: str = Field(index=True, max_length=63)
    submitted_by: str = Field(default="", max_length=200)
    status: str = Field(default=JobStatus.QUEUED, max_length=16)
    labels: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    total: int = 0
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    finished_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    # Renewed while the job is open by the process running it; a stale one means that process died.
    heartbeat_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))


class IngestItem(SQLModel, table=True):
    __tablename__ = "ingest_items"

    job_id: str = Field(primary_key=True, foreign_key="ingest_jobs.id", ondelete="CASCADE", max_length=40)
    position: int = Field(primary_key=True)
    name: str = Field(max_length=1000)
    status: str = Field(default=ItemStatus.QUEUED, max_length=16)
    doc_id: str | None = Field(default=None, max_length=512)
    version: int | None = None
    chunks: int = 0
    error: str | None = Field(default=None, sa_column=Column(Text))
