"""Runs of a `finops run` process that died: marked failed, not left in progress for good.

`finops run` executes its runs inside its own process (`execute_in_process`). Killed (SIGKILL, a
power cut), it leaves them STARTED for good: Dagster's run monitoring watches only runs that a
run launcher started. Their partitions would then look in progress forever, so the layer
consistency sensor would never repair them and the cross-org automation would wait. Each
`finops run` therefore holds a lock file for its life and tags its runs with it (and the host);
a run still in progress whose lock nobody holds belongs to a dead process and is reported failed
(which the run failure alerts then announce).
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from finops_platform.lib.locks import file_lock, is_held

PROCESS_LOCK_TAG = "finops/process_lock"
HOST_TAG = "finops/host"
IN_PROGRESS = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


@contextmanager
def process_lock(folder: Path) -> Iterator[dict[str, str]]:
    """The run tags of this process's runs, naming a lock it holds until the context ends."""
    path = folder / f"{uuid.uuid4().hex}.lock"
    with file_lock(path):
        try:
            yield {PROCESS_LOCK_TAG: str(path), HOST_TAG: socket.gethostname()}
        finally:
            path.unlink(missing_ok=True)


def fail_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Report failed every run in progress whose `finops run` process (on this host) is gone;
    returns their run ids."""
    host = socket.gethostname()
    dead, locks = [], set()
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=IN_PROGRESS)):
        lock = run.tags.get(PROCESS_LOCK_TAG)
        if lock is None or run.tags.get(HOST_TAG) != host or is_held(Path(lock)):
            continue
        instance.report_run_failed(
            run, message="the `finops run` process running it ended before it did (killed?)"
        )
        dead.append(run.run_id)
        locks.add(Path(lock))
    for lock in locks:
        lock.unlink(missing_ok=True)
    return dead
