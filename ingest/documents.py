"""Documents as a caller sees them: read provenance, fetch exact text ranges, delete everywhere."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from core.access import AccessFilter
from core.db import session_scope
from core.errors import InvalidInputError, NotFoundError
from core.types import TenantId
from ingest.versions import VersionWriter
from provenance import store as docs
from provenance.models import Document, DocumentVersion
from retrieval.ports import VectorStore


@dataclass(frozen=True)
class TextRange:
    doc_id: str
    version: int
    start: int
    end: int
    text: str
    content_sha256: str


class DocumentService:
    """Reads apply the same access labels as search: a document the caller may not read is a 404."""

    def __init__(self, engine: Engine, store: VectorStore) -> None:
        self._engine = engine
        self._store = store
        self._versions = VersionWriter(engine, store)

    def get(self, allowed: AccessFilter, doc_id: str) -> tuple[Document, list[DocumentVersion]]:
        with session_scope(self._engine) as session:
            document = docs.get_document(session, allowed.tenant, doc_id)
            current = docs.get_version(session, allowed.tenant, doc_id, document.current_version)
            _check_readable(allowed, current)
            return document, docs.list_versions(session, allowed.tenant, doc_id)

    def list(
        self, allowed: AccessFilter, *, limit: int, offset: int
    ) -> tuple[int, list[docs.DocumentSummary]]:
        if not 1 <= limit <= 1000:
            raise InvalidInputError(f"limit must be between 1 and 1000, got {limit}")
        if offset < 0:
            raise InvalidInputError(f"offset must be >= 0, got {offset}")
        with session_scope(self._engine) as session:
            total, rows = docs.readable_documents(
                session, allowed.tenant, allowed.label_set(), limit=limit, offset=offset
            )
        # The database applied the label rule; check it again here and fail closed, as search does.
        return total, [r for r in rows if allowed.allows(allowed.tenant, r.labels)]

    def text(
        self, allowed: AccessFilter, doc_id: str, version: int, start: int | None, end: int | None
    ) -> TextRange:
        with session_scope(self._engine) as session:
            row = docs.get_version(session, allowed.tenant, doc_id, version)
        _check_readable(allowed, row)
        length = len(row.text)
        first = 0 if start is None else start
        last = length if end is None else end
        if not 0 <= first <= length:
            raise InvalidInputError(f"start must be between 0 and {length}, got {first}")
        if not first <= last <= length:
            raise InvalidInputError(f"end must be between start ({first}) and {length}, got {last}")
        return TextRange(doc_id, version, first, last, row.text[first:last], row.content_sha256)

    def delete(self, tenant: TenantId, doc_id: str) -> int:
        """Forget the document in the database first (searches stop returning it at once), then remove
        its points; a write racing the delete neither brings it back nor loses a later write
        (``ingest.versions``). Returns how many points went."""
        through = self._versions.forget(tenant, doc_id)
        return self._versions.purge(tenant, doc_id, through)


def _check_readable(allowed: AccessFilter, version: DocumentVersion) -> None:
    if not allowed.allows(version.tenant, version.labels):
        # The same answer as for a missing document: existence is not disclosed either.
        raise NotFoundError(f"document {version.doc_id!r} not found")
