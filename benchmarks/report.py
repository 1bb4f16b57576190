"""The benchmark's tables, its verdict on the issue's targets, and the machine it ran on."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from tabulate import tabulate

from benchmarks.measure import Sample

GB = 1e9


@dataclass(frozen=True)
class Results:
    """Median samples: per month size the month workloads, plus the backfill and pruning."""

    by_size: dict[int, dict[str, Sample]]
    backfill: Sample
    pruning: Sample
    focus_export: Sample  # at the largest size

    @property
    def largest(self) -> int:
        return max(self.by_size)


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_kb * 1024 / GB, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        **{name: version(name) for name in ("duckdb", "dagster", "pyarrow", "pandas")},
    }


def rows_label(n: int) -> str:
    return f"{n / 1e6:g}M" if n >= 1_000_000 else f"{n / 1e3:g}k"


def _gb(n: float) -> str:
    return f"{n / GB:.2f} GB"


def month_table(results: Results) -> str:
    """Workloads 1-3 side by side at every size."""
    lines = []
    for size, w in sorted(results.by_size.items()):
        pipeline, floor, pandas = w["pipeline"], w["floor"], w["pandas"]
        lines.append(
            [
                rows_label(size),
                f"{pipeline.seconds:.1f}",
                f"{size / pipeline.seconds:,.0f}",
                _gb(pipeline.peak_rss),
                f"{floor.seconds:.1f}",
                _gb(floor.peak_rss),
                f"{pandas.seconds:.1f}",
                _gb(pandas.peak_rss),
                f"{pipeline.seconds / floor.seconds:.2f}",
                f"{pandas.seconds / pipeline.seconds:.2f}",
                f"{pipeline.peak_rss / pandas.peak_rss:.2f}",
            ]
        )
    headers = [
        "rows",
        "pipeline s",
        "pipeline rows/s",
        "pipeline peak RSS",
        "floor s",
        "floor peak RSS",
        "pandas s",
        "pandas peak RSS",
        "pipeline/floor",
        "pandas/pipeline",
        "RSS pipeline/pandas",
    ]
    return tabulate(lines, headers=headers, disable_numparse=True, tablefmt="github")


def scaling_table(results: Results) -> str:
    """Workload 4: rows/s and peak RSS as the month grows, relative to the smallest size."""
    sizes = sorted(results.by_size)
    first = results.by_size[sizes[0]]["pipeline"]
    lines = []
    for size in sizes:
        sample = results.by_size[size]["pipeline"]
        lines.append(
            [
                rows_label(size),
                f"{size / sample.seconds:,.0f}",
                f"{(size / sample.seconds) / (sizes[0] / first.seconds):.2f}",
                _gb(sample.peak_rss),
                f"{sample.peak_rss / first.peak_rss:.2f}",
                _gb(sample.baseline_rss),
            ]
        )
    headers = ["rows", "rows/s", "x smallest", "peak RSS", "x smallest", "RSS before the run"]
    return tabulate(lines, headers=headers, disable_numparse=True, tablefmt="github")


def backfill_table(results: Results) -> str:
    """Workload 5: the product's backfill and, for reference, Dagster's own cost."""
    d = results.backfill.details
    lines = [
        ["partitions (tenants x months)", f"{d['partitions']} ({d['tenants']} x {d['months']})"],
        ["rows per month", f"{d['rows_per_month']:,}"],
        ["Dagster runs (one per tenant: single-run backfill)", f"{d['runs']}"],
        ["total wall time", f"{results.backfill.seconds:.1f} s"],
        ["wall time per partition", f"{d['seconds_per_partition']:.2f} s"],
        [
            "in steps (Dagster's step durations) per partition",
            f"{d['step_seconds_per_partition']:.2f} s",
        ],
        ["orchestration overhead per partition", f"{d['overhead_per_partition']:.3f} s"],
        ["trivial asset, one run per partition", f"{d['trivial_run_per_partition']:.2f} s"],
        [
            "trivial asset, single-run backfill, per partition",
            f"{d['trivial_single_run_per_partition']:.3f} s",
        ],
    ]
    return tabulate(lines, headers=["backfill", "value"], tablefmt="github")


def pruning_table(results: Results) -> str:
    """Workload 6: what the one-month query reads against the whole table's."""
    d = results.pruning.details
    lines = [
        [
            label,
            f"{scan['bytes_read'] / 1e6:,.1f} MB",
            scan["files_read"],
            f"{scan['rows_scanned']:,}",
            f"{scan['seconds']:.2f}",
        ]
        for label, scan in (
            (f"one tenant-month (of {d['months']})", d["one_month"]),
            (f"whole tenant table ({d['months']} months)", d["whole_table"]),
        )
    ]
    headers = ["cost_daily query over", "bytes read", "files read", "rows scanned", "seconds"]
    return tabulate(lines, headers=headers, disable_numparse=True, tablefmt="github")


def targets(results: Results) -> list[dict[str, Any]]:
    """The issue's targets, judged at the largest size measured (the issue's is 20M rows)."""
    largest = results.by_size[results.largest]
    quarter = results.by_size[min(results.by_size, key=lambda n: abs(n - results.largest / 4))]
    pipeline, floor, pandas = largest["pipeline"], largest["floor"], largest["pandas"]
    checks = [
        ("pipeline / floor time", pipeline.seconds / floor.seconds, "<=", 2.0),
        ("pandas / pipeline time", pandas.seconds / pipeline.seconds, ">=", 4.0),
        ("pipeline / pandas peak RSS", pipeline.peak_rss / pandas.peak_rss, "<", 1 / 3),
        ("pipeline peak RSS (GB)", pipeline.peak_rss / GB, "<=", 2.0),
        (
            "peak RSS largest / quarter size",
            pipeline.peak_rss / quarter["pipeline"].peak_rss,
            "<=",
            1.3,
        ),
        (
            "orchestration overhead per partition (s)",
            results.backfill.details["overhead_per_partition"],
            "<=",
            0.25,
        ),
        ("one-month / whole-table bytes read", results.pruning.details["bytes_ratio"], "<=", 0.1),
    ]
    compare = {"<=": float.__le__, ">=": float.__ge__, "<": float.__lt__}
    return [
        {
            "target": name,
            "measured": round(value, 3),
            "goal": f"{op} {goal:.3g}",
            "met": compare[op](float(value), goal),
        }
        for name, value, op, goal in checks
    ]


def focus_export_table(results: Results) -> str:
    """Workload 7: the month's FOCUS line items written to Parquet, against the floor's copy."""
    sample = results.focus_export
    floor = results.by_size[results.largest]["floor"]
    line = [
        f"{sample.details['rows']:,}",
        f"{sample.details['line_items']:,}",
        f"{sample.seconds:.1f}",
        f"{sample.details['bytes_written'] / 1e6:.1f} MB",
        _gb(sample.peak_rss),
        f"{sample.seconds / floor.seconds:.2f}",
    ]
    headers = ["FOCUS rows", "line items", "export s", "file", "peak RSS", "export/floor"]
    return tabulate([line], headers=headers, disable_numparse=True, tablefmt="github")


def targets_table(verdicts: list[dict[str, Any]], rows: int) -> str:
    lines = [
        [v["target"], v["measured"], v["goal"], "met" if v["met"] else "MISSED"] for v in verdicts
    ]
    headers = [f"target (at {rows_label(rows)} rows)", "measured", "goal", "verdict"]
    return tabulate(lines, headers=headers, disable_numparse=True, tablefmt="github")


def render(results: Results, verdicts: list[dict[str, Any]], repeat: int) -> str:
    """Every table, with the headings BENCHMARKS.md uses."""
    backfill = results.backfill.details
    notes = [f"Medians of {repeat} sample(s) per workload, each in a fresh process."]
    if backfill["months"] < 24:
        notes.append(
            f"Quick mode: the backfill covers {backfill['tenants']} tenants x "
            f"{backfill['months']} months (24 months in a full run)."
        )
    if results.largest != 20_000_000:
        notes.append("The issue's targets are set for 20M rows; judged here at the largest size.")
    sections = [
        ("Tenant-month pipeline, floor and pandas (workloads 1-3)", month_table(results)),
        ("Scaling of the pipeline (workload 4)", scaling_table(results)),
        ("Orchestration overhead (workload 5)", backfill_table(results)),
        ("Partition pruning (workload 6)", pruning_table(results)),
        ("FOCUS export of the line items (workload 7)", focus_export_table(results)),
        ("Targets", targets_table(verdicts, results.largest)),
    ]
    body = "\n\n".join(f"## {title}\n\n{table}" for title, table in sections)
    return "\n".join(notes) + "\n\n" + body
