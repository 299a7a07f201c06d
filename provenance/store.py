"""Reads and writes of documents, versions and chunks. Every function takes the tenant first.

A new version is written beside the old one and becomes current in one transaction (``publish``), so a
reader that checks the current version never sees both versions, nor neither.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import ColumnElement, Connection, and_, bindparam, delete, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from core.clock import utcnow
from core.errors import NotFoundError
from core.types import TenantId
from provenance.models import ChunkRecord, Document, DocumentVersion


@dataclass(frozen=True)
class DocumentSummary:
    doc_id: str
    current_version: int
    title: str
    source_uri: str
    labels: tuple[str, ...]


# Joins a version to its document only when it is the document's current version.
_IS_CURRENT = and_(
    col(Document.tenant) == col(DocumentVersion.tenant),
    col(Document.doc_id) == col(DocumentVersion.doc_id),
    col(Document.current_version) == col(DocumentVersion.version),
)


def current_version(session: Session, tenant: TenantId, doc_id: str) -> DocumentVersion | None:
    document = session.get(Document, (tenant, doc_id))
    if document is None:
        return None
    return session.get(DocumentVersion, (tenant, doc_id, document.current_version))


# Built once: the search re-check runs on every query, so it skips the ORM and statement compilation.
_CURRENT_WRITES = (
    sa_select(col(DocumentVersion.doc_id), col(DocumentVersion.write_id))
    .join(Document, _IS_CURRENT)
    .where(
        col(DocumentVersion.tenant) == bindparam("tenant"),
        col(DocumentVersion.doc_id).in_(bindparam("ids", expanding=True)),
    )
)


def current_writes(connection: Connection, tenant: TenantId, doc_ids: Iterable[str]) -> dict[str, str]:
    """The write id of each document's current version: the only points a search may serve."""
    ids = sorted(set(doc_ids))
    if not ids:
        return {}
    rows = connection.execute(_CURRENT_WRITES, {"tenant": tenant, "ids": ids}).all()
    return dict(rows)  # type: ignore[arg-type]


class CurrentSource(NamedTuple):
    """What a re-ingest needs to know of a document's current version."""

    fingerprint: str  # the unchanged-content shortcut compares this
    version: int
    labels: tuple[str, ...]  # the writer must be allowed to write these to overwrite the document


def sources_by_doc(session: Session, tenant: TenantId, doc_ids: Sequence[str]) -> dict[str, CurrentSource]:
    """The current version of each document that exists, for the unchanged shortcut and the write check."""
    found: dict[str, CurrentSource] = {}
    for start in range(0, len(doc_ids), 500):  # keep IN lists well under driver limits
        batch = list(doc_ids[start : start + 500])
        rows = session.exec(
            select(
                DocumentVersion.doc_id,
                DocumentVersion.source_sha256,
                DocumentVersion.version,
                DocumentVersion.labels,
            )
            .join(
                Document,
                _IS_CURRENT,
            )
            .where(DocumentVersion.tenant == tenant, col(DocumentVersion.doc_id).in_(batch))
        ).all()
        for doc_id, source_sha, version, labels in rows:
            found[doc_id] = CurrentSource(_fingerprint(source_sha, labels), version, tuple(labels))
    return found


def fingerprint(source_sha256: str, labels: Sequence[str]) -> str:
    """What must be equal for a re-ingest to be a no-op: the raw content and the ACL labels."""
    return _fingerprint(source_sha256, labels)


def _fingerprint(source_sha256: str, labels: Sequence[str]) -> str:
    return source_sha256 + "|" + ",".join(sorted(labels))


def next_version(session: Session, tenant: TenantId, doc_id: str) -> int:
    highest = session.exec(
        select(func.max(DocumentVersion.version)).where(
            DocumentVersion.tenant == tenant, DocumentVersion.doc_id == doc_id
        )
    ).one()
    return int(highest or 0) + 1


def publish(
    session: Session, tenant: TenantId, version: DocumentVersion, chunks: Sequence[ChunkRecord]
) -> None:
    """Store a version with its chunks and make it current, in the caller's transaction."""
    if version.tenant != tenant or any(c.tenant != tenant for c in chunks):
        raise ValueError("version and chunks must belong to the tenant they are published for")
    session.add(version)
    session.add_all(chunks)
    document = session.get(Document, (tenant, version.doc_id))
    now = utcnow()
    if document is None:
        document = Document(
            tenant=tenant,
            doc_id=version.doc_id,
            current_version=version.version,
            created_at=now,
            updated_at=now,
        )
    document.current_version = version.version
    document.title = version.title
    document.source_uri = version.source_uri
    document.updated_at = now
    session.add(document)


def get_version(session: Session, tenant: TenantId, doc_id: str, version: int) -> DocumentVersion:
    row = session.get(DocumentVersion, (tenant, doc_id, version))
    if row is None:
        raise NotFoundError(f"document {doc_id!r} has no version {version}")
    return row


def get_document(session: Session, tenant: TenantId, doc_id: str) -> Document:
    row = session.get(Document, (tenant, doc_id))
    if row is None:
        raise NotFoundError(f"document {doc_id!r} not found")
    return row


def list_versions(session: Session, tenant: TenantId, doc_id: str) -> list[DocumentVersion]:
    get_document(session, tenant, doc_id)
    return list(
        session.exec(
            select(DocumentVersion)
            .where(DocumentVersion.tenant == tenant, DocumentVersion.doc_id == doc_id)
            .order_by(col(DocumentVersion.version))
        ).all()
    )


def readable_documents(
    session: Session, tenant: TenantId, labels: frozenset[str] | None, *, limit: int, offset: int
) -> tuple[int, list[DocumentSummary]]:
    """One page of the tenant's documents whose current labels meet ``labels`` (None: all), by id,
    and how many there are in all; the label test runs in the database, so a page costs one page."""
    query = (
        sa_select(
            col(Document.doc_id),
            col(Document.current_version),
            col(Document.title),
            col(Document.source_uri),
            col(DocumentVersion.labels),
        )
        .join(DocumentVersion, _IS_CURRENT)
        .where(col(Document.tenant) == tenant)
    )
    if labels is not None:
        query = query.where(_has_any_label(session, labels))
    total = session.execute(sa_select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(col(Document.doc_id)).limit(limit).offset(offset)).all()
    return int(total), [DocumentSummary(d, v, t, u, tuple(ls)) for d, v, t, u, ls in rows]


def _has_any_label(session: Session, labels: frozenset[str]) -> ColumnElement[bool]:
    """``EXISTS`` one of the version's JSON labels in ``labels``, in the database's own JSON functions."""
    expand = "json_array_elements_text" if session.get_bind().dialect.name == "postgresql" else "json_each"
    element = getattr(func, expand)(DocumentVersion.labels).table_valued("value")
    return sa_select(1).select_from(element).where(element.c.value.in_(sorted(labels))).exists()


def delete_document(session: Session, tenant: TenantId, doc_id: str) -> None:
    get_document(session, tenant, doc_id)
    session.execute(
        delete(ChunkRecord).where(col(ChunkRecord.tenant) == tenant, col(ChunkRecord.doc_id) == doc_id)
    )
    session.execute(
        delete(DocumentVersion).where(
            col(DocumentVersion.tenant) == tenant, col(DocumentVersion.doc_id) == doc_id
        )
    )
    session.execute(delete(Document).where(col(Document.tenant) == tenant, col(Document.doc_id) == doc_id))


def delete_tenant(session: Session, tenant: TenantId) -> None:
    for model in (ChunkRecord, DocumentVersion, Document):
        session.execute(delete(model).where(col(model.tenant) == tenant))
