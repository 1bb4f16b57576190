"""The month's numbers, chunk by chunk: hourly usage blocks, then the monthly tail (fees,
commitments, taxes, credits), each cost recomputable from (seed, series, hour).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from finops_platform.lib.cur.schema import CUR2_COLUMNS, SPLIT_LINE_ITEM_COLUMNS
from finops_platform.sample.catalog import (
    _BUNDLED,
    _CENT,
    _CREDIT,
    _CREDIT_CAP,
    _CREDIT_RATE,
    _DISCOUNTED,
    _DOMAIN_FEE,
    _EDP,
    _FEE,
    _HOURS,
    _MAX_ROW_UNITS,
    _METERED,
    _PAYERS,
    _PRIVATE,
    _REFUND,
    _REFUND_CAP,
    _REFUND_RATE,
    _RESERVATIONS,
    _RI_RECURRING_HOURLY,
    _RI_UPFRONT,
    _RI_UPFRONT_HOURLY,
    _RI_VOLUME,
    _RI_VOLUME_DISCOUNTED,
    _RI_VOLUME_RATE,
    _RIFEE,
    _SAVINGS_PLANS,
    _SP_COVERED,
    _SP_NEGATION,
    _SP_RECURRING,
    _SP_UPFRONT,
    _STORAGE,
    _TAX,
    _TAX_RATE,
    _UNIT,
    _USAGE,
)
from finops_platform.sample.plan import _Plan

# --- rows: numbers, chunk by chunk -----------------------------------------------------------

_NUMBER_COLUMNS = [
    n
    for n, t in CUR2_COLUMNS.items()
    if pa.types.is_floating(t) and n not in SPLIT_LINE_ITEM_COLUMNS
]


@dataclass
class _Block:
    """A chunk of rows: which series and hour each row is, and its numbers (NaN: n/a)."""

    series: np.ndarray
    hour: np.ndarray  # -1 for monthly line items
    unblended: np.ndarray  # units
    discount: np.ndarray  # units (<= 0) for the CUR 2.0 discount map
    numbers: dict[str, np.ndarray]

    @property
    def size(self) -> int:
        return len(self.series)

    def unblended_total(self) -> int:
        """Exact: summed in two parts so that no int64 partial sum can overflow."""
        high, low = np.divmod(self.unblended, 1 << 20)
        return int(high.sum()) * (1 << 20) + int(low.sum())


def _blocks(plan: _Plan, chunk_rows: int) -> Iterator[_Block]:
    """Usage rows in chunks, then the tail, which needs what the usage rows consumed."""
    for start in range(0, plan.hourly_rows, chunk_rows):
        yield _hourly_block(plan, start, min(start + chunk_rows, plan.hourly_rows))
    yield _tail_block(plan)


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64 finalizer: a well-spread hash of uint64 values (wrapping on purpose)."""
    values = values + np.uint64(0x9E3779B97F4A7C15)
    values = (values ^ (values >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    values = (values ^ (values >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return values ^ (values >> np.uint64(31))


def _uniforms(
    salt: np.uint64, series: np.ndarray, hour: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Two uniforms in [0, 1) per (series, hour), the same whichever chunk asks."""
    first = _mix((series.astype(np.uint64) << np.uint64(10)) + hour.astype(np.uint64) ^ salt)
    second = _mix(first)
    return (first >> np.uint64(11)) * 2.0**-53, (second >> np.uint64(11)) * 2.0**-53


def _amounts(plan: _Plan, offering: np.ndarray, parent: np.ndarray, hour: np.ndarray) -> np.ndarray:
    """Usage amount of each row, by how its offering is metered."""
    u1, u2 = _uniforms(plan.ctx.salt, parent, hour)
    kind, scale = plan.ctx.unit_kind[offering], plan.scale[parent]
    return np.select(
        [kind == _HOURS, kind == _STORAGE, kind == _METERED],
        [
            np.where(u1 < 0.06, np.round(0.25 + 0.75 * u2, 4), 1.0),  # some partial hours
            np.round(scale / plan.ctx.hours_in_month, 8),  # GB-Mo spread over the hours
            np.round(scale * (0.25 + 1.5 * u2), 6),
        ],
        np.rint(scale * (0.5 + u2)),  # requests
    )


def _units(dollars: np.ndarray) -> np.ndarray:
    return np.rint(dollars * _UNIT).astype(np.int64)


def _hourly_block(plan: _Plan, lo: int, hi: int) -> _Block:
    """Rows [lo, hi) of the usage series and the series that depend on them."""
    rows = np.arange(lo, hi, dtype=np.int64)
    s = np.searchsorted(plan.row_start, rows, side="right") - 1
    hour = plan.start[s] + (rows - plan.row_start[s])
    kind, offering = plan.kind[s], plan.offering[s]
    amount = _amounts(plan, offering, plan.parent[s], hour)
    base = amount
    if plan.shape is not None:
        base_factor, factor = plan.shape.factors(hour, plan.code[s], plan.account[s])
        base, amount = amount * base_factor, amount * factor
    amount[kind == _DISCOUNTED] = 1.0  # a reservation covers whole instance hours
    od = _units(amount * plan.ctx.od_rate[offering])
    discount = np.rint(od * plan.pct[s]).astype(np.int64)
    twin = np.isin(kind, (_EDP, _BUNDLED, _PRIVATE))
    unblended = np.select(
        [kind == _SP_NEGATION, kind == _DISCOUNTED, twin], [-od, 0, -discount], od
    )
    amount[twin] = 0.0
    nf = np.where(twin, 0.0, plan.ctx.nf[offering])
    numbers = {name: np.full(len(rows), np.nan) for name in _NUMBER_COLUMNS}
    numbers |= {
        "line_item_usage_amount": amount,
        "line_item_normalization_factor": nf,
        "line_item_normalized_usage_amount": amount * nf,
        "line_item_unblended_cost": unblended / _UNIT,
        "line_item_net_unblended_cost": np.select(
            [kind == _USAGE, twin], [od - discount, 0], unblended
        ) / _UNIT,
        "pricing_public_on_demand_cost": np.where(
            np.isin(kind, (_USAGE, _DISCOUNTED, _SP_COVERED)), od, 0
        ) / _UNIT,
    }  # fmt: skip
    numbers["line_item_blended_cost"] = _reservation_usage(
        plan, s, kind, amount, numbers, unblended
    )
    _savings_plan_usage(plan, s, kind, amount, hour, numbers)
    usage = np.isin(kind, (_USAGE, _SP_COVERED))
    np.add.at(plan.usage, (plan.account[s][usage], plan.code[s][usage]), od[usage])
    if plan.shape is not None:
        _record_shaped(plan, s, kind, hour, amount, base, numbers)
    return _Block(s, hour, unblended, np.where(plan.disc_code[s] > 0, -discount, 0), numbers)


def _reservation_usage(
    plan: _Plan,
    s: np.ndarray,
    kind: np.ndarray,
    amount: np.ndarray,
    numbers: dict[str, np.ndarray],
    unblended: np.ndarray,
) -> np.ndarray:
    """DiscountedUsage costs 0 unblended; the reservation's amortized rate is its effective cost.

    Returns the blended cost, which for these rows is the effective cost.
    """
    rows = kind == _DISCOUNTED
    ri = plan.ri[s][rows]
    upfront = _units(amount[rows] * _RI_UPFRONT_HOURLY[ri])
    recurring = _units(amount[rows] * _RI_RECURRING_HOURLY[ri])
    for name, values in (
        ("amortized_upfront_cost_for_usage", upfront),
        ("recurring_fee_for_usage", recurring),
        ("effective_cost", upfront + recurring),
    ):
        numbers[f"reservation_{name}"][rows] = values / _UNIT
        numbers[f"reservation_net_{name}"][rows] = values / _UNIT
    plan.ri_used_hours += np.bincount(ri, weights=amount[rows], minlength=len(_RESERVATIONS))
    blended = unblended.copy()
    blended[rows] = upfront + recurring
    return blended / _UNIT


def _savings_plan_usage(
    plan: _Plan,
    s: np.ndarray,
    kind: np.ndarray,
    amount: np.ndarray,
    hour: np.ndarray,
    numbers: dict[str, np.ndarray],
) -> None:
    """SavingsPlanCoveredUsage at the plan's rate; the use is summed per plan and hour."""
    rows = kind == _SP_COVERED
    effective = _units(amount[rows] * plan.sp_rate[s][rows])
    numbers["savings_plan_savings_plan_rate"][rows] = plan.sp_rate[s][rows]
    numbers["savings_plan_savings_plan_effective_cost"][rows] = effective / _UNIT
    numbers["savings_plan_net_savings_plan_effective_cost"][rows] = effective / _UNIT
    np.add.at(plan.sp_used, (plan.sp[s][rows], hour[rows]), effective)


def _record_shaped(
    plan: _Plan,
    s: np.ndarray,
    kind: np.ndarray,
    hour: np.ndarray,
    amount: np.ndarray,
    base: np.ndarray,
    numbers: dict[str, np.ndarray],
) -> None:
    """A shaped month's usage cost as cost_daily amortizes it (on-demand, Savings Plan
    effective, reservation effective), and what the anomalies added to it."""
    rate = np.select(
        [kind == _USAGE, kind == _SP_COVERED], [plan.ctx.od_rate[plan.offering[s]], plan.sp_rate[s]]
    )
    reserved = np.nan_to_num(numbers["reservation_effective_cost"]) * _UNIT
    cost = _units(amount * rate) + np.rint(reserved).astype(np.int64)
    added = np.where(kind == _DISCOUNTED, 0, _units(amount * rate) - _units(base * rate))
    at = (hour // 24, plan.code[s], plan.account[s])
    np.add.at(plan.shaped_cost, at, cost)
    np.add.at(plan.shaped_added, at, added)


@dataclass
class _Tail:
    """The tail rows being filled: per-kind fillers write their rows (`mask`) in place."""

    plan: _Plan
    s: np.ndarray
    hour: np.ndarray
    unblended: np.ndarray
    net: np.ndarray
    discount: np.ndarray
    numbers: dict[str, np.ndarray]

    def set(self, mask: np.ndarray, **columns: np.ndarray | float) -> None:
        for name, values in columns.items():
            self.numbers[name][mask] = values


def _cents(dollars: np.ndarray | float) -> np.ndarray:
    return np.rint(np.asarray(dollars) * 100).astype(np.int64) * _CENT


def _tail_block(plan: _Plan) -> _Block:
    """Monthly items and SavingsPlanRecurringFee, from what the usage rows consumed."""
    rows = np.arange(plan.hourly_rows, plan.ctx.rows, dtype=np.int64)
    s = np.searchsorted(plan.row_start, rows, side="right") - 1
    hour = np.where(plan.start[s] < 0, -1, plan.start[s] + rows - plan.row_start[s])
    zeros = np.zeros(len(rows), dtype=np.int64)
    numbers = {name: np.full(len(rows), np.nan) for name in _NUMBER_COLUMNS}
    tail = _Tail(plan, s, hour, zeros.copy(), zeros.copy(), zeros.copy(), numbers)
    numbers |= {
        "line_item_usage_amount": np.ones(len(rows)),
        "line_item_normalization_factor": np.zeros(len(rows)),
    }
    for kind, fill in _TAIL_FILLERS.items():
        mask = plan.kind[s] == kind
        if mask.any():
            fill(tail, mask)
    nf = numbers["line_item_normalization_factor"]
    numbers |= {
        "line_item_normalized_usage_amount": numbers["line_item_usage_amount"] * nf,
        "line_item_unblended_cost": tail.unblended / _UNIT,
        "line_item_blended_cost": tail.unblended / _UNIT,
        "line_item_net_unblended_cost": tail.net / _UNIT,
        "pricing_public_on_demand_cost": np.zeros(len(rows)),
    }
    if (np.abs(tail.unblended) >= _MAX_ROW_UNITS).any():
        raise ValueError("rows too many for exact totals: a monthly line item reached 1e5 USD")
    return _Block(s, hour, tail.unblended, tail.discount, numbers)


def _rifee_cost(plan: _Plan, ri: np.ndarray) -> np.ndarray:
    """The month's recurring fee of whole reservations, used or not."""
    return _cents(plan.ri_units[ri] * plan.ctx.hours_in_month * _RI_RECURRING_HOURLY[ri])


def _ri_volume_discount(plan: _Plan, ri: np.ndarray) -> np.ndarray:
    return -_cents(_RI_VOLUME_RATE * _rifee_cost(plan, ri) / _UNIT)


def _fill_rifee(tail: _Tail, mask: np.ndarray) -> None:
    """One RIFee per reservation: the recurring fee, and what of it and the upfront went unused."""
    plan = tail.plan
    ri = plan.ri[tail.s[mask]]
    quantity = plan.ri_units[ri] * plan.ctx.hours_in_month
    unused = quantity - plan.ri_used_hours[ri]
    upfront, recurring = _RI_UPFRONT_HOURLY[ri], _RI_RECURRING_HOURLY[ri]
    nf = plan.ctx.nf[plan.ctx.ri_offering[ri]]
    fee = _rifee_cost(plan, ri)
    volume = np.where(ri == _RI_VOLUME_DISCOUNTED, _ri_volume_discount(plan, ri), 0)
    tail.unblended[mask], tail.net[mask], tail.discount[mask] = fee, fee + volume, volume
    values = {
        "amortized_upfront_fee_for_billing_period": np.round(quantity * upfront, 10),
        "unused_amortized_upfront_fee_for_billing_period": np.round(unused * upfront, 10),
        "unused_quantity": unused,
        "unused_normalized_unit_quantity": unused * nf,
        "unused_recurring_fee": np.round(unused * recurring, 10),
        "upfront_value": plan.ri_units[ri] * _RI_UPFRONT[ri],
    }
    for name, column in values.items():
        for prefix in ("reservation_", "reservation_net_"):
            if prefix + name in tail.numbers:  # not every quantity has a net variant
                tail.set(mask, **{prefix + name: column})
    tail.set(mask, line_item_usage_amount=quantity, line_item_normalization_factor=nf)


def _fill_ri_volume(tail: _Tail, mask: np.ndarray) -> None:
    tail.unblended[mask] = _ri_volume_discount(tail.plan, tail.plan.ri[tail.s[mask]])
    tail.set(mask, line_item_usage_amount=0.0)


def _fill_fee(tail: _Tail, mask: np.ndarray) -> None:
    """A reservation bought this month (its upfront payment), or a domain registration."""
    plan = tail.plan
    ri = plan.ri[tail.s[mask]]
    bought = ri < len(_RESERVATIONS)
    price = np.append(_RI_UPFRONT, _DOMAIN_FEE)[ri]
    count = np.where(bought, np.append(plan.ri_units, 1)[ri], 1)
    tail.unblended[mask] = tail.net[mask] = _cents(count * price)
    tail.set(mask, line_item_usage_amount=count.astype(float))
    upfront = tail.numbers["reservation_upfront_value"]
    upfront[mask] = np.where(bought, count * price, np.nan)


def _fill_sp_upfront(tail: _Tail, mask: np.ndarray) -> None:
    """The upfront part of a plan bought this month: its hourly share over the whole term."""
    sp = tail.plan.sp[tail.s[mask]]
    term_hours = np.array([p.term_years * 8760 for p in _SAVINGS_PLANS])[sp]
    tail.unblended[mask] = tail.net[mask] = _cents(tail.plan.sp_upfront[sp] / _UNIT * term_hours)


def _fill_sp_recurring(tail: _Tail, mask: np.ndarray) -> None:
    """Each hour: the commitment, what covered usage used of it, the recurring part billed."""
    plan = tail.plan
    sp, hour = plan.sp[tail.s[mask]], tail.hour[mask]
    commitment, upfront = plan.sp_commit[sp], plan.sp_upfront[sp]
    tail.unblended[mask] = tail.net[mask] = commitment - upfront
    for prefix in ("", "net_"):
        tail.set(
            mask,
            **{
                f"savings_plan_{prefix}amortized_upfront_commitment_for_billing_period": upfront
                / _UNIT,
                f"savings_plan_{prefix}recurring_commitment_for_billing_period": (
                    commitment - upfront
                )
                / _UNIT,
            },
        )
    tail.set(
        mask,
        savings_plan_total_commitment_to_date=commitment / _UNIT,
        savings_plan_used_commitment=plan.sp_used[sp, hour] / _UNIT,
    )


def _fill_tax(tail: _Tail, mask: np.ndarray) -> None:
    plan = tail.plan
    usage = plan.usage[plan.account[tail.s[mask]], plan.code[tail.s[mask]]] / _UNIT
    tail.unblended[mask] = tail.net[mask] = np.maximum(_CENT, _cents(_TAX_RATE * usage))


def _fill_credit(tail: _Tail, mask: np.ndarray) -> None:
    """Promotional credit on a share of the payer's usage, capped like a real credit."""
    plan = tail.plan
    payer_usage = plan.usage.reshape(len(_PAYERS), -1).sum(axis=1) / _UNIT
    usage = payer_usage[plan.account[tail.s[mask]] // 3]
    credit = np.clip(_cents(_CREDIT_RATE * usage), _CENT, _cents(_CREDIT_CAP))
    tail.unblended[mask] = tail.net[mask] = -credit


def _fill_refund(tail: _Tail, mask: np.ndarray) -> None:
    plan = tail.plan
    usage = plan.usage[plan.account[tail.s[mask]], plan.code[tail.s[mask]]] / _UNIT
    refund = np.clip(_cents(_REFUND_RATE * usage), _CENT, _cents(_REFUND_CAP))
    tail.unblended[mask] = tail.net[mask] = -refund


_TAIL_FILLERS: dict[int, Callable[[_Tail, np.ndarray], None]] = {
    _RIFEE: _fill_rifee,
    _RI_VOLUME: _fill_ri_volume,
    _FEE: _fill_fee,
    _SP_UPFRONT: _fill_sp_upfront,
    _SP_RECURRING: _fill_sp_recurring,
    _TAX: _fill_tax,
    _CREDIT: _fill_credit,
    _REFUND: _fill_refund,
}
