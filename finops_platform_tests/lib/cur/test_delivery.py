"""Finding a month's delivery: the manifest's files by their whole key, one report per source
path, folders that are not a month left alone, and legacy CSV reports found by their manifest."""

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from finops_platform.lib.cur.delivery import DeliveryError, delivered_months, find_delivery
from finops_platform.lib.store.local import LocalObjectStore
from finops_platform.sample import GeneratedDelivery, generate_month
from finops_platform.settings import TenantConfig

MONTH = dt.date(2026, 10, 1)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return tmp_path / "source"


@pytest.fixture
def tenant(source: Path) -> TenantConfig:
    return TenantConfig(org_id="alpha", source_path=str(source))


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(root=str(tmp_path / "buckets"))


def deliver(source: Path, fmt: str = "legacy") -> GeneratedDelivery:
    return generate_month(source, month=MONTH, rows=600, fmt=fmt, seed=3, rows_per_file=200)


def stray_copy(delivery: GeneratedDelivery, source: Path, folder: str) -> Path:
    """A smaller file with the name of the delivery's first file, under another folder."""
    original = delivery.data_files[0]
    copy = source / folder / original.relative_to(source)
    copy.parent.mkdir(parents=True)
    shutil.copy(delivery.data_files[-1], copy)
    return copy


@pytest.mark.parametrize("fmt", ["legacy", "legacy-csv", "cur2", "cur2-csv"])
def test_the_manifest_picks_its_files_by_key_not_by_name(
    fmt: str, source: Path, tenant: TenantConfig, store: LocalObjectStore
) -> None:
    delivery = deliver(source, fmt)
    stray = stray_copy(delivery, source, "zz-backup")
    found = find_delivery(store, tenant, MONTH)
    assert [Path(f.uri) for f in found.data_files] == delivery.data_files
    assert Path(found.data_files[0].uri) != stray


def test_without_a_manifest_two_report_folders_are_refused(
    source: Path, tenant: TenantConfig, store: LocalObjectStore
) -> None:
    delivery = deliver(source)
    delivery.manifest_path.unlink()
    stray_copy(delivery, source, "zz-backup")
    with pytest.raises(DeliveryError) as raised:
        find_delivery(store, tenant, MONTH)
    message = str(raised.value)
    assert "tenant 'alpha', month 2026-10" in message
    assert "several report folders" in message and "zz-backup" in message


def test_without_a_manifest_one_report_folder_is_the_delivery(
    source: Path, tenant: TenantConfig, store: LocalObjectStore
) -> None:
    delivery = deliver(source)
    delivery.manifest_path.unlink()
    found = find_delivery(store, tenant, MONTH)
    assert sorted(Path(f.uri) for f in found.data_files) == sorted(delivery.data_files)
    assert found.manifest is None


def test_a_folder_that_is_not_a_month_is_left_alone(
    source: Path, tenant: TenantConfig, store: LocalObjectStore
) -> None:
    delivery = deliver(source)
    month_dir = delivery.data_files[0].parent
    for bogus in ("month=13", "month=0"):
        shutil.copytree(month_dir, month_dir.with_name(bogus))
    assert delivered_months(store, tenant) == [MONTH]
    assert len(find_delivery(store, tenant, MONTH).data_files) == len(delivery.data_files)


def test_a_csv_report_is_found_in_its_current_assembly_folder(
    source: Path, tenant: TenantConfig, store: LocalObjectStore
) -> None:
    older = deliver(source, "legacy-csv")
    current = generate_month(source, month=MONTH, rows=700, fmt="legacy-csv", seed=4)
    assert older.data_files[0].parent != current.data_files[0].parent  # both still there
    assert delivered_months(store, tenant) == [MONTH]  # `auto` finds the CSV report
    found = find_delivery(store, tenant, MONTH)
    assert (found.format, found.assembly_id) == ("legacy-csv", current.assembly_id)
    assert [Path(f.uri) for f in found.data_files] == current.data_files
    assert dict(found.column_types)["lineItem/UnblendedCost"] == "OptionalBigDecimal"


def test_a_zip_csv_report_is_found_with_its_zip_parts(
    source: Path, tenant: TenantConfig, store: LocalObjectStore
) -> None:
    delivery = generate_month(
        source, month=MONTH, rows=700, fmt="legacy-csv", seed=3, csv_compression="ZIP"
    )
    assert [p.name for p in delivery.data_files] == ["finops-demo-1.csv.zip"]
    manifest = json.loads(delivery.manifest_path.read_bytes())
    assert (manifest["contentType"], manifest["compression"]) == ("text/csv", "ZIP")
    assert delivered_months(store, tenant) == [MONTH]
    found = find_delivery(store, tenant, MONTH)
    assert (found.format, found.assembly_id) == ("legacy-csv", delivery.assembly_id)
    assert [Path(f.uri) for f in found.data_files] == delivery.data_files


@pytest.mark.parametrize(("compression", "suffix"), [("BZIP2", ".csv.bz2"), ("ZIP", ".csv.gz")])
def test_a_csv_compression_not_read_here_fails_naming_the_file_and_it(
    source: Path, tenant: TenantConfig, store: LocalObjectStore, compression: str, suffix: str
) -> None:
    delivery = deliver(source, "legacy-csv")
    manifest = json.loads(delivery.manifest_path.read_bytes())
    renamed = [path.with_name(path.name.replace(".csv.gz", suffix)) for path in delivery.data_files]
    for path, new_path in zip(delivery.data_files, renamed, strict=True):
        path.rename(new_path)
    manifest["compression"] = compression
    manifest["reportKeys"] = [k.replace(".csv.gz", suffix) for k in manifest["reportKeys"]]
    delivery.manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(DeliveryError) as raised:
        find_delivery(store, tenant, MONTH)
    assert str(raised.value) == (
        f"tenant 'alpha', month 2026-10: {renamed[0]}: CSV compressed as {compression!r} is not "
        "a format read here; deliver the report as CSV compressed with GZIP or ZIP, or as Parquet"
    )


def test_auto_tells_a_cur2_csv_export_by_its_files_and_types_it_by_its_manifest(
    source: Path, tenant: TenantConfig, store: LocalObjectStore
) -> None:
    delivery = deliver(source, "cur2-csv")
    assert delivered_months(store, tenant) == [MONTH]
    found = find_delivery(store, tenant, MONTH)
    assert (found.format, found.assembly_id) == ("cur2-csv", delivery.assembly_id)
    assert dict(found.column_types)["discount"] == "map<string,double>"
    delivery.manifest_path.unlink()
    with pytest.raises(DeliveryError, match=r"without their manifest \(<export>/metadata/"):
        find_delivery(store, tenant, MONTH)


def test_a_cur2_export_not_in_gzip_fails_naming_the_file(
    source: Path, tenant: TenantConfig, store: LocalObjectStore
) -> None:
    delivery = deliver(source, "cur2-csv")
    manifest = json.loads(delivery.manifest_path.read_bytes())
    renamed = delivery.data_files[0].with_suffix(".bz2")
    delivery.data_files[0].rename(renamed)
    manifest["dataFiles"][0] = manifest["dataFiles"][0].replace(".csv.gz", ".csv.bz2")
    delivery.manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(DeliveryError) as raised:
        find_delivery(store, tenant, MONTH)
    assert str(raised.value) == (
        f"tenant 'alpha', month 2026-10: {renamed}: a CUR 2.0 CSV export is gzip CSV (.csv.gz); "
        "this file's compression is not read here"
    )


def test_a_csv_report_without_its_manifest_is_refused(
    source: Path, tenant: TenantConfig, store: LocalObjectStore
) -> None:
    delivery = deliver(source, "legacy-csv")
    delivery.manifest_path.unlink()
    with pytest.raises(DeliveryError, match=r"without their manifest .* column types are in it"):
        find_delivery(store, tenant, MONTH)
