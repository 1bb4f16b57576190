"""The benchmark's CUR deliveries, written once by the project's own generator and reused.

Every delivery is legacy CUR (the realistic column count, flat tag columns) made by
`generate_month` with a fixed seed, so the same arguments give the same bytes: a folder that
holds a finished delivery with the same arguments is reused instead of written again.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from finops_platform.sample import generate_month

SEED = 7
FORMAT = "legacy"


@dataclass(frozen=True)
class Delivery:
    """One tenant's source path holding `months` consecutive months of `rows` rows each."""

    source: Path
    first_month: dt.date
    months: int
    rows: int

    @property
    def month_list(self) -> list[dt.date]:
        return [shift_month(self.first_month, i) for i in range(self.months)]


def shift_month(month: dt.date, delta: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + delta
    return dt.date(index // 12, index % 12 + 1, 1)


def ensure_delivery(source: Path, first_month: dt.date, months: int, rows: int) -> Delivery:
    """The months' deliveries under `source`, generated unless already there."""
    # Resolved, so the marker matches whichever way the same folder is named.
    delivery = Delivery(source.resolve(), first_month, months, rows)
    marker = source / "benchmark-delivery.json"
    wanted = json.dumps({**asdict(delivery), "seed": SEED, "format": FORMAT}, default=str)
    if marker.is_file() and marker.read_text(encoding="utf-8") == wanted:
        return delivery
    marker.unlink(missing_ok=True)
    for month in delivery.month_list:
        generate_month(source, month=month, rows=rows, fmt=FORMAT, seed=SEED)
    # Written last: a run killed while generating leaves no marker, so the next run starts over.
    marker.write_text(wanted, encoding="utf-8")
    return delivery


def data_files(source: Path) -> list[Path]:
    """The Parquet parts of every month under `source`."""
    return sorted(source.rglob("*.parquet"))
