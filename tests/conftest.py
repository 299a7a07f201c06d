"""Shared fixtures: temporary data dirs, databases (SQLite always, PostgreSQL when reachable), runtimes."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from api.runtime import Runtime, build_runtime
from core.db import normalise_url
from core.offline import enforce_offline
from core.settings import IngestSettings, Settings
from ingest.prepare import InlinePreparer
from ingest.redact import Redactor
from retrieval.ports import Embedder
from tests.support.fakes import FakeEmbedder, FakeRedactor

enforce_offline()

POSTGRES_URL = os.environ.get("TESSERA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A fresh database on the PostgreSQL server for this test session, dropped afterwards."""
    admin_url = normalise_url(POSTGRES_URL)
    try:
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
        with admin.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except Exception as exc:  # no server here: say so in the skip reason
        pytest.skip(
            f"PostgreSQL not reachable at {POSTGRES_URL} ({type(exc).__name__}); "
            "set TESSERA_TEST_POSTGRES_URL"
        )
    name = f"tessera_test_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tessera.db'}"
        return
    base: str = request.getfixturevalue("postgres_server_url")
    # Each test gets its own schema-free database state by truncating what earlier tests wrote.
    engine = sa.create_engine(base)
    with engine.begin() as connection:
        tables = (
            connection.execute(
                sa.text(
                    "SELECT tablename FROM pg_tables "
                    "WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
                )
            )
            .scalars()
            .all()
        )
        if tables:
            connection.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"))
    engine.dispose()
    yield base


RuntimeFactory = Callable[..., Runtime]


@pytest.fixture
def make_runtime(tmp_path: Path) -> Iterator[RuntimeFactory]:
    """Build runtimes on a temp data dir; fakes by default, real models when asked."""
    built: list[Runtime] = []

    def factory(
        *,
        database_url: str | None = None,
        embedder: Embedder | None = None,
        redactor: Redactor | None = None,
        data_dir: Path | None = None,
        **overrides: object,
    ) -> Runtime:
        overrides.setdefault("ingest", IngestSettings(redaction_workers=0))
        settings = Settings(
            data_dir=data_dir or tmp_path / "data",
            database_url=database_url,
            **overrides,  # type: ignore[arg-type]
        )
        chosen_embedder = embedder or FakeEmbedder()
        chosen_redactor = redactor or FakeRedactor()
        runtime = build_runtime(
            settings,
            embedder=lambda: chosen_embedder,
            preparer=lambda: InlinePreparer(chosen_redactor),
        )
        built.append(runtime)
        return runtime

    yield factory
    for runtime in built:
        runtime.close()
