"""AWS Data Exports' FOCUS 1.0 export as a source, through the whole pipeline: every check, the
round trip (a CUR month's focus_cost, written as the FOCUS export, loaded back, gives the same
focus_cost row for row), a restatement, a column only some files have, a corrupt file failing
by name with the previous month kept, detection by `auto`, and the gzip CSV variant."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from finops_platform.defs.common.keys import RAW_CUR
from finops_platform.lib.cur.delivery import find_delivery
from finops_platform.lib.cur.focus_source import FOCUS_1_0_COLUMNS
from finops_platform.lib.store import LocalObjectStore
from finops_platform.sample import GeneratedDelivery, generate_month
from finops_platform.settings import load_settings
from finops_platform_tests.cli.support import finops
from finops_platform_tests.conftest import WriteConfig, tenant_entry
from finops_platform_tests.support.materialize import (
    check_tally,
    failure_descriptions,
    load,
    materialize_asset,
    query,
)
from finops_platform_tests.test_legacy_csv_deliveries import DAILY, MONTH, RAW

TOTALS = (
    "SELECT count(*) AS n, CAST(sum(BilledCost) AS VARCHAR) AS billed, "
    "CAST(sum(EffectiveCost) AS VARCHAR) AS effective, CAST(sum(ListCost) AS VARCHAR) AS list, "
    "CAST(sum(ContractedCost) AS VARCHAR) AS contracted "
    "FROM focus_cost WHERE year = 2026 AND month = 9"
)
# FOCUS 1.0 columns focus_cost (FOCUS 1.2) does not have by that name: x_CostCategories is in
# its Tags (as FOCUS 1.2 puts them), x_ServiceCode is its x_ProductCode, and x_Discounts is
# compared in the raw table instead.
NOT_IN_FOCUS_COST = {"x_CostCategories", "x_Discounts", "x_ServiceCode"}
COMPARED = [c for c in FOCUS_1_0_COLUMNS if c not in NOT_IN_FOCUS_COST] + ["x_ProductCode"]


def deliver(root: Path, rows: int = 4000, **options: object) -> GeneratedDelivery:
    arguments = {"month": MONTH, "rows": rows, "fmt": "focus", "seed": 11} | options
    return generate_month(root, **arguments)  # type: ignore[arg-type]


@pytest.fixture
def source(tmp_path: Path, finops_home: Path, write_config: WriteConfig) -> Path:
    """The `acme` tenant's source path; `auto` finds the FOCUS export in it."""
    write_config([tenant_entry("acme", tmp_path / "acme", first_billing_month="2026-01")])
    return tmp_path / "acme"


def focus_month(org: str) -> list[tuple]:
    """The tenant's focus_cost of the month on the compared columns, Tags as a dict, sorted."""
    columns = ", ".join(f'"{c}"' for c in COMPARED)
    rows = query(org, f"SELECT {columns} FROM focus_cost WHERE year = 2026 AND month = 9")
    tagged = [{**r, "Tags": json.loads(r["Tags"]) if r["Tags"] else None} for r in rows]
    return sorted(
        (tuple(sorted(r.items(), key=lambda kv: kv[0])) for r in tagged),
        key=lambda row: json.dumps(row, default=str, sort_keys=True),
    )


def test_focus_cost_of_a_focus_sourced_month_gives_the_export_back(
    tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> None:
    roots = {"cur": tmp_path / "cur", "acme": tmp_path / "focus"}
    write_config([tenant_entry(org, root) for org, root in roots.items()])
    cur = deliver(roots["cur"], fmt="cur2")  # the month as CUR 2.0: focus_cost A
    export = deliver(roots["acme"])  # the same month as its FOCUS export: focus_cost B
    loaded = load(months=[MONTH])
    assert loaded.ok, loaded.reports
    assert [check_tally(r)[2] for r in loaded.tenant_reports()] == [[], []]
    a, b = focus_month("cur"), focus_month("acme")
    assert len(a) == len(b) == export.rows == pq.read_metadata(export.data_files[0]).num_rows
    mismatched = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    assert not mismatched, mismatched[:3]
    (totals_a,), (totals_b,) = query("cur", TOTALS), query("acme", TOTALS)
    assert totals_a == totals_b
    assert Decimal(totals_b["billed"]) == cur.unblended_total == export.unblended_total
    # The raw rows: BilledCost is the unblended cost and EffectiveCost the CID amortized cost;
    # an unused commitment is a row of its own in the export, so a line item of the FOCUS month.
    (daily_a,), (daily_b,) = query("cur", DAILY), query("acme", DAILY)
    assert (daily_b["unblended"], daily_b["amortized"]) == (
        daily_a["unblended"],
        daily_a["amortized"],
    )
    assert (daily_a["line_items"], daily_b["line_items"]) == (cur.rows, export.rows)
    assert Decimal(totals_b["effective"]) == Decimal(daily_b["amortized"])
    discounts = (
        "SELECT CAST(sum(CAST(element_at(discount, 'total_discount') AS DECIMAL(38, 10))) "
        "AS VARCHAR) AS d FROM tb_cur_raw WHERE year = 2026 AND month = 9"
    )
    assert query("acme", discounts) == query("cur", discounts)


def test_a_focus_month_passes_every_check_with_its_lineage(source: Path) -> None:
    delivery = deliver(source, rows_per_file=1500)
    assert len(delivery.data_files) == 3
    loaded = load(months=[MONTH])
    assert loaded.ok, loaded.reports
    (report,) = loaded.tenant_reports()
    passed, ran, failed = check_tally(report)
    assert (passed, failed) == (ran, [])
    (row,) = query("acme", RAW)
    assert (row["n"], Decimal(row["cost"])) == (delivery.rows, delivery.unblended_total)
    assert (row["fmt"], row["assembly_id"], row["files"]) == ("focus", delivery.assembly_id, 3)
    tags = query(
        "acme",
        "SELECT count_if(element_at(resource_tags, 'user_team') IS NOT NULL) AS team "
        "FROM tb_cur_raw WHERE year = 2026 AND month = 9",
    )
    assert tags[0]["team"] > 0  # `user:team` in the export's Tags, as the other formats key it


def test_auto_tells_a_focus_export_from_a_cur2_one_by_its_manifest(source: Path) -> None:
    store = LocalObjectStore(root=str(source.parent / "unused"))
    tenant = load_settings().tenants.get("acme")
    deliver(source)
    assert find_delivery(store, tenant, MONTH).format == "focus"
    deliver(source, fmt="cur2")  # the same export name, now CUR 2.0
    assert find_delivery(store, tenant, MONTH).format == "cur2"
    deliver(source, fmt="focus-csv")
    assert find_delivery(store, tenant, MONTH).format == "focus-csv"


def test_a_restated_export_replaces_the_month_and_its_focus_cost(source: Path) -> None:
    seen, delivered = [], []
    for options in ({}, {"rows": 3000, "seed": 12}):  # the export, then its restatement
        delivery = deliver(source, **options)
        assert load(months=[MONTH]).ok
        (row,), (totals,) = query("acme", RAW), query("acme", TOTALS)
        seen.append((row["n"], row["assembly_id"], row["deliveries"], Decimal(totals["billed"])))
        delivered.append((delivery.rows, delivery.assembly_id, 1, delivery.unblended_total))
    assert seen == delivered
    assert seen[0] != seen[1]


def test_a_column_only_some_files_have_is_null_in_the_others(source: Path) -> None:
    delivery = deliver(source, rows_per_file=1500)
    first = delivery.data_files[0]
    table = pq.read_table(first)
    pq.write_table(table.drop_columns(["AvailabilityZone"]), first)
    assert load(months=[MONTH]).ok
    by_file = query(
        "acme",
        "SELECT x_source_file AS file, count(*) AS n, "
        "CAST(sum(CAST(line_item_unblended_cost AS DECIMAL(38, 10))) AS VARCHAR) AS cost, "
        "count_if(line_item_availability_zone IS NOT NULL) AS az "
        "FROM tb_cur_raw WHERE year = 2026 AND month = 9 GROUP BY 1 ORDER BY 1",
    )
    assert [r["file"] for r in by_file] == [str(f) for f in delivery.data_files]
    assert sum(r["n"] for r in by_file) == delivery.rows
    assert sum(Decimal(r["cost"]) for r in by_file) == delivery.unblended_total
    assert by_file[0]["az"] == 0 and all(r["az"] > 0 for r in by_file[1:])


def test_a_file_without_a_required_column_fails_by_name(source: Path) -> None:
    delivery = deliver(source, rows_per_file=1500)
    second = delivery.data_files[1]
    pq.write_table(pq.read_table(second).drop_columns(["BilledCost"]), second)
    result = materialize_asset(RAW_CUR, "acme", MONTH)
    assert not result.success
    (error,) = failure_descriptions(result)
    assert error == (
        f"tenant 'acme', month 2026-09: {second}: required FOCUS column 'BilledCost' is missing"
    )


def month_state() -> list[list[dict]]:
    """The tenant's month as raw, cost_daily and focus_cost tell it."""
    return [query("acme", sql) for sql in (RAW, DAILY, TOTALS)]


def test_a_corrupt_file_fails_by_name_and_keeps_the_month(source: Path) -> None:
    deliver(source)
    assert load(months=[MONTH]).ok
    before = month_state()
    damaged = deliver(source, seed=12, rows_per_file=1500).data_files[2]
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])  # half-written
    result = materialize_asset(RAW_CUR, "acme", MONTH)
    (error,) = failure_descriptions(result)
    assert (result.success, error.startswith(f"tenant 'acme', month 2026-09: {damaged}: ")) == (
        False,
        True,
    )
    assert "\n" not in error
    assert month_state() == before


def test_a_focus_csv_export_loads_to_the_totals_of_its_parquet_twin(
    tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> None:
    roots = {"acme": tmp_path / "csv", "twin": tmp_path / "parquet"}
    write_config([tenant_entry(org, root) for org, root in roots.items()])
    delivery = deliver(roots["acme"], fmt="focus-csv", rows_per_file=1500)
    deliver(roots["twin"])
    assert delivery.data_files[0].name == "finops-demo-00001.csv.gz"
    loaded = load(months=[MONTH])
    assert loaded.ok, loaded.reports
    assert [check_tally(r)[2] for r in loaded.tenant_reports()] == [[], []]
    (row,) = query("acme", RAW)
    assert (row["n"], row["fmt"]) == (delivery.rows, "focus-csv")
    assert query("acme", DAILY) == query("twin", DAILY)
    assert query("acme", TOTALS) == query("twin", TOTALS)
    assert focus_month("acme") == focus_month("twin")


def test_a_focus_tenant_refuses_a_cur2_manifest_in_one_line(
    tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> None:
    root = tmp_path / "acme"
    write_config([tenant_entry("acme", root, cur_format="focus")])
    deliver(root, fmt="cur2")
    result = materialize_asset(RAW_CUR, "acme", MONTH)
    assert not result.success
    (error,) = failure_descriptions(result)
    assert error.startswith("tenant 'acme', month 2026-09: manifest ")
    assert "describes a cur2 delivery" in error and "\n" not in error


def test_demo_data_writes_a_focus_export_that_runs_and_is_the_same_for_a_seed(
    tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> None:
    source = tmp_path / "source"
    write_config([tenant_entry("acme", source)])
    demo = ("demo-data", "--months", "1", "--rows-per-month", "600", "--cur-format", "focus")
    written = finops(*demo)
    assert written.exit_code == 0, written.output
    (manifest,) = source.glob("acme-cur/metadata/BILLING_PERIOD=*/acme-cur-Manifest.json")
    (part,) = source.glob("acme-cur/data/BILLING_PERIOD=*/*")
    assert part.name == "acme-cur-00001.snappy.parquet"
    columns = [c["name"] for c in json.loads(manifest.read_bytes())["columns"]]
    assert columns == list(FOCUS_1_0_COLUMNS)
    first = part.read_bytes()
    assert finops(*demo).exit_code == 0
    assert part.read_bytes() == first  # deterministic for a seed
    result = finops("run", "--format", "json")
    assert result.exit_code == 0, result.output
    (row, _) = json.loads(result.stdout)
    assert (row["status"], row["rows"]) == ("ok", pq.read_metadata(part).num_rows)


def test_a_focus_export_without_its_manifest_is_named_as_one(source: Path) -> None:
    delivery = deliver(source)
    delivery.manifest_path.unlink()  # a copy of the data only: `auto` takes it for CUR 2.0
    result = materialize_asset(RAW_CUR, "acme", MONTH)
    (error,) = failure_descriptions(result)
    assert error == (
        f"tenant 'acme', month 2026-09: {delivery.data_files[0]}: a FOCUS export's file read "
        "as CUR (no manifest says it is FOCUS); deliver its manifest or set cur_format focus"
    )
