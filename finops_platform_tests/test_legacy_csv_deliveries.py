"""Generated legacy CSV reports (gzip and ZIP) through the whole pipeline: every check, a
restatement as a new report version, a column that only some files have, and a corrupt gzip
member or ZIP part."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from finops_platform.defs.common.keys import RAW_CUR
from finops_platform.sample import GeneratedDelivery, generate_month
from finops_platform_tests.conftest import WriteConfig, tenant_entry
from finops_platform_tests.support.materialize import (
    check_tally,
    failure_descriptions,
    load,
    materialize_asset,
    query,
)

MONTH = dt.date(2026, 9, 1)
RAW = (
    "SELECT count(*) AS n, CAST(sum(CAST(line_item_unblended_cost AS DECIMAL(38, 10))) AS VARCHAR) "
    "AS cost, count(DISTINCT x_assembly_id) AS deliveries, max(x_assembly_id) AS assembly_id, "
    "max(x_source_format) AS fmt, count(DISTINCT line_item_line_item_type) AS line_item_types, "
    "count(DISTINCT bill_payer_account_id) AS payers, count(DISTINCT x_source_file) AS files, "
    "count_if(reservation_effective_cost IS NULL) AS without_ri_cost "
    "FROM tb_cur_raw WHERE year = 2026 AND month = 9"
)
DAILY = (
    "SELECT CAST(sum(amortized_cost) AS VARCHAR) AS amortized, "
    "CAST(sum(unblended_cost) AS VARCHAR) AS unblended, sum(line_items) AS line_items "
    "FROM cost_daily WHERE year = 2026 AND month = 9"
)
TAGS_BY_FILE = (
    "SELECT x_source_file AS file, count(*) AS n, "
    "count_if(element_at(resource_tags, 'user_team') IS NOT NULL) AS team, "
    "count_if(element_at(resource_tags, 'user_project') IS NOT NULL) AS project "
    "FROM tb_cur_raw WHERE year = 2026 AND month = 9 GROUP BY 1 ORDER BY 1"
)


@pytest.fixture
def source(tmp_path: Path, finops_home: Path, write_config: WriteConfig) -> Path:
    """The `acme` tenant's source path; `auto` finds the CSV report in it."""
    root = tmp_path / "acme"
    write_config([tenant_entry("acme", root, first_billing_month="2026-01")])
    return root


def deliver(root: Path, rows: int = 4000, **options: object) -> GeneratedDelivery:
    arguments = {"month": MONTH, "rows": rows, "fmt": "legacy-csv", "seed": 11} | options
    return generate_month(root, **arguments)  # type: ignore[arg-type]


def raw_totals() -> dict:
    (row,) = query("acme", RAW)
    return row


def test_a_csv_month_passes_every_check_with_the_totals_of_its_parquet_twin(
    tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> None:
    roots = {"acme": tmp_path / "csv", "twin": tmp_path / "parquet"}
    write_config([tenant_entry(org, root) for org, root in roots.items()])
    delivery = deliver(roots["acme"], rows_per_file=1500)
    deliver(roots["twin"], fmt="legacy")  # the same rows, as Parquet
    loaded = load(months=[MONTH])
    assert loaded.ok, loaded.reports
    assert [check_tally(r) for r in loaded.tenant_reports()] == [(17, 17, [])] * 2
    row = raw_totals()
    assert (row["n"], Decimal(row["cost"])) == (delivery.rows, delivery.unblended_total)
    assert (row["fmt"], row["assembly_id"], row["deliveries"]) == (
        "legacy-csv",
        delivery.assembly_id,
        1,
    )
    assert (row["line_item_types"], row["payers"], row["files"]) == (15, 2, 3)
    assert row["without_ri_cost"] > 0  # an empty number in CSV is NULL, not 0
    assert query("acme", DAILY) == query("twin", DAILY)  # exact decimal sums


def test_a_new_report_version_replaces_the_month(source: Path) -> None:
    first = deliver(source)
    assert load(months=[MONTH]).ok
    restated = deliver(source, rows=3000, seed=12)
    # AWS keeps the older version's folder; only the manifest says which one is current.
    assert first.data_files[0].exists() and first.assembly_id != restated.assembly_id
    loaded = load(months=[MONTH])
    assert loaded.ok, loaded.reports
    row = raw_totals()
    assert (row["n"], Decimal(row["cost"])) == (restated.rows, restated.unblended_total)
    assert (row["assembly_id"], row["deliveries"]) == (restated.assembly_id, 1)


def rewrite_csv(path: Path, change: callable) -> None:
    """Rewrite a gzip CSV part with `change(header, rows) -> (header, rows)`."""
    with gzip.open(path, "rt", newline="") as text:
        header, *rows = list(csv.reader(text))
    header, rows = change(header, rows)
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    path.write_bytes(gzip.compress(out.getvalue().encode()))


def test_a_column_only_some_files_have_keeps_each_files_tags(source: Path) -> None:
    delivery = deliver(source, rows_per_file=1500)
    team = "resourceTags/user:team"

    def to_project(header: list[str], rows: list[list[str]]) -> tuple:
        return [("resourceTags/user:project" if h == team else h) for h in header], rows

    rewrite_csv(delivery.data_files[-1], to_project)
    manifest = json.loads(delivery.manifest_path.read_bytes())
    manifest["columns"].append(
        {"category": "resourceTags", "name": "user:project", "type": "OptionalString"}
    )
    delivery.manifest_path.write_text(json.dumps(manifest))
    loaded = load(months=[MONTH])
    assert loaded.ok, loaded.reports
    row = raw_totals()
    assert (row["n"], Decimal(row["cost"])) == (delivery.rows, delivery.unblended_total)
    first, second, drifted = query("acme", TAGS_BY_FILE)
    assert drifted["file"].endswith("-3.csv.gz")
    assert first["team"] > 0 and second["team"] > 0 and first["project"] == 0
    assert drifted["team"] == 0 and drifted["project"] > 0


def test_a_corrupt_gzip_member_fails_by_file_name_and_keeps_the_month(source: Path) -> None:
    deliver(source)
    assert load(months=[MONTH]).ok
    before = raw_totals(), query("acme", DAILY)
    restated = deliver(source, seed=12, rows_per_file=1500)
    damaged = restated.data_files[1]
    data = bytearray(gzip.compress(gzip.decompress(damaged.read_bytes()), 0))
    data[len(data) // 2] ^= 0x01  # one bit of one value, in an uncompressed block
    damaged.write_bytes(bytes(data))
    result = materialize_asset(RAW_CUR, "acme", MONTH)
    assert not result.success
    (error,) = failure_descriptions(result)
    assert error.startswith(f"tenant 'acme', month 2026-09: {damaged}: corrupt gzip data: ")
    assert "\n" not in error
    assert (raw_totals(), query("acme", DAILY)) == before


def test_a_value_its_manifest_type_cannot_hold_fails_by_file_name(source: Path) -> None:
    delivery = deliver(source, rows_per_file=1500)
    cost = "lineItem/UnblendedCost"

    def spoil(header: list[str], rows: list[list[str]]) -> tuple:
        rows[700][header.index(cost)] = "12,5 USD"
        return header, rows

    rewrite_csv(delivery.data_files[1], spoil)
    result = materialize_asset(RAW_CUR, "acme", MONTH)
    assert not result.success
    (error,) = failure_descriptions(result)
    assert error.startswith(
        f"tenant 'acme', month 2026-09: {delivery.data_files[1]}: cannot read the file: "
    )
    assert "\n" not in error


def test_a_zip_report_loads_to_the_totals_of_its_gzip_twin(
    tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> None:
    roots = {"acme": tmp_path / "zip", "twin": tmp_path / "gzip"}
    write_config([tenant_entry(org, root) for org, root in roots.items()])
    delivery = deliver(roots["acme"], rows_per_file=1500, csv_compression="ZIP")
    deliver(roots["twin"], rows_per_file=1500)  # the same rows, gzip
    assert [p.suffix for p in delivery.data_files] == [".zip"] * 3
    loaded = load(months=[MONTH])
    assert loaded.ok, loaded.reports
    assert [check_tally(r) for r in loaded.tenant_reports()] == [(17, 17, [])] * 2
    row = raw_totals()
    assert (row["n"], Decimal(row["cost"]), row["files"]) == (
        delivery.rows,
        delivery.unblended_total,
        3,
    )
    (file,) = query("acme", "SELECT min(x_source_file) AS f FROM tb_cur_raw")
    assert file["f"] == str(delivery.data_files[0])  # lineage names the ZIP part, not a copy
    assert query("acme", DAILY) == query("twin", DAILY)


def test_a_corrupt_zip_part_fails_by_file_name_and_keeps_the_month(source: Path) -> None:
    deliver(source, csv_compression="ZIP")
    assert load(months=[MONTH]).ok
    before = raw_totals(), query("acme", DAILY)
    restated = deliver(source, seed=12, rows_per_file=1500, csv_compression="ZIP")
    damaged = restated.data_files[1]
    member = damaged.name.removesuffix(".zip")
    with zipfile.ZipFile(damaged) as archive:
        text = archive.read(member)
    with zipfile.ZipFile(damaged, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(member, text)
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit of one value; the member's CRC no longer matches
    damaged.write_bytes(bytes(data))
    result = materialize_asset(RAW_CUR, "acme", MONTH)
    assert not result.success
    (error,) = failure_descriptions(result)
    assert error.startswith(f"tenant 'acme', month 2026-09: {damaged}: corrupt ZIP data: ")
    assert "\n" not in error
    assert (raw_totals(), query("acme", DAILY)) == before
