"""Database engine and sessions: SQLite file by default, PostgreSQL when ``TESSERA_DATABASE_URL`` says so.

The schema is owned by Alembic (``core/migrations``); ``migrate`` brings any database to head.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import DateTime, Engine, event
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, SQLModel, create_engine

from core.clock import as_utc

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """Accept the common ``postgresql://`` spelling and use the psycopg 3 driver we ship."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the API read while an ingest job writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _loaded_times_in_utc(instance: Any, _context: Any) -> None:
    """SQLite keeps no offset, so its datetimes load naive; every one was written in UTC, so say so."""
    table = getattr(instance, "__table__", None)
    for column in table.columns if table is not None else ():
        if isinstance(column.type, DateTime):
            value = instance.__dict__.get(column.key)
            if isinstance(value, datetime) and value.tzinfo is None:
                set_committed_value(instance, column.key, as_utc(value))


# Every table model, now and later: a row read through the ORM never carries a naive time.
event.listen(SQLModel, "load", _loaded_times_in_utc, propagate=True)


def migrate(engine: Engine) -> None:
    """Upgrade the database to the newest schema; safe to call on every start."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
