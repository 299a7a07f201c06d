"""Alembic environment: runs against the connection handed over by ``core.db.migrate``.

``target_metadata`` is every table model, so ``alembic check`` (and tests/integration/test_migrations.py)
can tell when a model changed without a migration. Importing the model packages from here is the one
place ``core`` looks upward: Alembic loads this file as a script, nothing imports it.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine
from sqlmodel import SQLModel

import acl.models
import acl.policy_models
import generation.budget_models
import ingest.models
import provenance.models
from core.db import normalise_url

MODEL_MODULES = (
    acl.models,
    acl.policy_models,
    generation.budget_models,
    ingest.models,
    provenance.models,
)  # each registers its tables on import
target_metadata = SQLModel.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # batch mode lets SQLite alter tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:  # `alembic -x url=... upgrade head` from a shell
    url = context.get_x_argument(as_dictionary=True).get("url") or "sqlite:///./data/tessera.db"
    with create_engine(normalise_url(url)).begin() as conn:
        _run(conn)
