"""Workload 5, orchestration overhead: a backfill of tenants x months of small data.

The product's way, as `finops run` does it: one in-process Dagster run per tenant over its
range of months (`runner.run_tenant_months`, a single-run backfill), recorded in a SQLite
instance. Overhead = wall time minus the time Dagster measured inside the steps, per partition.
For reference, the same partitions of a trivial asset show what Dagster itself costs on this
machine: one run per partition, and one run for all of them (`BackfillPolicy.single_run()`
over the partition rectangle).
"""

import datetime as dt
import time
from pathlib import Path
from typing import Any

import dagster as dg

from benchmarks.home import BenchHome, bench_home, step_seconds
from benchmarks.measure import Timer
from finops_platform.defs.common.partitions import partition_key, tenant_month_partitions
from finops_platform.runner import run_tenant_months


def run(params: dict[str, Any], timer: Timer) -> dict[str, Any]:
    sources = {org: Path(source) for org, source in params["sources"].items()}
    months = [dt.date.fromisoformat(m) for m in params["months"]]
    partitions = [(org, month) for org in sources for month in months]
    with bench_home(Path(params["scratch"]), sources) as home:
        run_ids = set()
        with timer:
            for org in sources:
                for report in run_tenant_months(home.defs, home.instance, org, months):
                    if not report.ok:
                        raise RuntimeError(f"the backfill of {org} failed: {report}")
                    run_ids.add(report.run_id)
        in_steps = sum(sum(step_seconds(home.instance, i).values()) for i in run_ids)
        trivial = trivial_asset_costs(home, list(sources), months)
    count = len(partitions)
    return {
        "partitions": count,
        "tenants": len(sources),
        "months": len(months),
        "rows_per_month": params["rows"],
        "runs": len(run_ids),
        "seconds_per_partition": timer.seconds / count,
        "step_seconds_per_partition": in_steps / count,
        "overhead_per_partition": (timer.seconds - in_steps) / count,
        **trivial,
    }


def trivial_asset_costs(home: BenchHome, orgs: list[str], months: list[dt.date]) -> dict[str, Any]:
    """Seconds per partition of an asset that does nothing: a run each, and one single run."""
    partitions_def = tenant_month_partitions(home.settings)

    @dg.asset(partitions_def=partitions_def, backfill_policy=dg.BackfillPolicy.single_run())
    def trivial() -> None:
        return None

    keys = [partition_key(org, month) for org in orgs for month in months]
    start = time.perf_counter()
    for key in keys:
        dg.materialize([trivial], instance=home.instance, partition_key=key)
    per_run = (time.perf_counter() - start) / len(keys)
    # A range of a tenant x month partitioning is the rectangle between its corner keys.
    start = time.perf_counter()
    result = dg.materialize(
        [trivial],
        instance=home.instance,
        tags={
            "dagster/asset_partition_range_start": str(partition_key(orgs[0], months[0])),
            "dagster/asset_partition_range_end": str(partition_key(orgs[-1], months[-1])),
        },
    )
    single_run = (time.perf_counter() - start) / len(keys)
    if len(result.get_asset_materialization_events()) != len(keys):
        raise RuntimeError("the single-run backfill did not cover every partition")
    return {
        "trivial_run_per_partition": per_run,
        "trivial_single_run_per_partition": single_run,
    }
