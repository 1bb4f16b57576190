"""Asset checks written as SQL files, and the parameters every tenant x month query takes.

A check query under `sql/validation/` returns one row: a boolean `passed` and the figures that
explain it, which become the check's metadata.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import dagster as dg

from finops_platform.defs.common.partition_range import BlockingCheckFailed
from finops_platform.lib.cur.schema import TAG_KEY_SEPARATORS, tag_match_key
from finops_platform.lib.engine import EngineSession
from finops_platform.lib.sql import Identifier, SqlValue
from finops_platform.months import last_day
from finops_platform.settings import TenantConfig

UNTAGGED = "(untagged)"


@dataclass(frozen=True)
class SqlCheck:
    name: str
    sql: str
    description: str
    blocking: bool = False
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR

    def spec(
        self, asset: dg.AssetKey, partitions_def: dg.PartitionsDefinition
    ) -> dg.AssetCheckSpec:
        return dg.AssetCheckSpec(
            self.name,
            asset=asset,
            blocking=self.blocking,
            description=self.description,
            partitions_def=partitions_def,
        )

    def evaluate(self, session: EngineSession, params: dict[str, SqlValue]) -> dg.AssetCheckResult:
        (row,) = session.query_file(self.sql, params).to_pylist()
        passed = bool(row.pop("passed"))
        return dg.AssetCheckResult(
            check_name=self.name,
            passed=passed,
            severity=self.severity,
            description=self.description if passed else f"FAILED: {self.description}",
            metadata={name: metadata_value(value) for name, value in row.items()},
        )


def keep_if_blocking_checks_pass(
    checks: Sequence[SqlCheck], results: Sequence[dg.AssetCheckResult]
) -> None:
    """Raise BlockingCheckFailed (inside `replacing_partition`, which then puts the previous
    version back) when a blocking check failed."""
    failed = [
        check.name
        for check, result in zip(checks, results, strict=True)
        if check.blocking and not result.passed
    ]
    if failed:
        raise BlockingCheckFailed(list(results), failed)


def query_metrics(session: EngineSession, sql: str, params: dict[str, SqlValue]) -> dict:
    """A one-row query's figures as asset metadata."""
    (row,) = session.query_file(sql, params).to_pylist()
    return {name: metadata_value(value) for name, value in row.items()}


def metadata_value(value: object) -> object:
    """Query values as Dagster metadata: numbers stay numbers, the rest become text."""
    if isinstance(value, Decimal):
        return float(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value if value is not None else "none"
    return str(value)


def partition_params(tenant: TenantConfig, month: dt.date) -> dict[str, SqlValue]:
    """The parameters of every tenant x month query in `sql/`."""
    return {
        "database": Identifier(tenant.database),
        "org": tenant.org_id,
        "year": month.year,
        "month": month.month,
        "period_start": month,
        "last_day": last_day(month),
        "tag_keys": list(tenant.cost_allocation_tags),
        "tag_match_keys": [tag_match_key(key) for key in tenant.cost_allocation_tags],
        "tag_key_separators": TAG_KEY_SEPARATORS,
        "untagged": UNTAGGED,
    }
