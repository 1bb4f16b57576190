"""Run one workload sample in a fresh Python process and collect what it measured.

A fresh process per sample keeps one workload's peak RSS (and its warm caches of imported
modules) out of the next one's figures. The child times only the work itself, inside a `Timer`,
and reports its own peak RSS (VmHWM), which includes the libraries it imported.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Sample:
    seconds: float
    peak_rss: int  # bytes
    baseline_rss: int  # bytes, after imports and set-up, before the timed work
    details: dict[str, Any] = field(default_factory=dict)


class Timer:
    """Times the block it wraps and notes the process's RSS when the block starts."""

    seconds = 0.0
    baseline_rss = 0

    def __enter__(self) -> Timer:
        self.baseline_rss = proc_status_bytes("VmRSS")
        self._start = time.perf_counter()
        return self

    def elapsed(self) -> float:
        """Seconds since the block started (for a split time inside it)."""
        return time.perf_counter() - self._start

    def __exit__(self, *exc: object) -> None:
        self.seconds = self.elapsed()


def proc_status_bytes(field_name: str) -> int:
    """A memory figure of this process from /proc/self/status (Linux), in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field_name} not in /proc/self/status")


def run_sample(workload: str, params: dict[str, Any], work_dir: Path) -> Sample:
    """One sample of `workload` in a child process; its scratch files live in `work_dir`."""
    work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work_dir, prefix=f"{workload}-") as scratch:
        result_path = Path(scratch) / "result.json"
        log_path = Path(scratch) / "worker.log"
        with log_path.open("w") as log:
            child = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.worker",
                    workload,
                    json.dumps({**params, "scratch": scratch}),
                    str(result_path),
                ],
                cwd=REPO_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=False,
            )
        if child.returncode != 0 or not result_path.is_file():
            tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-30:])
            raise RuntimeError(f"workload {workload} failed (exit {child.returncode}):\n{tail}")
        return Sample(**json.loads(result_path.read_text()))


def median_sample(samples: list[Sample]) -> Sample:
    """Median time and median peak RSS; details from the sample with the median time, plus
    every sample's time and peak RSS."""
    by_time = sorted(samples, key=lambda s: s.seconds)
    middle = by_time[(len(by_time) - 1) // 2]
    return Sample(
        seconds=statistics.median(s.seconds for s in samples),
        peak_rss=int(statistics.median(s.peak_rss for s in samples)),
        baseline_rss=int(statistics.median(s.baseline_rss for s in samples)),
        details={
            **middle.details,
            "samples_seconds": [round(s.seconds, 3) for s in samples],
            "samples_peak_rss": [s.peak_rss for s in samples],
        },
    )
