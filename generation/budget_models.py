"""The tenant's monthly model budget, in micro-dollars so sums are exact."""

from __future__ import annotations

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel


class TenantBudget(SQLModel, table=True):
    __tablename__ = "tenant_budgets"

    tenant: str = Field(primary_key=True, max_length=63)
    month: str = Field(primary_key=True, max_length=7)  # YYYY-MM, UTC
    limit_micros: int = Field(default=0, sa_type=BigInteger)
    reserved_micros: int = Field(default=0, sa_type=BigInteger)  # held by calls in flight
    spent_micros: int = Field(default=0, sa_type=BigInteger)
