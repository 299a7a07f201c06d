"""Budgets: a completion never passes its limits, and a tenant's month never overspends, even when
two processes race for the last cents on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.db import make_engine, migrate
from core.types import TenantId
from generation.budgets import BudgetExhaustedError, CompletionBudget, TenantBudgets
from generation.workflows import Budgets

T = TenantId("acme")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3000), st.integers(1, 600), st.floats(0, 0.02)), max_size=12))
def test_a_completion_never_passes_any_limit(calls: list[tuple[int, int, float]]) -> None:
    limits = Budgets(max_input_tokens=5000, max_output_tokens=1000, max_calls=4, max_usd=0.03)
    budget = CompletionBudget(limits)
    for prompt, max_out, worst in calls:
        try:
            budget.reserve(input_tokens=prompt, max_output_tokens=max_out, worst_usd=worst)
        except BudgetExhaustedError:
            continue
        # The call used at most what was reserved.
        budget.settle(reserved_usd=worst, input_tokens=prompt, output_tokens=max_out, cost_usd=worst)
    assert budget.calls <= 4 and budget.input_tokens <= 5000 and budget.output_tokens <= 1000
    assert budget.spent_usd <= 0.03 + 1e-9


def test_racing_reservations_never_overspend_the_month(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    budgets = TenantBudgets(engine)
    budgets.set_limit(T, 1.0)
    won: list[int] = []
    lock = threading.Lock()

    def spend() -> None:
        for _ in range(15):
            try:
                reservation = budgets.reserve(T, 0.03)
            except BudgetExhaustedError:
                continue
            budgets.settle(reservation, 0.03)
            with lock:
                won.append(1)

    threads = [threading.Thread(target=spend) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    limit, spent = budgets.status(T)
    assert (limit, len(won)) == (1.0, 33)  # 33 x $0.03 fit in $1, the 34th does not
    assert spent == pytest.approx(0.99)
    engine.dispose()


def test_a_tenant_without_a_budget_cannot_spend(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    with pytest.raises(BudgetExhaustedError, match="budget"):
        TenantBudgets(engine).reserve(TenantId("nobudget"), 0.0001)
    engine.dispose()
