"""Legacy CUR CSV headers and Athena column names: AWS's rule, and the way back."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from finops_platform.lib.cur.names import athena_column, csv_column, csv_header
from finops_platform.sample.context import _LEGACY_SCHEMA


@pytest.mark.parametrize(
    ("header", "column"),
    [
        ("identity/LineItemId", "identity_line_item_id"),
        ("lineItem/UnblendedCost", "line_item_unblended_cost"),
        ("lineItem/LineItemType", "line_item_line_item_type"),
        ("bill/BillingPeriodStartDate", "bill_billing_period_start_date"),
        ("reservation/ReservationARN", "reservation_reservation_a_r_n"),
        ("savingsPlan/SavingsPlanARN", "savings_plan_savings_plan_a_r_n"),
        ("pricing/publicOnDemandCost", "pricing_public_on_demand_cost"),
        ("product/instancesku", "product_instancesku"),
        ("product/maxIopsvolume", "product_max_iopsvolume"),
        ("resourceTags/user:cost-center", "resource_tags_user_cost_center"),
        ("resourceTags/user:Cost Center", "resource_tags_user_cost_center"),
        ("resourceTags/aws:createdBy", "resource_tags_aws_created_by"),
        ("resourceTags/user:team.name", "resource_tags_user_team_name"),
        ("costCategory/Business Unit", "cost_category_business_unit"),
    ],
)
def test_a_header_becomes_the_column_athena_names(header: str, column: str) -> None:
    assert athena_column(header) == column


def test_every_real_and_generated_column_maps_back_to_itself(real_sample: Path) -> None:
    (parquet,) = sorted(real_sample.rglob("*.parquet"))
    columns = [*pq.read_schema(parquet).names, *_LEGACY_SCHEMA.names]
    assert [athena_column(csv_header(c)) for c in columns] == columns


def test_headers_are_spelled_as_aws_spells_them() -> None:
    assert csv_column("line_item_unblended_cost") == ("lineItem", "UnblendedCost")
    assert csv_column("reservation_reservation_a_r_n") == ("reservation", "ReservationARN")
    assert csv_column("resource_tags_user_cost_center") == ("resourceTags", "user:cost_center")
    assert csv_header("product_from_location") == "product/fromLocation"
    with pytest.raises(ValueError, match="'year' is in no legacy CUR category"):
        csv_column("year")
