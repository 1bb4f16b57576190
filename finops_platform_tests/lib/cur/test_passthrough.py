"""CUR 2.0 Parquet deliveries already in the canonical row enter the lake byte for byte
(lib/cur/passthrough.py), and read exactly as the normalized month would, lineage included;
anything else is normalized; a failed or killed ingest leaves the previous month whole.

Everything runs for real: generated deliveries, the local store, DuckDB, the local catalog."""

from __future__ import annotations

import datetime as dt
import filecmp
import multiprocessing
import os
import signal
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from finops_platform.defs.common.tables import raw_table
from finops_platform.lake import STAGING, beside_lake, raw_month
from finops_platform.lib.catalog import CatalogPartition, LocalCatalog
from finops_platform.lib.catalog.base import SUPPLIED_COLUMNS, published_files_parameter
from finops_platform.lib.cur import ingest as ingest_module
from finops_platform.lib.cur.delivery import DeliveryError
from finops_platform.lib.cur.ingest import IngestResult, ingest_month
from finops_platform.lib.cur.passthrough import NORMALIZED, PASS_THROUGH, incompatibility
from finops_platform.lib.cur.schema import CUR2_COLUMNS, SPLIT_LINE_ITEM_COLUMNS
from finops_platform.lib.engine.duckdb import DuckDBEngine
from finops_platform.lib.store import LocalObjectStore
from finops_platform.sample import GeneratedDelivery, generate_month
from finops_platform.settings import TenantConfig
from finops_platform_tests.conftest import tenant_entry

MONTH = dt.date(2026, 9, 1)
NOW = dt.datetime(2026, 10, 2, 3, 4, 5, 678000)
LAKE_ROOT = "s3://finops-lake/"
KEY = "identity_line_item_id, identity_time_interval"

CUR2 = pa.schema([(n, t) for n, t in CUR2_COLUMNS.items() if n not in SPLIT_LINE_ITEM_COLUMNS])


def changed(name: str, kind: pa.DataType) -> pa.Schema:
    return CUR2.set(CUR2.get_field_index(name), pa.field(name, kind))


@pytest.mark.parametrize(
    ("schema", "reason"),
    [
        (CUR2, None),  # split cost allocation columns absent: read as NULL
        (pa.schema(list(CUR2_COLUMNS.items())), None),
        (CUR2.append(pa.field("a_column_aws_added_later", pa.string())), None),
        (CUR2.append(pa.field("resource_tags_user_team", pa.string())), "belongs in a map"),
        (CUR2.append(pa.field("product_servicename", pa.string())), "belongs in a map"),
        (CUR2.append(pa.field("x_source_file", pa.string())), "lineage column"),
        (changed("pricing_public_on_demand_cost", pa.string()), "expected double"),
        (changed("line_item_unblended_cost", pa.float32()), "expected double"),
        (changed("line_item_usage_start_date", pa.timestamp("us", "UTC")), "expected timestamp"),
        (changed("line_item_usage_start_date", pa.timestamp("us")), None),
        (CUR2.remove(CUR2.get_field_index("resource_tags")), "'resource_tags' is missing"),
        (CUR2.remove(CUR2.get_field_index("bill_payer_account_id")), "is missing"),
    ],
)
def test_what_passes_through_is_judged_from_the_schema(schema: pa.Schema, reason: str) -> None:
    found = incompatibility(schema)
    assert found == reason if reason is None else reason in (found or "")


def tenant(source: Path) -> TenantConfig:
    return TenantConfig.model_validate(tenant_entry("acme", source))


def deliver(source: Path, fmt: str = "cur2", rows: int = 6000) -> GeneratedDelivery:
    """A month in three files."""
    return generate_month(source, month=MONTH, rows=rows, fmt=fmt, seed=7, rows_per_file=2500)


def ingest(source: Path, lake: Path, **options: object) -> tuple[LocalObjectStore, IngestResult]:
    store = LocalObjectStore(root=str(lake))
    result = ingest_month(store, tenant(source), MONTH, LAKE_ROOT, now=NOW, **options)
    return store, result


def month_folder(store: LocalObjectStore) -> Path:
    return store.local_path(raw_month(LAKE_ROOT, "acme", MONTH))


def registered_rows(store: LocalObjectStore, result: IngestResult, catalog: Path) -> pa.Table:
    """tb_cur_raw's rows once the version is registered with what raw_cur recorded, as
    tb_cur_raw registers it, read through the DuckDB engine."""
    local = LocalCatalog(root=str(catalog))
    table = raw_table(tenant(Path("unused")), LAKE_ROOT)
    local.upsert_table(table)
    parameters = published_files_parameter(result.files)
    if result.supplied is not None:
        parameters |= result.supplied.parameters()
    values = {"org": "acme", "year": "2026", "month": "9"}
    local.upsert_partition(
        table.database,
        table.name,
        CatalogPartition(values=values, location=result.location, parameters=parameters),
    )
    with DuckDBEngine(store=store, catalog=local).session(table.database) as session:
        return session.query_native(f"SELECT * FROM tb_cur_raw ORDER BY {KEY}")


def test_a_cur2_month_passes_through_and_reads_as_the_normalized_month(tmp_path: Path) -> None:
    delivery = deliver(tmp_path / "source")
    store, passed = ingest(tmp_path / "source", tmp_path / "lake-a")
    other, normalized = ingest(tmp_path / "source", tmp_path / "lake-b", pass_through=False)
    assert (passed.mode, normalized.mode) == (PASS_THROUGH, NORMALIZED)
    assert passed.profile == normalized.profile
    assert passed.profile.row_count == delivery.rows
    assert passed.profile.unblended_cost == delivery.unblended_total

    # Byte for byte, each delivery file is one published file: copies, not links to the
    # tenant's files.
    folder = month_folder(store)
    published = sorted(folder.glob("*.parquet"))
    assert [p.name for p in published] == sorted(passed.files)
    assert len(published) == len(delivery.data_files) == 3
    for source, copy in zip(sorted(delivery.data_files), published, strict=True):
        assert filecmp.cmp(source, copy, shallow=False)
        assert not os.path.samefile(source, copy)

    # tb_cur_raw's rows are the same, lineage included, whichever way the month came in.
    rows = registered_rows(store, passed, tmp_path / "catalog-a")
    expected = registered_rows(other, normalized, tmp_path / "catalog-b")
    assert rows.schema.equals(expected.schema)
    assert rows.num_rows == delivery.rows
    assert rows.to_pylist() == expected.to_pylist()
    lineage = rows.select(["x_source_format", "x_assembly_id", "x_ingestion_time"])
    assert set(map(tuple, (r.values() for r in lineage.to_pylist()))) == {
        ("cur2", delivery.assembly_id, NOW)
    }
    assert set(rows["x_source_file"].to_pylist()) == {str(p) for p in delivery.data_files}
    assert set(rows["split_line_item_split_cost"].to_pylist()) == {None}


def rewrite(path: Path, change: object) -> None:
    """Replace a delivery file by a changed one (a new file renamed over it)."""
    table = change(pq.read_table(path))  # type: ignore[operator]
    fresh = path.with_suffix(".new")
    pq.write_table(table, fresh)
    fresh.replace(path)


def cast(name: str, kind: pa.DataType) -> object:
    def change(table: pa.Table) -> pa.Table:
        index = table.schema.get_field_index(name)
        return table.set_column(index, name, table[name].cast(kind))

    return change


@pytest.mark.parametrize(
    ("fmt", "change", "reason"),
    [
        ("legacy", None, "legacy deliveries are normalized"),
        ("cur2", cast("pricing_public_on_demand_cost", pa.string()), "expected double"),
        (
            "cur2",
            lambda t: t.append_column("resource_tags_user_team", pa.array(["web"] * len(t))),
            "belongs in a map",
        ),
    ],
)
def test_legacy_and_drifted_deliveries_are_normalized(
    fmt: str, change: object, reason: str, tmp_path: Path
) -> None:
    delivery = deliver(tmp_path / "source", fmt)
    if change is not None:
        for path in delivery.data_files:
            rewrite(path, change)
    store, result = ingest(tmp_path / "source", tmp_path / "lake")
    assert result.mode == NORMALIZED and reason in result.mode_reason
    assert result.supplied is None
    assert result.profile.row_count == delivery.rows
    assert result.profile.unblended_cost == delivery.unblended_total
    rows = registered_rows(store, result, tmp_path / "catalog")
    assert set(rows["x_source_format"].to_pylist()) == {fmt}


def lake_bytes(store: LocalObjectStore) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(month_folder(store).iterdir())}


def staging_of(store: LocalObjectStore) -> Path:
    return beside_lake(month_folder(store), STAGING)


def test_a_failing_or_unreadable_delivery_keeps_the_previous_version(tmp_path: Path) -> None:
    delivery = deliver(tmp_path / "source")
    store, first = ingest(tmp_path / "source", tmp_path / "lake")
    assert first.mode == PASS_THROUGH
    kept = lake_bytes(store)

    # Restated with every line item of a file twice: the check refuses the copy.
    rewrite(delivery.data_files[0], lambda table: pa.concat_tables([table, table]))
    with pytest.raises(DeliveryError, match="raw_unique_line_items") as refused:
        ingest(tmp_path / "source", tmp_path / "lake")
    assert "tenant 'acme', month 2026-09" in str(refused.value)
    assert lake_bytes(store) == kept
    assert not list(staging_of(store).iterdir())

    # A file cut short (its footer never written): refused by name before anything is copied.
    cut = delivery.data_files[1]
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])
    with pytest.raises(DeliveryError, match="not a readable Parquet file") as unreadable:
        ingest(tmp_path / "source", tmp_path / "lake")
    assert cut.name in str(unreadable.value)
    assert lake_bytes(store) == kept
    assert not list(staging_of(store).iterdir())

    rows = registered_rows(store, first, tmp_path / "catalog")
    assert rows.num_rows == delivery.rows
    assert sum(Decimal(str(c)) for c in rows["line_item_unblended_cost"].to_pylist()) == (
        delivery.unblended_total
    )


def ingest_killed_after_first_copy(source: str, lake: str) -> None:
    """In a process of its own: ingest, and SIGKILL the process once the first delivery file is
    copied into staging, as a power cut would (no `finally`, no cleanup)."""
    real_place = ingest_module.place

    def place_then_die(*args: object, **kwargs: object) -> str:
        how = real_place(*args, **kwargs)  # type: ignore[arg-type]
        os.kill(os.getpid(), signal.SIGKILL)
        return how

    ingest_module.place = place_then_die  # type: ignore[assignment]
    ingest(Path(source), Path(lake))


def test_a_crash_mid_copy_leaves_the_previous_version_and_a_rerun_loads(tmp_path: Path) -> None:
    deliver(tmp_path / "source")
    store, first = ingest(tmp_path / "source", tmp_path / "lake")
    kept = lake_bytes(store)
    restated = deliver(tmp_path / "source", rows=9000)

    child = multiprocessing.get_context("spawn").Process(
        target=ingest_killed_after_first_copy,
        args=(str(tmp_path / "source"), str(tmp_path / "lake")),
    )
    child.start()
    child.join(timeout=300)
    assert child.exitcode == -signal.SIGKILL
    assert lake_bytes(store) == kept  # the live month untouched
    (half_copied,) = staging_of(store).iterdir()  # the killed run's staging, never published
    assert [p.name for p in half_copied.iterdir()] == ["part-0.parquet"]

    store, rerun = ingest(tmp_path / "source", tmp_path / "lake")
    assert rerun.mode == PASS_THROUGH and rerun.profile.row_count == restated.rows == 9000
    assert not list(staging_of(store).iterdir())  # reclaimed
    rows = registered_rows(store, rerun, tmp_path / "catalog")
    assert rows.num_rows == 9000
    assert first.location == rerun.location  # a local month is one folder, swapped whole


def test_a_hand_edited_supplied_columns_parameter_fails_that_table_by_name(tmp_path: Path) -> None:
    deliver(tmp_path / "source")
    store, result = ingest(tmp_path / "source", tmp_path / "lake")
    registered_rows(store, result, tmp_path / "catalog")
    local = LocalCatalog(root=str(tmp_path / "catalog"))
    table = raw_table(tenant(Path("unused")), LAKE_ROOT)
    (partition,) = local.list_partitions(table.database, table.name)
    broken = {**partition.parameters, SUPPLIED_COLUMNS: "{not json"}
    local.upsert_partition(
        table.database, table.name, partition.model_copy(update={"parameters": broken})
    )
    engine = DuckDBEngine(store=store, catalog=local)
    with (
        engine.session(table.database) as session,
        pytest.raises(duckdb.Error, match="tb_cur_raw: unreadable supplied_columns"),
    ):
        session.query_native("SELECT count(*) FROM tb_cur_raw")
