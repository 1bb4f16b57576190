"""Generated legacy and CUR 2.0 deliveries for two tenants: ingested, checked, reconciled."""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from finops_platform.dashboard.periods import month_params
from finops_platform.defs.common.sql_checks import UNTAGGED
from finops_platform.lib.sql import Identifier, load_sql, render
from finops_platform.sample import GeneratedDelivery, generate_month
from finops_platform.settings import load_settings
from finops_platform_tests.conftest import WriteConfig, tenant_entry
from finops_platform_tests.support.materialize import check_tally, load, query

MONTH = dt.date(2026, 9, 1)
RAW_TOTALS = (
    "SELECT count(*) AS n, CAST(sum(CAST(line_item_unblended_cost AS DECIMAL(38, 10))) AS VARCHAR) "
    "AS cost, count(DISTINCT x_assembly_id) AS deliveries, max(x_assembly_id) AS assembly_id, "
    "max(x_source_format) AS fmt, count(DISTINCT line_item_line_item_type) AS line_item_types, "
    "count(DISTINCT bill_payer_account_id) AS payers "
    "FROM tb_cur_raw WHERE year = 2026 AND month = 9"
)
CROSS_ORG_CURRENCIES = (
    "SELECT DISTINCT org, currency FROM cost_cross_org_monthly WHERE year = 2026 AND month = 9 "
    "ORDER BY org, currency"
)


@pytest.fixture
def sources(tmp_path: Path, finops_home: Path, write_config: WriteConfig) -> dict[str, Path]:
    roots = {"legacy_org": tmp_path / "legacy", "cur2_org": tmp_path / "cur2"}
    write_config(
        [
            tenant_entry("legacy_org", roots["legacy_org"], first_billing_month="2026-01"),
            tenant_entry("cur2_org", roots["cur2_org"], first_billing_month="2026-01"),
        ]
    )
    return roots


def deliver(root: Path, fmt: str, rows: int = 5000, **options: object) -> GeneratedDelivery:
    return generate_month(root, month=MONTH, rows=rows, fmt=fmt, seed=11, **options)


def assert_loaded(org: str, delivery: GeneratedDelivery) -> None:
    (row,) = query(org, RAW_TOTALS)
    assert row["n"] == delivery.rows
    assert Decimal(row["cost"]) == delivery.unblended_total  # exact, to the 1e-10
    assert (row["deliveries"], row["assembly_id"]) == (1, delivery.assembly_id)
    assert row["fmt"] == delivery.fmt
    assert row["line_item_types"] == 15
    assert row["payers"] == 2


def test_both_formats_ingest_and_pass_every_check(sources: dict[str, Path]) -> None:
    legacy = deliver(sources["legacy_org"], "legacy")
    cur2 = deliver(sources["cur2_org"], "cur2")
    loaded = load(months=[MONTH])
    assert loaded.ok, loaded.reports
    assert [check_tally(r) for r in loaded.tenant_reports()] == [(17, 17, [])] * 2
    assert_loaded("legacy_org", legacy)
    assert_loaded("cur2_org", cur2)


def test_legacy_tags_and_product_attributes_become_cur2_maps(sources: dict[str, Path]) -> None:
    deliver(sources["legacy_org"], "legacy")
    assert load(["legacy_org"], [MONTH]).ok
    (row,) = query(
        "legacy_org",
        "SELECT count_if(element_at(resource_tags, 'user_cost_center') IS NOT NULL) AS tagged, "
        "count_if(element_at(resource_tags, 'user_cost_center') = '') AS empty_values, "
        "count_if(element_at(product, 'servicename') IS NOT NULL) AS with_service_name, "
        "count_if(product_region_code IS NOT NULL) AS with_region, "
        "count_if(element_at(cost_category, 'business_unit') IS NOT NULL) AS categorized, "
        "count(*) AS n FROM tb_cur_raw WHERE year = 2026 AND month = 9",
    )
    assert 0 < row["tagged"] < row["n"]  # tags present on most rows, missing on some
    assert row["empty_values"] == 0  # legacy's empty strings mean "no tag"
    assert row["with_service_name"] > 0 and row["with_region"] > 0 and row["categorized"] > 0


def test_a_restatement_replaces_the_month_and_a_sharp_shrink_warns(
    sources: dict[str, Path],
) -> None:
    deliver(sources["cur2_org"], "cur2", rows=6000)
    assert load(["cur2_org"], [MONTH]).ok
    restated = deliver(sources["cur2_org"], "cur2", rows=2000)
    loaded = load(["cur2_org"], [MONTH])
    assert loaded.ok, loaded.reports  # a WARN does not fail the run
    assert check_tally(loaded.report("cur2_org", MONTH))[2][0] == "raw_row_count WARN"
    assert_loaded("cur2_org", restated)


def test_a_partial_delivery_is_refused(sources: dict[str, Path]) -> None:
    delivery = deliver(sources["legacy_org"], "legacy", rows=6000, rows_per_file=2500)
    assert len(delivery.data_files) == 3
    delivery.data_files[1].unlink()
    loaded = load(["legacy_org"], [MONTH])
    assert not loaded.ok
    error = loaded.report("legacy_org", MONTH).error
    assert error is not None and "partial delivery" in error
    assert delivery.data_files[1].name in error


def test_a_month_without_delivery_says_where_it_looked(sources: dict[str, Path]) -> None:
    deliver(sources["legacy_org"], "legacy")
    august = MONTH.replace(month=8)
    loaded = load(["legacy_org"], [august])
    assert not loaded.ok
    error = loaded.report("legacy_org", august).error
    assert error is not None and "tenant 'legacy_org', month 2026-08: no CUR delivery" in error


def test_a_closed_month_that_stops_early_warns_incomplete(sources: dict[str, Path]) -> None:
    deliver(sources["cur2_org"], "cur2", until=dt.datetime(2026, 9, 25))
    loaded = load(["cur2_org"], [MONTH])
    assert loaded.ok, loaded.reports  # WARN: reported, not failing the run
    assert check_tally(loaded.report("cur2_org", MONTH))[2][0] == "month_complete WARN"


def overwrite(
    delivery: GeneratedDelivery, column: str, every: int, value: str | None = None
) -> int:
    """Set `column` to `value` (NULL) on every `every`-th row of the delivery's first file."""
    path = delivery.data_files[0]
    table = pq.read_table(path)
    mask = pa.array([i % every == 0 for i in range(table.num_rows)])
    index = table.schema.get_field_index(column)
    kind = table.field(column).type
    values = pa.array([value] * table.num_rows, kind)
    changed = pc.if_else(mask, values, table[column])
    field = table.field(column).with_nullable(True)
    pq.write_table(table.set_column(index, field, changed), path)
    return sum(mask.to_pylist())


def test_rows_without_a_line_item_type_or_service_still_reconcile(
    sources: dict[str, Path],
) -> None:
    # NULL group keys must meet themselves: in the reconciliation per line item type, and in the
    # summary's current versus previous month per account and service.
    for month in (MONTH.replace(month=8), MONTH):
        delivery = generate_month(
            sources["legacy_org"], month=month, rows=3000, fmt="legacy", seed=11
        )
        assert overwrite(delivery, "line_item_line_item_type", every=97) > 0
        overwrite(delivery, "line_item_product_code", every=13)
    loaded = load(["legacy_org"])  # every month delivered: August and September
    assert loaded.ok, loaded.reports
    tenant_reports = loaded.tenant_reports()
    assert [check_tally(r) for r in tenant_reports] == [(17, 17, [])] * 2, tenant_reports
    rows = query(
        "legacy_org",
        "SELECT account_id, count(*) AS n FROM cost_monthly_summary "
        "WHERE year = 2026 AND month = 9 AND service IS NULL GROUP BY account_id",
    )
    assert rows and all(row["n"] == 1 for row in rows), rows
    (unnamed,) = [row for row in top_services("legacy_org") if row["service"] is None]
    assert unnamed["previous"] is not None  # September's NULL service met August's
    categories = query(
        "legacy_org",
        "SELECT charge_category, CAST(sum(unblended_cost) AS VARCHAR) AS cost FROM cost_daily "
        "WHERE year = 2026 AND month = 9 AND line_item_type IS NULL GROUP BY 1",
    )
    # Without a type, a line item is a credit when it reduces the bill, else usage.
    assert {row["charge_category"] for row in categories} == {"Usage", "Credit"}
    for row in categories:
        assert (Decimal(row["cost"]) < 0) == (row["charge_category"] == "Credit")


def top_services(org: str) -> list[dict]:
    """The dashboard's top services of September: amortized cost and last month's, as text."""
    params = {
        **month_params(MONTH),
        "database": Identifier(load_settings().tenants.get(org).database),
        "relation": Identifier("cost_monthly_summary"),
        "limit": 1000,
    }
    top = render(load_sql("dashboard/top_services.sql"), params)
    return query(
        org,
        "SELECT service, CAST(amortized_cost AS VARCHAR) AS amortized, "
        f"CAST(previous_amortized_cost AS VARCHAR) AS previous FROM ({top})",
    )


def test_a_restated_last_month_moves_this_months_change(sources: dict[str, Path]) -> None:
    august = MONTH.replace(month=8)
    for month in (august, MONTH):
        generate_month(sources["cur2_org"], month=month, rows=3000, fmt="cur2", seed=11)
    assert load(["cur2_org"]).ok
    first = august_total()
    # AWS restates August; only August is run again, as the arrival sensor requests it.
    generate_month(sources["cur2_org"], month=august, rows=3000, fmt="cur2", seed=12)
    assert load(["cur2_org"], [august]).ok
    assert august_total() != first
    previous = sum(Decimal(row["previous"] or 0) for row in top_services("cur2_org"))
    assert previous == august_total()  # September's change follows the restated August


def august_total() -> Decimal:
    (row,) = query(
        "cur2_org",
        "SELECT CAST(sum(amortized_cost) AS VARCHAR) AS cost FROM cost_daily "
        "WHERE year = 2026 AND month = 8",
    )
    return Decimal(row["cost"])


def test_costs_in_two_currencies_stay_apart_and_fail_one_currency(
    sources: dict[str, Path],
) -> None:
    legacy = deliver(sources["legacy_org"], "legacy", rows=3000)
    assert overwrite(legacy, "line_item_currency_code", every=7, value="INR") > 0
    cur2 = deliver(sources["cur2_org"], "cur2", rows=3000)
    overwrite(cur2, "line_item_currency_code", every=1, value="EUR")  # all of it
    loaded = load()  # every active tenant, every month delivered
    assert not loaded.ok  # an ERROR check failed, nothing was blocked
    assert all(r.success for r in loaded.reports), loaded.reports
    passed, run, failed = check_tally(loaded.report("legacy_org", MONTH))
    assert (passed, run) == (16, 17) and failed[0].startswith("one_currency ")
    assert check_tally(loaded.report("cur2_org", MONTH)) == (17, 17, [])  # all in EUR
    assert check_tally(loaded.cross_org(MONTH))[2][0].startswith("one_currency ")
    assert query(None, CROSS_ORG_CURRENCIES) == [
        {"org": "cur2_org", "currency": "EUR"},
        {"org": "legacy_org", "currency": "INR"},
        {"org": "legacy_org", "currency": "USD"},
    ]

    by_currency = (
        "SELECT {currency} AS currency, CAST(sum(CAST({cost} AS DECIMAL(38, 10))) AS VARCHAR) "
        "AS cost FROM {table} WHERE year = 2026 AND month = 9 GROUP BY 1 ORDER BY 1"
    )
    raw = query(
        "legacy_org",
        by_currency.format(
            currency="line_item_currency_code", cost="line_item_unblended_cost", table="tb_cur_raw"
        ),
    )
    daily = query(
        "legacy_org",
        by_currency.format(currency="currency", cost="unblended_cost", table="cost_daily"),
    )
    assert [r["currency"] for r in raw] == ["INR", "USD"]
    assert daily == raw  # each currency's total exactly, never added to another's


def test_a_misspelled_tag_key_warns_by_name(
    tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> None:
    source = tmp_path / "acme"
    tags = ["CostCentre", "team"]  # user_cost_centre is no key in the CUR; user_team is
    write_config([tenant_entry("acme", source, cost_allocation_tags=tags)])
    deliver(source, "cur2", rows=2000)
    loaded = load(months=[MONTH])
    assert loaded.ok, loaded.reports  # a warning, not a failure
    assert check_tally(loaded.report("acme", MONTH)) == (16, 17, ["tag_keys_found WARN"])
    params = {
        "database": Identifier(load_settings().tenants.get("acme").database),
        "org": "acme",
        "year": 2026,
        "month": 9,
        "untagged": UNTAGGED,
    }
    found = render(load_sql("validation/cost_by_tag_keys_found.sql"), params)
    (verdict,) = query("acme", f"SELECT * FROM ({found})")
    assert verdict == {"passed": False, "tag_keys": 2, "keys_tagging_nothing": "CostCentre"}
