"""Named moments of a `finops run` at which the process SIGKILLs itself, for crash tests.

A test puts a `sitecustomize.py` calling `install()` on the PYTHONPATH of a `finops run` it
starts in a session of its own and names a moment in `FINOPS_TEST_KILL_AT`. `install` wraps the
functions the run passes through (the normalizer's write, the local store's publish, its swap
renames and retire, the local catalog's partition writes); when the named moment is reached for
the `FINOPS_TEST_KILL_CALL`th time (default 1) it records the moment in the file
`FINOPS_TEST_KILL_MARKER` and kills its own process group with SIGKILL, so nothing of the run
(no `finally`, no atexit, no DuckDB thread) gets to clean up, as when a machine dies.

Nothing is wrapped unless `FINOPS_TEST_KILL_AT` names a moment in `MOMENTS`.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finops_platform.lake import REPLACED, beside_lake, curated_location, raw_table_location

KILL_AT = "FINOPS_TEST_KILL_AT"
KILL_CALL = "FINOPS_TEST_KILL_CALL"
KILL_MARKER = "FINOPS_TEST_KILL_MARKER"

# Parts of the URIs the wrapped functions see, from the lake's own layout (lake.py).
RAW = f"{Path(raw_table_location('/', '_')).parent}/"  # /custos/cur/
REPLACED_RAW = f"{beside_lake(Path(RAW, '_'), REPLACED).parent}/"  # /custos/_replaced/cur/


def curated(table: str) -> str:
    """What a curated table's partition URIs hold."""
    return curated_location("/", table)


@dataclass(frozen=True)
class Moment:
    name: str
    step: str  # the asset whose step is running when the moment comes
    what: str


# In the order a run reaches them.
MOMENTS = (
    Moment(
        "raw-staged",
        "raw_cur",
        "raw write: the normalized month is written in staging, not yet validated or published",
    ),
    Moment(
        "raw-mid-swap",
        "raw_cur",
        "raw publish, mid-swap: the live month moved aside, the new one not yet renamed in",
    ),
    Moment(
        "raw-published",
        "raw_cur",
        "raw publish: the new month swapped in, the old kept aside; raw_cur not yet recorded",
    ),
    Moment(
        "tb_cur_raw-temp-written",
        "tb_cur_raw",
        "catalog: tb_cur_raw's partition entry written to its temporary file, not renamed",
    ),
    Moment(
        "tb_cur_raw-registered",
        "tb_cur_raw",
        "catalog: tb_cur_raw's partition registered, the old raw version not yet retired",
    ),
    Moment(
        "cost_daily-staged",
        "cost_daily",
        "curated write: cost_daily's new version written in staging, not yet published",
    ),
    Moment(
        "cost_daily-retired",
        "cost_daily",
        "after retire: cost_daily swapped, registered and its old version removed; its "
        "materialization not yet recorded, cost_by_tag not started",
    ),
    Moment(
        "focus_cost-defined",
        "focus_cost",
        "curated view: focus_cost defined in the catalog, not yet checked through",
    ),
)
NAMES = {moment.name for moment in MOMENTS}


class _Killer:
    def __init__(self, moment: str, call: int, marker: Path) -> None:
        self.moment = moment
        self.call = call
        self.marker = marker
        self.seen = 0

    def reached(self, moment: str, detail: str) -> None:
        if moment != self.moment:
            return
        self.seen += 1
        if self.seen < self.call:
            return
        record = {"moment": moment, "call": self.seen, "detail": detail, "pid": os.getpid()}
        with open(self.marker, "w", encoding="utf-8") as out:
            json.dump(record, out)
            out.flush()
            os.fsync(out.fileno())
        os.killpg(os.getpgid(0), signal.SIGKILL)
        time.sleep(60)  # never reached: the signal ends the process first


def _after(
    function: Callable[..., Any], when: Callable[..., tuple[str, str] | None], killer: _Killer
) -> Callable[..., Any]:
    """`function`, then the moment `when(*args)` names (if any) is reached."""

    @functools.wraps(function)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        found = when(*args, **kwargs)
        if found:
            killer.reached(*found)
        return result

    return wrapped


def _before(
    function: Callable[..., Any], when: Callable[..., tuple[str, str] | None], killer: _Killer
) -> Callable[..., Any]:
    """The moment `when(*args)` names (if any) is reached, then `function`."""

    @functools.wraps(function)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        found = when(*args, **kwargs)
        if found:
            killer.reached(*found)
        return function(*args, **kwargs)

    return wrapped


def _os_with(**replaced: Callable[..., Any]) -> types.ModuleType:
    """A stand-in for `os` in one module's namespace: `replaced` functions, the rest os's own."""
    stand_in = types.ModuleType("os")
    stand_in.__dict__.update(os.__dict__)
    stand_in.__dict__.update(replaced)
    return stand_in


def install() -> None:
    """Wrap the run's functions when `FINOPS_TEST_KILL_AT` names a moment; else do nothing."""
    moment = os.environ.get(KILL_AT)
    if not moment:
        return
    if moment not in NAMES:
        raise ValueError(f"{KILL_AT}={moment!r} is none of {sorted(NAMES)}")
    killer = _Killer(moment, int(os.environ.get(KILL_CALL, "1")), Path(os.environ[KILL_MARKER]))

    from finops_platform.lib.catalog import local as catalog_local
    from finops_platform.lib.cur import ingest
    from finops_platform.lib.store import local as store_local

    ingest.write_normalized = _after(
        ingest.write_normalized,
        lambda _connection, _files, _lineage, output_dir, _where: (
            "raw-staged",
            str(output_dir),
        ),
        killer,
    )

    store = store_local.LocalObjectStore

    def publishing(_store: object, staged: Path, final_uri: str) -> tuple[str, str] | None:
        return ("cost_daily-staged", str(staged)) if curated("cost_daily") in final_uri else None

    def published(_store: object, _staged: Path, final_uri: str) -> tuple[str, str] | None:
        return ("raw-published", final_uri) if RAW in final_uri else None

    store.publish = _after(_before(store.publish, publishing, killer), published, killer)

    def retired(_store: object, final_uri: str, keep: str) -> tuple[str, str] | None:
        return ("cost_daily-retired", final_uri) if curated("cost_daily") in final_uri else None

    store.retire = _after(store.retire, retired, killer)

    def renamed(source: object, target: object) -> tuple[str, str] | None:
        # The first of publish's two renames: the live month moved aside.
        if RAW in str(source) and REPLACED_RAW in str(target):
            return "raw-mid-swap", f"{source} -> {target}"
        return None

    store_local.os = _os_with(rename=_after(os.rename, renamed, killer))

    def replacing(temporary: object, path: object) -> tuple[str, str] | None:
        # The catalog writes a temporary file, then renames it over the entry.
        if "/tb_cur_raw/partitions/" in str(path):
            return "tb_cur_raw-temp-written", f"{temporary} -> {path}"
        return None

    catalog_local.os = _os_with(replace=_before(os.replace, replacing, killer))

    def registered(
        _catalog: object, database: str, table: str, _partition: object
    ) -> tuple[str, str] | None:
        if table == "tb_cur_raw":
            return f"{table}-registered", f"{database}.{table}"
        return None

    def defined(_catalog: object, table: object) -> tuple[str, str] | None:
        if getattr(table, "is_view", False):
            return f"{table.name}-defined", f"{table.database}.{table.name}"
        return None

    catalog = catalog_local.LocalCatalog
    catalog.upsert_partition = _after(catalog.upsert_partition, registered, killer)
    catalog.upsert_table = _after(catalog.upsert_table, defined, killer)
