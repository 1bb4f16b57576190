"""Issue 16, case 3 (last bullet): `finops run` SIGKILLed at eight moments, rerun after each.

Why: the other crash tests build a killed run's leftovers by hand (a staging folder, a version kept
aside, a half-written entry), so they hold only the leftovers someone thought of. Here a real
`finops run` process is killed with SIGKILL (its whole process group: no `finally`, no atexit, no
DuckDB thread cleans up) at eight named moments spread over the run: while the raw month is written
and published (one of them between the two renames of the swap), while tb_cur_raw is registered,
while cost_daily is written and published, just after cost_daily retired its old version, and when
the focus_cost view is defined but not yet checked through. After each kill the same `finops run`
is run again to completion. All eight kills hit one lake, so whatever one leaves is still there for
the next: after each rerun the totals must be exactly a clean load's (DECIMAL sums and row counts
of tb_cur_raw, of every curated table, of the central tables), and the lake (raw, curated,
`_staging`, `_replaced`, `_locks`) may hold at most 1.3x the bytes of the clean load.

The kill points are wrapped functions (finops_platform_tests/support/kill_points.py) installed
by a `sitecustomize.py` put on the killed process's PYTHONPATH only; the clean load and the
reruns are plain `finops run`s. Each kill is proved to have happened where it was meant to: the
process ended by SIGKILL, the kill point wrote its marker, and the last step `finops run` said
it started is the asset of that moment.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest

from finops_platform.definitions import build_definitions
from finops_platform.defs.common.partitions import partition_key
from finops_platform.defs.common.process_runs import IN_PROGRESS
from finops_platform.defs.consistency.sensors import SENSOR_NAME
from finops_platform.lake import REPLACED, beside_lake, raw_month
from finops_platform.resources import build_resources
from finops_platform.sample import generate_month
from finops_platform.settings import load_settings
from finops_platform_tests.conftest import REPO_ROOT, WriteConfig, tenant_entry
from finops_platform_tests.support.kill_points import (
    KILL_AT,
    KILL_CALL,
    KILL_MARKER,
    MOMENTS,
    Moment,
)
from finops_platform_tests.support.materialize import home_instance, query

ORG = "alpha"
OCTOBER = dt.date(2018, 10, 1)
ROWS = 1000
FINOPS = Path(sys.executable).parent / "finops"
RUN = ("run", "--tenant", ORG, "--month", f"{OCTOBER:%Y-%m}", "--format", "json")
MAX_GROWTH = 1.3
TIMEOUT_SECONDS = 180
# The step `finops run` says it starts, on stderr: "[1/1] alpha 2018-10: raw_cur ...".
STEP = re.compile(rf"^\[1/1\] {ORG} {OCTOBER:%Y-%m}: (\w+) \.\.\.$")
# (tenant, or None for the central database; table; a cost column) of every table a run writes.
TABLES = (
    (ORG, "tb_cur_raw", "line_item_unblended_cost"),
    (ORG, "cost_daily", "unblended_cost"),
    (ORG, "cost_by_tag", "unblended_cost"),
    (ORG, "cost_monthly_summary", "unblended_cost"),
    (ORG, "focus_cost", "BilledCost"),
    (None, "cost_daily", "unblended_cost"),
    (None, "cost_cross_org_monthly", "unblended_cost"),
)
# A kill at any other moment leaves bytes in the lake that the rerun must reclaim.
# A view is a catalog entry only.
LEAVES_NOTHING = {"cost_daily-retired", "focus_cost-defined"}


@dataclass(frozen=True)
class Finished:
    code: int
    stdout: str
    stderr: str

    @property
    def steps(self) -> list[str]:
        return [m.group(1) for line in self.stderr.splitlines() if (m := STEP.match(line))]


@dataclass(frozen=True)
class Observed:
    moment: str
    left_bytes: int  # the lake right after the kill
    after_bytes: int  # the lake after the rerun
    rerun_seconds: float
    catalog_temporary: int  # bytes of the catalog's temporary files after the rerun
    repair_requested: bool  # by the layer consistency sensor, right after the kill


def finops_run(env: dict[str, str], cwd: Path) -> Finished:
    """`finops run` of the one tenant x month, in a session (process group) of its own."""
    process = subprocess.Popen(
        [str(FINOPS), *RUN],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the group this test started, and only it
        process.communicate()
        raise
    return Finished(process.returncode, stdout, stderr)


def environment(hooks: Path | None = None, **extra: str) -> dict[str, str]:
    """The fixtures' FINOPS_HOME, DAGSTER_HOME, CONFIG_PATH and ENVIRONMENT; this checkout's
    package first on the path, and the kill points' sitecustomize before it when given."""
    env = {k: v for k, v in os.environ.items() if k not in (KILL_AT, KILL_CALL, KILL_MARKER)}
    inherited = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    first = [str(hooks)] if hooks else []
    env["PYTHONPATH"] = os.pathsep.join([*first, str(REPO_ROOT), *inherited])
    return {**env, **extra}


def assert_complete(run: Finished) -> None:
    """The run exited 0 with both partitions ok and every check passed."""
    assert run.code == 0, run.stderr[-3000:]
    rows = json.loads(run.stdout)
    assert [(r["tenant"], r["status"]) for r in rows] == [(ORG, "ok"), ("(all tenants)", "ok")]
    for row in rows:
        passed, total = re.fullmatch(r"(\d+)/(\d+) passed", row["checks"]).groups()
        assert passed == total, row


def lake_path(uri: str = "") -> Path:
    """Where the lake (or `uri` in it) is on disk."""
    settings = load_settings()
    return build_resources(settings)["store"].local_path(uri or settings.environment.lake_root)


def lake_bytes() -> int:
    """Everything the lake holds: raw and curated months, `_staging`, `_replaced`, `_locks`."""
    return sum(p.stat().st_size for p in lake_path().rglob("*") if p.is_file())


def catalog_temporary_files() -> list[Path]:
    """Temporary files of the local catalog (an entry is written to one, then renamed)."""
    root = Path(build_resources(load_settings())["catalog"].root)
    return sorted(root.rglob(".*.tmp"))


def raw_month_on_disk() -> Path:
    return lake_path(raw_month(load_settings().environment.lake_root, ORG, OCTOBER))


def figures() -> dict[str, tuple[int, Decimal]]:
    """Row count and exact DECIMAL cost total of every table, through the query engine."""
    found = {}
    for org, table, column in TABLES:
        sql = f"SELECT count(*) AS n, sum(CAST({column} AS DECIMAL(38, 10))) AS cost FROM {table}"
        (row,) = query(org, sql)
        found[f"{org or 'central'}.{table}"] = (row["n"], row["cost"])
    return found


def killed_at(moment: Moment, hooks: Path, cwd: Path) -> Finished:
    """`finops run` killed at `moment`, proved to have died there."""
    marker = cwd / f"killed-{moment.name}.json"
    run = finops_run(environment(hooks, **{KILL_AT: moment.name, KILL_MARKER: str(marker)}), cwd)
    assert run.code == -signal.SIGKILL, (moment.name, run.code, run.stderr[-3000:])
    assert marker.is_file(), f"{moment.name}: killed, but not by its kill point"
    record = json.loads(marker.read_text())
    assert record["moment"] == moment.name
    assert run.steps and run.steps[-1] == moment.step, (moment.name, run.steps)
    assert run.stdout == ""  # no summary: the run never finished
    if moment.name == "raw-mid-swap":  # between the renames: the live month is moved aside
        assert not raw_month_on_disk().exists()
        assert beside_lake(raw_month_on_disk(), REPLACED).is_dir()
    if moment.name == "tb_cur_raw-temp-written":  # the entry's temporary file, not renamed
        assert Path(record["detail"].split(" -> ")[0]).is_file()
    return run


def table(clean: dict[str, tuple[int, Decimal]], clean_bytes: int, seen: list[Observed]) -> str:
    lines = [f"clean load: lake {clean_bytes:,} bytes"]
    lines += [f"  {name}: {n:,} rows, {cost}" for name, (n, cost) in clean.items()]
    head = ("moment", "after kill", "after rerun", "ratio", "rerun s", "catalog tmp", "repair")
    lines.append("{:<24} {:>12} {:>12} {:>6} {:>8} {:>12} {:>6}".format(*head))
    lines += [
        f"{o.moment:<24} {o.left_bytes:>12,} {o.after_bytes:>12,} "
        f"{o.after_bytes / clean_bytes:>6.3f} {o.rerun_seconds:>8.1f} {o.catalog_temporary:>12,} "
        f"{'yes' if o.repair_requested else 'no':>6}"
        for o in seen
    ]
    return "\n".join(lines)


def layer_tick() -> tuple[list[str], int]:
    """One tick of the layer consistency sensor, in this process on the killed run's instance:
    the partitions it requests a repair of, and how many runs are still in progress after it
    (it first reports failed the runs of `finops run` processes that died)."""
    defs = build_definitions(load_settings())
    sensor = defs.resolve_sensor_def(SENSOR_NAME)
    with (
        home_instance() as instance,
        dg.build_sensor_context(
            instance=instance, definitions=defs, resources=defs.resources
        ) as context,
    ):
        data = sensor.evaluate_tick(context)
        in_progress = len(instance.get_runs(filters=dg.RunsFilter(statuses=IN_PROGRESS)))
    return [str(r.partition_key) for r in data.run_requests or []], in_progress


@pytest.fixture
def delivered(tmp_path: Path, finops_home: Path, write_config: WriteConfig) -> Decimal:
    """One tenant with a small generated October 2018 delivery; its exact unblended total."""
    source = tmp_path / "source"
    delivery = generate_month(source, month=OCTOBER, rows=ROWS, fmt="legacy", seed=16)
    write_config(
        [
            tenant_entry(
                ORG,
                source,
                first_billing_month=f"{OCTOBER:%Y-%m}",
                cost_allocation_tags=["CostCenter", "Environment"],
            )
        ]
    )
    return delivery.unblended_total


def test_killed_at_eight_moments_each_rerun_restores_the_clean_load(
    delivered: Decimal, tmp_path: Path
) -> None:
    assert [m.name for m in MOMENTS] == list(dict.fromkeys(m.name for m in MOMENTS))
    assert len(MOMENTS) == 8
    hooks = tmp_path / "kill_points"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(
        "from finops_platform_tests.support.kill_points import install\n\ninstall()\n",
        encoding="utf-8",
    )

    assert_complete(finops_run(environment(), tmp_path))
    clean = figures()
    clean_bytes = lake_bytes()
    assert clean[f"{ORG}.tb_cur_raw"] == (ROWS, delivered)
    assert all(n > 0 and cost > 0 for n, cost in clean.values()), clean
    assert clean[f"{ORG}.cost_daily"][1] == delivered

    seen: list[Observed] = []
    for moment in MOMENTS:
        killed_at(moment, hooks, tmp_path)
        left = lake_bytes()
        if moment.name not in LEAVES_NOTHING:
            assert left > clean_bytes, (moment.name, left, clean_bytes)
        # The killed run is not left in progress for good; a repair is requested of its month
        # when the kill left its layers apart, never of another.
        requested, in_progress = layer_tick()
        assert in_progress == 0, moment.name
        assert set(requested) <= {str(partition_key(ORG, OCTOBER))}, (moment.name, requested)
        started = time.monotonic()
        rerun = finops_run(environment(), tmp_path)
        seconds = time.monotonic() - started
        # Recorded, not asserted: the catalog is not the lake, and a kill between writing an
        # entry's temporary file and renaming it leaves that file (a few KB) for good.
        temporary = sum(p.stat().st_size for p in catalog_temporary_files())
        seen.append(Observed(moment.name, left, lake_bytes(), seconds, temporary, bool(requested)))
        report = table(clean, clean_bytes, seen)
        assert_complete(rerun)
        assert layer_tick() == ([], 0), report  # the rerun left every layer at one version
        assert figures() == clean, report
        assert seen[-1].after_bytes <= MAX_GROWTH * clean_bytes, report
    print(report)  # the figures of RELIABILITY.md (pytest -s shows them)
