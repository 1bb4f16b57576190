"""A legacy delivery as wide as a real payer's: 10,000 activated tag keys, one flat column each.

Before the maps were built in pieces, this month failed in the full pipeline with DuckDB's
`Out of Memory Error ... (1.8 GiB/1.8 GiB used)` at the engine's 2 GB limit (issue 16 §5).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq

from finops_platform.lake import RAW_TABLE
from finops_platform.resources import build_resources
from finops_platform.sample import generate_month
from finops_platform.settings import load_settings
from finops_platform_tests.conftest import WriteConfig, tenant_entry
from finops_platform_tests.support.generated import with_flat_tags
from finops_platform_tests.support.materialize import load, query

MONTH = dt.date(2026, 9, 1)
ROWS = 20_000
WIDTH = 10_000


def widen(path: Path) -> None:
    """Add WIDTH flat tag columns to the data file at `path`."""
    pq.write_table(with_flat_tags(pq.read_table(path), WIDTH), path)


def test_ten_thousand_tag_columns_load_within_the_memory_limit(
    finops_home: Path, write_config: WriteConfig, tmp_path: Path
) -> None:
    source = tmp_path / "acme"
    write_config([tenant_entry("acme", source, first_billing_month="2026-01")])
    delivery = generate_month(source, month=MONTH, rows=ROWS, fmt="legacy", seed=3, chunk_rows=ROWS)
    for path in delivery.data_files:
        widen(path)

    loaded = load(["acme"], [MONTH])
    report = loaded.report("acme", MONTH)
    assert report.success, report
    assert loaded.ok

    (totals,) = query(
        "acme",
        f"SELECT count(*) AS n, CAST(sum(CAST(line_item_unblended_cost AS DECIMAL(38, 10))) "
        f"AS VARCHAR) AS cost FROM {RAW_TABLE} WHERE year = 2026 AND month = 9",
    )
    assert (totals["n"], Decimal(totals["cost"])) == (delivery.rows, delivery.unblended_total)

    # Every row holds exactly its own tag, under its own key (DuckDB SQL: map entries).
    settings = load_settings()
    database = settings.tenants.get("acme").database
    with build_resources(settings)["engine"].session(database) as session:
        tags, placed = (
            session.query_native(
                "SELECT count(*), count(*) FILTER (WHERE e.key = 'user_k' || "
                f"CAST(CAST(substr(e.value, 2) AS INTEGER) % {WIDTH} AS VARCHAR)) "
                f"FROM (SELECT unnest(map_entries(resource_tags)) AS e FROM {RAW_TABLE}) "
                "WHERE starts_with(e.key, 'user_k')"
            )
            .to_pylist()[0]
            .values()
        )
    assert tags == placed == ROWS
