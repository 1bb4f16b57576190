"""A 2 GB gzip CSV within the 2 GB DuckDB limit (issue 21): rows/s against the Parquet path.

The generator's rows compress about 50 x, so a 2 GB `.csv.gz` of them would be ~100M rows; real
CUR compresses far less. So the file is built from real data: the shared October 2018 month,
written as a legacy gzip CSV report by the real-sample tests' own writer
(`finops_platform_tests.support.real_csv`), replicated N times in one `.csv.gz` part with a copy
number appended to every `identity/LineItemId` (so the duplicate check passes), N computed from
the measured size of one copy so that the part reaches `--target-gb`. DuckDB's CSV writer
streams it (COMPRESSION gzip): the CSV text is never held in memory or written uncompressed.
Its Parquet twin (the same rows, copied from the real Parquet the same way) is a legacy Parquet
delivery. Both are built once under `--work-dir` (git-ignored) and reused when complete.

Then each is ingested once with `ingest_month` at the dev environment's DuckDB settings, as
`benchmarks.csv_read` does, and the benchmark prints sizes, rows, seconds, rows/s, the
CSV/Parquet ratio and each ingest's peak RSS (`VmHWM`, reset before each), and fails unless
both loads hold N x 119,307 rows and every copy sums exactly to the real month's unblended
4,064.483132 and amortized 4,195.957109 (DECIMAL sums of the curated tables' formula).

    nice -n 19 python -m benchmarks.csv_large [--target-gb 2] [--work-dir .finops/bench-csv-2gb]
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import re
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from benchmarks.csv_read import timed_ingest
from finops_platform.lib.cur.delivery import find_delivery
from finops_platform.lib.cur.ingest import IngestResult
from finops_platform.lib.cur.manifest import GZIP, csv_file_name, data_file_name
from finops_platform.lib.sql import Identifier, load_sql, render, transpile
from finops_platform.lib.store.local import LocalObjectStore
from finops_platform.sample.parts import month_paths, write_manifest
from finops_platform.settings import CurFormat, TenantConfig, load_settings
from finops_platform_tests.conftest import REAL_SAMPLE
from finops_platform_tests.support.real_csv import (
    ASSEMBLY,
    OCTOBER,
    REPORT,
    real_parquet,
    real_parquet_path,
    write_real_csv_report,
)

MONTH_ROWS = 119_307
UNBLENDED = Decimal("4064.483132")
AMORTIZED = Decimal("4195.957109")
COPY_DIGITS = 5  # the copy number appended to each line item id: `<id>-00042`
COMPLETE = "complete.json"  # written last: the data are whole and match it
# label -> the tenant's format; the CSV is timed against its Parquet twin.
TENANTS: dict[str, CurFormat] = {"legacy-csv": "legacy-csv", "legacy": "legacy"}


@dataclass(frozen=True)
class Built:
    target_bytes: int
    copies: int
    csv_bytes: int  # the one `.csv.gz` part
    csv_text_bytes: int  # its CSV text: the header once and every copy's rows
    parquet_bytes: int


def copied(source: str, id_column: str) -> str:
    """`copies` x the rows of `source`, each copy's line item ids ending in its number."""
    suffix = f"'-' || lpad(CAST(k AS VARCHAR), {COPY_DIGITS}, '0')"
    return (
        f'SELECT * EXCLUDE (k) REPLACE ("{id_column}" || {suffix} AS "{id_column}") '
        f"FROM {source}, range({{copies}}) AS copies(k)"
    )


def text_bytes(path: Path) -> tuple[int, int]:
    """(header bytes, all bytes) of a gzip CSV's text, streamed."""
    with gzip.open(path, "rb") as text:
        header = len(text.readline())
        return header, header + sum(len(chunk) for chunk in iter(lambda: text.read(1 << 20), b""))


def build(work: Path, target_bytes: int) -> Built:
    """The CSV report and its Parquet twin under `work/sources`, reused when complete."""
    sources = work / "sources"
    marker = sources / COMPLETE
    if marker.exists():
        built = Built(**json.loads(marker.read_text()))
        if built.target_bytes == target_bytes:
            print(f"reusing {sources} ({built.copies} copies)", flush=True)
            return built
    shutil.rmtree(sources, ignore_errors=True)
    start = time.perf_counter()
    seed_root = write_real_csv_report(REAL_SAMPLE, sources / "seed", rows_per_file=MONTH_ROWS)
    (seed,) = seed_root.rglob("*.csv.gz")
    db = duckdb.connect()
    # The real month's CSV text as written, every field kept as text (no reformatting).
    # Rows in any order: an ordered COPY of the copies would be held back (spilled) until whole.
    db.execute(
        "SET memory_limit = '2GB'; SET threads = 2; SET TimeZone = 'UTC'; "
        f"SET preserve_insertion_order = false; SET temp_directory = '{work / 'duckdb-tmp'}'"
    )
    db.execute(f"CREATE TABLE month AS FROM read_csv('{seed}', all_varchar = true, header = true)")
    csv_sql = copied("month", "identity/LineItemId")

    def write_csv(path: Path, copies: int) -> None:
        select = csv_sql.format(copies=copies)
        db.execute(f"COPY ({select}) TO '{path}' (FORMAT csv, HEADER, COMPRESSION gzip)")

    one = sources / "one-copy.csv.gz"
    write_csv(one, 1)
    header, one_text = text_bytes(one)
    copies = math.ceil(target_bytes * 1.01 / one.stat().st_size)  # 1 %: copies compress unalike
    print(
        f"one copy of the real month: {one.stat().st_size / 1e6:.1f} MB gzip, "
        f"{one_text / 1e6:.1f} MB CSV ({one_text / one.stat().st_size:.1f} x); "
        f"writing {copies} copies ({copies * MONTH_ROWS:,} rows)",
        flush=True,
    )
    one.unlink()

    csv_root, parquet_root = sources / "legacy_csv", sources / "legacy"
    data_dir, manifest = month_paths(csv_root, REPORT, OCTOBER, "legacy-csv", ASSEMBLY)
    data_dir.mkdir(parents=True)
    part = data_dir / csv_file_name(REPORT, 1, GZIP)
    write_csv(part, copies)
    if part.stat().st_size < target_bytes:
        raise SystemExit(f"{part} is {part.stat().st_size:,} bytes, short of {target_bytes:,}")
    schema = real_parquet(REAL_SAMPLE).schema_arrow
    common = {"name": REPORT, "month": OCTOBER, "assembly": ASSEMBLY, "schema": schema}
    write_manifest(manifest, csv_root, [part], fmt="legacy-csv", **common)
    print(f"CSV written: {time.perf_counter() - start:.0f} s", flush=True)

    data_dir, manifest = month_paths(parquet_root, REPORT, OCTOBER, "legacy", ASSEMBLY)
    data_dir.mkdir(parents=True)
    twin = data_dir / data_file_name(REPORT, 1)
    real = real_parquet_path(REAL_SAMPLE)
    parquet_sql = copied(f"read_parquet('{real}')", "identity_line_item_id")
    select = parquet_sql.format(copies=copies)
    db.execute(f"COPY ({select}) TO '{twin}' (FORMAT parquet, COMPRESSION snappy)")
    write_manifest(manifest, parquet_root, [twin], fmt="legacy", **common)
    shutil.rmtree(seed_root)
    built = Built(
        target_bytes=target_bytes,
        copies=copies,
        csv_bytes=part.stat().st_size,
        # every copy's text is as long as the first's (fixed-width copy numbers)
        csv_text_bytes=header + copies * (one_text - header),
        parquet_bytes=twin.stat().st_size,
    )
    marker.write_text(json.dumps(asdict(built)))
    print(f"built in {time.perf_counter() - start:.0f} s", flush=True)
    return built


def reset_peak_rss() -> None:
    """Start VmHWM afresh (Linux: `5` to clear_refs), so each ingest's peak is its own."""
    Path("/proc/self/clear_refs").write_text("5")


def peak_rss_gb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) * 1024 / 1e9


def per_copy_totals(store: LocalObjectStore, result: IngestResult) -> dict[str, tuple]:
    """copy number -> (rows, unblended, amortized) of the published month, exact DECIMAL sums
    of the curated tables' own cost formula (sql/fragments/line_item_costs.sql)."""
    folder = store.local_path(result.location)
    db = duckdb.connect()
    db.execute("CREATE SCHEMA bench")
    db.execute(
        "CREATE VIEW bench.tb_cur_raw AS SELECT *, 'bench' AS org, 2018 AS year, 10 AS month "
        f"FROM read_parquet('{folder}/**/*.parquet', hive_partitioning = false)"
    )
    params = {"database": Identifier("bench"), "org": "bench", "year": 2018, "month": 10}
    costs = transpile(render(load_sql("fragments/line_item_costs.sql"), params), "duckdb")
    rows = db.execute(
        f"SELECT right(identity_line_item_id, {COPY_DIGITS}) AS copy, count(*), "
        "CAST(sum(unblended_cost) AS VARCHAR), CAST(sum(amortized_cost) AS VARCHAR) "
        f"FROM ({costs}) GROUP BY copy"
    ).fetchall()
    return {
        copy: (n, Decimal(unblended), Decimal(amortized)) for copy, n, unblended, amortized in rows
    }


def check(label: str, totals: dict[str, tuple], copies: int) -> tuple[int, Decimal, Decimal]:
    """Fail loudly unless every copy is the real month, row count and cost to the 1e-10."""
    expected = {f"{k:0{COPY_DIGITS}d}" for k in range(copies)}
    if set(totals) != expected:
        raise SystemExit(f"{label}: copies {len(totals)} loaded, {copies} written")
    distinct = set(totals.values())
    if len(distinct) != 1:
        raise SystemExit(f"{label}: the copies differ: {sorted(distinct)[:3]}")
    ((n, unblended, amortized),) = distinct
    exact = Decimal("1e-6")
    if (n, unblended.quantize(exact), amortized.quantize(exact)) != (
        MONTH_ROWS,
        UNBLENDED,
        AMORTIZED,
    ):
        raise SystemExit(f"{label}: a copy holds {n} rows, {unblended}, {amortized}")
    return n * copies, unblended * copies, amortized * copies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--target-gb", type=float, default=2.0, help="the .csv.gz part, 1e9 B")
    parser.add_argument("--work-dir", type=Path, default=Path(".finops/bench-csv-2gb"))
    args = parser.parse_args()
    if not REAL_SAMPLE.is_dir():
        print(f"skipped: the real CUR sample is not at {REAL_SAMPLE} (../shared/samples)")
        return
    work = args.work_dir.resolve()
    built = build(work, int(args.target_gb * 1e9))
    env = load_settings().environment
    store = LocalObjectStore(root=str(work / "buckets"))
    rows = built.copies * MONTH_ROWS
    figures: dict[str, tuple[float, float]] = {}
    loaded = {}
    for label, fmt in TENANTS.items():
        source = work / "sources" / label.replace("-", "_")
        org = f"big_{fmt.replace('-', '_')}"
        tenant = TenantConfig(org_id=org, source_path=str(source), cur_format=fmt)
        reset_peak_rss()
        took, result = timed_ingest(store, tenant, OCTOBER, env)
        figures[label] = (took, peak_rss_gb())
        print(f"{label}: {took:.1f} s, peak RSS {figures[label][1]:.2f} GB", flush=True)
        if result.profile.row_count != rows:
            raise SystemExit(f"{label}: {result.profile.row_count:,} rows, {rows:,} written")
        loaded[label] = check(label, per_copy_totals(store, result), built.copies)
        size = find_delivery(store, tenant, OCTOBER).total_bytes
        print(f"{label}: delivery {size / 1e9:.3f} GB, totals {loaded[label]}", flush=True)
    if loaded["legacy-csv"] != loaded["legacy"]:
        raise SystemExit(f"the CSV and the Parquet load differ: {loaded}")
    n, unblended, amortized = loaded["legacy-csv"]
    print(
        f"{built.copies} copies of the real October 2018 month: {n:,} rows, "
        f"unblended {unblended}, amortized {amortized} (both loads, exact)"
    )
    print(
        f"gzip CSV part: {built.csv_bytes / 1e9:.3f} GB compressed, "
        f"{built.csv_text_bytes / 1e9:.2f} GB of CSV text; Parquet twin "
        f"{built.parquet_bytes / 1e9:.3f} GB; DuckDB memory_limit {env.duckdb_memory_limit}, "
        f"threads {env.duckdb_threads}"
    )
    print(f"{'format':<11} {'seconds':>9} {'rows/s':>10} {'peak RSS GB':>12}")
    for label, (took, peak) in figures.items():
        print(f"{label:<11} {took:>9.1f} {rows / took:>10,.0f} {peak:>12.2f}")
    ratio = figures["legacy"][0] / figures["legacy-csv"][0]
    print(f"CSV/Parquet throughput: {ratio:.2f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
