"""The real October 2018 month written out as AWS writes a legacy gzip CSV report (headers such as
`lineItem/UnblendedCost`, an AWS-shaped manifest with typed columns, parts in an assembly
folder), and as a CUR 2.0 gzip CSV export (maps as JSON text), loads through the real pipeline
to exactly what its Parquet loads to."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from finops_platform.lake import raw_month
from finops_platform.lib.cur.schema import CUR2_COLUMNS
from finops_platform.resources import build_resources
from finops_platform.settings import load_settings
from finops_platform_tests.conftest import WriteConfig, tenant_entry
from finops_platform_tests.support.materialize import check_tally, load, query
from finops_platform_tests.support.real_csv import (
    ASSEMBLY,
    OCTOBER,
    REPORT,
    write_real_csv_report,
    write_report,
)

TAGS = ["CostCenter", "Department", "Environment", "Name", "Workload", "aws:createdBy"]
TOTALS = (
    "SELECT count(*) AS n, "
    "CAST(sum(CAST(line_item_unblended_cost AS DECIMAL(38, 10))) AS VARCHAR) AS unblended, "
    "max(x_source_format) AS fmt FROM tb_cur_raw WHERE year = 2018 AND month = 10"
)
AMORTIZED = (
    "SELECT CAST(sum(amortized_cost) AS VARCHAR) AS amortized, "
    "CAST(sum(unblended_cost) AS VARCHAR) AS unblended FROM cost_daily "
    "WHERE year = 2018 AND month = 10"
)
TAG_PARTS = (
    "SELECT tag_key, tag_value, CAST(sum(unblended_cost) AS VARCHAR) AS unblended, "
    "CAST(sum(amortized_cost) AS VARCHAR) AS amortized, sum(line_items) AS line_items "
    "FROM cost_by_tag WHERE year = 2018 AND month = 10 GROUP BY tag_key, tag_value "
    "ORDER BY tag_key, tag_value"
)


@pytest.fixture
def real_sample_csv(real_sample: Path, tmp_path: Path) -> Path:
    """The real month as a gzip CSV report in three parts, built from its Parquet. Returns the
    report's source root."""
    return write_real_csv_report(real_sample, tmp_path / "csv_report")


def raw_rows(org: str) -> str:
    """The tenant's published raw month without lineage, as a DuckDB relation."""
    settings = load_settings()
    store = build_resources(settings)["store"]
    folder = store.local_path(raw_month(settings.environment.lake_root, org, OCTOBER))
    return (
        f"(SELECT * EXCLUDE (x_source_file, x_source_format, x_assembly_id, x_ingestion_time) "
        f"FROM read_parquet('{folder}/*.parquet', hive_partitioning = false))"
    )


def rows_only_in_each(first: str, second: str) -> tuple[int, int]:
    """How many rows of each of two queries the other lacks (duplicates counted)."""
    return (
        duckdb.connect()
        .execute(
            f"SELECT (SELECT count(*) FROM ({first} EXCEPT ALL {second})), "
            f"(SELECT count(*) FROM ({second} EXCEPT ALL {first}))"
        )
        .fetchone()
    )


def test_the_csv_report_is_laid_out_and_described_as_aws_writes_it(
    real_sample_csv: Path,
) -> None:
    month_dir = real_sample_csv / REPORT / "20181001-20181101"
    manifest = json.loads((month_dir / f"{REPORT}-Manifest.json").read_bytes())
    assert (manifest["contentType"], manifest["compression"]) == ("text/csv", "GZIP")
    assert manifest["reportKeys"] == [
        f"{REPORT}/20181001-20181101/{ASSEMBLY}/{REPORT}-{part}.csv.gz" for part in (1, 2, 3)
    ]
    columns = {f"{c['category']}/{c['name']}": c["type"] for c in manifest["columns"]}
    assert len(columns) == 124
    assert columns["lineItem/UnblendedCost"] == "OptionalBigDecimal"
    assert columns["lineItem/UsageStartDate"] == "DateTime"
    assert columns["identity/TimeInterval"] == "Interval"
    assert columns["resourceTags/user:cost_center"] == "OptionalString"
    with gzip.open(month_dir / ASSEMBLY / f"{REPORT}-1.csv.gz", "rt") as part:
        header = part.readline()
    assert header.startswith('"identity/LineItemId","identity/TimeInterval","bill/InvoiceId"')


def test_the_real_month_as_gzip_csv_loads_to_the_parquet_totals(
    real_sample: Path, real_sample_csv: Path, finops_home: Path, write_config: WriteConfig
) -> None:
    write_config(
        [
            tenant_entry(
                "real_parquet",
                real_sample,
                cur_format="legacy",
                first_billing_month="2018-10",
                cost_allocation_tags=TAGS,
            ),
            # `auto`: the format is read from the delivery
            tenant_entry(
                "real_csv",
                real_sample_csv,
                first_billing_month="2018-10",
                cost_allocation_tags=TAGS,
            ),
        ]
    )
    loaded = load(months=[OCTOBER])
    assert loaded.ok, loaded.reports
    # Real cost has real anomalies: the first load warns of them, the same in both formats.
    warned = (16, 17, ["new_cost_anomalies WARN"])
    assert [check_tally(r) for r in loaded.tenant_reports()] == [warned] * 2
    anomalies = (
        "SELECT usage_date, level, key, round(impact, 4) AS i FROM cost_anomalies ORDER BY 1, 2, 3"
    )
    assert query("real_parquet", anomalies) == query("real_csv", anomalies)

    parquet, csv = ({**query(org, TOTALS)[0], **query(org, AMORTIZED)[0]} for org in ORGS)
    assert (parquet.pop("fmt"), csv.pop("fmt")) == ("legacy", "legacy-csv")
    assert csv == parquet  # exact decimal sums
    assert csv["n"] == 119_307
    assert Decimal(csv["unblended"]).quantize(Decimal("1e-6")) == Decimal("4064.483132")
    assert Decimal(csv["amortized"]).quantize(Decimal("1e-6")) == Decimal("4195.957109")

    parts = [query(org, TAG_PARTS) for org in ORGS]
    assert parts[1] == parts[0]
    assert {row["tag_key"] for row in parts[0]} == set(TAGS)
    assert len(parts[0]) > 2 * len(TAGS)  # values, not only "(untagged)"

    # Not only the totals: every row of the month is the same, but for its lineage.
    assert rows_only_in_each(*(raw_rows(org) for org in ORGS)) == (0, 0)


ORGS = ("real_parquet", "real_csv")


def cur2_csv_export(parquet_org: str, root: Path) -> None:
    """The tenant's published (canonical, CUR 2.0) raw month written as AWS Data Exports write
    a CUR 2.0 gzip CSV export: column names as header, maps as JSON text, the manifest last."""
    canonical = duckdb.connect().sql(f"SELECT * FROM {raw_rows(parquet_org)}").to_arrow_table()
    table = canonical.select(list(CUR2_COLUMNS))
    write_report(root, "cur2-csv", table.schema, [table], 50_000)


def test_the_real_month_as_a_cur2_csv_export_loads_to_the_parquet_totals(
    real_sample: Path, tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> None:
    export = tmp_path / "cur2_csv_export"
    tenants = {"real_parquet": real_sample, "real_cur2_csv": export}
    write_config(
        [
            tenant_entry(org, root, first_billing_month="2018-10", cost_allocation_tags=TAGS)
            for org, root in tenants.items()
        ]
    )
    assert load(["real_parquet"], months=[OCTOBER]).ok
    cur2_csv_export("real_parquet", export)
    loaded = load(["real_cur2_csv"], months=[OCTOBER])
    assert loaded.ok, loaded.reports
    # Real cost has real anomalies: the first load warns of them, as in the other formats.
    assert [check_tally(r) for r in loaded.tenant_reports()] == [
        (16, 17, ["new_cost_anomalies WARN"])
    ]

    parquet, csv = ({**query(org, TOTALS)[0], **query(org, AMORTIZED)[0]} for org in tenants)
    assert (parquet.pop("fmt"), csv.pop("fmt")) == ("legacy", "cur2-csv")
    assert csv == parquet  # exact decimal sums
    assert (csv["n"], Decimal(csv["unblended"]).quantize(Decimal("1e-6"))) == (
        119_307,
        Decimal("4064.483132"),
    )
    parts = [query(org, TAG_PARTS) for org in tenants]
    assert parts[1] == parts[0]
    # Row for row, the maps too (a NULL string of the Parquet is '' in CSV, so those are not
    # compared).
    key = (
        "identity_line_item_id, identity_time_interval, line_item_unblended_cost, "
        "line_item_usage_start_date, resource_tags, product, cost_category, discount"
    )
    rows = [f"(SELECT {key} FROM {raw_rows(org)})" for org in tenants]
    assert rows_only_in_each(*rows) == (0, 0)
