"""What the columns mean: the descriptions shown in `dagster/column_schema`.

The README's column tables (`tb_cur_raw` and the curated tables) are the human documentation;
this is the same text, row for row, in one place for the code. A test parses the README tables
and fails when the two disagree, so they cannot drift apart. A row naming several columns gives
each the row's meaning; "as in `cost_daily`" takes that table's meaning of the column.
"""

from __future__ import annotations

Rows = tuple[tuple[tuple[str, ...], str], ...]

RAW: Rows = (
    (("identity_line_item_id", "identity_time_interval"), "together, a line item's unique key"),
    (("bill_payer_account_id",), "the payer (management) account"),
    (("bill_billing_period_start_date",), "first instant of the billing month"),
    (("line_item_usage_account_id",), "the account that used the resource"),
    (
        ("line_item_line_item_type",),
        "Usage, DiscountedUsage, SavingsPlanCoveredUsage, RIFee, Fee, Tax, Credit, Refund, ...",
    ),
    (("line_item_usage_start_date", "line_item_usage_end_date"), "the usage hour (UTC)"),
    (("line_item_product_code",), "the service (`AmazonEC2`, ...)"),
    (
        ("line_item_unblended_cost",),
        "cost at the rates billed, before discounts and amortization",
    ),
    (("line_item_currency_code",), "currency of the costs"),
    (("product",), "product attributes beyond the core columns (legacy `product_*` columns)"),
    (
        ("resource_tags",),
        "resource tags, keys as the CUR spells them (legacy `resource_tags_user_cost_center` is "
        "key `user_cost_center`)",
    ),
    (("cost_category",), "cost categories (legacy `cost_category_*` columns)"),
    (("discount",), "discounts by kind (legacy `discount_*` columns)"),
    (
        ("split_line_item_parent_resource_id",),
        "split cost allocation data (EKS pods, ECS tasks): the EC2 instance a pod ran on",
    ),
    (
        ("split_line_item_split_cost", "split_line_item_unused_cost"),
        "the pod's share of its instance's amortized cost, and of the instance's idle cost",
    ),
    (("x_source_file",), "the delivered file (Parquet, gzip or ZIP CSV) the row came from"),
    (
        ("x_source_format",),
        "`legacy`, `legacy-csv`, `cur2`, `cur2-csv`, `focus` or `focus-csv`: the format it was "
        "delivered in",
    ),
    (
        ("x_assembly_id",),
        "the delivery's id in its CUR manifest (legacy `assemblyId`, CUR 2.0 `executionId`)",
    ),
    (("x_ingestion_time",), "when the row was loaded (UTC)"),
)

COST_DAILY: Rows = (
    (("billing_period",), "first day of the billing month"),
    (("usage_date",), "day of `line_item_usage_start_date` (UTC)"),
    (("account_id",), "usage account, `line_item_usage_account_id`"),
    (("product_code",), "`line_item_product_code`"),
    (("usage_type",), "`line_item_usage_type`"),
    (("operation",), "`line_item_operation`"),
    (("region",), "`product_region_code`"),
    (("line_item_type",), "`line_item_line_item_type`"),
    (
        ("charge_category",),
        "FOCUS category: Usage, Purchase (fees), Tax, Credit (credits, discounts), Adjustment "
        "(refunds); a line item type not known (or none) is Credit when negative, else Usage",
    ),
    (
        ("currency",),
        "`line_item_currency_code`: a payer billed in INR and one in USD stay apart",
    ),
    (
        ("unblended_cost", "amortized_cost", "net_amortized_cost", "public_cost"),
        "sums (decimal); `public_cost` is `pricing_public_on_demand_cost`",
    ),
    (("usage_amount",), "sum of `line_item_usage_amount`"),
    (("line_items",), "number of line items"),
)

AS_IN_COST_DAILY = "as in `cost_daily`"

COST_BY_TAG: Rows = (
    (("billing_period", "usage_date", "account_id", "product_code"), AS_IN_COST_DAILY),
    (("tag_key",), "the key as configured in `cost_allocation_tags`"),
    (("tag_value",), "the resource's value, or `(untagged)`"),
    (("unblended_cost", "amortized_cost", "line_items"), "sums"),
)

COST_MONTHLY_SUMMARY: Rows = (
    (("billing_period",), "the month"),
    (("account_id",), "usage account"),
    (("service",), "`line_item_product_code`"),
    (("currency",), "currency"),
    (
        ("unblended_cost", "amortized_cost", "net_amortized_cost", "line_items"),
        "the month's sums",
    ),
)

COST_BY_WORKLOAD: Rows = (
    (("billing_period", "usage_date", "account_id"), AS_IN_COST_DAILY),
    (
        ("cluster",),
        "EKS `aws:eks:cluster-name` or ECS `aws:ecs:clusterName` (without it, the cluster in the "
        "task's ARN)",
    ),
    (("namespace",), "EKS `aws:eks:namespace` ('' for ECS)"),
    (
        ("workload",),
        "EKS `aws:eks:deployment` or `aws:eks:workload-name`, ECS `aws:ecs:serviceName` "
        "(`(unknown)` for a task outside a service)",
    ),
    (
        ("split_cost", "unused_cost", "total_cost"),
        "the pods' share of their instances' amortized cost, of the instances' idle capacity, "
        "and both (sums, decimal)",
    ),
    (("idle_share",), "`unused_cost / total_cost`"),
    (("vcpu_hours", "memory_gb_hours"), "the pods' split usage of vCPU and of memory"),
    (("pods", "line_items"), "distinct pods (or tasks) and split rows"),
)

# Table name -> its README rows. raw_cur has tb_cur_raw's columns.
TABLE_ROWS: dict[str, Rows] = {
    "tb_cur_raw": RAW,
    "raw_cur": RAW,
    "cost_daily": COST_DAILY,
    "cost_by_tag": COST_BY_TAG,
    "cost_monthly_summary": COST_MONTHLY_SUMMARY,
    "cost_by_workload": COST_BY_WORKLOAD,
}


def expand(rows: Rows) -> dict[str, str]:
    """Column -> meaning, as written (a reference such as "as in `cost_daily`" kept)."""
    return {column: meaning for columns, meaning in rows for column in columns}


def column_descriptions(table: str) -> dict[str, str]:
    """Column -> description of one table ({} for a table without documented columns)."""
    described = expand(TABLE_ROWS.get(table, ()))
    daily = expand(COST_DAILY)
    return {
        column: daily[column] if meaning == AS_IN_COST_DAILY else meaning
        for column, meaning in described.items()
    }
