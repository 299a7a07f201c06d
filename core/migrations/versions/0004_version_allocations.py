"""Versions are allocated from a per-document row, and each version records its redaction policy.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "version_allocations",
        sa.Column("tenant", sa.String(length=63), nullable=False),
        sa.Column("doc_id", sa.String(length=512), nullable=False),
        sa.Column("last_version", sa.Integer(), nullable=False),
        sa.Column("deleted_through", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "doc_id"),
    )
    # Documents stored so far continue from their highest version.
    op.execute(
        "INSERT INTO version_allocations (tenant, doc_id, last_version, deleted_through) "
        "SELECT tenant, doc_id, MAX(version), 0 FROM document_versions GROUP BY tenant, doc_id"
    )
    with op.batch_alter_table("document_versions", schema=None) as batch_op:
        # Unknown for versions stored before this revision: "" never equals a policy, so they count as
        # changed on their next ingest.
        batch_op.add_column(
            sa.Column("redaction_policy", sa.String(length=64), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("document_versions", schema=None) as batch_op:
        batch_op.drop_column("redaction_policy")
    op.drop_table("version_allocations")
