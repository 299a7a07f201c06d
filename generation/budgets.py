"""Hard budgets: per workflow completion (in memory, one request) and per tenant and month (database).

Before each model call the worst case — the prompt's tokens plus the route's maximum output, at the
route's prices — is reserved; after it, the reservation is settled to what the call really cost. A
reservation that would pass a limit is refused *before* the call, so no request ever overspends.

The tenant's monthly reservation is one conditional UPDATE (``spent + reserved + amount <= limit``),
which both databases apply atomically: two API processes racing for the last cents cannot both win.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, update
from sqlmodel import Session, col

from core.clock import utcnow
from core.db import session_scope
from core.errors import InvalidInputError
from core.types import TenantId
from generation.budget_models import TenantBudget
from generation.workflows import Budgets

# Money is kept in micro-dollars (integers), so sums never drift and compare exactly in SQL.
MICROS = 1_000_000


def to_micros(usd: float) -> int:
    # Rounded up: a reservation is never smaller than the cost it stands for.
    return -(-round(usd * MICROS * 1000) // 1000)


class BudgetExhaustedError(Exception):
    """A limit would be passed; the reason says which, for the answer and the trace."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class CompletionBudget:
    """Everything one workflow completion may spend, across all its calls, retries and tool calls."""

    limits: Budgets
    input_tokens: int = 0
    output_tokens: int = 0
    calls: int = 0
    spent_usd: float = 0.0
    _reserved_usd: float = field(default=0.0, repr=False)

    def reserve(self, *, input_tokens: int, max_output_tokens: int, worst_usd: float) -> None:
        limits = self.limits
        if self.calls + 1 > limits.max_calls:
            raise BudgetExhaustedError(f"max_calls {limits.max_calls} reached")
        if self.input_tokens + input_tokens > limits.max_input_tokens:
            raise BudgetExhaustedError(f"max_input_tokens {limits.max_input_tokens} would be passed")
        if self.output_tokens + max_output_tokens > limits.max_output_tokens:
            raise BudgetExhaustedError(f"max_output_tokens {limits.max_output_tokens} would be passed")
        if self.spent_usd + self._reserved_usd + worst_usd > limits.max_usd + 1e-12:
            raise BudgetExhaustedError(f"max_usd {limits.max_usd} would be passed")
        self.calls += 1
        self._reserved_usd += worst_usd

    def settle(self, *, reserved_usd: float, input_tokens: int, output_tokens: int, cost_usd: float) -> None:
        self._reserved_usd = max(0.0, self._reserved_usd - reserved_usd)
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens
        self.spent_usd += cost_usd


def month_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m")


@dataclass(frozen=True)
class Reservation:
    tenant: TenantId
    month: str
    micros: int


class TenantBudgets:
    """Monthly dollar budgets per tenant. A tenant without a budget row may not spend on models."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def set_limit(self, tenant: TenantId, limit_usd: float, *, month: str | None = None) -> None:
        if limit_usd < 0:
            raise InvalidInputError(f"a monthly budget must be >= 0, got {limit_usd}")
        when = month or month_of(utcnow())
        with session_scope(self._engine) as session:
            row = session.get(TenantBudget, (tenant, when))
            if row is None:
                session.add(TenantBudget(tenant=tenant, month=when, limit_micros=to_micros(limit_usd)))
            else:
                row.limit_micros = to_micros(limit_usd)
                session.add(row)

    def reserve(self, tenant: TenantId, worst_usd: float) -> Reservation:
        month = month_of(utcnow())
        amount = to_micros(worst_usd)
        with session_scope(self._engine) as session:
            won = session.execute(
                update(TenantBudget)
                .where(
                    col(TenantBudget.tenant) == tenant,
                    col(TenantBudget.month) == month,
                    col(TenantBudget.spent_micros) + col(TenantBudget.reserved_micros) + amount
                    <= col(TenantBudget.limit_micros),
                )
                .values(reserved_micros=col(TenantBudget.reserved_micros) + amount)
                .returning(col(TenantBudget.tenant))
            ).scalar_one_or_none()
        if won is None:
            raise BudgetExhaustedError(f"the tenant's budget for {month} would be passed")
        return Reservation(tenant, month, amount)

    def settle(self, reservation: Reservation, cost_usd: float) -> None:
        """Release the reservation and book what the call cost (never more than was reserved)."""
        cost = min(reservation.micros, to_micros(cost_usd))
        with session_scope(self._engine) as session:
            session.execute(
                update(TenantBudget)
                .where(
                    col(TenantBudget.tenant) == reservation.tenant,
                    col(TenantBudget.month) == reservation.month,
                )
                .values(
                    reserved_micros=col(TenantBudget.reserved_micros) - reservation.micros,
                    spent_micros=col(TenantBudget.spent_micros) + cost,
                )
            )

    def status(self, tenant: TenantId) -> tuple[float, float]:
        """(limit, spent) in dollars for the current month; (0, 0) without a budget."""
        with Session(self._engine) as session:
            row = session.get(TenantBudget, (tenant, month_of(utcnow())))
        if row is None:
            return 0.0, 0.0
        return row.limit_micros / MICROS, row.spent_micros / MICROS
