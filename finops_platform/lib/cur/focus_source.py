"""AWS Data Exports' FOCUS 1.0 export (table FOCUS_1_0_AWS) as a source: one mapping table from
its columns to the canonical raw row, so a tenant that only has a FOCUS export gets every
curated table and check.

The export has no line items, only FOCUS rows, so each row becomes one canonical row whose CUR
line item type is chosen from ChargeCategory, ChargeFrequency and the commitment columns such
that the platform's own formulas give the export's figures back:

- `line_item_unblended_cost` is BilledCost, and the CID amortized cost
  (`sql/fragments/line_item_costs.sql`) is EffectiveCost, row by row: the type decides which
  CUR column the amortization reads, and EffectiveCost is put there (DiscountedUsage:
  `reservation_effective_cost`; SavingsPlanCoveredUsage: `savings_plan_savings_plan_effective_cost`;
  a recurring commitment fee: its unused fee; Usage, Fee, Tax, Credit, Refund: BilledCost
  itself, which a FOCUS export gives them as EffectiveCost too).
- A usage row of an unused commitment (CommitmentDiscountStatus `Unused`) is that commitment's
  recurring fee (RIFee, SavingsPlanRecurringFee) billing nothing itself; `focus_cost.sql` then
  makes it its unused-commitment row again, and no second (purchase) row.
- Unit prices, quantities and units go to the CUR columns `focus_cost.sql` reads them from, so
  `focus_cost` of a FOCUS-sourced month is the export again (the round-trip test lists the few
  columns that cannot survive).

The SQL is Athena (Trino) text, transpiled for DuckDB as every normalization is. FOCUS has no
line item id: `identity_line_item_id` is a digest of the row's identifying columns and file,
numbered within equal digests, so two equal rows stay two line items.
"""

from __future__ import annotations

import pyarrow as pa

from finops_platform.lib.catalog.types import engine_type, glue_type
from finops_platform.lib.cur.schema import CUR2_COLUMNS, DOUBLE_MAP, MAP_COLUMNS, STRING_MAP
from finops_platform.lib.engine.duckdb import sql_identifier, sql_string

FOCUS_FORMATS = ("focus", "focus-csv")

_S, _D, _T = pa.string(), pa.float64(), pa.timestamp("ms")

# FOCUS 1.0 with AWS columns as AWS Data Exports types them (43 FOCUS columns, 5 AWS ones).
FOCUS_1_0_COLUMNS: dict[str, pa.DataType] = {
    "AvailabilityZone": _S,
    "BilledCost": _D,
    "BillingAccountId": _S,
    "BillingAccountName": _S,
    "BillingCurrency": _S,
    "BillingPeriodEnd": _T,
    "BillingPeriodStart": _T,
    "ChargeCategory": _S,
    "ChargeClass": _S,
    "ChargeDescription": _S,
    "ChargeFrequency": _S,
    "ChargePeriodEnd": _T,
    "ChargePeriodStart": _T,
    "CommitmentDiscountCategory": _S,
    "CommitmentDiscountId": _S,
    "CommitmentDiscountName": _S,
    "CommitmentDiscountStatus": _S,
    "CommitmentDiscountType": _S,
    "ConsumedQuantity": _D,
    "ConsumedUnit": _S,
    "ContractedCost": _D,
    "ContractedUnitPrice": _D,
    "EffectiveCost": _D,
    "InvoiceIssuerName": _S,
    "ListCost": _D,
    "ListUnitPrice": _D,
    "PricingCategory": _S,
    "PricingQuantity": _D,
    "PricingUnit": _S,
    "ProviderName": _S,
    "PublisherName": _S,
    "RegionId": _S,
    "RegionName": _S,
    "ResourceId": _S,
    "ResourceName": _S,
    "ResourceType": _S,
    "ServiceCategory": _S,
    "ServiceName": _S,
    "SkuId": _S,
    "SkuPriceId": _S,
    "SubAccountId": _S,
    "SubAccountName": _S,
    "Tags": STRING_MAP,
    "x_CostCategories": STRING_MAP,
    "x_Discounts": DOUBLE_MAP,
    "x_Operation": _S,
    "x_ServiceCode": _S,
    "x_UsageType": _S,
}
# Without these a FOCUS row cannot be placed or costed.
REQUIRED_FOCUS_COLUMNS = (
    "BilledCost",
    "EffectiveCost",
    "ChargeCategory",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "BillingPeriodStart",
    "BillingAccountId",
    "SubAccountId",
)

# Helper columns of the mapping (computed once per row, before the mapping reads them).
_KIND = '"focus_commitment_kind"'  # 'RI', 'SP' or NULL
_UNUSED = '"focus_unused"'  # a usage row of an unused commitment
_TYPE = '"focus_line_item_type"'
_KEY = '"focus_row_key"'
_TAG_KEYS = '"focus_tag_keys"'  # each Tags key of the file -> the key the CUR gives it
_UNUSED_PREFIX = "Unused commitment: "  # how focus_cost.sql describes an unused commitment

_COMMITMENT_KIND = """CASE
    WHEN nullif("CommitmentDiscountId", '') IS NULL THEN NULL
    WHEN "CommitmentDiscountCategory" = 'Usage' THEN 'RI'
    WHEN "CommitmentDiscountCategory" = 'Spend' THEN 'SP'
    WHEN "CommitmentDiscountType" = 'Reserved Instance' THEN 'RI'
    WHEN "CommitmentDiscountType" = 'Savings Plan' THEN 'SP'
    WHEN lower("CommitmentDiscountId") LIKE '%savingsplan%' THEN 'SP'
    ELSE 'RI'
END"""

# The CUR line item type whose amortization and FOCUS mapping give the row's figures back.
_LINE_ITEM_TYPE = f"""CASE
    WHEN {_UNUSED} THEN CASE {_KIND} WHEN 'SP' THEN 'SavingsPlanRecurringFee' ELSE 'RIFee' END
    WHEN "ChargeCategory" = 'Usage' AND {_KIND} = 'RI' THEN 'DiscountedUsage'
    WHEN "ChargeCategory" = 'Usage' AND {_KIND} = 'SP' AND (
        "BilledCost" < 0 OR (
            "BilledCost" = 0 AND "EffectiveCost" = 0 AND coalesce("ContractedCost", 0) = 0
            AND coalesce("ContractedUnitPrice", 0) = 0 AND coalesce("ListUnitPrice", 0) = 0
        )
    ) THEN 'SavingsPlanNegation'
    WHEN "ChargeCategory" = 'Usage' AND {_KIND} = 'SP' THEN 'SavingsPlanCoveredUsage'
    WHEN "ChargeCategory" = 'Usage' THEN 'Usage'
    WHEN "ChargeCategory" = 'Purchase' AND "ChargeFrequency" = 'Recurring' AND {_KIND} = 'SP'
        THEN 'SavingsPlanRecurringFee'
    WHEN "ChargeCategory" = 'Purchase' AND "ChargeFrequency" = 'Recurring' AND {_KIND} = 'RI'
        THEN 'RIFee'
    WHEN "ChargeCategory" = 'Purchase' AND {_KIND} = 'SP' THEN 'SavingsPlanUpfrontFee'
    WHEN "ChargeCategory" = 'Purchase' THEN 'Fee'
    WHEN "ChargeCategory" = 'Adjustment' THEN 'Refund'
    ELSE "ChargeCategory"
END"""

# A tag key as the CUR names it: AWS's Athena rule on `<source>:<key>` (a key without a source
# is a user tag), so `user:cost-center` is `user_cost_center` and `aws:createdBy`
# `aws_created_by`, the keys legacy and CUR 2.0 deliveries give (`names.athena_column`).
_TAG_KEY = """regexp_replace(regexp_replace(array_join(transform(
    regexp_extract_all(CASE WHEN strpos(k, ':') > 0 THEN k ELSE concat('user:', k) END, '.'),
    c -> CASE WHEN regexp_like(c, '[A-Z]') THEN concat('_', lower(c)) ELSE c END
), ''), '[^a-z0-9]+', '_'), '^_+|_+$', '')"""


def _decimal_text(column: str) -> str:
    """A unit price as the CUR writes a rate: decimal text, never in exponent notation."""
    return f'CAST(CAST("{column}" AS DECIMAL(38, 10)) AS VARCHAR)'


def _when(condition: str, value: str) -> str:
    return f"CASE WHEN {condition} THEN {value} END"


def _of_type(*types: str) -> str:
    return f"{_TYPE} IN ({', '.join(sql_string(t) for t in types)})"


_EFFECTIVE = '"EffectiveCost"'

# Canonical column -> its SQL over the FOCUS columns (and the helper columns above). Canonical
# columns not listed are NULL (maps: empty). One table, so the mapping is read in one place.
FOCUS_TO_CANONICAL: dict[str, str] = {
    "identity_line_item_id": (
        f"concat({_KEY}, '-', CAST(row_number() OVER (PARTITION BY {_KEY} "
        'ORDER BY "BilledCost", "EffectiveCost", "PricingQuantity") AS VARCHAR))'
    ),
    "identity_time_interval": (
        "concat(date_format(\"ChargePeriodStart\", '%Y-%m-%dT%H:%i:%sZ'), '/', "
        "date_format(\"ChargePeriodEnd\", '%Y-%m-%dT%H:%i:%sZ'))"
    ),
    "bill_invoicing_entity": '"InvoiceIssuerName"',
    "bill_billing_entity": '"PublisherName"',
    "bill_payer_account_id": '"BillingAccountId"',
    "bill_payer_account_name": '"BillingAccountName"',
    "bill_billing_period_start_date": '"BillingPeriodStart"',
    "bill_billing_period_end_date": '"BillingPeriodEnd"',
    "line_item_usage_account_id": '"SubAccountId"',
    "line_item_usage_account_name": '"SubAccountName"',
    "line_item_line_item_type": _TYPE,
    "line_item_usage_start_date": '"ChargePeriodStart"',
    "line_item_usage_end_date": '"ChargePeriodEnd"',
    "line_item_product_code": 'coalesce("x_ServiceCode", "ServiceName")',
    "line_item_usage_type": '"x_UsageType"',
    "line_item_operation": '"x_Operation"',
    "line_item_availability_zone": '"AvailabilityZone"',
    "line_item_resource_id": '"ResourceId"',
    # An unused commitment's quantity is its unused hours or amount, not usage.
    "line_item_usage_amount": _when(
        f"NOT {_UNUSED}", 'coalesce("ConsumedQuantity", "PricingQuantity")'
    ),
    "line_item_currency_code": '"BillingCurrency"',
    "line_item_unblended_rate": _decimal_text("ContractedUnitPrice"),
    "line_item_unblended_cost": '"BilledCost"',
    "line_item_net_unblended_rate": _decimal_text("ContractedUnitPrice"),
    # ContractedCost is the net cost before commitment discounts, except where focus_cost.sql
    # reads it elsewhere (the on-demand cost of RI usage; 0 for SP negations and unused parts).
    "line_item_net_unblended_cost": (
        f"CASE WHEN {_UNUSED} OR {_of_type('DiscountedUsage', 'SavingsPlanNegation')} "
        'THEN "BilledCost" ELSE "ContractedCost" END'
    ),
    "line_item_line_item_description": (
        f'CASE WHEN {_UNUSED} AND starts_with("ChargeDescription", {sql_string(_UNUSED_PREFIX)}) '
        f'THEN substr("ChargeDescription", {len(_UNUSED_PREFIX) + 1}) ELSE "ChargeDescription" END'
    ),
    "product_product_family": '"ResourceType"',
    "product_region_code": '"RegionId"',
    "product_servicecode": '"x_ServiceCode"',
    "product_sku": '"SkuId"',
    "product_usagetype": '"x_UsageType"',
    "product_operation": '"x_Operation"',
    "pricing_currency": '"BillingCurrency"',
    "pricing_public_on_demand_cost": '"ListCost"',
    "pricing_public_on_demand_rate": _decimal_text("ListUnitPrice"),
    "pricing_rate_id": '"SkuPriceId"',
    "pricing_term": (
        "CASE \"PricingCategory\" WHEN 'Dynamic' THEN 'Spot' WHEN 'Standard' THEN 'OnDemand' END"
    ),
    # A commitment fee's unit is left out where it is the one focus_cost.sql gives a fee AWS
    # leaves without one (as AWS does): else it would become the unit of the month's other
    # lines of that usage type (`priced_units`), such as a reservation's volume discount.
    "pricing_unit": (
        f"CASE WHEN {_UNUSED} THEN NULL "
        f"WHEN {_of_type('RIFee', 'SavingsPlanRecurringFee')} AND \"PricingUnit\" = 'Hours' "
        "THEN NULL "
        f"WHEN {_of_type('Fee', 'SavingsPlanUpfrontFee')} AND \"PricingUnit\" = 'Units' THEN NULL "
        'ELSE "PricingUnit" END'
    ),
    "reservation_reservation_a_r_n": _when(f"{_KIND} = 'RI'", '"CommitmentDiscountId"'),
    "reservation_effective_cost": _when(_of_type("DiscountedUsage"), _EFFECTIVE),
    "reservation_net_effective_cost": _when(_of_type("DiscountedUsage"), _EFFECTIVE),
    "reservation_unused_recurring_fee": _when(_of_type("RIFee"), _EFFECTIVE),
    "reservation_net_unused_recurring_fee": _when(_of_type("RIFee"), _EFFECTIVE),
    "reservation_unused_quantity": _when(f"{_UNUSED} AND {_of_type('RIFee')}", '"PricingQuantity"'),
    "savings_plan_savings_plan_a_r_n": _when(f"{_KIND} = 'SP'", '"CommitmentDiscountId"'),
    "savings_plan_savings_plan_effective_cost": _when(
        _of_type("SavingsPlanCoveredUsage"), _EFFECTIVE
    ),
    "savings_plan_net_savings_plan_effective_cost": _when(
        _of_type("SavingsPlanCoveredUsage"), _EFFECTIVE
    ),
    "savings_plan_total_commitment_to_date": _when(_of_type("SavingsPlanRecurringFee"), _EFFECTIVE),
    "savings_plan_used_commitment": _when(_of_type("SavingsPlanRecurringFee"), "0"),
    "product": (
        "map_from_entries(filter(ARRAY["
        "CAST(ROW('servicename', \"ServiceName\") AS ROW(key VARCHAR, value VARCHAR)), "
        "CAST(ROW('region', \"RegionName\") AS ROW(key VARCHAR, value VARCHAR))"
        "], e -> e.value IS NOT NULL AND e.value <> ''))"
    ),
    "resource_tags": (
        f'map(transform(map_keys("Tags"), k -> element_at({_TAG_KEYS}, k)), map_values("Tags"))'
    ),
    "cost_category": '"x_CostCategories"',
    "discount": '"x_Discounts"',
}

# The columns that tell rows apart, for the row's digest (with its file).
_ROW_KEY_COLUMNS = (
    "ChargePeriodStart",
    "SubAccountId",
    "ChargeCategory",
    "CommitmentDiscountStatus",
    "CommitmentDiscountId",
    "ResourceId",
    "SkuPriceId",
    "x_ServiceCode",
    "x_UsageType",
    "x_Operation",
    "ChargeDescription",
)


class FocusSchemaProblem(ValueError):
    """A FOCUS file whose columns cannot be read as FOCUS 1.0 with AWS columns."""


def _sql_type(arrow_type: pa.DataType) -> str:
    return engine_type(glue_type(arrow_type), "athena")


def _column(name: str, present: dict[str, pa.DataType], source: str) -> str:
    """The FOCUS column as its FOCUS type: cast from the file's, or NULL where it is absent."""
    target = FOCUS_1_0_COLUMNS[name]
    if name not in present:
        if name in REQUIRED_FOCUS_COLUMNS:
            raise FocusSchemaProblem(f"required FOCUS column {name!r} is missing")
        return f"CAST(NULL AS {_sql_type(target)}) AS {sql_identifier(name)}"
    found = present[name]
    readable = (
        found == target
        or pa.types.is_null(found)
        or (pa.types.is_string(target) and not pa.types.is_nested(found))
        or (
            pa.types.is_floating(target)
            and (
                pa.types.is_integer(found)
                or pa.types.is_floating(found)
                or pa.types.is_decimal(found)
            )
        )
        or (
            pa.types.is_timestamp(target)
            and (pa.types.is_timestamp(found) or pa.types.is_date(found))
        )
        or (pa.types.is_map(target) and pa.types.is_map(found))
    )
    if not readable:
        raise FocusSchemaProblem(f"FOCUS column {name!r} has type {found}, expected {target}")
    return f"CAST({source}.{sql_identifier(name)} AS {_sql_type(target)}) AS {sql_identifier(name)}"


def _canonical(column: str) -> str:
    expression = FOCUS_TO_CANONICAL.get(column)
    target = _sql_type(CUR2_COLUMNS[column])
    if expression is None:
        return f"CAST(MAP() AS {target})" if column in MAP_COLUMNS else f"CAST(NULL AS {target})"
    if column in MAP_COLUMNS:
        expression = f"coalesce({expression}, CAST(MAP() AS {target}))"
    return f"CAST({expression} AS {target})"


def _tag_keys(read: str, present: dict[str, pa.DataType]) -> str:
    """One row: the file's distinct Tags keys, each respelled once (`_TAG_KEY` per row and key
    took three quarters of the whole mapping's time: 3 of 4 s for 200,000 rows)."""
    if "Tags" not in present:
        return f"SELECT CAST(NULL AS {_sql_type(STRING_MAP)}) AS {_TAG_KEYS}"
    tags = f'CAST("Tags" AS {_sql_type(STRING_MAP)})'
    return (
        "SELECT map_from_entries(array_agg(CAST(ROW(k, "
        f"{_TAG_KEY}) AS ROW(key VARCHAR, value VARCHAR)))) AS {_TAG_KEYS} FROM "
        f"(SELECT DISTINCT k FROM {read} CROSS JOIN UNNEST(map_keys({tags})) AS u (k))"
    )


def focus_projection(
    schema: pa.Schema, read: str, source: str, path_column: str
) -> tuple[list[tuple[str, str]], str]:
    """(canonical column, SQL) for every CUR column, and the FROM clause (aliased `source`)
    they read: the file's FOCUS columns typed, then the helper columns, over `read`."""
    present = {field.name: field.type for field in schema}
    typed = ", ".join(_column(name, present, "f") for name in FOCUS_1_0_COLUMNS)
    digest = ", ".join(
        f"coalesce(CAST({sql_identifier(name)} AS VARCHAR), '')" for name in _ROW_KEY_COLUMNS
    )
    kinds = (
        f"SELECT *, {_COMMITMENT_KIND} AS {_KIND}, "
        f"coalesce(\"ChargeCategory\" = 'Usage' AND \"CommitmentDiscountStatus\" = 'Unused', "
        f"false) AS {_UNUSED}, "
        f"to_hex(md5(to_utf8(concat_ws('|', {path_column}, {digest})))) AS {_KEY} "
        f"FROM (SELECT {typed}, f.{path_column} FROM {read} AS f)"
    )
    tag_keys = _tag_keys(read, present)
    helpers = f"SELECT *, {_LINE_ITEM_TYPE} AS {_TYPE} FROM ({kinds}) CROSS JOIN ({tag_keys})"
    projection = [(column, _canonical(column)) for column in CUR2_COLUMNS]
    return projection, f"({helpers}) AS {source}"
