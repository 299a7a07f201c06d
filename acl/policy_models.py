"""Where policies live: casbin's own rule table, a per-tenant version head, and the change history.

``casbin_rule`` has the column layout of casbin's SQLAlchemy adapter (``ptype, v0..v5``), so the adapter
loads it and casbin tools read it. Every change to a tenant's rules, and every key revocation, is one
``policy_changes`` row with the next version of that tenant; ``policy_heads`` holds the newest version
and is the row that writers lock, so versions are gap-free and changes apply in one order everywhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime
from sqlmodel import Field, SQLModel


class CasbinRule(SQLModel, table=True):
    __tablename__ = "casbin_rule"

    id: int | None = Field(default=None, primary_key=True)
    ptype: str = Field(max_length=255, index=True)
    v0: str | None = Field(
        default=None, max_length=255, index=True
    )  # the subject: changes look rules up by it
    v1: str | None = Field(default=None, max_length=255, index=True)
    v2: str | None = Field(default=None, max_length=255, index=True)
    v3: str | None = Field(default=None, max_length=255)
    v4: str | None = Field(default=None, max_length=255)
    v5: str | None = Field(default=None, max_length=255)

    def __str__(self) -> str:
        """The rule as a casbin policy line: the adapter hands exactly this to casbin's loader."""
        values = (self.v0, self.v1, self.v2, self.v3, self.v4, self.v5)
        return ", ".join([self.ptype, *(v for v in values if v is not None)])


class PolicyHead(SQLModel, table=True):
    __tablename__ = "policy_heads"

    tenant: str = Field(primary_key=True, max_length=63)
    version: int = 0


class PolicyChange(SQLModel, table=True):
    __tablename__ = "policy_changes"

    tenant: str = Field(primary_key=True, max_length=63)
    version: int = Field(primary_key=True)
    actor: str = Field(max_length=200)
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    reason: str = Field(default="", max_length=2000)
    # rules | roles | import | revert | key-created | key-revoked | tenant-created
    kind: str = Field(max_length=32)
    # [{"op": "add" | "remove", "rule": ["p", ...]}]: replayed in order by every process, and inverted
    # (in reverse) by a revert.
    ops: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
