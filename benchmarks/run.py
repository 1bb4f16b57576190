"""`python -m benchmarks.run --rows N`: every benchmark workload, a table and a JSON file.

The month workloads (pipeline, floor, pandas) run at N/20, N/4 and N rows, so `--rows 20000000`
measures 1M, 5M and 20M, and the scaling workload compares them. Each workload runs `--repeat`
times, each sample in a fresh process; the figures are medians. Data is generated once (and
kept for the next run) under `--work-dir`, which is git-ignored by default.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.data import Delivery, data_files, ensure_delivery
from benchmarks.measure import REPO_ROOT, Sample, median_sample, run_sample
from finops_platform.sample import MIN_ROWS
from finops_platform.settings import load_environment

PIPELINE_MONTH = dt.date(2025, 12, 1)
HISTORY_START = dt.date(2025, 1, 1)  # the pruning workload's 12 months
BACKFILL_START = dt.date(2024, 1, 1)
BACKFILL_TENANTS = ("bench_a", "bench_b", "bench_c")
BACKFILL_ROWS = 1_000  # "small data": the backfill measures orchestration, not the engine
# Below this many rows the run is the quick mode: one sample each and a shorter backfill keep it
# under two minutes.
QUICK_ROWS = 1_000_000
QUICK_BACKFILL_MONTHS = 2


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--rows", type=int, required=True, help="rows of the largest month")
    parser.add_argument(
        "--repeat",
        type=int,
        help="samples per workload, the figures are medians (default 3; 1 in the quick mode, "
        f"--rows below {QUICK_ROWS:,})",
    )
    parser.add_argument(
        "--backfill-months",
        type=int,
        help=f"months per tenant in the backfill (default 24; {QUICK_BACKFILL_MONTHS} in the "
        "quick mode)",
    )
    parser.add_argument("--work-dir", type=Path, default=REPO_ROOT / ".finops" / "benchmarks")
    parser.add_argument("--json", type=Path, help="default: <work-dir>/results.json")
    args = parser.parse_args(argv)
    quick = args.rows < QUICK_ROWS
    if args.repeat is None:
        args.repeat = 1 if quick else 3
    if args.backfill_months is None:
        args.backfill_months = QUICK_BACKFILL_MONTHS if quick else 24
    if args.rows // 20 < MIN_ROWS or args.repeat < 1 or args.backfill_months < 1:
        parser.error(
            f"--rows must be at least {20 * MIN_ROWS}, --repeat and --backfill-months at least 1"
        )
    args.json = args.json or args.work_dir / "results.json"
    return args


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def one_sample(
    workload: str, params: dict[str, Any], args: argparse.Namespace, label: str, index: int
) -> Sample:
    found = run_sample(workload, params, args.work_dir / "scratch")
    progress(f"  {label}: sample {index + 1}/{args.repeat}: {found.seconds:.2f} s")
    return found


def repeated(workload: str, params: dict[str, Any], args: argparse.Namespace) -> Sample:
    return median_sample(
        [one_sample(workload, params, args, workload, index) for index in range(args.repeat)]
    )


def month_workloads(size: int, delivery: Delivery, args: argparse.Namespace) -> dict[str, Sample]:
    """Floor, pipeline and pandas on one month of `size` rows."""
    env = load_environment("dev", REPO_ROOT / "config")
    files = [str(f) for f in data_files(delivery.source)]
    base = {"rows": size, "month": PIPELINE_MONTH.isoformat(), "source": str(delivery.source)}
    params = {
        "floor": {
            **base,
            "files": files,
            "memory_limit": env.duckdb_memory_limit,
            "threads": env.duckdb_threads,
        },
        "pipeline": base,
        "pandas": {**base, "files": files},
    }
    # Interleaved, so a slow spell of this noisy machine hits every workload alike.
    samples: dict[str, list[Sample]] = {name: [] for name in params}
    for index in range(args.repeat):
        for name, workload_params in params.items():
            label = f"{report.rows_label(size)} {name}"
            samples[name].append(one_sample(name, workload_params, args, label, index))
    return {name: median_sample(found) for name, found in samples.items()}


def run_all(args: argparse.Namespace) -> report.Results:
    data = args.work_dir / "data"
    sizes = sorted({args.rows // 20, args.rows // 4, args.rows})
    progress(f"generating data (reused when already there) under {data} ...")
    months = {
        size: ensure_delivery(data / f"month-{size}", PIPELINE_MONTH, 1, size) for size in sizes
    }
    history = ensure_delivery(data / f"history-{sizes[0]}", HISTORY_START, 12, sizes[0])
    backfill = {
        org: ensure_delivery(
            data / f"backfill-{org}", BACKFILL_START, args.backfill_months, BACKFILL_ROWS
        )
        for org in BACKFILL_TENANTS
    }
    by_size = {}
    for size in sizes:
        progress(f"month workloads at {report.rows_label(size)} rows ...")
        by_size[size] = month_workloads(size, months[size], args)
    progress(
        f"backfill: {len(backfill)} tenants x {args.backfill_months} months of "
        f"{BACKFILL_ROWS:,} rows ..."
    )
    backfill_sample = repeated(
        "backfill",
        {
            "sources": {org: str(d.source) for org, d in backfill.items()},
            "months": [m.isoformat() for m in backfill[BACKFILL_TENANTS[0]].month_list],
            "rows": BACKFILL_ROWS,
        },
        args,
    )
    progress(f"partition pruning: 12 months of {report.rows_label(sizes[0])} rows ...")
    pruning_sample = repeated(
        "pruning",
        {
            "source": str(history.source),
            "months": [m.isoformat() for m in history.month_list],
            "rows": sizes[0],
        },
        args,
    )
    largest = max(sizes)
    progress(f"FOCUS export of the line items at {report.rows_label(largest)} rows ...")
    export_sample = repeated(
        "focus_export",
        {
            "rows": largest,
            "month": PIPELINE_MONTH.isoformat(),
            "source": str(months[largest].source),
        },
        args,
    )
    return report.Results(by_size, backfill_sample, pruning_sample, export_sample)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    results = run_all(args)
    verdicts = report.targets(results)
    print(report.render(results, verdicts, args.repeat))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    summary = {
        "command": " ".join(["python -m benchmarks.run", *argv]),
        "machine": report.machine(),
        "repeat": args.repeat,
        "month_workloads": {
            str(size): {name: asdict(sample) for name, sample in workloads.items()}
            for size, workloads in results.by_size.items()
        },
        "backfill": asdict(results.backfill),
        "pruning": asdict(results.pruning),
        "focus_export": asdict(results.focus_export),
        "targets": verdicts,
    }
    args.json.write_text(json.dumps(summary, indent=2, default=str))
    print(f"\nresults: {args.json}")


if __name__ == "__main__":
    main()
