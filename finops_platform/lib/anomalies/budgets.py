"""Budgets judged against the month's cost so far and its month-end forecast.

A budget warns once its figure reaches its first threshold (e.g. 80 % of the amount) and is
an error past 100 %, whatever its thresholds: over budget is over budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from finops_platform.lib.anomalies.forecast import Forecast
from finops_platform.settings import Budget

# A budget's scope -> the forecast level that holds its figure.
SCOPE_LEVELS = {"tenant": "total", "service": "service", "account": "account", "tag": "tag"}
Verdict = Literal["ok", "warn", "error"]


@dataclass(frozen=True)
class BudgetState:
    budget: Budget
    figure: float  # the cost so far, or the forecast
    pct: float  # of the amount
    threshold: float | None  # the highest threshold reached
    verdict: Verdict
    note: str = ""

    def describe(self, what: str) -> str:
        scope = self.budget.scope + (f" {self.budget.key}" if self.budget.key else "")
        reached = f", past its {self.threshold:g} % threshold" if self.threshold else ""
        return (
            f"budget {self.budget.name} ({scope}): {what} {self.figure:,.2f} "
            f"{self.budget.currency} is {self.pct:.0f} % of {self.budget.amount:,.2f}"
            f"{reached}{self.note}"
        )


def judge_budgets(
    budgets: list[Budget], forecasts: list[Forecast], currency: str, on_forecast: bool
) -> list[BudgetState]:
    """Each budget's state, on the cost so far or (`on_forecast`) on the month-end forecast."""
    states = []
    for budget in budgets:
        level = SCOPE_LEVELS[budget.scope]
        wanted = (budget.key or "").lower()
        rows = [f for f in forecasts if f.level == level and f.key.lower() == wanted]
        figure = sum(f.forecast if on_forecast else f.actual_to_date for f in rows)
        thresholds = budget.forecast_thresholds if on_forecast else budget.actual_thresholds
        pct = 100 * figure / budget.amount
        reached = [t for t in thresholds if pct >= t]
        verdict: Verdict = "error" if pct > 100 else ("warn" if reached else "ok")
        note = ""
        if currency and currency != budget.currency:
            verdict, note = "error", f"; the cost is in {currency}, not the budget's currency"
        states.append(BudgetState(budget, figure, pct, max(reached, default=None), verdict, note))
    return states
