"""The cost shape of an opt-in demo month (`finops demo-data --anomalies`): a trend, weekly
seasonality and injected cost anomalies whose true day, level, key and impact are known, so
`cost_anomalies` and `cost_forecast` can be measured against ground truth (benchmarks/anomalies.py).

A shaped month multiplies each usage row's amount by a factor of its day, service and account;
every cost is still derived from the amount, so totals stay exact. Its series run the whole
delivered month (an unshaped sample's series start and stop at random hours, which gives a
daily total no baseline could judge). The generator records, per day, service and account, the
usage cost with the anomalies and without them: the ground truth's impact is what was really
added, after reservations (which cover whole hours and do not grow) took their share.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from finops_platform.months import last_day
from finops_platform.sample.catalog import _ACCOUNTS, _PRODUCT_CODES

# Services that a shaped tenant has not used before one of them appears mid-span ("a new
# service appearing"): none of them reserved or covered by a Savings Plan, so their cost can be
# zero. The others of them stay unused all span; the one appearing runs a workload x the factor.
_NEW_SERVICES = (
    "AmazonDynamoDB",
    "AmazonElastiCache",
    "AmazonEKS",
    "AWSLambda",
    "AmazonCloudFront",
)
_NEW_SERVICE_FACTOR = 6.0
# How many kinds of anomaly a month gets: (kind, level, factor, days lasting; 0 = month end).
_EVENT_KINDS = (
    ("spike", "service", 2.0, 1),  # +100 % for a day
    ("spike", "account", 1.6, 1),
    ("spike", "total", 1.25, 1),  # +25 % of everything for a day
    ("step", "service", 1.5, 0),  # +50 % from that day on
)
_EPOCH = dt.date(2020, 1, 1)  # the trend counts days from here, so months continue each other


@dataclass(frozen=True)
class Event:
    """One injected anomaly: from `day` (of the month), `days` long, cost x `factor`."""

    kind: str  # spike, step or new_service
    level: str  # total, service or account
    key: str  # the product code or account id; "" for total
    day: dt.date
    days: int
    factor: float

    def covers(self, dates: np.ndarray, code: np.ndarray, account: np.ndarray) -> np.ndarray:
        """Which rows (their usage date, product code and account indexes) it changes."""
        first = np.datetime64(self.day)
        inside = (dates >= first) & (dates < first + np.timedelta64(self.days, "D"))
        if self.level == "service":
            return inside & (code == _PRODUCT_CODES.index(self.key))
        if self.level == "account":
            return inside & (account == [a.id for a in _ACCOUNTS].index(self.key))
        return inside


@dataclass(frozen=True)
class CostShape:
    """A month's trend (share per day since 2020), weekly factors (Monday first), events and
    the new service of the tenant's span: (code, first day), zero before it in every month."""

    month: dt.date
    trend_per_day: float
    weekly: tuple[float, ...]
    events: tuple[Event, ...]
    new_service: tuple[str, dt.date] | None = None

    def factors(
        self, hour: np.ndarray, code: np.ndarray, account: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(base, anomalous) factor of each row's amount: trend x weekday, and the events on
        top of it (the new service's absence included)."""
        dates = np.datetime64(self.month) + (hour // 24).astype("timedelta64[D]")
        age = (dates - np.datetime64(_EPOCH)).astype(np.int64)
        weekday = (age + _EPOCH.weekday()) % 7
        base = (1 + self.trend_per_day * age) * np.asarray(self.weekly)[weekday]
        anomalous = base.copy()
        for event in self.events:
            anomalous[event.covers(dates, code, account)] *= event.factor
        # No new service in the counterfactual either until it appears: what an event adds
        # is the event's alone, and the new service's impact is all its cost.
        unused = np.isin(code, [_PRODUCT_CODES.index(c) for c in _NEW_SERVICES])
        if self.new_service is not None:
            service, first = self.new_service
            mine = (code == _PRODUCT_CODES.index(service)) & (dates >= np.datetime64(first))
            base[mine] *= _NEW_SERVICE_FACTOR
            anomalous[mine] *= _NEW_SERVICE_FACTOR
            unused &= ~mine
        base[unused] = 0
        anomalous[unused] = 0
        return base, anomalous


def plan_shape(
    seed: int, month: dt.date, span: tuple[dt.date, dt.date], usage: dict[str, list[str]]
) -> CostShape:
    """The shape of `month` of a tenant whose demo data spans the months `span` (first, last).

    `usage` names the services and accounts with the most usage (largest first): the events
    pick among the first three of each, so their impact clears a tenant's minimums. The same
    arguments always give the same shape; the new service appears mid-month in the last month
    of the span and runs on in any month after it.
    """
    rng = np.random.default_rng([seed, month.year, month.month, 20])
    length = last_day(month).day
    services = usage.get("service", [])
    established = {**usage, "service": [c for c in services if c not in _NEW_SERVICES]}
    # Event days at least three days apart, after the first week (a baseline to judge by).
    days = rng.choice(np.arange(8, length - 1, 3), size=len(_EVENT_KINDS), replace=False)
    events = []
    for (kind, level, factor, lasting), day in zip(_EVENT_KINDS, sorted(days), strict=True):
        choices = established.get(level, [""])[:3]
        key = str(choices[rng.integers(len(choices))]) if level != "total" else ""
        events.append(
            Event(kind, level, key, month.replace(day=int(day)), lasting or length, factor)
        )
    rng_span = np.random.default_rng([seed, span[1].year, span[1].month, 21])
    order = rng_span.permutation(len(_NEW_SERVICES))
    appears = span[1].replace(day=int(rng_span.integers(10, 18)))
    # Only the last month knows which of them it has series of: the earlier ones use none.
    used = [_NEW_SERVICES[i] for i in order if _NEW_SERVICES[i] in services]
    new_service = (used[0], appears) if month >= span[1] and used else None
    return CostShape(
        month=month,
        trend_per_day=float(rng_span.uniform(0.001, 0.004)),
        weekly=(1.0, 1.02, 1.03, 1.02, 0.98, 0.8, 0.78),
        events=tuple(events),
        new_service=new_service,
    )


@dataclass(frozen=True)
class TrueAnomaly:
    """An injected anomaly as it landed: its first day, and the usage cost it added that day
    to its level and key (`impact`) over what the key would have cost (`expected`)."""

    kind: str
    level: str
    key: str
    day: str  # YYYY-MM-DD
    days: int
    factor: float
    impact: float
    expected: float


def ground_truth(
    shape: CostShape, cost: np.ndarray, added: np.ndarray, delivered_days: int
) -> list[TrueAnomaly]:
    """The events of the delivered days, with what they added. `cost` and `added` are the
    usage cost per (day of month, product code, account), with the events and their part."""
    events = list(shape.events)
    if shape.new_service is not None and shape.new_service[1].replace(day=1) == shape.month:
        service, first = shape.new_service
        lasting = last_day(first).day - first.day + 1
        events.append(Event("new_service", "service", service, first, lasting, _NEW_SERVICE_FACTOR))
    truth = []
    for event in events:
        index = event.day.day - 1
        if index >= delivered_days:
            continue
        on_day = np.s_[index]
        if event.level == "service":
            on_day = np.s_[index, _PRODUCT_CODES.index(event.key)]
        elif event.level == "account":
            on_day = np.s_[index, :, [a.id for a in _ACCOUNTS].index(event.key)]
        # A new service's whole cost is new; an event's impact is what it added.
        impact = float((cost if event.kind == "new_service" else added)[on_day].sum())
        truth.append(
            TrueAnomaly(
                kind=event.kind,
                level=event.level,
                key=event.key,
                day=event.day.isoformat(),
                days=event.days,
                factor=event.factor,
                impact=round(impact, 2),
                expected=round(float(cost[on_day].sum()) - impact, 2),
            )
        )
    return truth


def write_ground_truth(path: Path, shape: CostShape, truth: list[TrueAnomaly]) -> None:
    """The JSON beside a shaped delivery that benchmarks and tests read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "month": f"{shape.month:%Y-%m}",
        "trend_per_day": shape.trend_per_day,
        "weekly": list(shape.weekly),
        "anomalies": [asdict(t) for t in truth],
    }
    path.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")


def read_ground_truth(path: Path) -> list[TrueAnomaly]:
    return [TrueAnomaly(**a) for a in json.loads(path.read_text(encoding="utf-8"))["anomalies"]]
