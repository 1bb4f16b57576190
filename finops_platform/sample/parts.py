"""A delivery's files, where and as AWS writes them: numbered parts (snappy Parquet; legacy CSV,
gzip or ZIP, with the report's `<category>/<name>` headers; CUR 2.0 gzip CSV with the column
names as headers and the maps as JSON text) first, the manifest last.

A CSV report version gets its own `<assemblyId>/` folder, as AWS writes a report that keeps its
previous versions, so a restated month leaves the older version beside the new one and only the
manifest says which is current. The real-sample tests write the 2018 month as a CSV report with
the same writer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from finops_platform.lib.cur import manifest as mf
from finops_platform.lib.cur.names import csv_header
from finops_platform.sample.catalog import _PAYERS, DEMO_BUCKET, Format


def month_paths(
    root: Path, name: str, month: dt.date, fmt: Format, assembly_id: str
) -> tuple[Path, Path]:
    """(the folder of the month's data files, the manifest) under the source root."""
    if fmt == "legacy":
        return root / mf.legacy_data_dir(name, month), root / mf.legacy_manifest_key(name, month)
    if fmt == "legacy-csv":
        data_dir = mf.legacy_csv_data_dir(name, month, assembly_id)
        return root / data_dir, root / mf.legacy_manifest_key(name, month)
    return root / mf.cur2_data_dir(name, month), root / mf.cur2_manifest_key(name, month)


def ground_truth_path(root: Path, name: str, month: dt.date) -> Path:
    """Where a shaped month's injected anomalies are written: beside the export, outside every
    folder or manifest an ingest reads."""
    return root / name / "ground-truth" / f"{month:%Y-%m}.json"


# How each CSV format spells a column's header and an instant.
_CSV_HEADERS = {"legacy-csv": csv_header, "cur2-csv": str, "focus-csv": str}
_CSV_INSTANTS = {
    "legacy-csv": "%Y-%m-%dT%H:%M:%SZ",
    "cur2-csv": "%Y-%m-%dT%H:%M:%S.000Z",
    "focus-csv": "%Y-%m-%dT%H:%M:%S.000Z",
}


def clear_month(data_dir: Path, manifest_path: Path) -> None:
    """Manifest first, so no reader follows it to parts that are being replaced."""
    manifest_path.unlink(missing_ok=True)
    for part in [*data_dir.glob("*.parquet"), *data_dir.glob("*.csv.*")]:
        part.unlink()


def _json_maps(column: pa.ChunkedArray) -> pa.Array:
    """A map column as the JSON text a CUR 2.0 CSV export holds: `{"user_team":"web"}`."""
    return pa.array(
        [
            None if entries is None else json.dumps(dict(entries), separators=(",", ":"))
            for entries in column.to_pylist()
        ],
        pa.string(),
    )


def aws_csv_table(table: pa.Table, fmt: Format = "legacy-csv") -> pa.Table:
    """The table as a CSV file of `fmt` holds it: legacy headers `lineItem/UnblendedCost` or
    CUR 2.0 column names, instants as `2018-10-01T00:00:00Z` (legacy) or
    `2018-10-01T00:00:00.000Z` (CUR 2.0), maps as JSON, every other value as its text."""
    columns = []
    for column in table.columns:
        if pa.types.is_timestamp(column.type):
            instants = pc.cast(column, pa.timestamp("s", tz="UTC"))
            column = pc.strftime(instants, _CSV_INSTANTS[fmt])
        elif pa.types.is_map(column.type):
            column = _json_maps(column)
        columns.append(column)
    return pa.Table.from_arrays(columns, [_CSV_HEADERS[fmt](n) for n in table.column_names])


class _CsvPart:
    """One CSV part, gzip or ZIP (one `.csv` member named as the part): the header row, then
    rows in AWS's column order."""

    def __init__(self, path: Path, compression: str, fmt: Format) -> None:
        self._fmt = fmt
        self._archive: zipfile.ZipFile | None = None
        if compression == mf.ZIP:
            self._archive = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED)
            member = self._archive.open(path.name.removesuffix(".zip"), "w", force_zip64=True)
            self._stream = pa.PythonFile(member, mode="w")
        else:
            self._stream = pa.CompressedOutputStream(str(path), "gzip")
        self._writer: pa_csv.CSVWriter | None = None

    def write_table(self, table: pa.Table) -> None:
        csv_table = aws_csv_table(table, self._fmt)
        if self._writer is None:
            self._writer = pa_csv.CSVWriter(self._stream, csv_table.schema)
        self._writer.write_table(csv_table)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._stream.close()
        if self._archive is not None:
            self._archive.close()


class PartWriter:
    """Parts of at most `rows_per_file` rows, numbered from 1, in the format's file type."""

    def __init__(
        self,
        directory: Path,
        name: str,
        schema: pa.Schema,
        rows_per_file: int,
        fmt: Format,
        csv_compression: str = mf.GZIP,
    ) -> None:
        self._directory, self._name, self._schema = directory, name, schema
        self._rows_per_file, self._fmt = rows_per_file, fmt
        self._compression = csv_compression
        self._writer: pq.ParquetWriter | _CsvPart | None = None
        self._rows_in_file = 0
        self.files: list[Path] = []

    def write(self, table: pa.Table) -> None:
        while table.num_rows:
            if self._writer is None or self._rows_in_file == self._rows_per_file:
                self._open_next()
            take = min(table.num_rows, self._rows_per_file - self._rows_in_file)
            self._writer.write_table(table.slice(0, take))
            self._rows_in_file += take
            table = table.slice(take)

    def _open_next(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._directory.mkdir(parents=True, exist_ok=True)
        part = len(self.files) + 1
        if self._fmt == "legacy-csv":
            path = self._directory / mf.csv_file_name(self._name, part, self._compression)
            self._writer = _CsvPart(path, self._compression, self._fmt)
        elif self._fmt in ("cur2-csv", "focus-csv"):
            path = self._directory / mf.cur2_csv_file_name(self._name, part)
            self._writer = _CsvPart(path, mf.GZIP, self._fmt)
        else:
            path = self._directory / mf.data_file_name(self._name, part)
            self._writer = pq.ParquetWriter(path, self._schema, compression="snappy")
        self.files.append(path)
        self._rows_in_file = 0

    def close(self) -> list[Path]:
        if self._writer is not None:
            self._writer.close()
        return self.files


def write_manifest(
    path: Path,
    root: Path,
    files: list[Path],
    *,
    name: str,
    month: dt.date,
    fmt: Format,
    assembly: str,
    schema: pa.Schema,
    csv_compression: str = mf.GZIP,
) -> None:
    """Keys as AWS writes them: bucket keys (legacy), full s3:// URIs (CUR 2.0). A CSV report
    version also gets a copy in its assembly folder, as AWS writes one."""
    keys = [f.relative_to(root).as_posix() for f in files]
    payer = _PAYERS[0].id
    if fmt.startswith(("cur2", "focus")):  # Data Exports
        model: mf.LegacyManifest | mf.Cur2Manifest = mf.build_cur2_manifest(
            export_name=name,
            month=month,
            execution_id=assembly,
            data_files=[f"s3://{DEMO_BUCKET}/{key}" for key in keys],
            schema=schema,
            account=payer,
        )
    else:
        model = mf.build_legacy_manifest(
            report_name=name,
            month=month,
            assembly_id=assembly,
            report_keys=keys,
            schema=schema,
            account=payer,
            bucket=DEMO_BUCKET,
            report_id=hashlib.sha256(f"{payer}/{name}".encode()).hexdigest(),
            csv=fmt == "legacy-csv",
            compression=csv_compression,
        )
    copies = [path.parent / assembly / path.name] if fmt == "legacy-csv" else []
    for target in [*copies, path]:  # the manifest the arrival sensor watches, last
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".{target.name}.tmp")
        staging.write_bytes(mf.serialize_manifest(model))
        os.replace(staging, target)  # a reader sees no manifest or a whole one
