"""Curated tables on real and generated CUR: right to the cent, FOCUS-shaped, cross-org totals.

The expected figures are computed here independently, in Python, from the raw line items and the
formulas in docs/ARCHITECTURE.md, not by the SQL under test.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from finops_platform.lib.cur.schema import tag_match_key
from finops_platform_tests.conftest import tenant_entry
from finops_platform_tests.support.cid import amortized, money, net_amortized
from finops_platform_tests.support.generated import generated_lake, query_month
from finops_platform_tests.support.materialize import check_tally, load, query

MONTHS = (dt.date(2026, 8, 1), dt.date(2026, 9, 1))
SUMMARY = "cost_monthly_summary"
# As a user types them: the console's spelling, the CUR's, another case, an AWS tag.
TAGS = ["CostCenter", "user:team", "Environment", "aws:createdBy"]
FOCUS_MANDATORY = {
    "BilledCost": pa.types.is_decimal,
    "BillingAccountId": pa.types.is_string,
    "BillingAccountName": pa.types.is_string,
    "BillingCurrency": pa.types.is_string,
    "BillingPeriodStart": pa.types.is_timestamp,
    "BillingPeriodEnd": pa.types.is_timestamp,
    "ChargeCategory": pa.types.is_string,
    "ChargeClass": pa.types.is_string,
    "ChargeDescription": pa.types.is_string,
    "ChargePeriodStart": pa.types.is_timestamp,
    "ChargePeriodEnd": pa.types.is_timestamp,
    "ContractedCost": pa.types.is_decimal,
    "EffectiveCost": pa.types.is_decimal,
    "InvoiceIssuerName": pa.types.is_string,
    "ListCost": pa.types.is_decimal,
    "PricingQuantity": pa.types.is_decimal,
    "PricingUnit": pa.types.is_string,
    "ProviderName": pa.types.is_string,
    "PublisherName": pa.types.is_string,
    "ServiceCategory": pa.types.is_string,
    "ServiceName": pa.types.is_string,
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Two tenants (legacy, CUR 2.0 with net columns), two months each, fully run."""
    with generated_lake(
        tmp_path_factory.mktemp("curated"), MONTHS, cost_allocation_tags=TAGS
    ) as lake:
        yield lake


def raw_rows(lake: Path, org: str, month: dt.date) -> list[dict]:
    folder = lake / "cur" / f"org={org}" / f"year={month.year}" / f"month={month.month}"
    return pq.read_table(folder).to_pylist()


def curated_by_type(org: str, month: dt.date) -> dict[str, dict]:
    rows = query(
        org,
        "SELECT line_item_type, CAST(sum(unblended_cost) AS VARCHAR) AS unblended, "
        "CAST(sum(amortized_cost) AS VARCHAR) AS amortized, "
        "CAST(sum(net_amortized_cost) AS VARCHAR) AS net_amortized, sum(line_items) AS n "
        f"FROM cost_daily WHERE year = {month.year} AND month = {month.month} GROUP BY 1",
    )
    return {row.pop("line_item_type"): row for row in rows}


@pytest.mark.parametrize("org", ["legacy_org", "cur2_org"])
def test_amortized_and_net_match_an_independent_computation(generated: Path, org: str) -> None:
    month = MONTHS[1]
    expected: dict[str, dict] = defaultdict(lambda: {"amortized": Decimal(0), "net": [], "n": 0})
    for row in raw_rows(generated, org, month):
        totals = expected[row["line_item_line_item_type"]]
        totals["amortized"] += amortized(row)
        totals["net"].append(net_amortized(row))
        totals["n"] += 1
    curated = curated_by_type(org, month)
    assert len(curated) == 15  # every line item type of docs/ARCHITECTURE.md
    for kind, totals in expected.items():
        assert curated[kind]["n"] == totals["n"]
        assert abs(Decimal(curated[kind]["amortized"]) - totals["amortized"]) < Decimal("1e-6"), (
            kind
        )
        if org == "legacy_org":
            assert curated[kind]["net_amortized"] is None  # no net columns in this CUR
        else:
            net = sum(v for v in totals["net"] if v is not None)
            assert abs(Decimal(curated[kind]["net_amortized"]) - net) < Decimal("1e-6"), kind
    unblended = sum(Decimal(c["unblended"]) for c in curated.values())
    amortized_total = sum(Decimal(c["amortized"]) for c in curated.values())
    assert amortized_total != unblended  # the data exercises the formula


def test_focus_cost_has_every_mandatory_column_and_adds_up(generated: Path) -> None:
    month = MONTHS[1]
    # A view: nothing of it in the lake; its columns are the catalog's and the engine's.
    assert not (generated / "curated" / "focus_cost").exists()
    schema = query_month("cur2_org", "focus_cost", month).schema
    for column, is_type in FOCUS_MANDATORY.items():
        assert column in schema.names, column
        assert is_type(schema.field(column).type), (column, schema.field(column).type)
    (focus,) = query(
        "cur2_org",
        "SELECT CAST(sum(BilledCost) AS VARCHAR) AS billed, "
        "CAST(sum(EffectiveCost) AS VARCHAR) AS effective, count(DISTINCT ChargeCategory) AS cats "
        "FROM focus_cost WHERE year = 2026 AND month = 9",
    )
    curated = curated_by_type("cur2_org", month)
    assert Decimal(focus["billed"]) == sum(Decimal(c["unblended"]) for c in curated.values())
    assert Decimal(focus["effective"]) == sum(Decimal(c["amortized"]) for c in curated.values())
    assert focus["cats"] >= 4  # Usage, Purchase, Tax, Credit (and Adjustment)


def contracted(row: dict) -> Decimal:
    """FOCUS ContractedCost of one line item: before commitment discounts."""
    kind = row["line_item_line_item_type"]
    if kind == "DiscountedUsage":
        return money(row["pricing_public_on_demand_cost"])
    if kind == "SavingsPlanNegation":
        return Decimal(0)
    net = row["line_item_net_unblended_cost"]
    return money(net if net is not None else row["line_item_unblended_cost"])


def test_focus_contracted_cost_leaves_commitment_discounts_out(generated: Path) -> None:
    for org in ("legacy_org", "cur2_org"):
        (row,) = query(
            org,
            "SELECT CAST(sum(ContractedCost) AS VARCHAR) AS contracted FROM focus_cost "
            "WHERE year = 2026 AND month = 9",
        )
        raw = raw_rows(generated, org, MONTHS[1])
        kinds = {r["line_item_line_item_type"] for r in raw}
        assert {"DiscountedUsage", "SavingsPlanNegation"} <= kinds  # the data exercises it
        assert Decimal(row["contracted"]) == sum(contracted(r) for r in raw)


def test_cost_by_tag_parts_add_up_per_key_spelled_as_in_the_console_or_the_cur(
    generated: Path,
) -> None:
    rows = query(
        "legacy_org",
        "SELECT tag_key, tag_value, CAST(sum(unblended_cost) AS VARCHAR) AS cost "
        "FROM cost_by_tag WHERE year = 2026 AND month = 9 GROUP BY 1, 2",
    )
    raw = raw_rows(generated, "legacy_org", MONTHS[1])
    total = sum(money(r["line_item_unblended_cost"]) for r in raw)
    for key in TAGS:
        parts = {r["tag_value"]: Decimal(r["cost"]) for r in rows if r["tag_key"] == key}
        assert sum(parts.values()) == total, key
        map_key = {"CostCenter": "user_cost_center", "aws:createdBy": "aws_created_by"}.get(
            key, f"user_{key.lower().removeprefix('user:')}"
        )
        expected_untagged = sum(
            money(r["line_item_unblended_cost"])
            for r in raw
            if not dict(r["resource_tags"]).get(map_key)
        )
        assert parts.get("(untagged)", Decimal(0)) == expected_untagged, key
        assert len(parts) > 1, key  # the key matched: not everything is untagged
    assert [tag_match_key(key) for key in TAGS] == [
        "usercostcenter",
        "userteam",
        "userenvironment",
        "awscreatedby",
    ]


def test_monthly_summary_is_cost_daily_per_account_service_and_currency(generated: Path) -> None:
    totals = (
        "SELECT {account} AS account_id, {service} AS service, currency, "
        "CAST(sum(amortized_cost) AS VARCHAR) AS amortized, "
        "CAST(sum(net_amortized_cost) AS VARCHAR) AS net, sum(line_items) AS line_items "
        "FROM {table} WHERE year = 2026 AND month = 9 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    )
    for org in ("legacy_org", "cur2_org"):
        summary = query(org, totals.format(account="account_id", service="service", table=SUMMARY))
        daily = query(
            org, totals.format(account="account_id", service="product_code", table="cost_daily")
        )
        assert summary and summary == daily


def test_cross_org_totals_equal_the_tenants_curated_totals(generated: Path) -> None:
    cross = query(
        None,
        "SELECT org, CAST(sum(amortized_cost) AS VARCHAR) AS cost FROM cost_cross_org_monthly "
        "WHERE year = 2026 AND month = 9 GROUP BY org",
    )
    assert {row["org"] for row in cross} == {"legacy_org", "cur2_org"}
    for row in cross:
        (tenant,) = query(
            row["org"],
            "SELECT CAST(sum(amortized_cost) AS VARCHAR) AS cost FROM cost_daily "
            "WHERE year = 2026 AND month = 9",
        )
        assert Decimal(row["cost"]) == Decimal(tenant["cost"])


def test_cost_totals_are_numeric_metadata_for_the_ui_to_plot(generated: Path) -> None:
    (row,) = query(
        "cur2_org",
        "SELECT sum(unblended_cost) AS u, sum(amortized_cost) AS a, sum(line_items) AS n "
        "FROM cost_daily WHERE year = 2026 AND month = 9",
    )
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DAGSTER_HOME", str(generated.parents[3] / "dagster"))
        instance = dg.DagsterInstance.get()
        (record,) = instance.fetch_materializations(
            dg.AssetRecordsFilter(
                asset_key=dg.AssetKey("cost_daily"), asset_partitions=["2026-09-01|cur2_org"]
            ),
            limit=1,
        ).records
    metadata = record.asset_materialization.metadata
    assert metadata["unblended_cost"].value == pytest.approx(float(row["u"]))
    assert metadata["amortized_cost"].value == pytest.approx(float(row["a"]))
    assert metadata["line_items"].value == row["n"]


def test_a_tenant_cannot_query_the_central_or_another_tenants_curated_tables(
    generated: Path,
) -> None:
    for sql in (
        "SELECT * FROM custos_central_db.cost_cross_org_monthly",
        "SELECT * FROM custos_cur2_org_db.cost_daily",
        f"SELECT * FROM read_parquet('{generated}/curated/cost_daily/org=cur2_org/*/*/*.parquet')",
    ):
        with pytest.raises(duckdb.Error):
            query("legacy_org", sql)


def test_real_sample_cost_daily_matches_raw_and_the_cid_amortized_total(
    real_sample: Path, finops_home: Path, write_config
) -> None:
    write_config([tenant_entry("real_sample", real_sample, first_billing_month="2018-10")])
    october = dt.date(2018, 10, 1)
    loaded = load(["real_sample"], [october])
    assert loaded.ok, loaded.reports
    # Real cost has real anomalies: a first load warns of them (test_real_sample reruns it).
    assert check_tally(loaded.report("real_sample", october)) == (
        16,
        17,
        ["new_cost_anomalies WARN"],
    )
    (row,) = query(
        "real_sample",
        "SELECT sum(unblended_cost) AS unblended, sum(amortized_cost) AS amortized "
        "FROM cost_daily WHERE year = 2018 AND month = 10",
    )
    assert float(row["unblended"]) == pytest.approx(4064.483132, abs=1e-6)
    assert float(row["amortized"]) == pytest.approx(4195.957109, abs=1e-6)


def test_the_central_database_reads_curated_data_only(generated: Path) -> None:
    raw = generated / "cur" / "org=cur2_org" / "year=2026" / "month=9"
    with pytest.raises(duckdb.Error, match="Permission Error"):
        query(None, f"SELECT count(*) FROM read_parquet('{raw}/*.parquet')")
    tables = query(None, "SELECT table_name FROM information_schema.tables ORDER BY 1")
    assert [t["table_name"] for t in tables] == ["cost_cross_org_monthly", "cost_daily"]
