"""raw_cur's ingest of a CUR 2.0 month passed through (issue 18) against the floor.

One generated CUR 2.0 Parquet month (`generate_month(..., fmt="cur2")`) in a tenant's local
source folder, then, interleaved in this one process, `--samples` times each:
- pass-through: `ingest_month` as raw_cur runs it in the embedded mode (the delivery's footers
  read, its files copied byte for byte into staging, the month's checks run as queries over
  them, the version published);
- normalized: the same with pass-through turned off (the normalizing SELECT rewrites the month);
- floor (benchmarks/floor.py): a bare DuckDB copy of the month's files into one Parquet file.
The same DuckDB settings everywhere (2 GB, 2 threads unless given). Prints each sample, the
medians and their ratios to the floor's.

    python -m benchmarks.passthrough [--rows 1000000] [--samples 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks import floor
from benchmarks.measure import Timer
from finops_platform.lib.cur.ingest import ingest_month
from finops_platform.lib.store import LocalObjectStore
from finops_platform.sample import generate_month
from finops_platform.settings import TenantConfig

MONTH = dt.date(2026, 9, 1)
LAKE_ROOT = "s3://finops-lake/"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--memory-limit", default="2GB")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="passthrough-") as work:
        source = Path(work, "source")
        delivery = generate_month(source, month=MONTH, rows=args.rows, fmt="cur2", seed=7)
        size = sum(p.stat().st_size for p in delivery.data_files)
        print(
            f"CUR 2.0 month: {args.rows:,} rows, {len(delivery.data_files)} file(s), "
            f"{size:,} bytes; {args.memory_limit}, {args.threads} threads"
        )
        tenant = TenantConfig(org_id="acme", source_path=str(source))
        store = LocalObjectStore(root=str(Path(work, "buckets")))
        times: dict[str, list[float]] = {"pass-through": [], "normalized": [], "floor": []}
        for sample in range(args.samples):
            for name in times:
                if name == "floor":
                    timer = Timer()
                    with tempfile.TemporaryDirectory(dir=work) as scratch:
                        params = {
                            "files": [str(p) for p in delivery.data_files],
                            "rows": args.rows,
                            "scratch": scratch,
                            "memory_limit": args.memory_limit,
                            "threads": args.threads,
                        }
                        floor.run(params, timer)
                    seconds = timer.seconds
                else:
                    started = time.perf_counter()
                    result = ingest_month(
                        store,
                        tenant,
                        MONTH,
                        LAKE_ROOT,
                        memory_limit=args.memory_limit,
                        threads=args.threads,
                        pass_through=name == "pass-through",
                    )
                    seconds = time.perf_counter() - started
                    assert result.mode == name, (result.mode, result.mode_reason)
                    assert result.profile.unblended_cost == delivery.unblended_total
                times[name].append(seconds)
                print(f"sample {sample + 1}: {name}: {seconds:.2f} s")
    medians = {name: statistics.median(values) for name, values in times.items()}
    print("| workload | median s | samples s | / floor |")
    print("| --- | --- | --- | --- |")
    for name, values in times.items():
        listed = ", ".join(f"{v:.2f}" for v in values)
        print(
            f"| {name} | {medians[name]:.2f} | {listed} | {medians[name] / medians['floor']:.3f} |"
        )


if __name__ == "__main__":
    main()
