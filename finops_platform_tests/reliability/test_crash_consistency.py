"""Issue 16, case 3: a crash at any moment leaves every layer consistent.

A run killed between the catalog writes of `tb_cur_raw` used to leave the partition registered
with empty parameters (every later run of the month then failed on `KeyError: 'row_count'`).
Each write that registers a raw partition now carries all its parameters.
"""

import datetime as dt
import errno
import json
import os
import time
from pathlib import Path

import pytest

from finops_platform.lake import RAW_TABLE
from finops_platform.lib.catalog import CatalogPartition, CatalogTable, LocalCatalog
from finops_platform_tests.conftest import WriteConfig, tenant_entry
from finops_platform_tests.support.materialize import load


def test_every_raw_registration_is_complete(
    real_sample: Path,
    finops_home: Path,
    write_config: WriteConfig,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_config([tenant_entry("alpha", real_sample, first_billing_month="2018-10")])
    written: list[CatalogPartition] = []
    upsert = LocalCatalog.upsert_partition

    def recording(self: LocalCatalog, database: str, table: str, p: CatalogPartition) -> None:
        if table == RAW_TABLE:
            written.append(p)
        upsert(self, database, table, p)

    monkeypatch.setattr(LocalCatalog, "upsert_partition", recording)
    loaded = load(months=[dt.date(2018, 10, 1)])
    assert loaded.ok, [(r.org_id, r.error) for r in loaded.reports]
    assert written, "tb_cur_raw registered nothing"
    for partition in written:  # a kill after any of these writes leaves a complete entry
        assert partition.parameters["row_count"] == "119307"
        assert partition.parameters["ingest_mode"] == "normalized"  # legacy CUR
        assert set(partition.parameters) == {
            "row_count",
            "assembly_id",
            "max_usage_start",
            "published_files",
            "ingest_mode",
        }
        assert partition.published_files(), "the files raw_cur published, read exactly"
    assert len(written) == 1, [p.parameters for p in written]


def catalog_with_a_table(root: Path) -> LocalCatalog:
    """A local catalog holding table db.t, partitioned by year and month."""
    catalog = LocalCatalog(root=str(root))
    catalog.upsert_table(
        CatalogTable(
            database="db",
            name="t",
            location="/lake/t/",
            columns={"x": "int"},
            partition_keys={"year": "int", "month": "int"},
        )
    )
    return catalog


def test_a_killed_catalog_writes_temporary_file_is_removed_once_stale(tmp_path: Path) -> None:
    """A writer killed between writing an entry's temporary file and renaming it (the kill test's
    `tb_cur_raw-temp-written`) leaves `.<random>.tmp`; a later write in that folder removes it
    once it is older than any live write could be, and leaves a fresh one (a writer at work)."""
    catalog = catalog_with_a_table(tmp_path)

    def register(month: int) -> None:
        values = {"year": "2026", "month": str(month)}
        catalog.upsert_partition("db", "t", CatalogPartition(values=values, location="/l/"))

    register(1)
    (folder,) = {p.parent for p in tmp_path.rglob("*.json") if "partitions" in p.parts}
    killed, at_work = folder / ".killed.tmp", folder / ".at-work.tmp"
    for left in (killed, at_work):
        left.write_text('{"values": {"ye', encoding="utf-8")
    two_hours_ago = time.time() - 2 * 3600
    os.utime(killed, (two_hours_ago, two_hours_ago))
    register(2)
    assert not killed.exists()
    assert at_work.exists()
    assert [p.values["month"] for p in catalog.list_partitions("db", "t")] == ["1", "2"]


def test_a_catalog_write_that_fails_for_a_full_disk_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer that hits ENOSPC removes its own temporary file at once (not an hour later)
    and the entry keeps its previous content."""
    catalog = catalog_with_a_table(tmp_path)
    values = {"year": "2026", "month": "1"}
    catalog.upsert_partition("db", "t", CatalogPartition(values=values, location="/old/"))

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(json, "dump", full)
    with pytest.raises(OSError, match="No space left"):
        catalog.upsert_partition("db", "t", CatalogPartition(values=values, location="/new/"))
    monkeypatch.undo()
    assert list(tmp_path.rglob("*.tmp")) == []
    (entry,) = catalog.list_partitions("db", "t")
    assert entry.location == "/old/"
