"""The real October 2018 month written out as AWS writes a legacy gzip CSV report: the Parquet
column names mapped back to AWS's CSV headers (`lineItem/UnblendedCost`), an AWS-shaped
manifest whose column types come from the Parquet types, parts in an assembly folder.

The real-sample tests load it against the Parquet; `benchmarks.csv_large` replicates it into a
2 GB part. Pure writing, no pytest: the caller decides what an absent sample means.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from finops_platform.sample.catalog import Format
from finops_platform.sample.parts import PartWriter, month_paths, write_manifest

OCTOBER = dt.date(2018, 10, 1)
REPORT = "WorkshopCUR"
ASSEMBLY = "5e1f4c1a-0d3b-4f7e-9a51-3c2d8e6b7a90"


def real_parquet_path(real_sample: Path) -> Path:
    """The one Parquet file of the real month."""
    (parquet,) = sorted(real_sample.rglob("*.parquet"))
    return parquet


def real_parquet(real_sample: Path) -> pq.ParquetFile:
    return pq.ParquetFile(real_parquet_path(real_sample))


def write_report(
    root: Path, fmt: Format, schema: pa.Schema, tables: Iterable[pa.Table], rows_per_file: int
) -> Path:
    """The month's `tables` as a delivery of `fmt` under `root`, streamed part by part, the
    manifest last. Returns `root`, the delivery's source root."""
    data_dir, manifest_path = month_paths(root, REPORT, OCTOBER, fmt, ASSEMBLY)
    writer = PartWriter(data_dir, REPORT, schema, rows_per_file, fmt)
    for table in tables:
        writer.write(table)
    write_manifest(
        manifest_path,
        root,
        writer.close(),
        name=REPORT,
        month=OCTOBER,
        fmt=fmt,
        assembly=ASSEMBLY,
        schema=schema,
    )
    return root


def write_real_csv_report(real_sample: Path, root: Path, rows_per_file: int = 40_000) -> Path:
    """The real month as a gzip CSV report under `root`, in parts of `rows_per_file` rows,
    streamed batch by batch from its Parquet. Returns `root`, the report's source root."""
    source = real_parquet(real_sample)
    batches = (pa.Table.from_batches([b]) for b in source.iter_batches(batch_size=20_000))
    return write_report(root, "legacy-csv", source.schema_arrow, batches, rows_per_file)
