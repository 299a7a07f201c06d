"""Every change to a document's versions, in steps that stay correct however writers and deleters
of one document interleave (several API processes, the CLI beside a server, a DELETE during a job).

A write is ``allocate`` (a version number no one else gets) → ``upload`` (the engine points) →
``publish`` (the database rows; current only if no newer version is, refused if a delete came after
the allocation) → ``tidy`` (points of *older* versions only). A delete is ``forget`` (the database rows,
and a tombstone over every number allocated so far) → ``purge`` (the engine points of those versions).
Each step commits on its own, and whatever commits in between, the engine ends up holding exactly the
current version's points, or none once the document is deleted. Searches serve only the current
version's write, so the moments in between never show two versions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from sqlalchemy import Engine
from sqlmodel import Session

from core.db import session_scope
from core.types import TenantId
from provenance import store as docs
from provenance.models import ChunkRecord, DocumentVersion
from retrieval.ports import ChunkPoint, VectorStore

log = logging.getLogger(__name__)
Settle = Callable[[Session], None]


class VersionWriter:
    def __init__(self, engine: Engine, store: VectorStore) -> None:
        self._engine = engine
        self._store = store

    def write(
        self,
        row: DocumentVersion,
        records: Sequence[ChunkRecord],
        points: Sequence[ChunkPoint],
        settle: Settle | None = None,
        may_replace: Callable[[Sequence[str]], bool] | None = None,
    ) -> bool:
        """``upload``, ``publish`` and ``tidy`` a version whose number came from ``allocate``; whether it
        became current. A step that fails leaves none of this write's points behind."""
        tenant = _tenant(row)
        try:
            self.upload(tenant, points)
        except BaseException:
            self._store.delete_write(tenant, row.doc_id, row.write_id)  # a part may have landed
            raise
        current = self.publish(row, records, settle, may_replace)
        if current:
            self.tidy(row)
        return current

    def allocate(self, tenant: TenantId, doc_id: str) -> int:
        with session_scope(self._engine) as session:
            return docs.allocate_version(session, tenant, doc_id)

    def upload(self, tenant: TenantId, points: Sequence[ChunkPoint]) -> None:
        self._store.upsert(tenant, points)

    def publish(
        self,
        row: DocumentVersion,
        records: Sequence[ChunkRecord],
        settle: Settle | None = None,
        may_replace: Callable[[Sequence[str]], bool] | None = None,
    ) -> bool:
        """Commit the version (and ``settle``'s writes, e.g. the job item's record) in one transaction.

        A version that a newer one beat to it stays in the history, and its points go at once; one
        whose document was deleted meanwhile raises ``ConflictError``, after removing its points.
        """
        tenant = _tenant(row)
        try:
            with session_scope(self._engine) as session:
                current = docs.publish(session, tenant, row, records, may_replace=may_replace)
                if settle is not None:
                    settle(session)
        except BaseException:
            self._store.delete_write(tenant, row.doc_id, row.write_id)
            raise
        if not current:
            self._store.delete_write(tenant, row.doc_id, row.write_id)
        return current

    def tidy(self, row: DocumentVersion) -> None:
        """Remove the points of versions older than ``row`` (never a newer one, which another writer may
        be about to publish). A failure here is harmless: leftovers are never served, and go with the
        next write or delete of the document."""
        try:
            self._store.delete_older_versions(_tenant(row), row.doc_id, row.version)
        except Exception:
            log.warning("could not remove superseded points of %s", row.doc_id, exc_info=True)

    def forget(self, tenant: TenantId, doc_id: str) -> int:
        """Delete the document's rows (searches stop returning it at once); returns the highest version
        number the delete covers. Raises ``NotFoundError`` for a document that was never published."""
        with session_scope(self._engine) as session:
            return docs.delete_document(session, tenant, doc_id)

    def purge(self, tenant: TenantId, doc_id: str, through: int) -> int:
        """Remove the points of every version up to ``through``; a version allocated after the delete
        is a new document and keeps its points. Returns how many went."""
        return self._store.delete_older_versions(tenant, doc_id, through + 1)


def _tenant(row: DocumentVersion) -> TenantId:
    return TenantId(row.tenant)
