"""The raw layer's checks, computed on one tenant x month of canonical CUR rows.

The raw asset runs them on the staged copy of a delivery, before it replaces the live month, so
a delivery that fails an ERROR check never replaces good data; the same outcomes are then
reported as the asset's checks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from finops_platform.lib.engine.base import EngineSession
from finops_platform.lib.sql import Identifier
from finops_platform.months import next_month

# A restated month that loses more than this share of its rows versus the previous load warns.
SHRINK_WARNING_RATIO = 0.5


@dataclass(frozen=True)
class RawMonthProfile:
    row_count: int
    rows_outside_period: int
    rows_other_billing_period: int
    rows_with_non_finite_cost: int
    min_usage_start: dt.datetime | None
    max_usage_start: dt.datetime | None
    unblended_cost: Decimal
    usage_accounts: int
    payer_accounts: int
    duplicated_keys: int
    extra_rows: int


@dataclass(frozen=True)
class CheckOutcome:
    """One check's verdict; `severity` is what a failure means (ERROR blocks the swap)."""

    name: str
    passed: bool
    severity: str
    description: str
    metadata: dict[str, object] = field(default_factory=dict)


def profile_month(session: EngineSession, relation: str, month: dt.date) -> RawMonthProfile:
    """Run the validation queries of `sql/validation/` over `relation` (one month's rows)."""
    table = Identifier(relation)
    profile = session.query_file(
        "validation/raw_month_profile.sql",
        {"relation": table, "period_start": month, "period_end": next_month(month)},
    ).to_pylist()[0]
    duplicates = session.query_file(
        "validation/raw_duplicate_line_items.sql", {"relation": table}
    ).to_pylist()[0]
    counts = {
        name: int(value or 0)
        for name, value in {**profile, **duplicates}.items()
        if name not in ("min_usage_start", "max_usage_start", "unblended_cost")
    }
    return RawMonthProfile(
        **counts,
        min_usage_start=profile["min_usage_start"],
        max_usage_start=profile["max_usage_start"],
        unblended_cost=profile["unblended_cost"] or Decimal(0),
    )


def evaluate(
    profile: RawMonthProfile, month: dt.date, previous_row_count: int | None
) -> list[CheckOutcome]:
    """The partition validity, row count and uniqueness verdicts for one month."""
    period = f"{month:%Y-%m-%d} to {next_month(month):%Y-%m-%d}"
    outside = profile.rows_outside_period + profile.rows_other_billing_period
    outcomes = [
        CheckOutcome(
            name="raw_partition_validity",
            passed=outside == 0,
            severity="ERROR",
            description=(
                f"every usage date lies in the billing period {period}"
                if outside == 0
                else f"{profile.rows_outside_period} row(s) start outside {period} and "
                f"{profile.rows_other_billing_period} carry another billing period"
            ),
            metadata={
                "rows_outside_period": profile.rows_outside_period,
                "rows_other_billing_period": profile.rows_other_billing_period,
            },
        ),
        _row_count_outcome(profile.row_count, previous_row_count),
        CheckOutcome(
            name="raw_finite_costs",
            passed=profile.rows_with_non_finite_cost == 0,
            severity="ERROR",
            description=(
                "every cost is a finite number"
                if profile.rows_with_non_finite_cost == 0
                else f"{profile.rows_with_non_finite_cost} row(s) have a NaN or infinite cost "
                "(unblended, net, public, reservation or savings plan effective)"
            ),
            metadata={"rows_with_non_finite_cost": profile.rows_with_non_finite_cost},
        ),
        CheckOutcome(
            name="raw_unique_line_items",
            passed=profile.duplicated_keys == 0,
            severity="ERROR",
            description=(
                "(identity_line_item_id, identity_time_interval) is unique"
                if profile.duplicated_keys == 0
                else f"{profile.duplicated_keys} line item key(s) occur more than once "
                f"({profile.extra_rows} extra row(s))"
            ),
            metadata={
                "duplicated_keys": profile.duplicated_keys,
                "extra_rows": profile.extra_rows,
            },
        ),
    ]
    return outcomes


def _row_count_outcome(rows: int, previous: int | None) -> CheckOutcome:
    metadata: dict[str, object] = {"row_count": rows}
    if previous is not None:
        metadata["previous_row_count"] = previous
    if rows == 0:
        return CheckOutcome("raw_row_count", False, "ERROR", "the delivery has no rows", metadata)
    if previous and rows < previous * (1 - SHRINK_WARNING_RATIO):
        return CheckOutcome(
            "raw_row_count",
            False,
            "WARN",
            f"{rows} rows, down from {previous} in the previous load (more than "
            f"{SHRINK_WARNING_RATIO:.0%} fewer): check the restatement",
            metadata,
        )
    return CheckOutcome("raw_row_count", True, "ERROR", f"{rows} rows", metadata)
