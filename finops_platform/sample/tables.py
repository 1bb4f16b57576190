"""A block of rows as an Arrow table in each format's columns: legacy CUR (flat tags, string
rates; Parquet or CSV) and CUR 2.0 (maps), as AWS writes them.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from finops_platform.lib.cur.schema import PRODUCT_COLUMNS
from finops_platform.sample.catalog import _ACCOUNTS, _DISCOUNT_KEYS, _TAX, _TYPE_NAMES, _UNIT
from finops_platform.sample.context import (
    _CUR2_SCHEMA,
    _LEGACY_PRODUCT_ATTRS,
    _LEGACY_SCHEMA,
    _TAG_KEYS,
)
from finops_platform.sample.plan import _Plan
from finops_platform.sample.rows import _Block

# --- Arrow tables: the block's rows in each format's columns --------------------------------


def _take(values: pa.Array, index: np.ndarray) -> pa.Array:
    return values.take(pa.array(index))


def _common_columns(block: _Block, plan: _Plan) -> dict[str, pa.Array]:
    """Columns both formats share (CUR 2.0 names); strings come from the lookup tables."""
    ctx, s, n = plan.ctx, block.series, block.size
    series, offering = plan.strings["series"], plan.strings["offering"]
    account, ri, sp = plan.strings["account"], plan.strings["ri"], plan.strings["sp"]
    o, a = plan.offering[s], plan.account[s]
    r, p, kind = plan.ri[s], plan.sp[s], plan.kind[s]
    start_ms = ctx.month_ms
    monthly = block.hour < 0
    usage_start = start_ms + np.where(monthly, 0, block.hour) * 3_600_000
    usage_end = np.where(
        monthly, start_ms + ctx.hours_in_month * 3_600_000 - 1000, usage_start + 3_600_000
    )
    tax_type = [*account["tax_type"].to_pylist(), ""]
    columns = {
        "identity_line_item_id": _take(series["line_item_id"], s),
        "identity_time_interval": _take(
            plan.strings["time"]["interval"], np.where(monthly, ctx.hours, block.hour)
        ),
        "bill_invoice_id": _take(account["invoice_id"], a),
        "bill_invoicing_entity": _take(account["entity"], a),
        "bill_billing_entity": pa.repeat("AWS", n),
        "bill_bill_type": pa.repeat("Anniversary", n),
        "bill_payer_account_id": _take(account["payer_account_id"], a),
        "bill_payer_account_name": _take(account["payer_account_name"], a),
        "bill_billing_period_start_date": np.full(n, start_ms),
        "bill_billing_period_end_date": np.full(n, start_ms + ctx.hours_in_month * 3_600_000),
        "line_item_usage_account_id": _take(account["usage_account_id"], a),
        "line_item_usage_account_name": _take(account["usage_account_name"], a),
        "line_item_line_item_type": _take(pa.array(_TYPE_NAMES), kind),
        "line_item_usage_start_date": usage_start,
        "line_item_usage_end_date": usage_end,
        "line_item_product_code": _take(offering["servicecode"], o),
        "line_item_usage_type": _take(offering["usagetype"], o),
        "line_item_operation": _take(offering["operation"], o),
        "line_item_availability_zone": _take(series["availability_zone"], s),
        "line_item_resource_id": _take(series["resource_id"], s),
        "line_item_currency_code": pa.repeat("USD", n),
        "line_item_unblended_rate": _take(series["unblended_rate"], s),
        "line_item_blended_rate": _take(series["blended_rate"], s),
        "line_item_net_unblended_rate": _take(series["net_rate"], s),
        "line_item_line_item_description": _take(series["description"], s),
        "line_item_tax_type": _take(pa.array(tax_type), np.where(kind == _TAX, a, len(_ACCOUNTS))),
        "line_item_legal_entity": _take(account["entity"], a),
        "pricing_currency": pa.repeat("USD", n),
        "pricing_lease_contract_length": _take(ri["lease"], r),
        "pricing_offering_class": _take(ri["offering_class"], r),
        "pricing_purchase_option": _take(ri["purchase_option"], r),
        "pricing_public_on_demand_rate": _take(series["public_rate"], s),
        "pricing_rate_code": _take(plan.strings["rates"]["rate_code"], o),
        "pricing_rate_id": _take(series["rate_id"], s),
        "pricing_term": _take(series["term"], s),
        "pricing_unit": _take(offering["pricing_unit"], o),
        "reservation_availability_zone": pa.repeat("", n),
        **{f"reservation_{k}": _take(ri[k], r) for k in _RI_STRING_COLUMNS},
        "reservation_reservation_a_r_n": _take(ri["arn"], r),
        **{f"savings_plan_{k}": _take(sp[k], p) for k in _SP_STRING_COLUMNS},
        "savings_plan_savings_plan_a_r_n": _take(sp["arn"], p),
    }
    return columns


_RI_STRING_COLUMNS = (
    "subscription_id", "start_time", "end_time", "modification_status", "number_of_reservations",
    "units_per_reservation", "total_reserved_units", "normalized_units_per_reservation",
    "total_reserved_normalized_units",
)  # fmt: skip
_SP_STRING_COLUMNS = (
    "offering_type", "payment_option", "purchase_term", "region", "instance_type_family",
    "start_time", "end_time",
)  # fmt: skip


def _legacy_table(block: _Block, plan: _Plan, *, csv: bool = False) -> pa.Table:
    """Legacy layout: flat product/tag/cost category columns, "" instead of nulls; 0 instead
    of a number that does not apply in Parquet, an empty field in CSV (as AWS writes each)."""
    columns = _common_columns(block, plan)
    o, s = plan.offering[block.series], block.series
    offering = plan.strings["offering"]
    empty = pa.repeat("", block.size)
    for attr in _LEGACY_PRODUCT_ATTRS:
        columns[f"product_{attr}"] = _take(offering[attr], o) if attr in offering else empty
    for key in _TAG_KEYS:
        columns[f"resource_tags_{key}"] = _take(plan.strings["series"][f"tag_{key}"], s)
    business_unit = plan.strings["account"]["business_unit"]
    columns["cost_category_business_unit"] = _take(business_unit, plan.account[s])
    for name, values in block.numbers.items():
        columns[name] = (
            pa.array(values, mask=np.isnan(values)) if csv else np.nan_to_num(values, nan=0.0)
        )
    return _table(columns, _LEGACY_SCHEMA)


def _cur2_table(block: _Block, plan: _Plan) -> pa.Table:
    """CUR 2.0 layout: maps for product/tags/cost categories/discounts, nulls where n/a."""
    columns = _common_columns(block, plan)
    o, s, a = plan.offering[block.series], block.series, plan.account[block.series]
    offering = plan.strings["offering"]
    empty = pa.repeat("", block.size)
    for name in PRODUCT_COLUMNS:
        attr = name.removeprefix("product_")
        columns[name] = _take(offering[attr], o) if attr in offering else empty
    columns["product"] = _take(plan.maps["product"], o)
    columns["resource_tags"] = _take(plan.maps["resource_tags"], s)
    columns["cost_category"] = _take(plan.maps["cost_category"], a)
    columns["discount"] = _discount_maps(block, plan)
    columns.update(_capacity_reservations(columns))
    for name, values in block.numbers.items():
        columns[name] = pa.array(values, mask=np.isnan(values))
    return _table(columns, _CUR2_SCHEMA)


def _capacity_reservations(columns: dict[str, pa.Array]) -> dict[str, pa.Array]:
    """CUR 2.0's capacity reservation columns: the instance-hours of about a quarter of the
    instances (picked by their id) ran in an On-Demand Capacity Reservation; NULL elsewhere
    (and the reservation's type, which nothing here reads)."""
    resource = columns["line_item_resource_id"]
    reserved = pc.and_(
        pc.match_substring(columns["line_item_usage_type"], "BoxUsage"),
        pc.match_substring_regex(resource, "^i-.*[0-3]$"),
    )
    arn = pc.binary_join_element_wise(
        "arn:aws:ec2:",
        columns["product_region_code"],
        ":",
        columns["line_item_usage_account_id"],
        ":capacity-reservation/cr-",
        pc.utf8_slice_codeunits(resource, 2),
        "",
    )
    nothing = pa.nulls(len(resource), pa.string())
    return {
        "capacity_reservation_capacity_reservation_arn": pc.if_else(reserved, arn, nothing),
        "capacity_reservation_capacity_reservation_status": pc.if_else(reserved, "Used", nothing),
        "capacity_reservation_capacity_reservation_type": nothing,
    }


def _table(columns: dict[str, pa.Array | np.ndarray], schema: pa.Schema) -> pa.Table:
    arrays = [
        pa.array(columns[f.name], f.type)
        if isinstance(columns[f.name], np.ndarray)
        else columns[f.name]
        for f in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def _discount_maps(block: _Block, plan: _Plan) -> pa.Array:
    """``{"<kind>_discount": x, "total_discount": x}`` where a discount applies, else empty."""
    code = plan.disc_code[block.series]
    has = code > 0
    offsets = np.concatenate([[0], np.cumsum(np.where(has, 2, 0))]).astype(np.int32)
    keys = np.stack(
        [np.array(_DISCOUNT_KEYS)[code[has]], np.full(has.sum(), "total_discount")], axis=1
    )
    values = np.repeat(block.discount[has] / _UNIT, 2)
    return pa.MapArray.from_arrays(offsets, pa.array(keys.ravel()), pa.array(values))
