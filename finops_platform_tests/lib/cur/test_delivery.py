"""Finding a month's delivery: the manifest's files by their whole key, one report per source
path, and folders that are not a month left alone."""

import datetime as dt
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


@pytest.mark.parametrize("fmt", ["legacy", "cur2"])
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
