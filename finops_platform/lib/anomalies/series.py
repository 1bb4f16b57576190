"""Daily cost per level and key, as dense matrices (key x day) the baseline reads.

The input is the tenant's daily cost at its finest grain (sql/anomalies/): one row per day,
service, account and usage type (and whether it is usage), plus one per day and tag value.
Each level an analyst reads is the same rows summed by one column.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from finops_platform.months import shift_month

# Months of cost_daily before a month that the models read: the baseline's eight weeks, and more.
HISTORY_MONTHS = 3
# Level -> the column of the input that keys it ("" sums everything).
LEVEL_COLUMNS = {
    "total": "",
    "service": "product_code",
    "account": "account_id",
    "usage_type": "usage_type",
    "tag": "tag",
}
# Which columns explain a change at a level (its drivers): the other dimensions it has.
DRIVER_COLUMNS = {
    "product_code": "service",
    "account_id": "account",
    "usage_type": "usage_type",
}
UNTAGGED = "(untagged)"
# sql/anomalies/daily_tag_cost.sql's columns, for a reader with no tag rows.
TAG_SCHEMA = pa.schema(
    [
        ("usage_date", pa.date32()),
        ("tag_key", pa.string()),
        ("tag_value", pa.string()),
        ("product_code", pa.string()),
        ("account_id", pa.string()),
        ("cost", pa.float64()),
    ]
)


def history_start(month: dt.date) -> dt.date:
    """The first month of history the models read for `month`."""
    return shift_month(month, -HISTORY_MONTHS)


def history_params(month: dt.date) -> dict[str, int]:
    """The history parameters of the sql/anomalies/ queries of `month`."""
    start = history_start(month)
    return {"history_year": start.year, "history_month": start.month}


@dataclass(frozen=True)
class Rows:
    """Input rows as numpy columns: days, cost, and string dimensions (`tag` is
    `<key>=<value>` for tag rows, '' otherwise)."""

    dates: np.ndarray  # datetime64[D]
    cost: np.ndarray
    usage: np.ndarray  # bool: usage (judged and projected) vs fees, taxes, credits
    columns: dict[str, np.ndarray]

    @classmethod
    def from_tables(cls, daily: pa.Table, tags: pa.Table | None = None) -> Rows:
        """`daily`: usage_date, product_code, account_id, usage_type, is_usage, cost;
        `tags`: usage_date, tag_key, tag_value, product_code, account_id, cost (none: no tag
        rows)."""
        tags = TAG_SCHEMA.empty_table() if tags is None else tags
        n, m = daily.num_rows, tags.num_rows

        def text(table: pa.Table, name: str) -> np.ndarray:
            return np.array(table.column(name).fill_null("").to_pylist(), dtype=object)

        tag = np.char.add(
            np.char.add(text(tags, "tag_key").astype(str), "="), text(tags, "tag_value").astype(str)
        ).astype(object)
        return cls(
            dates=np.concatenate(
                [_days(daily.column("usage_date")), _days(tags.column("usage_date"))]
            ),
            cost=np.concatenate([_floats(daily.column("cost")), _floats(tags.column("cost"))]),
            usage=np.concatenate(
                [np.array(daily.column("is_usage").to_pylist(), dtype=bool), np.ones(m, bool)]
            ),
            columns={
                "product_code": np.concatenate(
                    [text(daily, "product_code"), text(tags, "product_code")]
                ),
                "account_id": np.concatenate([text(daily, "account_id"), text(tags, "account_id")]),
                "usage_type": np.concatenate([text(daily, "usage_type"), np.full(m, "", object)]),
                "tag": np.concatenate([np.full(n, "", object), tag]),
            },
        )

    def first_day(self, history_start: dt.date) -> dt.date:
        """Where the series start: the first day with any cost, not before `history_start`
        (the days before a tenant's first delivery are unknown, not free)."""
        if not len(self.dates):
            return history_start
        return max(history_start, self.dates.min().astype(dt.date))

    def of_level(self, level: str) -> np.ndarray:
        """The rows a level sums: tag rows for `tag` (tagged only), the others' the rest."""
        tagged = self.columns["tag"] != ""
        if level == "tag":
            return tagged & ~np.char.endswith(self.columns["tag"].astype(str), "=" + UNTAGGED)
        return ~tagged


@dataclass(frozen=True)
class Matrix:
    """One level's daily cost: keys x days from `first`."""

    level: str
    keys: np.ndarray
    first: np.datetime64
    cost: np.ndarray  # float, keys x days

    def day(self, index: int) -> dt.date:
        return (self.first + np.timedelta64(index, "D")).astype(dt.date)


def matrix(
    rows: Rows, level: str, first: np.datetime64, days: int, mask: np.ndarray | None = None
) -> Matrix:
    """Sum the rows of `level` (and `mask`) per key and day."""
    selected = rows.of_level(level) & (mask if mask is not None else True)
    return by_column(rows, LEVEL_COLUMNS[level], selected, first, days, level)


def by_column(
    rows: Rows, column: str, selected: np.ndarray, first: np.datetime64, days: int, level: str = ""
) -> Matrix:
    """Sum the `selected` rows per value of `column` ("" for one key) and day."""
    values = rows.columns[column][selected] if column else np.full(selected.sum(), "", object)
    keys, key_index = np.unique(values.astype(str), return_inverse=True)
    day_index = (rows.dates[selected] - first).astype(np.int64)
    inside = (day_index >= 0) & (day_index < days)
    cost = np.zeros((len(keys), days))
    np.add.at(cost, (key_index[inside], day_index[inside]), rows.cost[selected][inside])
    return Matrix(level or column, keys.astype(object), first, cost)


def _days(column: pa.ChunkedArray) -> np.ndarray:
    return column.cast(pa.date32()).to_numpy().astype("datetime64[D]")


def _floats(column: pa.ChunkedArray) -> np.ndarray:
    return column.cast(pa.float64()).fill_null(0).to_numpy()
