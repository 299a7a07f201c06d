"""Reads and writes of documents, versions and chunks. Every function takes the tenant first.

A new version is written beside the old one and becomes current in one transaction (``publish``), so a
reader that checks the current version never sees both versions, nor neither. Version numbers come
from ``allocate_version``; a number is never reused, a publish never replaces a newer current version,
and a delete refuses every version numbered before it (``VersionAllocation``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import ColumnElement, Connection, Dialect, and_, bindparam, delete, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from core.clock import utcnow
from core.errors import ConflictError, ForbiddenError, NotFoundError
from core.types import TenantId
from provenance.models import ChunkRecord, Document, DocumentVersion, VersionAllocation


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


# The search re-check runs on every query, always against the database. SQLAlchemy re-renders an
# expanding IN list on every call (a quarter of the re-check's CPU), so the SQL is rendered once per
# dialect and list size and sent to the driver as it is. Sizes are powers of two from 16; a shorter
# list repeats its last id, which an IN list ignores.
_SMALLEST_ID_LIST = 16


@lru_cache(maxsize=64)
def _current_writes_sql(dialect: Dialect, size: int) -> tuple[str, tuple[str, ...] | None]:
    """The re-check's SQL for ``size`` ids, and the order of its parameters when they are positional."""
    statement = (
        sa_select(col(DocumentVersion.doc_id), col(DocumentVersion.write_id))
        .join(Document, _IS_CURRENT)
        .where(
            col(DocumentVersion.tenant) == bindparam("tenant"),
            col(DocumentVersion.doc_id).in_([bindparam(f"id{i}") for i in range(size)]),
        )
    )
    compiled = statement.compile(dialect=dialect)
    return compiled.string, tuple(compiled.positiontup or ()) if compiled.positional else None


def current_writes(connection: Connection, tenant: TenantId, doc_ids: Iterable[str]) -> dict[str, str]:
    """The write id of each document's current version: the only points a search may serve."""
    ids = sorted(set(doc_ids))
    if not ids:
        return {}
    size = max(_SMALLEST_ID_LIST, 1 << (len(ids) - 1).bit_length())
    sql, order = _current_writes_sql(connection.dialect, size)
    values = {"tenant": tenant, **{f"id{i}": ids[min(i, len(ids) - 1)] for i in range(size)}}
    params = values if order is None else tuple(values[name] for name in order)
    return {str(doc_id): str(write_id) for doc_id, write_id in connection.exec_driver_sql(sql, params)}


class StoredSource(NamedTuple):
    """What a re-ingest needs of a document's current version: what it compares (fingerprint, chunk
    count) and the labels a writer must be allowed to write to overwrite the document."""

    fingerprint: str
    version: int
    chunk_count: int
    labels: tuple[str, ...]


def sources_by_doc(session: Session, tenant: TenantId, doc_ids: Sequence[str]) -> dict[str, StoredSource]:
    """The current version of each of ``doc_ids`` that has one: for the unchanged shortcut, write check."""
    found: dict[str, StoredSource] = {}
    for start in range(0, len(doc_ids), 500):  # keep IN lists well under driver limits
        batch = list(doc_ids[start : start + 500])
        rows = session.execute(
            sa_select(
                col(DocumentVersion.doc_id),
                col(DocumentVersion.source_sha256),
                col(DocumentVersion.labels),
                col(DocumentVersion.redaction_policy),
                col(DocumentVersion.version),
                col(DocumentVersion.chunk_count),
            )
            .join(Document, _IS_CURRENT)
            .where(col(DocumentVersion.tenant) == tenant, col(DocumentVersion.doc_id).in_(batch))
        ).all()
        for doc_id, source_sha, labels, policy, version, chunk_count in rows:
            found[doc_id] = StoredSource(
                fingerprint(source_sha, labels, policy), version, chunk_count, tuple(labels)
            )
    return found


def fingerprint(source_sha256: str, labels: Sequence[str], redaction_policy: str) -> str:
    """What must be equal for a re-ingest to be a no-op: the raw content, the ACL labels and the
    redaction policy (a stronger policy must see text stored under a weaker one again)."""
    return source_sha256 + "|" + ",".join(sorted(labels)) + "|" + redaction_policy


def allocate_version(session: Session, tenant: TenantId, doc_id: str) -> int:
    """Hand out the document's next version number, never the same one twice (commit before using it).

    The increment is one UPDATE, atomic on both databases (PostgreSQL locks the row, SQLite the
    file); the first version of a document inserts the row, and a writer that loses that race to
    another one simply increments the row the winner inserted.
    """
    while True:
        bumped = session.execute(
            update(VersionAllocation)
            .where(_allocation_of(tenant, doc_id))
            .values(last_version=col(VersionAllocation.last_version) + 1)
            .returning(col(VersionAllocation.last_version))
        ).scalar_one_or_none()
        if bumped is not None:
            return int(bumped)
        highest = session.exec(
            select(func.max(DocumentVersion.version)).where(
                DocumentVersion.tenant == tenant, DocumentVersion.doc_id == doc_id
            )
        ).one()
        first = int(highest or 0) + 1
        if _insert_allocation(session, tenant, doc_id, first):
            return first


def refused_write(doc_id: str) -> str:
    """One wording for every refused write, whether or not the document exists (no existence oracle)."""
    return f"the key may not write document {doc_id!r}"


def publish(
    session: Session,
    tenant: TenantId,
    version: DocumentVersion,
    chunks: Sequence[ChunkRecord],
    *,
    may_replace: Callable[[Sequence[str]], bool] | None = None,
) -> bool:
    """Store a version with its chunks in the caller's transaction; make it current only if it is newer
    than the current one. Returns whether it became current.

    Raises ``ConflictError`` when the document was deleted after this version's number was handed out:
    the delete came later, so it wins, and nothing is stored. Raises ``ForbiddenError`` when
    ``may_replace`` refuses the labels of the version that is current now: the writer's permission was
    checked when its job planned the item, and the document may have been relabelled since.
    """
    if version.tenant != tenant or any(c.tenant != tenant for c in chunks):
        raise ValueError("version and chunks must belong to the tenant they are published for")
    # Writing the allocation row first orders this publish against deletes and other publishes of the
    # document: PostgreSQL holds its row lock, SQLite its write lock, until the transaction ends.
    alive = session.execute(
        update(VersionAllocation)
        .where(
            _allocation_of(tenant, version.doc_id),
            col(VersionAllocation.deleted_through) < version.version,
        )
        .values(last_version=col(VersionAllocation.last_version))
        .returning(col(VersionAllocation.last_version))
    ).scalar_one_or_none()
    if alive is None:
        raise ConflictError(
            f"document {version.doc_id!r} was deleted while version {version.version} was being written"
        )
    document = session.get(Document, (tenant, version.doc_id))
    if document is not None and may_replace is not None:
        # Under the allocation row's lock, so no relabelling can slip in between this check and the commit.
        replaced = session.get(DocumentVersion, (tenant, version.doc_id, document.current_version))
        if replaced is not None and not may_replace(replaced.labels):
            raise ForbiddenError(refused_write(version.doc_id))
    session.add(version)
    session.add_all(chunks)
    if document is not None and document.current_version >= version.version:
        return False  # a newer version was published meanwhile: this one stays in the history only
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
    return True


def _allocation_of(tenant: TenantId, doc_id: str) -> ColumnElement[bool]:
    return and_(col(VersionAllocation.tenant) == tenant, col(VersionAllocation.doc_id) == doc_id)


def _insert_allocation(session: Session, tenant: TenantId, doc_id: str, first: int) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; whether the row went in (RETURNING says so on both databases,
    where an ORM insert's rowcount may be unknown)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(VersionAllocation)
        .values(tenant=tenant, doc_id=doc_id, last_version=first, deleted_through=0)
        .on_conflict_do_nothing()
        .returning(col(VersionAllocation.last_version))
    )
    return session.execute(statement).scalar_one_or_none() is not None


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
    session: Session,
    tenant: TenantId,
    labels: frozenset[str] | None,
    *,
    denied: frozenset[str] = frozenset(),
    limit: int,
    offset: int,
) -> tuple[int, list[DocumentSummary]]:
    """One page of the tenant's documents whose current labels meet ``labels`` (None: all) and carry
    none of ``denied``, by id, and how many there are in all; the label test runs in the database, so
    a page costs one page."""
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
    if denied:
        query = query.where(~_has_any_label(session, denied))
    total = session.execute(sa_select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(col(Document.doc_id)).limit(limit).offset(offset)).all()
    return int(total), [DocumentSummary(d, v, t, u, tuple(ls)) for d, v, t, u, ls in rows]


def _has_any_label(session: Session, labels: frozenset[str]) -> ColumnElement[bool]:
    """``EXISTS`` one of the version's JSON labels in ``labels``, in the database's own JSON functions."""
    expand = "json_array_elements_text" if session.get_bind().dialect.name == "postgresql" else "json_each"
    element = getattr(func, expand)(DocumentVersion.labels).table_valued("value")
    return sa_select(1).select_from(element).where(element.c.value.in_(sorted(labels))).exists()


def delete_document(session: Session, tenant: TenantId, doc_id: str) -> int:
    """Forget the document and every version of it, in the caller's transaction; returns the highest
    version number handed out so far. Every version up to it is now deleted, including ones still
    being written: their ``publish`` will refuse (``VersionAllocation.deleted_through``)."""
    through = session.execute(
        update(VersionAllocation)
        .where(_allocation_of(tenant, doc_id))
        .values(deleted_through=col(VersionAllocation.last_version))
        .returning(col(VersionAllocation.last_version))
    ).scalar_one_or_none()
    get_document(session, tenant, doc_id)  # not found: the caller's rollback undoes the update above
    assert through is not None  # a published document always has its allocation row
    session.execute(
        delete(ChunkRecord).where(col(ChunkRecord.tenant) == tenant, col(ChunkRecord.doc_id) == doc_id)
    )
    session.execute(
        delete(DocumentVersion).where(
            col(DocumentVersion.tenant) == tenant, col(DocumentVersion.doc_id) == doc_id
        )
    )
    session.execute(delete(Document).where(col(Document.tenant) == tenant, col(Document.doc_id) == doc_id))
    return int(through)


def delete_tenant(session: Session, tenant: TenantId) -> None:
    for model in (ChunkRecord, DocumentVersion, Document, VersionAllocation):
        session.execute(delete(model).where(col(model.tenant) == tenant))
