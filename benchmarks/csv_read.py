"""Legacy gzip CSV against legacy Parquet (issue 21): rows/s of the raw ingest, side by side.

Generates one month twice from one seed, as a legacy Parquet delivery and as a legacy gzip CSV
report: the very same rows (the generator draws them alike for both). Then, in this one process,
runs `ingest_month` for each (find the delivery, read and normalize it, validate the staged copy,
publish it) at the dev environment's DuckDB settings (2 GB, 2 threads), alternating CSV and
Parquet `--repeat` times so a slow spell of the machine hits both alike, and prints the medians:
seconds, rows/s and the CSV/Parquet ratio, and how much of the CSV time is Python's check of the
gzip members (`csv_groups`: headers and CRCs) before DuckDB streams the files.

    python -m benchmarks.csv_read [--rows 1000000] [--repeat 3] [--work-dir .finops/bench-csv]
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
from finops_platform.lib.cur.ingest import ingest_month
from finops_platform.lib.cur.sources import SourceFile
from finops_platform.lib.store.local import LocalObjectStore
from finops_platform.sample import generate_month
from finops_platform.settings import TenantConfig, load_settings

MONTH = dt.date(2026, 1, 1)
FORMATS = ("legacy-csv", "legacy")


def prepare(work: Path, rows: int) -> dict[str, TenantConfig]:
    """One tenant per format, each with the month in its source path (kept between runs)."""
    tenants = {}
    for fmt in FORMATS:
        org = fmt.replace("-", "_")
        source = work / "sources" / org
        marker = source / f"rows-{rows}"
        if not marker.exists():
            generate_month(source, month=MONTH, rows=rows, fmt=fmt, seed=7)
            marker.touch()
        tenants[fmt] = TenantConfig(org_id=org, source_path=str(source), cur_format=fmt)
    return tenants


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work-dir", type=Path, default=Path(".finops/bench-csv"))
    args = parser.parse_args()
    env = load_settings().environment
    store = LocalObjectStore(root=str(args.work_dir.resolve() / "buckets"))
    tenants = prepare(args.work_dir.resolve(), args.rows)
    seconds: dict[str, list[float]] = {fmt: [] for fmt in FORMATS}
    checks = []
    for _ in range(args.repeat):
        for fmt, tenant in tenants.items():
            start = time.perf_counter()
            result = ingest_month(
                store,
                tenant,
                MONTH,
                env.lake_root,
                memory_limit=env.duckdb_memory_limit,
                threads=env.duckdb_threads,
            )
            seconds[fmt].append(time.perf_counter() - start)
            assert result.profile.row_count == args.rows, result.profile
        csv = find_delivery(store, tenants["legacy-csv"], MONTH)
        start = time.perf_counter()
        files = [SourceFile(Path(f.uri), f.uri) for f in csv.data_files]
        csv_groups(files, csv.column_types, "bench")
        checks.append(time.perf_counter() - start)
    sizes = {fmt: find_delivery(store, t, MONTH).total_bytes for fmt, t in tenants.items()}
    median = {fmt: statistics.median(values) for fmt, values in seconds.items()}
    print(f"{args.rows:,} rows a month, {args.repeat} runs each, DuckDB {env.duckdb_memory_limit}")
    print(f"{'format':<11} {'source MB':>9} {'median s':>9} {'rows/s':>10}")
    for fmt in FORMATS:
        rate = args.rows / median[fmt]
        print(f"{fmt:<11} {sizes[fmt] / 1e6:>9.1f} {median[fmt]:>9.2f} {rate:>10,.0f}")
    print(f"CSV/Parquet throughput: {median['legacy'] / median['legacy-csv']:.2f}")
    print(f"of the CSV time, gzip headers and CRC check: {statistics.median(checks):.2f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB on Linux
    print(f"peak RSS of this process: {peak:.2f} GB")


if __name__ == "__main__":
    main()
