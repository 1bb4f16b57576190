"""Generated CUR months for tenants of both formats, loaded the way `finops run` loads them.

Module-scoped fixtures of several test files share this, so each states only which tenants and
months it needs; the environment (FINOPS_HOME, DAGSTER_HOME, CONFIG_PATH) points at the load
for as long as the context is open.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pytest

from finops_platform.lib.cur.schema import PARTITION_COLUMNS
from finops_platform.resources import build_resources
from finops_platform.sample import generate_month
from finops_platform.settings import load_settings
from finops_platform_tests.conftest import tenant_entry
from finops_platform_tests.support.materialize import check_tally, load

# Tenant -> the CUR format its deliveries come in: legacy, and CUR 2.0 with net columns.
BOTH_FORMATS = {"legacy_org": "legacy", "cur2_org": "cur2"}


def generated_entries(
    root: Path,
    months: Sequence[dt.date],
    *,
    tenants: dict[str, str] = BOTH_FORMATS,
    rows: int = 4000,
    **entry: object,
) -> list[dict]:
    """Generate `months` for each tenant under `root/<org>`; their tenants config entries."""
    entries = []
    for org, fmt in tenants.items():
        for month in months:
            generate_month(root / org, month=month, rows=rows, fmt=fmt, seed=5)
        entries.append(tenant_entry(org, root / org, first_billing_month="2026-01", **entry))
    return entries


@contextmanager
def loaded_lake(
    root: Path, entries: list[dict], months: Sequence[dt.date] = (), warnings: Sequence[str] = ()
) -> Iterator[Path]:
    """Load the tenants of `entries` (`months`, default every month delivered) into a home
    under `root`; yields the lake's `custos` folder. Fails unless every partition loads with
    every check passing, but for the named `warnings` (`"<check> WARN"`) the data may raise."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("FINOPS_HOME", str(root / "home"))
        env.setenv("DAGSTER_HOME", str(root / "dagster"))
        env.setenv("ENVIRONMENT", "dev")
        (root / "dagster").mkdir()
        config = root / "tenants.json"
        config.write_text(json.dumps(entries))
        env.setenv("CONFIG_PATH", str(config))
        loaded = load(months=list(months))
        assert loaded.ok, loaded.reports
        failed = [check_tally(r)[2] for r in loaded.reports]
        assert [set(f) - set(warnings) for f in failed] == [set()] * len(failed), failed
        if months:  # a partition per tenant and month, and the cross-org totals per month
            assert len(loaded.reports) == (len(entries) + 1) * len(months), loaded.reports
        yield root / "home" / "buckets" / "finops-lake" / "custos"


@contextmanager
def generated_lake(root: Path, months: Sequence[dt.date], **options: object) -> Iterator[Path]:
    """`generated_entries` loaded: the generated `months` of every tenant."""
    with loaded_lake(root, generated_entries(root, months, **options), months) as lake:
        yield lake


def query_month(org: str, table: str, month: dt.date) -> pa.Table:
    """One month of a tenant's catalog table or view as its readers see it (through the
    engine of the environment the open `loaded_lake` set), without the partition columns."""
    settings = load_settings()
    database = settings.tenants.get(org).database
    sql = f'SELECT * FROM "{table}" WHERE year = {month.year} AND month = {month.month}'
    with build_resources(settings)["engine"].session(database) as session:
        return session.query(sql).drop_columns(list(PARTITION_COLUMNS))


def with_flat_tags(table: pa.Table, width: int) -> pa.Table:
    """`table` and `width` flat legacy tag columns (`resource_tags_user_k<key>`), as a payer
    with that many activated tag keys delivers them; row r carries one tag,
    `user_k<r % width>` = `v<r>`."""
    columns = []
    for key in range(width):
        values: list[str | None] = [None] * table.num_rows
        for row in range(key, table.num_rows, width):
            values[row] = f"v{row}"
        columns.append(pa.array(values, pa.string()))
    names = [f"resource_tags_user_k{key}" for key in range(width)]
    return pa.Table.from_arrays([*table.columns, *columns], [*table.column_names, *names])
