"""The canonical CUR schema every tenant's raw data is normalized to.

Column names follow CUR 2.0 (AWS Data Exports). Legacy CUR deliveries are mapped onto it by
`finops_platform.lib.cur.normalize`: flat `resource_tags_*`, `cost_category_*` and `discount_*`
columns become maps, product attributes outside `PRODUCT_COLUMNS` go into the `product` map.
The partition columns `org`, `year`, `month` are not stored in the files: they come from the
lake path (`custos/cur/org=.../year=.../month=...`), as in the Glue/Athena table.
"""

from __future__ import annotations

import re

import pyarrow as pa

TIMESTAMP = pa.timestamp("ms")
STRING_MAP = pa.map_(pa.string(), pa.string())
DOUBLE_MAP = pa.map_(pa.string(), pa.float64())

_STRING = pa.string()
_DOUBLE = pa.float64()

IDENTITY_AND_BILL_COLUMNS: dict[str, pa.DataType] = {
    "identity_line_item_id": _STRING,
    "identity_time_interval": _STRING,
    "bill_invoice_id": _STRING,
    "bill_invoicing_entity": _STRING,
    "bill_billing_entity": _STRING,
    "bill_bill_type": _STRING,
    "bill_payer_account_id": _STRING,
    "bill_payer_account_name": _STRING,
    "bill_billing_period_start_date": TIMESTAMP,
    "bill_billing_period_end_date": TIMESTAMP,
}

LINE_ITEM_COLUMNS: dict[str, pa.DataType] = {
    "line_item_usage_account_id": _STRING,
    "line_item_usage_account_name": _STRING,
    "line_item_line_item_type": _STRING,
    "line_item_usage_start_date": TIMESTAMP,
    "line_item_usage_end_date": TIMESTAMP,
    "line_item_product_code": _STRING,
    "line_item_usage_type": _STRING,
    "line_item_operation": _STRING,
    "line_item_availability_zone": _STRING,
    "line_item_resource_id": _STRING,
    "line_item_usage_amount": _DOUBLE,
    "line_item_normalization_factor": _DOUBLE,
    "line_item_normalized_usage_amount": _DOUBLE,
    "line_item_currency_code": _STRING,
    "line_item_unblended_rate": _STRING,
    "line_item_unblended_cost": _DOUBLE,
    "line_item_blended_rate": _STRING,
    "line_item_blended_cost": _DOUBLE,
    "line_item_net_unblended_rate": _STRING,
    "line_item_net_unblended_cost": _DOUBLE,
    "line_item_line_item_description": _STRING,
    "line_item_tax_type": _STRING,
    "line_item_legal_entity": _STRING,
}

# The product attributes CUR 2.0 keeps as top-level columns; every other product attribute
# lives in the `product` map (key without the `product_` prefix).
PRODUCT_COLUMNS: dict[str, pa.DataType] = {
    name: _STRING
    for name in (
        "product_comment",
        "product_fee_code",
        "product_fee_description",
        "product_from_location",
        "product_from_location_type",
        "product_from_region_code",
        "product_instance_family",
        "product_instance_type",
        "product_instancesku",
        "product_location",
        "product_location_type",
        "product_operation",
        "product_pricing_unit",
        "product_product_family",
        "product_region_code",
        "product_servicecode",
        "product_sku",
        "product_to_location",
        "product_to_location_type",
        "product_to_region_code",
        "product_usagetype",
    )
}

PRICING_COLUMNS: dict[str, pa.DataType] = {
    "pricing_currency": _STRING,
    "pricing_lease_contract_length": _STRING,
    "pricing_offering_class": _STRING,
    "pricing_public_on_demand_cost": _DOUBLE,
    "pricing_public_on_demand_rate": _STRING,
    "pricing_purchase_option": _STRING,
    "pricing_rate_code": _STRING,
    "pricing_rate_id": _STRING,
    "pricing_term": _STRING,
    "pricing_unit": _STRING,
}

RESERVATION_COLUMNS: dict[str, pa.DataType] = {
    "reservation_amortized_upfront_cost_for_usage": _DOUBLE,
    "reservation_amortized_upfront_fee_for_billing_period": _DOUBLE,
    "reservation_availability_zone": _STRING,
    "reservation_effective_cost": _DOUBLE,
    "reservation_end_time": _STRING,
    "reservation_modification_status": _STRING,
    "reservation_net_amortized_upfront_cost_for_usage": _DOUBLE,
    "reservation_net_amortized_upfront_fee_for_billing_period": _DOUBLE,
    "reservation_net_effective_cost": _DOUBLE,
    "reservation_net_recurring_fee_for_usage": _DOUBLE,
    "reservation_net_unused_amortized_upfront_fee_for_billing_period": _DOUBLE,
    "reservation_net_unused_recurring_fee": _DOUBLE,
    "reservation_net_upfront_value": _DOUBLE,
    "reservation_normalized_units_per_reservation": _STRING,
    "reservation_number_of_reservations": _STRING,
    "reservation_recurring_fee_for_usage": _DOUBLE,
    "reservation_reservation_a_r_n": _STRING,
    "reservation_start_time": _STRING,
    "reservation_subscription_id": _STRING,
    "reservation_total_reserved_normalized_units": _STRING,
    "reservation_total_reserved_units": _STRING,
    "reservation_units_per_reservation": _STRING,
    "reservation_unused_amortized_upfront_fee_for_billing_period": _DOUBLE,
    "reservation_unused_normalized_unit_quantity": _DOUBLE,
    "reservation_unused_quantity": _DOUBLE,
    "reservation_unused_recurring_fee": _DOUBLE,
    "reservation_upfront_value": _DOUBLE,
}

SAVINGS_PLAN_COLUMNS: dict[str, pa.DataType] = {
    "savings_plan_amortized_upfront_commitment_for_billing_period": _DOUBLE,
    "savings_plan_end_time": _STRING,
    "savings_plan_instance_type_family": _STRING,
    "savings_plan_net_amortized_upfront_commitment_for_billing_period": _DOUBLE,
    "savings_plan_net_recurring_commitment_for_billing_period": _DOUBLE,
    "savings_plan_net_savings_plan_effective_cost": _DOUBLE,
    "savings_plan_offering_type": _STRING,
    "savings_plan_payment_option": _STRING,
    "savings_plan_purchase_term": _STRING,
    "savings_plan_recurring_commitment_for_billing_period": _DOUBLE,
    "savings_plan_region": _STRING,
    "savings_plan_savings_plan_a_r_n": _STRING,
    "savings_plan_savings_plan_effective_cost": _DOUBLE,
    "savings_plan_savings_plan_rate": _DOUBLE,
    "savings_plan_start_time": _STRING,
    "savings_plan_total_commitment_to_date": _DOUBLE,
    "savings_plan_used_commitment": _DOUBLE,
}

# On-Demand Capacity Reservations a line item ran in (CUR 2.0, and legacy CUR since 2024).
CAPACITY_RESERVATION_COLUMNS: dict[str, pa.DataType] = {
    "capacity_reservation_capacity_reservation_arn": _STRING,
    "capacity_reservation_capacity_reservation_status": _STRING,
    "capacity_reservation_capacity_reservation_type": _STRING,
}

# Split cost allocation data (EKS pods, ECS tasks): in a delivery only when the payer opted in
# ("INCLUDE SPLIT COST ALLOCATION DATA"); legacy headers `splitLineItem/SplitCost`. Each pod or
# task gets a vCPU and a memory usage row per hour whose split and unused cost add up to its
# share of the parent instance's amortized cost (AWS CUR user guide, "Split line item").
SPLIT_LINE_ITEM_COLUMNS: dict[str, pa.DataType] = {
    "split_line_item_parent_resource_id": _STRING,
    "split_line_item_split_usage": _DOUBLE,
    "split_line_item_split_usage_ratio": _DOUBLE,
    "split_line_item_reserved_usage": _DOUBLE,
    "split_line_item_actual_usage": _DOUBLE,
    "split_line_item_split_cost": _DOUBLE,
    "split_line_item_unused_cost": _DOUBLE,
    "split_line_item_net_split_cost": _DOUBLE,
    "split_line_item_net_unused_cost": _DOUBLE,
    "split_line_item_public_on_demand_split_cost": _DOUBLE,
    "split_line_item_public_on_demand_unused_cost": _DOUBLE,
}

# CUR 2.0 map columns. Legacy CUR spreads them over flat columns with these prefixes.
MAP_COLUMNS: dict[str, pa.DataType] = {
    "product": STRING_MAP,
    "resource_tags": STRING_MAP,
    "cost_category": STRING_MAP,
    "discount": DOUBLE_MAP,
}
LEGACY_MAP_PREFIXES: dict[str, str] = {
    "resource_tags": "resource_tags_",
    "cost_category": "cost_category_",
    "discount": "discount_",
    "product": "product_",
}

# Lineage of every row (the FinOps hubs idea of x_SourceName / x_SourceVersion / x_IngestionTime).
LINEAGE_COLUMNS: dict[str, pa.DataType] = {
    "x_source_file": _STRING,
    "x_source_format": _STRING,
    "x_assembly_id": _STRING,
    "x_ingestion_time": TIMESTAMP,
}

# What a CUR 2.0 export delivers: the canonical columns without our lineage.
CUR2_COLUMNS: dict[str, pa.DataType] = {
    **IDENTITY_AND_BILL_COLUMNS,
    **LINE_ITEM_COLUMNS,
    **PRODUCT_COLUMNS,
    **PRICING_COLUMNS,
    **RESERVATION_COLUMNS,
    **SAVINGS_PLAN_COLUMNS,
    **CAPACITY_RESERVATION_COLUMNS,
    **SPLIT_LINE_ITEM_COLUMNS,
    **MAP_COLUMNS,
}

CANONICAL_COLUMNS: dict[str, pa.DataType] = {**CUR2_COLUMNS, **LINEAGE_COLUMNS}
CANONICAL_SCHEMA = pa.schema(list(CANONICAL_COLUMNS.items()))

# Columns without which a delivery cannot be ingested (schema check, blocking).
REQUIRED_COLUMNS: tuple[str, ...] = (
    "identity_line_item_id",
    "identity_time_interval",
    "bill_payer_account_id",
    "bill_billing_period_start_date",
    "line_item_usage_account_id",
    "line_item_line_item_type",
    "line_item_usage_start_date",
    "line_item_usage_end_date",
    "line_item_product_code",
    "line_item_unblended_cost",
)

# Partition columns of the lake and the catalog, in path order.
PARTITION_COLUMNS: dict[str, pa.DataType] = {
    "org": _STRING,
    "year": pa.int32(),
    "month": pa.int32(),
}

LINE_ITEM_TYPES: tuple[str, ...] = (
    "Usage",
    "DiscountedUsage",
    "SavingsPlanCoveredUsage",
    "SavingsPlanNegation",
    "SavingsPlanUpfrontFee",
    "SavingsPlanRecurringFee",
    "RIFee",
    "Fee",
    "Tax",
    "Credit",
    "Refund",
    "EdpDiscount",
    "BundledDiscount",
    "PrivateRateDiscount",
    "RiVolumeDiscount",
)


# What tells words apart in a tag key: whitespace and the punctuation AWS allows in tag keys.
# AWS respells keys in the CUR (`aws:createdBy` is `aws_created_by`, `user:Cost Center` is
# `user_cost_center`), so keys are compared lower case without these.
TAG_KEY_SEPARATORS = r"[\s_:.+=/@-]"


def tag_match_key(tag_key: str) -> str:
    """A configured cost allocation tag key as `resource_tags` keys are compared with it: a key
    without a prefix is a user tag (`user:`); lower case, without separators. `CostCenter`,
    `cost_center` and `user:Cost Center` all match the CUR's `user_cost_center`."""
    if ":" not in tag_key:
        tag_key = f"user:{tag_key}"
    return re.sub(TAG_KEY_SEPARATORS, "", tag_key.lower())
