"""Alembic environment: runs against the connection handed over by ``core.db.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from core.db import normalise_url


def _run(connection: Connection) -> None:
    context.configure(connection=connection, render_as_batch=True)  # batch mode lets SQLite alter tables
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:  # `alembic -x url=... upgrade head` from a shell
    url = context.get_x_argument(as_dictionary=True).get("url") or "sqlite:///./data/tessera.db"
    with create_engine(normalise_url(url)).begin() as conn:
        _run(conn)
