"""Child process entry: `python -m benchmarks.worker WORKLOAD PARAMS_JSON RESULT_PATH`.

Runs one sample of one workload and writes a `Sample` as JSON to RESULT_PATH.
"""

from __future__ import annotations

import importlib
import json
import sys
from dataclasses import asdict
from pathlib import Path

from benchmarks.measure import Sample, Timer, proc_status_bytes

# Imported on demand: the pandas sample must not carry Dagster's memory, nor the floor pandas'.
WORKLOADS = {
    "pipeline": "benchmarks.pipeline",
    "floor": "benchmarks.floor",
    "pandas": "benchmarks.pandas_way",
    "backfill": "benchmarks.backfill",
    "pruning": "benchmarks.pruning",
    "focus_export": "benchmarks.focus_export",
}


def main(workload: str, params_json: str, result_path: str) -> None:
    timer = Timer()
    module = importlib.import_module(WORKLOADS[workload])
    details = module.run(json.loads(params_json), timer)
    sample = Sample(
        seconds=timer.seconds,
        peak_rss=proc_status_bytes("VmHWM"),
        baseline_rss=timer.baseline_rss,
        details=details,
    )
    Path(result_path).write_text(json.dumps(asdict(sample), default=str))


if __name__ == "__main__":
    main(*sys.argv[1:])
