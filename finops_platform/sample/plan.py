"""The plan of a month: every series (one resource's line item of one type) drawn up front,
sized to the row count, with the commitments' monthly tail derived from the usage.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from finops_platform.sample.catalog import (
    _ACCOUNT_WEIGHTS,
    _ACCOUNTS,
    _BUNDLED_RATE,
    _CENT,
    _CREDIT,
    _DISCOUNT_KEYS,
    _DISCOUNTED,
    _FEE,
    _G_BUNDLED,
    _G_EDP,
    _G_PRIVATE,
    _G_RI,
    _G_SP,
    _G_USAGE,
    _GROUP_MEMBERS,
    _GROUP_SIZES,
    _GROUP_WEIGHTS,
    _MAX_SERIES_PER_COMMITMENT,
    _PAYERS,
    _PRIVATE_RATE,
    _PRODUCT_CODES,
    _PRODUCTS,
    _REFUND,
    _REGIONS,
    _RESERVATIONS,
    _RI_VOLUME,
    _RI_VOLUME_DISCOUNTED,
    _RIFEE,
    _SAVINGS_PLANS,
    _SP_COVERED,
    _SP_PRODUCTS,
    _SP_RECURRING,
    _SP_UPFRONT,
    _TAX,
    _UNIT,
    _SavingsPlan,
)
from finops_platform.sample.context import _Context
from finops_platform.sample.shape import CostShape

# --- the plan: every series of the month ----------------------------------------------------


@dataclass
class _Plan:
    """Per-series arrays (usage series first, then the monthly tail) and lookup tables."""

    ctx: _Context
    kind: np.ndarray
    parent: np.ndarray  # the usage series a dependent series belongs to (itself otherwise)
    offering: np.ndarray
    account: np.ndarray
    code: np.ndarray  # product code index
    ri: np.ndarray  # reservation, len(_RESERVATIONS) for none
    sp: np.ndarray  # savings plan, len(_SAVINGS_PLANS) for none
    start: np.ndarray  # first hour; -1 for a monthly line item
    row_start: np.ndarray  # first row of each series
    hourly_rows: int
    scale: np.ndarray
    pct: np.ndarray  # rate of a usage series' discount line (0 without one)
    disc_code: np.ndarray  # index in _DISCOUNT_KEYS of the discount a series gets
    sp_rate: np.ndarray  # Savings Plan rate of a covered series
    ri_units: np.ndarray
    sp_commit: np.ndarray  # hourly commitment, units
    sp_upfront: np.ndarray  # its amortized upfront part, units
    strings: dict[str, dict[str, pa.Array]] = field(default_factory=dict)
    maps: dict[str, pa.Array] = field(default_factory=dict)
    # What the usage rows consumed, for the tail: filled while the usage rows are made.
    ri_used_hours: np.ndarray = field(init=False)
    sp_used: np.ndarray = field(init=False)  # units, per plan and hour
    usage: np.ndarray = field(init=False)  # on-demand units, per account and product code
    # A shaped month's (sample/shape.py): its factors, and the usage cost (amortized, units)
    # per day, product code and account, with the anomalies and the part they added.
    shape: CostShape | None = None
    shaped_cost: np.ndarray = field(init=False)
    shaped_added: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        days = -(-self.ctx.hours_in_month // 24)
        self.shaped_cost = np.zeros((days, len(_PRODUCT_CODES), len(_ACCOUNTS)), dtype=np.int64)
        self.shaped_added = np.zeros_like(self.shaped_cost)
        self.ri_used_hours = np.zeros(len(_RESERVATIONS))
        self.sp_used = np.zeros((len(_SAVINGS_PLANS), self.ctx.hours), dtype=np.int64)
        self.usage = np.zeros((len(_ACCOUNTS), len(_PRODUCT_CODES)), dtype=np.int64)


@dataclass
class _Groups:
    kind: np.ndarray
    offering: np.ndarray
    account: np.ndarray
    ri: np.ndarray
    sp: np.ndarray
    start: np.ndarray
    length: np.ndarray
    scale: np.ndarray


# The groups every month starts with, so it has every usage line item type.
_FORCED_GROUPS = [
    _G_EDP,
    *[_G_RI] * len(_RESERVATIONS),
    *[_G_SP] * len(_SAVINGS_PLANS),
    _G_BUNDLED,
    _G_PRIVATE,
    _G_USAGE,
]
FORCED_SERIES = int(_GROUP_SIZES[_FORCED_GROUPS].sum())  # the series they take


def _draw_groups(ctx: _Context, hourly_rows: int, length: int, sp_start: np.ndarray) -> _Groups:
    """Groups filling `hourly_rows` rows; the first ones guarantee every usage line type.

    The covered series of a Savings Plan all start at its `sp_start` hour, so its hourly fee
    rows cover exactly the hours its usage can fall in.
    """
    rng = ctx.rng
    forced = _FORCED_GROUPS
    full_series, remainder = divmod(hourly_rows, length)
    drawn = rng.choice(len(_GROUP_WEIGHTS), size=full_series, p=_GROUP_WEIGHTS)
    kinds = np.concatenate([forced, drawn])
    kinds = kinds[: np.searchsorted(np.cumsum(_GROUP_SIZES[kinds]), full_series, side="right")]
    gap = full_series - int(_GROUP_SIZES[kinds].sum())  # 1 when a pair did not fit at the end
    kinds = np.concatenate([kinds, [_G_USAGE] * (gap + (remainder > 0))]).astype(np.int64)
    lengths = np.full(len(kinds), length)
    if remainder:
        lengths[-1] = remainder  # the one short series is plain usage, nothing depends on it
    ri, sp = _assign_commitments(rng, kinds, first=1)
    offering = _group_offerings(ctx, kinds, ri, sp)
    account = _group_accounts(rng, kinds, ri, sp)
    start = rng.integers(0, ctx.hours - length + 1, size=len(kinds))
    start[kinds == _G_SP] = sp_start[sp[kinds == _G_SP]]
    # The forced plain-usage group runs until the last hour delivered, as always-on workloads
    # do: a closed month's data reaches its last day, a month-to-date one its latest hour.
    always_on = len(forced) - 1
    if always_on < len(kinds) and kinds[always_on] == _G_USAGE:
        start[always_on] = ctx.hours - lengths[always_on]
    low, high = np.log([ctx.product_of[o].scale for o in offering]).T
    scale = np.exp(rng.uniform(low, high))
    return _Groups(kinds, offering, account, ri, sp, start, lengths, scale)


def _assign_commitments(
    rng: np.random.Generator, kinds: np.ndarray, first: int
) -> tuple[np.ndarray, np.ndarray]:
    """Reservation / Savings Plan of each group, in place of `kinds` capped per commitment.

    The forced groups from index `first` cover every reservation, then every savings plan.
    Groups beyond the cap become usage groups of the same size.
    """
    none_ri, none_sp = len(_RESERVATIONS), len(_SAVINGS_PLANS)
    ri, sp = np.full(len(kinds), none_ri), np.full(len(kinds), none_sp)
    ri[kinds == _G_RI] = rng.integers(0, none_ri, size=(kinds == _G_RI).sum())
    sp[kinds == _G_SP] = rng.integers(0, none_sp, size=(kinds == _G_SP).sum())
    ri[first : first + none_ri] = np.arange(none_ri)
    sp[first + none_ri : first + none_ri + none_sp] = np.arange(none_sp)
    for values, none, replacement in ((ri, none_ri, _G_USAGE), (sp, none_sp, _G_EDP)):
        for index in range(none):
            excess = np.flatnonzero(values == index)[_MAX_SERIES_PER_COMMITMENT:]
            values[excess], kinds[excess] = none, replacement
    return ri, sp


def _group_offerings(
    ctx: _Context, kinds: np.ndarray, ri: np.ndarray, sp: np.ndarray
) -> np.ndarray:
    rng = ctx.rng
    weights = np.array([p.weight / (len(_REGIONS) if p.regional else 1) for p in ctx.product_of])
    offering = rng.choice(len(weights), size=len(kinds), p=weights / weights.sum())
    offering[kinds == _G_RI] = ctx.ri_offering[ri[kinds == _G_RI]]
    for index, plan in enumerate(_SAVINGS_PLANS):
        mask = (kinds == _G_SP) & (sp == index)
        offering[mask] = rng.choice(_sp_eligible(ctx, plan), size=mask.sum())
    return offering


def _sp_eligible(ctx: _Context, plan: _SavingsPlan) -> list[int]:
    """Hourly compute only, so a covered series uses at most one hour per hour."""
    return [
        i
        for i, offering in enumerate(ctx.offerings)
        if ctx.product_of[i].key in _SP_PRODUCTS
        and plan.family in ("", offering.get("instance_type_family"))
        and plan.region in ("", offering["region_code"])
    ]


def _group_accounts(
    rng: np.random.Generator, kinds: np.ndarray, ri: np.ndarray, sp: np.ndarray
) -> np.ndarray:
    """Usage spreads over all accounts; commitments apply within their payer's accounts."""
    account = rng.choice(len(_ACCOUNTS), size=len(kinds), p=_ACCOUNT_WEIGHTS)
    within = rng.integers(0, 3, size=len(kinds))
    ri_payer = np.array([r.payer for r in _RESERVATIONS] + [0])
    sp_payer = np.array([p.payer for p in _SAVINGS_PLANS] + [0])
    account[kinds == _G_RI] = (ri_payer[ri] * 3 + within)[kinds == _G_RI]
    account[kinds == _G_SP] = (sp_payer[sp] * 3 + within)[kinds == _G_SP]
    return account


def _expand_groups(ctx: _Context, groups: _Groups) -> dict[str, np.ndarray]:
    """One entry per series; the members of a group share resource, hours and size."""
    sizes = _GROUP_SIZES[groups.kind]
    group_of = np.repeat(np.arange(len(sizes)), sizes)
    first = np.cumsum(sizes) - sizes
    member = np.arange(int(sizes.sum())) - first[group_of]
    edp = np.array([_PAYERS[a.payer].edp for a in _ACCOUNTS])[groups.account]
    pct = np.select(
        [groups.kind == _G_EDP, groups.kind == _G_BUNDLED, groups.kind == _G_PRIVATE],
        [edp, _BUNDLED_RATE, _PRIVATE_RATE],
        0.0,
    )
    keys = ("edp_discount", "bundled_discount", "private_rate_discount")
    disc_code = np.select(
        [groups.kind == _G_EDP, groups.kind == _G_BUNDLED, groups.kind == _G_PRIVATE],
        [_DISCOUNT_KEYS.index(k) for k in keys],
        0,
    )
    return {
        "kind": _GROUP_MEMBERS[groups.kind[group_of], member],
        "parent": first[group_of],
        "offering": groups.offering[group_of],
        "account": groups.account[group_of],
        "code": ctx.code[groups.offering[group_of]],
        "ri": groups.ri[group_of],
        "sp": groups.sp[group_of],
        "start": groups.start[group_of],
        "length": groups.length[group_of],
        "scale": groups.scale[group_of],
        "pct": pct[group_of],
        "disc_code": np.where(member == 0, disc_code[group_of], 0),
    }


def _tail_series(
    ctx: _Context, sp_start: np.ndarray, length: int
) -> tuple[dict[str, np.ndarray], list[dict[str, str]]]:
    """Monthly line items (one row each) and SavingsPlanRecurringFee (one row an hour).

    Returns the series and the product fields ("pseudo offerings") they point to, which are
    numbered after the real offerings.
    """
    pseudo: list[dict[str, str]] = []
    rows: list[tuple[int, int, int, int, int, int, int, int]] = []

    def add(
        kind: int,
        product: dict[str, str],
        account: int,
        *,
        ri: int = len(_RESERVATIONS),
        sp: int = len(_SAVINGS_PLANS),
        start: int = -1,
        count: int = 1,
    ) -> None:
        if product not in pseudo:
            pseudo.append(product)
        offering = len(ctx.offerings) + pseudo.index(product)
        service = product["servicecode"]
        code = _PRODUCT_CODES.index(service) if service in _PRODUCT_CODES else -1
        rows.append((kind, offering, account, code, ri, sp, start, count))

    for index, r in enumerate(_RESERVATIONS):
        product = _reservation_product(ctx, index)
        add(_RIFEE, product, r.payer * 3, ri=index)
        if r.months_old == 0:
            add(_FEE, product, r.payer * 3, ri=index)
        if index == _RI_VOLUME_DISCOUNTED:
            add(_RI_VOLUME, product, r.payer * 3, ri=index)
    add(_FEE, _DOMAIN_PRODUCT, 0)
    for index, p in enumerate(_SAVINGS_PLANS):
        product = _savings_plan_product(p)
        add(
            _SP_RECURRING,
            product,
            p.payer * 3,
            sp=index,
            start=int(sp_start[index]),
            count=length,
        )
        if p.months_old == 0:
            add(_SP_UPFRONT, product, p.payer * 3, sp=index)
    for account in range(len(_ACCOUNTS)):
        for code in _PRODUCT_CODES:
            add(_TAX, _service_product(code), account)
    for payer in range(len(_PAYERS)):
        add(_CREDIT, _service_product("AmazonEC2"), payer * 3)
    add(_REFUND, _service_product("AmazonS3"), 1)
    kind, offering, account, code, ri, sp, start, count = map(np.array, zip(*rows, strict=True))
    zeros = np.zeros(len(rows))
    ri_volume = np.where(
        (kind == _RIFEE) & (ri == _RI_VOLUME_DISCOUNTED),
        _DISCOUNT_KEYS.index("ri_volume_discount"),
        0,
    )
    return {
        "kind": kind,
        "offering": offering,
        "account": account,
        "code": code,
        "ri": ri,
        "sp": sp,
        "start": start,
        "length": count,
        "scale": zeros,
        "pct": zeros,
        "disc_code": ri_volume,
    }, pseudo


_DOMAIN_PRODUCT = {
    "product_name": "Amazon Route 53",
    "servicecode": "AmazonRoute53",
    "usagetype": "Global-Domain-Registration:com",
    "operation": "RegisterDomain",
    "fee_code": "Domain-Registration",
    "fee_description": "Domain name registration",
}


def _reservation_product(ctx: _Context, reservation: int) -> dict[str, str]:
    """RIFee / upfront Fee product fields: the reserved offering's, usage type HeavyUsage."""
    base = ctx.offerings[ctx.ri_offering[reservation]]
    size = base["usagetype"].split(":", 1)[1]
    kept = ("product_name", "servicename", "servicecode", "region", "region_code", "location",
            "location_type", "sku", "operation")  # fmt: skip
    prefix = _REGIONS[_RESERVATIONS[reservation].region][0]
    return {k: base[k] for k in kept} | {"usagetype": f"{prefix}HeavyUsage:{size}"}


def _savings_plan_product(plan: _SavingsPlan) -> dict[str, str]:
    short = "ComputeSP" if plan.offering == "ComputeSavingsPlans" else "EC2InstanceSP"
    return {
        "product_name": "Savings Plans for AWS Compute usage",
        "servicecode": plan.offering,
        "usagetype": f"{short}:{plan.term_years}yr{plan.option.replace(' ', '')}",
        "region": plan.region,
        "region_code": plan.region,
    }


def _service_product(code: str) -> dict[str, str]:
    """Product fields of a service-level line item (Tax, Credit, Refund)."""
    product = next(p for p in _PRODUCTS if p.code == code)
    return {"product_name": product.name, "servicecode": code}


def _reservation_units(series: dict[str, np.ndarray]) -> np.ndarray:
    """Instances per reservation: one per DiscountedUsage series, plus ~12% left unused."""
    used = np.bincount(series["ri"][series["kind"] == _DISCOUNTED], minlength=len(_RESERVATIONS))
    return used + np.maximum(1, np.ceil(used * 0.12)).astype(np.int64)


def _sp_rates(ctx: _Context, series: dict[str, np.ndarray]) -> np.ndarray:
    """Savings Plan rate of each covered series: its on-demand rate less the plan's discount."""
    covered = series["kind"] == _SP_COVERED
    discount = np.array([p.discount for p in _SAVINGS_PLANS])
    rates = np.zeros(len(covered))
    od = ctx.od_rate[series["offering"][covered]]
    rates[covered] = np.round(od * (1 - discount[series["sp"][covered]]), 10)
    return rates


def _sp_commitments(series: dict[str, np.ndarray], sp_rate: np.ndarray) -> np.ndarray:
    """Hourly commitment in units: 5% above every covered series running a full hour.

    A plan's covered series share their hours and each uses at most one hour an hour, so the
    used commitment never exceeds the commitment.
    """
    covered = series["kind"] == _SP_COVERED
    full_use = np.rint(sp_rate[covered] * _UNIT)
    per_plan = np.bincount(series["sp"][covered], weights=full_use, minlength=len(_SAVINGS_PLANS))
    return np.ceil(per_plan * 1.05 / _CENT).astype(np.int64) * _CENT
