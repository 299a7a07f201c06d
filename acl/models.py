"""API keys: stored as a SHA-256 of the secret, bound to one tenant and one user, optionally expiring.

A key says who is calling, not what they may do: that comes from the tenant's policy (``acl.enforcer``).
``roles`` is what keys carried before policies existed; migration 0005 turned it into role assignments
and nothing reads it since.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime
from sqlmodel import Field, SQLModel


class ApiKeyBase(SQLModel):
    tenant: str = Field(index=True, max_length=63)
    user: str = Field(max_length=200)
    roles: str = Field(default="", max_length=1000)  # comma-separated, sorted


class ApiKey(ApiKeyBase, table=True):
    __tablename__ = "api_keys"

    id: str = Field(primary_key=True, max_length=32)
    secret_sha256: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    expires_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
