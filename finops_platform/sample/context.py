"""One month's context: its time frame, the seeded random generator, and the catalog expanded
into lookup tables (offerings, product attributes, the legacy schema).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pyarrow as pa

from finops_platform.lib.cur.schema import CUR2_COLUMNS, SPLIT_LINE_ITEM_COLUMNS
from finops_platform.months import next_month
from finops_platform.sample.catalog import (
    _FMT_CODE,
    _PRODUCT_CODES,
    _PRODUCTS,
    _REGIONS,
    _RESERVATIONS,
    _Product,
)

# --- context: the month's time frame and the catalog as lookup tables ----------------------


@dataclass
class _Context:
    month: dt.date
    rows: int
    rng: np.random.Generator
    salt: np.uint64
    month_ms: int  # the month's first instant, ms since the epoch
    hours_in_month: int
    hours: int  # hours delivered: the whole month, or up to `until`
    invoiced: bool  # a closed month has invoice ids
    offerings: list[dict[str, str]]  # product attributes, rate, description
    product_of: list[_Product]
    od_rate: np.ndarray
    unit_kind: np.ndarray
    nf: np.ndarray
    code: np.ndarray  # index in _PRODUCT_CODES
    ri_offering: np.ndarray  # the offering each reservation covers

    @classmethod
    def create(
        cls,
        month: dt.date,
        rows: int,
        fmt: str,
        seed: int,
        until: dt.datetime | None,
        shaped: bool = False,
    ) -> _Context:
        # A shaped month (sample/shape.py) draws the plan of every other month of its seed:
        # the same resources run on, as real ones do, so months continue each other.
        rng = np.random.default_rng(
            [seed, 0 if shaped else month.year, 0 if shaped else month.month, _FMT_CODE[fmt]]
        )
        start = dt.datetime(month.year, month.month, 1, tzinfo=dt.UTC)
        end = dt.datetime.combine(next_month(month), dt.time(), tzinfo=dt.UTC)
        hours, invoiced = _delivered_hours(start, end, until)
        offerings = _expand_offerings()
        products = [p for _, p in offerings]
        return cls(
            month=month,
            rows=rows,
            rng=rng,
            salt=np.uint64(rng.integers(0, 2**63)),
            month_ms=int(start.timestamp()) * 1000,
            hours_in_month=int((end - start).total_seconds()) // 3600,
            hours=hours,
            invoiced=invoiced,
            offerings=[o for o, _ in offerings],
            product_of=products,
            od_rate=np.array([float(o["rate"]) for o, _ in offerings]),
            unit_kind=np.array([p.kind for p in products]),
            nf=np.array([p.nf for p in products]),
            code=np.array([_PRODUCT_CODES.index(p.code) for p in products]),
            ri_offering=np.array(
                [_offering_index(offerings, r.product, r.region) for r in _RESERVATIONS]
            ),
        )


def _offering_index(offerings: list[tuple[dict[str, str], _Product]], key: str, region: str) -> int:
    return next(
        i for i, (o, p) in enumerate(offerings) if p.key == key and o["region_code"] == region
    )


def _delivered_hours(
    start: dt.datetime, end: dt.datetime, until: dt.datetime | None
) -> tuple[int, bool]:
    """Hours with usage in the delivery, and whether the month is closed (invoiced)."""
    full = int((end - start).total_seconds()) // 3600
    if until is None:
        return full, True
    until = until.replace(tzinfo=dt.UTC) if until.tzinfo is None else until.astimezone(dt.UTC)
    if until <= start:
        raise ValueError(f"until {until} is not after the start of {start:%Y-%m}")
    if until >= end:
        return full, False
    return -(-int((until - start).total_seconds()) // 3600), False


def _sku(key: str) -> str:
    return base64.b32encode(hashlib.sha256(key.encode()).digest()).decode()[:16]


def _expand_offerings() -> list[tuple[dict[str, str], _Product]]:
    """Every product in every region it is sold in, with its product attributes."""
    expanded = []
    for product in _PRODUCTS:
        for region in _REGIONS if product.regional else ("",):
            prefix, location, multiplier = _REGIONS.get(region, ("", "Global", "1"))
            rate = (Decimal(product.rate) * Decimal(multiplier)).quantize(Decimal("1e-10"))
            offering = {
                "product_name": product.name,
                "servicename": product.service,
                "servicecode": product.code,
                "product_family": product.family,
                "usagetype": prefix + product.usage,
                "operation": product.operation,
                "sku": _sku(f"{product.key}|{region}"),
                "region": region,
                "region_code": region,
                "location": location,
                "location_type": "AWS Region" if region else "Other",
                "pricing_unit": product.unit,
                **dict(product.attrs),
                "rate": f"{rate:.10f}",
                "description": product.description.format(
                    rate=f"{rate.normalize():f}", location=location
                ),
            }
            if product.key == "ec2-data-out":
                offering |= {"from_location": location, "from_location_type": "AWS Region"}
            expanded.append((offering, product))
    return expanded


_NOT_PRODUCT = {"rate", "description"}  # offering fields that are no product attribute
_PRODUCT_ATTRS = sorted({k for o, _ in _expand_offerings() for k in o} - _NOT_PRODUCT)
# Legacy CUR has pricing_unit but no product_pricing_unit; monthly fees carry fee attributes.
_LEGACY_PRODUCT_ATTRS = [
    "product_name",
    *sorted(
        set(_PRODUCT_ATTRS) - {"product_name", "pricing_unit"} | {"fee_code", "fee_description"}
    ),
]


def _legacy_schema() -> pa.Schema:
    """Legacy Athena-integration columns: no net or CUR 2.0-only columns, flat tags/product."""
    line_items = [
        n for n in CUR2_COLUMNS
        if n.startswith("line_item_") and "_net_" not in n and n != "line_item_usage_account_name"
    ]  # fmt: skip
    commitments = [
        n for n in CUR2_COLUMNS
        if n.startswith(("reservation_", "savings_plan_")) and "_net_" not in n
        and n != "reservation_availability_zone"
    ]  # fmt: skip
    names = [
        "identity_line_item_id", "identity_time_interval", "bill_invoice_id",
        "bill_billing_entity", "bill_bill_type", "bill_payer_account_id",
        "bill_billing_period_start_date", "bill_billing_period_end_date", *line_items,
        *(f"product_{a}" for a in _LEGACY_PRODUCT_ATTRS),
        "pricing_lease_contract_length", "pricing_offering_class", "pricing_purchase_option",
        "pricing_rate_id", "pricing_public_on_demand_cost", "pricing_public_on_demand_rate",
        "pricing_term", "pricing_unit", *commitments,
        *(f"resource_tags_{k}" for k in _TAG_KEYS), "cost_category_business_unit",
    ]  # fmt: skip
    utc = pa.timestamp("ms", tz="UTC")
    types = {n: utc if pa.types.is_timestamp(t) else t for n, t in CUR2_COLUMNS.items()}
    return pa.schema([pa.field(n, types.get(n, pa.string()), nullable=False) for n in names])


_TAG_KEYS = ("aws_created_by", "user_cost_center", "user_environment", "user_team")
_LEGACY_SCHEMA = _legacy_schema()
# Split cost allocation columns only when asked for (`sample.split`).
_CUR2_SCHEMA = pa.schema(
    [(n, t) for n, t in CUR2_COLUMNS.items() if n not in SPLIT_LINE_ITEM_COLUMNS]
)
