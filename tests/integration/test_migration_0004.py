"""Migration 0004 on a database that already holds documents: numbering continues, policies unknown."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text
from sqlmodel import select

from core.db import MIGRATIONS_DIR, make_engine, session_scope
from core.types import TenantId
from provenance import store as docs
from provenance.models import DocumentVersion

OLD_VERSION = text(
    "INSERT INTO document_versions (tenant, doc_id, version, title, source_uri, media_type, "
    "content_sha256, source_sha256, write_id, text, labels, redaction_counts, doc_metadata, chunk_count, "
    "ingested_at) VALUES ('acme', 'old', :version, '', '', 'text/plain', '', '', 'w', 'text', '[]', "
    "'{}', '{}', 1, '2026-11-27 00:00:00+00:00')"
)


def migrate_to(engine: Engine, revision: str, *, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def test_documents_stored_before_0004_continue_from_their_highest_version(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate_to(engine, "head")  # the fixture's PostgreSQL database may be there already
        migrate_to(engine, "0003", down=True)
        with engine.begin() as connection:
            for version in (1, 2):
                connection.execute(OLD_VERSION, {"version": version})
        migrate_to(engine, "head")
        with session_scope(engine) as session:
            assert docs.allocate_version(session, TenantId("acme"), "old") == 3
            assert docs.allocate_version(session, TenantId("acme"), "new") == 1
            assert set(session.exec(select(DocumentVersion.redaction_policy)).all()) == {""}
    finally:
        engine.dispose()
