"""ZIP CSV report parts unpacked before the read: what a part that would fill the disk does."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from finops_platform.lib.cur import unzip
from finops_platform.lib.cur.delivery import DeliveryError


def _zip_part(folder: Path, text: str) -> Path:
    path = folder / "report-1.csv.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("report-1.csv", text)
    return path


def test_a_part_is_unpacked_to_its_csv_and_removed_after(tmp_path: Path) -> None:
    part = _zip_part(tmp_path, "a,b\n1,2\n")
    with unzip.unzipped([part], ["s3://src/report-1.csv.zip"], "alpha 2026-09") as (csv,):
        assert csv.read_text() == "a,b\n1,2\n"
    assert not csv.exists()


def test_a_part_that_would_fill_the_disk_fails_by_name_before_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ZIP bomb (or a disk already nearly full): refused from the declared size."""
    part = _zip_part(tmp_path, "x" * 100_000)  # deflates to a few hundred bytes
    written: list[Path] = []
    real_usage = shutil.disk_usage

    def nearly_full(path: str | Path) -> object:
        written.extend(Path(path).iterdir())  # the temporary folder is still empty
        usage = real_usage(path)
        return usage._replace(free=unzip._DISK_RESERVE + 50_000)

    monkeypatch.setattr(unzip.shutil, "disk_usage", nearly_full)
    with (
        pytest.raises(DeliveryError, match=r"report-1\.csv\.zip: unpacks to 100,000 bytes"),
        unzip.unzipped([part], ["s3://src/report-1.csv.zip"], "alpha 2026-09"),
    ):
        pass
    assert written == []
