"""Bad deliveries (issue 7): each either loads correctly or fails with a clear error that names
the tenant and month, and a failed load keeps the previous version of the month readable.
(Truncated files, missing or mistyped columns, rows outside the period and duplicates are in
test_failed_runs.py; partial deliveries in test_generated_deliveries.py.)"""

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from finops_platform.defs.common.keys import RAW_CUR
from finops_platform.sample import GeneratedDelivery, generate_month
from finops_platform_tests.conftest import WriteConfig, tenant_entry
from finops_platform_tests.support.materialize import (
    check_tally,
    failure_descriptions,
    load,
    materialize_asset,
)
from finops_platform_tests.support.materialize import query as query_in

MONTH = dt.date(2026, 9, 1)
ODD_KEYS = ["user_cost center", "user_team.name", "user_ünïcødé", "user_" + "k" * 500]
TOTALS = (
    "SELECT count(*) AS n, CAST(sum(CAST(line_item_unblended_cost AS DECIMAL(38, 10))) AS VARCHAR)"
    " AS cost FROM tb_cur_raw WHERE year = 2026 AND month = 9"
)


def query(sql: str) -> list[dict]:
    return query_in("acme", sql)


@pytest.fixture
def delivery(tmp_path: Path, finops_home: Path, write_config: WriteConfig) -> GeneratedDelivery:
    """A CUR 2.0 month in three chunks, loaded once (the previous good version)."""
    source = tmp_path / "source"
    tags = ["cost center", "team.name", "ünïcødé"]
    write_config([tenant_entry("acme", source, cur_format="cur2", cost_allocation_tags=tags)])
    generated = generate_month(
        source, month=MONTH, rows=3000, fmt="cur2", seed=8, rows_per_file=1000
    )
    loaded = load(["acme"], [MONTH])
    assert loaded.ok, loaded.reports
    return generated


def rewrite(path: Path, change: Callable[[pa.Table], pa.Table]) -> None:
    table = pq.read_table(path)
    pq.write_table(change(table), path)


def set_column(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, values)


def test_empty_chunks_are_valid_and_load_as_zero_rows(delivery: GeneratedDelivery) -> None:
    emptied = delivery.data_files[1]
    lost = pq.read_metadata(emptied).num_rows
    rewrite(emptied, lambda table: table.slice(0, 0))  # OVERWRITE mode leaves such chunks
    loaded = load(["acme"], [MONTH])
    assert loaded.ok, loaded.reports
    (row,) = query(TOTALS)
    assert row["n"] == delivery.rows - lost


def test_a_month_of_only_empty_chunks_fails_and_keeps_the_previous_month(
    delivery: GeneratedDelivery,
) -> None:
    before = query(TOTALS)
    for path in delivery.data_files:
        rewrite(path, lambda table: table.slice(0, 0))
    result = materialize_asset(RAW_CUR, "acme", MONTH)
    assert not result.success
    (error,) = failure_descriptions(result)
    assert "tenant 'acme', month 2026-09" in error
    assert "raw_row_count: the delivery has no rows" in error
    assert query(TOTALS) == before


def test_nan_and_infinite_costs_are_refused(delivery: GeneratedDelivery) -> None:
    before = query(TOTALS)

    def poison(table: pa.Table) -> pa.Table:
        costs = table.column("line_item_unblended_cost").to_pylist()
        costs[0], costs[1] = float("nan"), float("inf")
        return set_column(table, "line_item_unblended_cost", pa.array(costs, pa.float64()))

    rewrite(delivery.data_files[0], poison)
    result = materialize_asset(RAW_CUR, "acme", MONTH)
    assert not result.success
    (error,) = failure_descriptions(result)
    assert "raw_finite_costs: 2 row(s) have a NaN or infinite cost" in error
    assert query(TOTALS) == before


def test_negative_costs_are_legitimate_credits_and_refunds(delivery: GeneratedDelivery) -> None:
    (row,) = query(
        "SELECT count_if(line_item_unblended_cost < 0) AS negative, "
        "count(DISTINCT line_item_line_item_type) FILTER (WHERE line_item_unblended_cost < 0) "
        "AS kinds FROM tb_cur_raw WHERE year = 2026 AND month = 9"
    )
    assert row["negative"] > 0 and row["kinds"] >= 3  # credits, refunds, discounts
    (total,) = query(TOTALS)
    assert Decimal(total["cost"]) == delivery.unblended_total  # nothing dropped or flipped


def test_odd_tag_keys_are_kept_as_delivered_and_matched_case_insensitively(
    delivery: GeneratedDelivery,
) -> None:
    def odd_tags(table: pa.Table) -> pa.Table:
        tags = [
            [(key, f"v{i % 3}") for key in ODD_KEYS] if i % 2 == 0 else []
            for i in range(table.num_rows)
        ]
        tags[0] = [("User_Cost Center", "mixed-case")]
        kind = table.schema.field("resource_tags").type
        return set_column(table, "resource_tags", pa.array(tags, type=kind))

    rewrite(delivery.data_files[0], odd_tags)
    loaded = load(["acme"], [MONTH])
    assert loaded.ok, loaded.reports
    (row,) = query(
        "SELECT count_if(element_at(resource_tags, 'user_ünïcødé') = 'v0') AS unicode, "
        f"count_if(element_at(resource_tags, '{ODD_KEYS[3]}') IS NOT NULL) AS long_key, "
        "count_if(element_at(resource_tags, 'User_Cost Center') = 'mixed-case') AS as_delivered "
        "FROM tb_cur_raw WHERE year = 2026 AND month = 9"
    )
    assert row["unicode"] > 0 and row["long_key"] > 0 and row["as_delivered"] == 1
    shown = query(
        "SELECT tag_key, tag_value FROM cost_by_tag WHERE year = 2026 AND month = 9 GROUP BY 1, 2"
    )
    values = {(r["tag_key"], r["tag_value"]) for r in shown}
    assert ("cost center", "mixed-case") in values  # configured lower case, delivered mixed
    assert ("team.name", "v0") in values and ("ünïcødé", "v1") in values
    # The parts still add up to the total per key.
    assert check_tally(loaded.report("acme", MONTH)) == (17, 17, [])
