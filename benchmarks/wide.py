"""Wide legacy deliveries (issue 16): the widest delivery that normalizes at the engine's limit.

Legacy CUR has one flat `resource_tags_user_*` column per activated tag key. For each width this
writes a 20,000-row legacy month with that many tag columns (each row carries a few tags) and
normalizes it in DuckDB at 2 GB and 2 threads, twice in the same process: the map built by one
DISTINCT-and-join over all columns (the old way, `WIDE_MAP_COLUMNS` raised above the width) and
in pieces merged with `map_concat` (the current way). Prints the outcome, seconds, and whether
the two outputs hold the same maps.

    python -m benchmarks.wide [--widths 1000,3000,10000,20000,30000] [--rows 20000] [--tags 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from finops_platform.lib.cur import normalize
from finops_platform.lib.cur.delivery import DeliveryError
from finops_platform.lib.cur.normalize import Lineage, write_normalized
from finops_platform.lib.cur.sources import SourceFile, parquet_groups
from finops_platform.sample.generate import generate_month


def widen(path: Path, width: int, tags: int = 3) -> None:
    """Add `width` flat tag columns to a legacy file; row i carries `tags` from i % width on."""
    table = pq.read_table(path)
    row = np.arange(table.num_rows)
    labels = np.char.add("v", (row % 7).astype(str)).astype(object)
    names = [f"resource_tags_user_k{key:05d}" for key in range(width)]
    columns = [pa.array(np.where((row - key) % width < tags, labels, "")) for key in range(width)]
    pq.write_table(
        pa.Table.from_arrays([*table.columns, *columns], [*table.column_names, *names]), path
    )


def run(files: list[SourceFile], out: Path, piece: int) -> tuple[str, float]:
    """Normalize at 2 GB with maps built from pieces of `piece` columns: outcome, seconds."""
    normalize.WIDE_MAP_COLUMNS = piece
    connection = duckdb.connect(config={"memory_limit": "2GB", "threads": 2})
    lineage = Lineage("legacy", None, dt.datetime(2026, 1, 1))
    start = time.perf_counter()
    try:
        write_normalized(connection, parquet_groups(files, "bench"), lineage, out, "bench")
        outcome = "ok"
    except DeliveryError as exc:
        outcome = "OOM" if "memory" in str(exc).lower() else f"error: {str(exc)[:80]}"
    seconds = time.perf_counter() - start
    connection.close()
    return outcome, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--widths", default="1000,3000,10000,20000,30000")
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--tags", type=int, default=3, help="tags each row carries")
    args = parser.parse_args()
    print(f"{'width':>7} {'old':>8} {'old s':>7} {'new':>5} {'new s':>7} {'same maps':>9}")
    for width in [int(w) for w in args.widths.split(",")]:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            made = generate_month(
                root / "src", month=dt.date(2026, 1, 1), rows=args.rows, fmt="legacy", seed=1
            )
            for path in made.data_files:
                widen(path, width, args.tags)
            files = [SourceFile(path, str(path)) for path in made.data_files]
            old = run(files, root / "old", width + 1)
            new = run(files, root / "new", 256)
            same = "-"
            if old[0] == "ok" and new[0] == "ok":
                query = "SELECT sum(hash(resource_tags)) FROM read_parquet('{}/*.parquet')"
                sums = [
                    duckdb.connect().execute(query.format(root / side)).fetchone()
                    for side in ("old", "new")
                ]
                same = str(sums[0] == sums[1])
            print(
                f"{width:>7} {old[0]:>8} {old[1]:>7.1f} {new[0]:>5} {new[1]:>7.1f} {same:>9}",
                flush=True,
            )


if __name__ == "__main__":
    main()
