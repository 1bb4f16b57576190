"""Generated CUR 2.0 gzip CSV exports through the whole pipeline: every check with the totals
and maps of the Parquet export of the same rows, a restatement, a column only some files have,
a corrupt gzip member and a map that is not JSON, each failing by file name."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from pathlib import Path

import pytest

from finops_platform.defs.common.keys import RAW_CUR
from finops_platform.sample import GeneratedDelivery
from finops_platform_tests.conftest import WriteConfig, tenant_entry
from finops_platform_tests.support.materialize import (
    check_tally,
    failure_descriptions,
    load,
    materialize_asset,
    query,
)
from finops_platform_tests.test_legacy_csv_deliveries import DAILY, MONTH, RAW, rewrite_csv
from finops_platform_tests.test_legacy_csv_deliveries import deliver as deliver_month

MAPS = (
    "SELECT sum(cardinality(map_keys(resource_tags))) AS tags, "
    "sum(cardinality(map_keys(product))) AS product, "
    "sum(cardinality(map_keys(cost_category))) AS categories, "
    "CAST(sum(CAST(element_at(discount, 'total_discount') AS DECIMAL(38, 10))) AS VARCHAR) "
    "AS discount, count_if(element_at(resource_tags, 'user_team') IS NOT NULL) AS team "
    "FROM tb_cur_raw WHERE year = 2026 AND month = 9"
)


@pytest.fixture
def source(tmp_path: Path, finops_home: Path, write_config: WriteConfig) -> Path:
    """The `acme` tenant's source path; `auto` finds the export in it."""
    write_config([tenant_entry("acme", tmp_path / "acme", first_billing_month="2026-01")])
    return tmp_path / "acme"


def deliver(root: Path, **options: object) -> GeneratedDelivery:
    """The legacy tests' month, as a CUR 2.0 CSV export unless `fmt` says otherwise."""
    return deliver_month(root, **({"fmt": "cur2-csv"} | options))


def test_a_cur2_csv_month_passes_every_check_with_the_totals_and_maps_of_its_parquet_twin(
    tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> None:
    roots = {"acme": tmp_path / "csv", "twin": tmp_path / "parquet"}
    write_config([tenant_entry(org, root) for org, root in roots.items()])
    delivery = deliver(roots["acme"], rows_per_file=1500)
    deliver(roots["twin"], fmt="cur2")  # the same rows, as Parquet
    assert [p.name for p in delivery.data_files] == [
        f"finops-demo-0000{n}.csv.gz" for n in (1, 2, 3)
    ]
    manifest = json.loads(delivery.manifest_path.read_bytes())
    assert {c["name"]: c["type"] for c in manifest["columns"]}["resource_tags"] == (
        "map<string,string>"
    )
    assert manifest["dataFiles"][0].startswith("s3://")
    loaded = load(months=[MONTH])
    assert loaded.ok, loaded.reports
    assert [check_tally(r) for r in loaded.tenant_reports()] == [(17, 17, [])] * 2
    (row,) = query("acme", RAW)
    assert (row["n"], Decimal(row["cost"])) == (delivery.rows, delivery.unblended_total)
    assert (row["fmt"], row["assembly_id"], row["files"]) == ("cur2-csv", delivery.assembly_id, 3)
    assert row["without_ri_cost"] > 0  # an empty number in CSV is NULL, not 0
    assert query("acme", DAILY) == query("twin", DAILY)  # exact decimal sums
    (maps,) = query("acme", MAPS)
    assert maps == query("twin", MAPS)[0]
    assert maps["tags"] > 0 and maps["team"] > 0 and Decimal(maps["discount"]) < 0


def test_a_restated_export_replaces_the_month(source: Path) -> None:
    deliver(source)
    assert load(months=[MONTH]).ok
    restated = deliver(source, rows=3000, seed=12)
    loaded = load(months=[MONTH])
    assert loaded.ok, loaded.reports
    (row,) = query("acme", RAW)
    assert (row["n"], Decimal(row["cost"])) == (restated.rows, restated.unblended_total)
    assert (row["assembly_id"], row["deliveries"]) == (restated.assembly_id, 1)


def test_a_column_only_some_files_have_is_null_in_the_others(source: Path) -> None:
    delivery = deliver(source, rows_per_file=1500)
    dropped = "line_item_legal_entity"

    def drop(header: list[str], rows: list[list[str]]) -> tuple:
        at = header.index(dropped)
        return header[:at] + header[at + 1 :], [r[:at] + r[at + 1 :] for r in rows]

    rewrite_csv(delivery.data_files[0], drop)
    loaded = load(months=[MONTH])
    assert loaded.ok, loaded.reports
    (row,) = query("acme", RAW)
    assert (row["n"], Decimal(row["cost"])) == (delivery.rows, delivery.unblended_total)
    by_file = query(
        "acme",
        f"SELECT x_source_file AS file, count_if({dropped} IS NULL) AS missing, count(*) AS n "
        "FROM tb_cur_raw GROUP BY 1 ORDER BY 1",
    )
    assert [(r["missing"] == r["n"], r["missing"]) for r in by_file][1:] == [(False, 0)] * 2
    assert by_file[0]["missing"] == by_file[0]["n"] == 1500


def test_a_corrupt_gzip_member_fails_by_file_name_and_keeps_the_month(source: Path) -> None:
    deliver(source)
    assert load(months=[MONTH]).ok
    before = query("acme", RAW), query("acme", DAILY)
    restated = deliver(source, seed=12, rows_per_file=1500)
    damaged = restated.data_files[2]
    data = bytearray(gzip.compress(gzip.decompress(damaged.read_bytes()), 0))
    data[len(data) // 2] ^= 0x01
    damaged.write_bytes(bytes(data))
    result = materialize_asset(RAW_CUR, "acme", MONTH)
    assert not result.success
    (error,) = failure_descriptions(result)
    assert error.startswith(f"tenant 'acme', month 2026-09: {damaged}: corrupt gzip data: ")
    assert "\n" not in error
    assert (query("acme", RAW), query("acme", DAILY)) == before


def test_a_map_that_is_not_json_fails_by_file_name(source: Path) -> None:
    delivery = deliver(source, rows_per_file=1500)

    def spoil(header: list[str], rows: list[list[str]]) -> tuple:
        rows[900][header.index("resource_tags")] = "user_team=web"
        return header, rows

    rewrite_csv(delivery.data_files[1], spoil)
    result = materialize_asset(RAW_CUR, "acme", MONTH)
    assert not result.success
    (error,) = failure_descriptions(result)
    assert error.startswith(
        f"tenant 'acme', month 2026-09: {delivery.data_files[1]}: cannot read the file: "
    )
    assert "\n" not in error
