"""The labels of stored documents and chunks, for explanations and dry runs (``acl.review``'s port)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import Engine
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from core.types import TenantId
from provenance.models import ChunkRecord, Document, DocumentVersion
from provenance.store import current_version

_BATCH = 2000


class ProvenanceLabels:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def current(self, tenant: TenantId, doc_id: str) -> tuple[int, tuple[str, ...]] | None:
        with Session(self._engine) as session:
            row = current_version(session, tenant, doc_id)
            return None if row is None else (row.version, tuple(row.labels))

    def of_chunk(self, tenant: TenantId, chunk_id: str) -> tuple[str, int, tuple[str, ...]] | None:
        # The chunk's row names its document and version; the labels are that version's.
        with Session(self._engine) as session:
            chunk = session.get(ChunkRecord, (tenant, chunk_id))
            if chunk is None:
                return None
            version = session.get(DocumentVersion, (tenant, chunk.doc_id, chunk.version))
            if version is None:
                return None
            return chunk.doc_id, chunk.version, tuple(version.labels)

    def every_current(self, tenant: TenantId) -> Iterator[tuple[str, Sequence[str]]]:
        """Streamed in batches, so a large tenant is never held in memory at once."""
        query = (
            sa_select(col(Document.doc_id), col(DocumentVersion.labels))
            .join(
                DocumentVersion,
                (col(DocumentVersion.tenant) == col(Document.tenant))
                & (col(DocumentVersion.doc_id) == col(Document.doc_id))
                & (col(DocumentVersion.version) == col(Document.current_version)),
            )
            .where(col(Document.tenant) == tenant)
            .order_by(col(Document.doc_id))
            .execution_options(yield_per=_BATCH)
        )
        with Session(self._engine) as session:
            for row in session.execute(query):
                yield row.doc_id, row.labels
