"""CUR CSV deliveries against Parquet (issue 21): rows/s of the raw ingest, side by side.

Generates one month from one seed in each delivery format: legacy Parquet, legacy gzip CSV,
legacy ZIP CSV, CUR 2.0 Parquet and CUR 2.0 gzip CSV (the legacy ones the very same rows, the
CUR 2.0 ones the very same rows; the generator draws them alike within each). Then, in this one
process, runs `ingest_month` for each (find the delivery, unpack ZIP parts, read and normalize
it, validate the staged copy, publish it) at the dev environment's DuckDB settings (2 GB, 2
threads), round robin `--repeat` times so a slow spell of the machine hits all alike, and prints
the medians: seconds, rows/s and each CSV format's throughput against its Parquet twin, how much
of the legacy gzip CSV time is Python's check of the gzip members (`csv_groups`: headers and
CRCs) before DuckDB streams the files, and the peak RSS of the process.

    python -m benchmarks.csv_read [--rows 1000000] [--repeat 3] [--formats legacy-csv,legacy]
        [--rows-per-file 2000000] [--work-dir .finops/bench-csv]
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import statistics
import time
from pathlib import Path

from finops_platform.lib.cur.csv_source import csv_groups
from finops_platform.lib.cur.delivery import find_delivery
from finops_platform.lib.cur.ingest import IngestResult, ingest_month
from finops_platform.lib.cur.manifest import GZIP, ZIP
from finops_platform.lib.cur.sources import SourceFile
from finops_platform.lib.store import ObjectStore
from finops_platform.lib.store.local import LocalObjectStore
from finops_platform.sample import generate_month
from finops_platform.settings import CurFormat, EnvironmentSettings, TenantConfig, load_settings

MONTH = dt.date(2026, 1, 1)
# label -> (cur_format, CSV compression); each CSV variant is compared with its Parquet twin.
VARIANTS: dict[str, tuple[CurFormat, str]] = {
    "legacy-csv": ("legacy-csv", GZIP),
    "legacy-zip": ("legacy-csv", ZIP),
    "legacy": ("legacy", GZIP),
    "cur2-csv": ("cur2-csv", GZIP),
    "cur2": ("cur2", GZIP),
    "focus": ("focus", GZIP),  # the CUR 2.0 month's FOCUS export (more rows: unused commitments)
    "focus-csv": ("focus-csv", GZIP),
}
TWINS = {
    "legacy-csv": "legacy",
    "legacy-zip": "legacy",
    "cur2-csv": "cur2",
    "focus": "cur2",
    "focus-csv": "focus",
}


def prepare(
    work: Path, rows: int, labels: list[str], rows_per_file: int
) -> dict[str, TenantConfig]:
    """One tenant per variant, each with the month in its source path (kept between runs)."""
    tenants = {}
    for label in labels:
        fmt, compression = VARIANTS[label]
        org = label.replace("-", "_")
        source = work / "sources" / org
        marker = source / f"rows-{rows}-{rows_per_file}"
        if not marker.exists():
            generate_month(
                source,
                month=MONTH,
                rows=rows,
                fmt=fmt,
                seed=7,
                rows_per_file=rows_per_file,
                csv_compression=compression,
            )
            marker.touch()
        tenants[label] = TenantConfig(org_id=org, source_path=str(source), cur_format=fmt)
    return tenants


def timed_ingest(
    store: ObjectStore, tenant: TenantConfig, month: dt.date, env: EnvironmentSettings
) -> tuple[float, IngestResult]:
    """Seconds of one `ingest_month` at the environment's DuckDB settings, and its result."""
    start = time.perf_counter()
    result = ingest_month(
        store,
        tenant,
        month,
        env.lake_root,
        memory_limit=env.duckdb_memory_limit,
        threads=env.duckdb_threads,
    )
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--formats", default=",".join(VARIANTS), help="labels, comma separated")
    parser.add_argument("--rows-per-file", type=int, default=2_000_000)
    parser.add_argument("--work-dir", type=Path, default=Path(".finops/bench-csv"))
    args = parser.parse_args()
    labels = [label for label in args.formats.split(",") if label]
    unknown = sorted(set(labels) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown formats {unknown}; choose from {', '.join(VARIANTS)}")
    env = load_settings().environment
    store = LocalObjectStore(root=str(args.work_dir.resolve() / "buckets"))
    tenants = prepare(args.work_dir.resolve(), args.rows, labels, args.rows_per_file)
    seconds: dict[str, list[float]] = {label: [] for label in labels}
    loaded: dict[str, int] = {}  # rows loaded: a FOCUS export has a row per unused commitment too
    checks = []
    for _ in range(args.repeat):
        for label, tenant in tenants.items():
            took, result = timed_ingest(store, tenant, MONTH, env)
            seconds[label].append(took)
            loaded[label] = result.profile.row_count
            assert loaded[label] == args.rows or label.startswith("focus"), result.profile
        if "legacy-csv" in tenants:
            csv = find_delivery(store, tenants["legacy-csv"], MONTH)
            start = time.perf_counter()
            files = [SourceFile(Path(f.uri), f.uri) for f in csv.data_files]
            csv_groups(files, csv.column_types, "bench")
            checks.append(time.perf_counter() - start)
    sizes = {label: find_delivery(store, t, MONTH).total_bytes for label, t in tenants.items()}
    median = {label: statistics.median(values) for label, values in seconds.items()}
    print(f"{args.rows:,} rows a month, {args.repeat} runs each, DuckDB {env.duckdb_memory_limit}")
    print(f"{'format':<11} {'source MB':>9} {'median s':>9} {'rows/s':>10}")
    for label in labels:
        rate = loaded[label] / median[label]
        print(f"{label:<11} {sizes[label] / 1e6:>9.1f} {median[label]:>9.2f} {rate:>10,.0f}")
    for label, twin in TWINS.items():
        if label in median and twin in median:
            print(f"{label}/{twin} throughput: {median[twin] / median[label]:.2f}")
    if checks:
        print(
            f"of the legacy-csv time, gzip headers and CRC check: {statistics.median(checks):.2f} s"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB on Linux
    print(f"peak RSS of this process: {peak:.2f} GB")


if __name__ == "__main__":
    main()
