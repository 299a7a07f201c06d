"""Documents as a caller sees them: read provenance, fetch exact text ranges, delete everywhere.

Every version is shown only to those who may read its own labels; what the caller may not read answers
exactly like what does not exist, so neither a document nor a version discloses that it is there.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session

from acl.filters import WriteGrant, check_delete
from core.access import AccessFilter
from core.db import session_scope
from core.errors import InvalidInputError, NotFoundError
from core.types import TenantId
from ingest.versions import VersionWriter
from provenance import store as docs
from provenance.models import DocumentVersion
from retrieval.ports import VectorStore


@dataclass(frozen=True)
class DocumentView:
    """A document with only the versions the caller may read.

    ``current_version`` is None when the current version is not among them (searches then serve the
    caller nothing of this document); ``title`` and ``source_uri`` are the newest readable version's.
    """

    doc_id: str
    current_version: int | None
    title: str
    source_uri: str
    versions: list[DocumentVersion]


@dataclass(frozen=True)
class TextRange:
    doc_id: str
    version: int
    start: int
    end: int
    text: str
    content_sha256: str


class DocumentService:
    """Reads apply the same access labels as search, version by version: a document none of whose
    versions the caller may read is a 404, like one that does not exist."""

    def __init__(self, engine: Engine, store: VectorStore) -> None:
        self._engine = engine
        self._store = store
        self._versions = VersionWriter(engine, store)

    def get(self, allowed: AccessFilter, doc_id: str) -> DocumentView:
        with session_scope(self._engine) as session:
            document = docs.get_document(session, allowed.tenant, doc_id)
            readable = _readable(allowed, doc_id, docs.list_versions(session, allowed.tenant, doc_id))
        newest = readable[-1]
        current = document.current_version if newest.version == document.current_version else None
        return DocumentView(doc_id, current, newest.title, newest.source_uri, readable)

    def list(
        self, allowed: AccessFilter, *, limit: int, offset: int
    ) -> tuple[int, list[docs.DocumentSummary]]:
        if not 1 <= limit <= 1000:
            raise InvalidInputError(f"limit must be between 1 and 1000, got {limit}")
        if offset < 0:
            raise InvalidInputError(f"offset must be >= 0, got {offset}")
        with session_scope(self._engine) as session:
            total, rows = docs.readable_documents(
                session,
                allowed.tenant,
                allowed.label_set(),
                denied=allowed.denied,
                limit=limit,
                offset=offset,
            )
        # The database applied the label rule; check it again here and fail closed, as search does.
        return total, [r for r in rows if allowed.allows(allowed.tenant, r.labels)]

    def text(
        self, allowed: AccessFilter, doc_id: str, version: int, start: int | None, end: int | None
    ) -> TextRange:
        with session_scope(self._engine) as session:
            row = session.get(DocumentVersion, (allowed.tenant, doc_id, version))
        if row is None or not allowed.allows(row.tenant, row.labels):
            # One answer for a version that is not there and one the caller may not read.
            raise NotFoundError(f"document {doc_id!r} has no version {version}")
        length = len(row.text)
        first = 0 if start is None else start
        last = length if end is None else end
        if not 0 <= first <= length:
            raise InvalidInputError(f"start must be between 0 and {length}, got {first}")
        if not first <= last <= length:
            raise InvalidInputError(f"end must be between start ({first}) and {length}, got {last}")
        return TextRange(doc_id, version, first, last, row.text[first:last], row.content_sha256)

    def authorize_delete(self, allowed: AccessFilter, grant: WriteGrant, doc_id: str) -> None:
        """Refuse a delete the caller may not make: 404 when it can read no version (as if there were
        none), 403 when some version carries labels it may not write."""
        with session_scope(self._engine) as session:
            check_deletable(session, allowed, grant, doc_id)

    def delete(self, tenant: TenantId, doc_id: str) -> int:
        """Forget the document in the database first (searches stop returning it at once), then remove
        its points; a write racing the delete neither brings it back nor loses a later write
        (``ingest.versions``). Returns how many points went."""
        through = self._versions.forget(tenant, doc_id)
        return self._versions.purge(tenant, doc_id, through)


def check_deletable(session: Session, allowed: AccessFilter, grant: WriteGrant, doc_id: str) -> None:
    """The delete permission, in the caller's transaction (so it can run inside the delete's own)."""
    versions = docs.list_versions(session, allowed.tenant, doc_id)
    _readable(allowed, doc_id, versions)
    check_delete(grant, doc_id, (v.labels for v in versions))


def _readable(allowed: AccessFilter, doc_id: str, versions: list[DocumentVersion]) -> list[DocumentVersion]:
    """The versions the caller may read; none is the same 404 as a missing document, so existence is
    not disclosed either."""
    readable = [v for v in versions if allowed.allows(v.tenant, v.labels)]
    if not readable:
        raise NotFoundError(f"document {doc_id!r} not found")
    return readable
