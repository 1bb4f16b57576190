"""focus_cost as a FOCUS 1.2 dataset, on the real October 2018 CUR and generated legacy and CUR 2.0
months: its invariants (costs add up exactly to the CUR's) and our own conformance rules, one
test per rule group, named by the FOCUS 1.2 rule ids they hold (`<Column>_C_<nnn>_<kind>`).

The expected figures come from the raw line items read here (pyarrow, Python Decimal), not from
the SQL under test; the rule tables (allowed values, units) are transcribed from the spec.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from finops_platform.lib.cur.schema import CANONICAL_COLUMNS
from finops_platform.lib.sql import Identifier, render_file
from finops_platform_tests.conftest import REAL_SAMPLE, real_sample_path, tenant_entry
from finops_platform_tests.support.cid import amortized, money
from finops_platform_tests.support.generated import generated_entries, loaded_lake, query_month

SEPTEMBER = dt.date(2026, 9, 1)
OCTOBER_2018 = dt.date(2018, 10, 1)
# The real month's figures (the CID dashboards' amortized cost of the same export).
REAL_UNBLENDED = Decimal("4064.483132")
REAL_AMORTIZED = Decimal("4195.957109")
DATASETS = ("legacy_org", "cur2_org", "real_sample")
MONTH = {"legacy_org": SEPTEMBER, "cur2_org": SEPTEMBER, "real_sample": OCTOBER_2018}


# FOCUS 1.2 column -> its data type, for every column focus_cost fills.
DECIMAL, STRING, DATETIME = pa.types.is_decimal, pa.types.is_string, pa.types.is_timestamp
COLUMNS: dict[str, Callable[[pa.DataType], bool]] = {
    "AvailabilityZone": STRING,
    "BilledCost": DECIMAL,
    "BillingAccountId": STRING,
    "BillingAccountName": STRING,
    "BillingCurrency": STRING,
    "BillingPeriodEnd": DATETIME,
    "BillingPeriodStart": DATETIME,
    "CapacityReservationId": STRING,
    "CapacityReservationStatus": STRING,
    "ChargeCategory": STRING,
    "ChargeClass": STRING,
    "ChargeDescription": STRING,
    "ChargeFrequency": STRING,
    "ChargePeriodEnd": DATETIME,
    "ChargePeriodStart": DATETIME,
    "CommitmentDiscountCategory": STRING,
    "CommitmentDiscountId": STRING,
    "CommitmentDiscountName": STRING,
    "CommitmentDiscountQuantity": DECIMAL,
    "CommitmentDiscountStatus": STRING,
    "CommitmentDiscountType": STRING,
    "CommitmentDiscountUnit": STRING,
    "ConsumedQuantity": DECIMAL,
    "ConsumedUnit": STRING,
    "ContractedCost": DECIMAL,
    "ContractedUnitPrice": DECIMAL,
    "EffectiveCost": DECIMAL,
    "InvoiceId": STRING,
    "InvoiceIssuerName": STRING,
    "ListCost": DECIMAL,
    "ListUnitPrice": DECIMAL,
    "PricingCategory": STRING,
    "PricingCurrency": STRING,
    "PricingCurrencyContractedUnitPrice": DECIMAL,
    "PricingCurrencyEffectiveCost": DECIMAL,
    "PricingCurrencyListUnitPrice": DECIMAL,
    "PricingQuantity": DECIMAL,
    "PricingUnit": STRING,
    "ProviderName": STRING,
    "PublisherName": STRING,
    "RegionId": STRING,
    "RegionName": STRING,
    "ResourceId": STRING,
    "ResourceName": STRING,
    "ResourceType": STRING,
    "ServiceCategory": STRING,
    "ServiceName": STRING,
    "ServiceSubcategory": STRING,
    "SkuId": STRING,
    "SkuMeter": STRING,
    "SkuPriceDetails": STRING,
    "SkuPriceId": STRING,
    "SubAccountId": STRING,
    "SubAccountName": STRING,
    "Tags": STRING,
}
NEVER_NULL = (
    "BilledCost",
    "BillingAccountId",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ContractedCost",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "ProviderName",
    "SubAccountName",
    "PublisherName",
    "PricingCurrency",
    "PricingCurrencyEffectiveCost",
    "ServiceCategory",
    "ServiceName",
    "ServiceSubcategory",
)
ALLOWED = {
    "ChargeCategory": {"Usage", "Purchase", "Tax", "Credit", "Adjustment"},
    "ChargeClass": {None, "Correction"},
    "ChargeFrequency": {"One-Time", "Recurring", "Usage-Based"},
    "CommitmentDiscountCategory": {None, "Spend", "Usage"},
    "CommitmentDiscountStatus": {None, "Used", "Unused"},
    "PricingCategory": {None, "Standard", "Dynamic", "Committed", "Other"},
}
# FOCUS 1.2 ServiceSubcategory -> its one parent ServiceCategory (the subcategories we use and
# their parents, as the spec's allowed values table pairs them).
SUBCATEGORY_PARENT = {
    **{
        s: "Compute"
        for s in (
            "Containers",
            "End User Computing",
            "Serverless Compute",
            "Virtual Machines",
            "Other (Compute)",
        )
    },
    **{s: "Storage" for s in ("Backup Storage", "Block Storage", "File Storage", "Object Storage")},
    "Other (Storage)": "Storage",
    **{
        s: "Databases"
        for s in ("Caching", "Data Warehouses", "NoSQL Databases", "Relational Databases")
    },
    **{
        s: "Networking"
        for s in (
            "Application Networking",
            "Content Delivery",
            "Network Connectivity",
            "Network Infrastructure",
            "Network Routing",
            "Network Security",
        )
    },
    **{s: "Integration" for s in ("API Management", "Messaging", "Workflow Orchestration")},
    **{
        s: "Analytics"
        for s in ("Business Intelligence", "Data Processing", "Search", "Streaming Analytics")
    },
    **{
        s: "AI and Machine Learning"
        for s in ("Generative AI", "Machine Learning", "Other (AI and Machine Learning)")
    },
    **{
        s: "Security"
        for s in ("Secret Management", "Threat Detection and Response", "Other (Security)")
    },
    "Identity and Access Management": "Identity",
    **{
        s: "Management and Governance"
        for s in ("Compliance", "Cost Management", "Observability", "Support")
    },
    "Other (Other)": "Other",
}
# FOCUS Unit Format: optional unit quantity, base units joined by '-' (compound) or '/' (ratio);
# time units in the spec's spelling, never AWS's abbreviations.
UNIT = re.compile(r"^(\d+ )?[A-Za-z][A-Za-z ]*(-[A-Za-z][A-Za-z ]*)?(/[A-Za-z][A-Za-z ]*)?$")
AWS_UNIT_SPELLINGS = re.compile(r"(^|-)(Hrs|Hr|Mo|Hour|Second|days)$")


@dataclass(frozen=True)
class Month:
    """One tenant-month of focus_cost (rows as dicts) and of its raw line items."""

    name: str
    focus: pa.Table
    raw: pa.Table

    def rows(self) -> list[dict]:
        return self.focus.to_pylist()


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Generated legacy and CUR 2.0 months and, where it is present, the real month; loaded."""
    root = tmp_path_factory.mktemp("focus")
    entries = generated_entries(root, [SEPTEMBER])
    if REAL_SAMPLE.is_dir():
        entries.append(tenant_entry("real_sample", REAL_SAMPLE, first_billing_month="2018-10"))
    # The real month's first load warns of the anomalies real cost has (test_real_sample).
    with loaded_lake(root, entries, warnings=["new_cost_anomalies WARN"]) as loaded:
        yield loaded


def _raw_partition(lake: Path, org: str) -> pa.Table:
    month = MONTH[org]
    return pq.read_table(
        lake / "cur" / f"org={org}" / f"year={month.year}" / f"month={month.month}"
    )


@pytest.fixture(scope="module", params=DATASETS)
def month(request: pytest.FixtureRequest, lake: Path) -> Month:
    if request.param == "real_sample":
        real_sample_path()  # a skip (a failure in CI) when the sample is absent
    return Month(
        request.param,
        query_month(request.param, "focus_cost", MONTH[request.param]),
        _raw_partition(lake, request.param),
    )


RECURRING_FEES = ("RIFee", "SavingsPlanRecurringFee")


# Invariants -------------------------------------------------------------------------------


def test_one_row_per_line_item_plus_one_per_partly_unused_commitment_fee(month: Month) -> None:
    raw = month.raw.to_pylist()
    unused_fees = [
        r for r in raw if r["line_item_line_item_type"] in RECURRING_FEES and amortized(r) != 0
    ]
    rows = month.rows()
    assert len(rows) == len(raw) + len(unused_fees)
    ids = defaultdict(int)
    for row in rows:
        ids[row["x_LineItemId"]] += 1
    assert sorted(ids) == sorted({r["identity_line_item_id"] for r in raw})
    if month.name == "real_sample":
        assert (len(rows), len(unused_fees)) == (119307 + 3, 3)


def test_BilledCost_adds_up_to_the_unblended_cost_exactly(month: Month) -> None:
    billed = sum(row["BilledCost"] for row in month.rows())
    raw = month.raw.column("line_item_unblended_cost").to_pylist()
    assert billed == sum(money(v) for v in raw)
    if month.name == "real_sample":
        assert billed.quantize(Decimal("1e-6")) == REAL_UNBLENDED


def test_EffectiveCost_adds_up_to_the_cid_amortized_cost_exactly(month: Month) -> None:
    effective = sum(row["EffectiveCost"] for row in month.rows())
    expected = sum(amortized(r) for r in month.raw.to_pylist())
    assert effective == expected
    if month.name == "real_sample":
        assert effective.quantize(Decimal("1e-6")) == REAL_AMORTIZED
        assert effective != sum(row["BilledCost"] for row in month.rows())


def test_ListCost_and_ContractedCost_are_unit_price_times_pricing_quantity(month: Month) -> None:
    """ListCost-C-00x / ContractedCost-C-00x: cost = unit price x PricingQuantity where both are
    present, to the CUR's own rounding (its costs carry up to 8 decimals), wherever the CUR's
    own rate times its usage amount gives its cost."""
    inconsistent = {
        r["identity_line_item_id"]
        for r in month.raw.to_pylist()
        if r["line_item_net_unblended_cost"] is not None
        and r["line_item_net_unblended_rate"]
        and abs(
            float(r["line_item_net_unblended_rate"]) * r["line_item_usage_amount"]
            - r["line_item_net_unblended_cost"]
        )
        > 1e-6
    }
    assert len(inconsistent) <= 1  # one generated RI fee has a net cost its net rate does not
    checked = 0
    for row in month.rows():
        if row["x_LineItemId"] in inconsistent:
            continue
        quantity = row["PricingQuantity"]
        for cost, price in (
            ("ListCost", "ListUnitPrice"),
            ("ContractedCost", "ContractedUnitPrice"),
        ):
            if quantity is None or row[price] is None:
                continue
            checked += 1
            difference = abs(row[price] * quantity - row[cost])
            tolerance = Decimal("1e-6") + abs(row[cost]) * Decimal("1e-6")
            assert difference <= tolerance, (cost, row["x_LineItemType"], row)
    assert checked > len(month.rows())  # both pairs on most rows


def test_ChargePeriod_lies_inside_the_BillingPeriod(month: Month) -> None:
    for row in month.rows():
        assert row["BillingPeriodStart"] <= row["ChargePeriodStart"], row
        assert row["ChargePeriodStart"] < row["ChargePeriodEnd"] <= row["BillingPeriodEnd"], row


def test_BilledCost_C_005_C_AWS_invoices_as_the_provider(month: Month) -> None:
    """BilledCost is 0 where a third party is paid (InvoiceIssuerName is not ProviderName):
    AWS's own invoicing entities are the provider, so their charges keep their BilledCost."""
    issuers = set(month.focus.column("InvoiceIssuerName").to_pylist())
    assert issuers == {"AWS"} == set(month.focus.column("ProviderName").to_pylist())
    entities = set(month.raw.column("bill_invoicing_entity").to_pylist()) - {None, ""}
    assert entities <= set(month.focus.column("x_InvoicingEntity").to_pylist())


# Presence and types -----------------------------------------------------------------------


def test_columns_present_with_FOCUS_types_and_custom_ones_prefixed_x(month: Month) -> None:
    schema = month.focus.schema
    for column, is_type in COLUMNS.items():
        assert column in schema.names, column
        assert is_type(schema.field(column).type), (column, schema.field(column).type)
    custom = set(schema.names) - set(COLUMNS)
    assert {c for c in custom if not c.startswith("x_")} == set()
    assert {"x_LineItemType", "x_UsageType", "x_Operation", "x_ProductCode"} <= custom


# Nullability ------------------------------------------------------------------------------


def test_BilledCost_C_003_and_other_not_null_columns_are_never_null(month: Month) -> None:
    for column in NEVER_NULL:
        assert month.focus.column(column).null_count == 0, column


def test_no_empty_strings_StringHandling(month: Month) -> None:
    for name in month.focus.schema.names:
        if pa.types.is_string(month.focus.schema.field(name).type):
            assert "" not in set(month.focus.column(name).to_pylist()), name


# Allowed values ---------------------------------------------------------------------------


def test_allowed_values_of_category_columns(month: Month) -> None:
    for column, allowed in ALLOWED.items():
        assert set(month.focus.column(column).to_pylist()) <= allowed, column


def test_ServiceSubcategory_C_003_has_its_one_parent_ServiceCategory(month: Month) -> None:
    pairs = {
        (r["ServiceCategory"], r["ServiceSubcategory"])
        for r in month.focus.select(["ServiceCategory", "ServiceSubcategory"]).to_pylist()
    }
    for category, subcategory in pairs:
        assert SUBCATEGORY_PARENT.get(subcategory) == category, (category, subcategory)


def test_PricingUnit_ConsumedUnit_CommitmentDiscountUnit_follow_UnitFormat(month: Month) -> None:
    for column in ("PricingUnit", "ConsumedUnit", "CommitmentDiscountUnit"):
        for unit in set(month.focus.column(column).to_pylist()) - {None}:
            assert UNIT.match(unit), (column, unit)
            assert not AWS_UNIT_SPELLINGS.search(unit), (column, unit)


def test_Tags_C_00x_are_a_key_value_json_object_of_the_line_items_tags(month: Month) -> None:
    tags = month.focus.column("Tags").to_pylist()
    parsed = [json.loads(t) for t in tags if t is not None]
    assert parsed  # the data has tags
    for value in parsed:
        assert isinstance(value, dict) and value
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
    raw_tags = {
        r["identity_line_item_id"]: dict(r["resource_tags"] or [])
        for r in month.raw.select(["identity_line_item_id", "resource_tags"]).to_pylist()
    }
    for row in month.rows():
        got = json.loads(row["Tags"]) if row["Tags"] else {}
        assert set(raw_tags[row["x_LineItemId"]].items()) <= set(got.items()), row


# Conditional rules ------------------------------------------------------------------------


def test_ServiceName_C_005_C_one_ServiceCategory_per_ServiceName_and_no_product_codes(
    month: Month,
) -> None:
    categories: dict[str, set[str]] = defaultdict(set)
    codes = set(month.focus.column("x_ProductCode").to_pylist())
    for row in month.focus.select(["ServiceName", "ServiceCategory"]).to_pylist():
        categories[row["ServiceName"]].add(row["ServiceCategory"])
    assert {name: cats for name, cats in categories.items() if len(cats) > 1} == {}
    assert set(categories) & codes == set()
    names_per_code: dict[str, set[str]] = defaultdict(set)
    for row in month.focus.select(["x_ProductCode", "ServiceName"]).to_pylist():
        names_per_code[row["x_ProductCode"]].add(row["ServiceName"])
    # EC2 bills its own usage and data transfer: two names, never a third spelling.
    assert len(names_per_code["AmazonEC2"]) <= 2


def test_EffectiveCost_C_005_C_unused_commitments_are_usage_rows(month: Month) -> None:
    rows = month.rows()
    fees = [r for r in rows if r["x_LineItemType"] in RECURRING_FEES]
    purchases = [r for r in fees if r["ChargeCategory"] == "Purchase"]
    unused = [r for r in fees if r["CommitmentDiscountStatus"] == "Unused"]
    assert purchases and unused  # the data has fees and unused commitments
    for row in purchases:
        assert row["EffectiveCost"] == 0, row
        assert row["ChargeFrequency"] == "Recurring", row
        assert row["CommitmentDiscountId"] is not None, row
    for row in unused:
        assert row["ChargeCategory"] == "Usage", row
        assert row["BilledCost"] == 0 and row["EffectiveCost"] != 0, row
        assert row["ConsumedQuantity"] is None and row["ConsumedUnit"] is None, row
    raw_unused = sum(
        amortized(r)
        for r in month.raw.to_pylist()
        if r["line_item_line_item_type"] in RECURRING_FEES
    )
    assert sum(r["EffectiveCost"] for r in unused) == raw_unused
    # No commitment purchase carries cost that belongs to the usage it covers (or not).
    commitment_purchases = [
        r for r in rows if r["ChargeCategory"] == "Purchase" and r["CommitmentDiscountId"]
    ]
    assert all(r["EffectiveCost"] == 0 for r in commitment_purchases)


def test_CommitmentDiscountStatus_C_00x_null_with_the_id_and_set_on_usage(month: Month) -> None:
    covered = 0
    for row in month.rows():
        status, cid = row["CommitmentDiscountStatus"], row["CommitmentDiscountId"]
        if cid is None:
            assert status is None and row["CommitmentDiscountCategory"] is None, row
            assert row["CommitmentDiscountType"] is None, row
            assert row["CommitmentDiscountQuantity"] is None, row
        else:
            assert row["CommitmentDiscountCategory"] in ("Usage", "Spend"), row
            if row["ChargeCategory"] == "Usage":
                assert status in ("Used", "Unused"), row
                assert row["PricingCategory"] == "Committed", row
                covered += 1
        assert (row["CommitmentDiscountQuantity"] is None) == (
            row["CommitmentDiscountUnit"] is None
        ), row
    assert covered


def test_PricingUnit_C_00x_null_exactly_when_PricingQuantity_is_and_never_empty(
    month: Month,
) -> None:
    priced = charged = 0
    for row in month.rows():
        assert (row["PricingUnit"] is None) == (row["PricingQuantity"] is None), row
        if row["ChargeCategory"] == "Tax":
            assert row["PricingQuantity"] is None and row["ListUnitPrice"] is None, row
        if row["ChargeCategory"] in ("Usage", "Purchase"):
            charged += 1
            priced += row["PricingUnit"] is not None
    # Left NULL only where neither the CUR nor its usage type tells the unit.
    assert priced >= 0.99 * charged


def test_ConsumedQuantity_C_00x_only_on_usage_that_was_consumed(month: Month) -> None:
    for row in month.rows():
        if row["ChargeCategory"] != "Usage" or row["CommitmentDiscountStatus"] == "Unused":
            assert row["ConsumedQuantity"] is None and row["ConsumedUnit"] is None, row
        # ConsumedUnit-C-005-C and C-006-C: a unit exactly where there is a quantity.
        assert (row["ConsumedUnit"] is None) == (row["ConsumedQuantity"] is None), row


def test_resource_columns_null_without_a_ResourceId(month: Month) -> None:
    with_id = 0
    for row in month.rows():
        if row["ResourceId"] is None:
            assert row["ResourceName"] is None and row["ResourceType"] is None, row
        else:
            assert row["ResourceName"] is not None, row
            with_id += row["CommitmentDiscountStatus"] != "Unused"  # a line item's own row
    raw_ids = month.raw.column("line_item_resource_id").to_pylist()
    assert with_id == sum(1 for v in raw_ids if v)
    if month.name == "real_sample":
        assert with_id == 102236


def test_identifying_columns_come_from_the_cur(month: Month) -> None:
    """AvailabilityZone, InvoiceId, SkuId, SkuPriceId are the CUR's values, per line item."""
    raw = {
        r["identity_line_item_id"]: r
        for r in month.raw.select(
            [
                "identity_line_item_id",
                "line_item_availability_zone",
                "bill_invoice_id",
                "product_sku",
                "pricing_rate_id",
            ]
        ).to_pylist()
    }
    for row in month.rows():
        source = raw[row["x_LineItemId"]]
        assert row["AvailabilityZone"] == (source["line_item_availability_zone"] or None)
        assert row["InvoiceId"] == (source["bill_invoice_id"] or None)
        assert row["SkuId"] == (source["product_sku"] or None)
        # AWS's price id; one AWS bills under several SKUs is qualified by the SKU.
        assert row["SkuPriceId"] in (
            source["pricing_rate_id"] or None,
            f"{source['product_sku']}.{source['pricing_rate_id']}",
        )
    if month.name == "real_sample":
        zones = month.focus.column("AvailabilityZone").to_pylist()
        assert sum(1 for z in zones if z) == 26222


def test_SkuPriceId_C_008_M_has_one_parent_SkuId_and_SkuMeter_C_004_C_follows_SkuId(
    month: Month,
) -> None:
    parents: dict[str, set[str | None]] = defaultdict(set)
    for row in month.rows():
        if row["SkuPriceId"] is not None:
            parents[row["SkuPriceId"]].add(row["SkuId"])
        # SkuMeter-C-004-C and C-005-C: null exactly when SkuId is (AWS meters every SKU).
        assert (row["SkuMeter"] is None) == (row["SkuId"] is None), row
        if row["SkuMeter"] is not None:
            assert row["SkuMeter"] == row["x_UsageType"], row
    assert parents
    assert {price: skus for price, skus in parents.items() if len(skus) > 1} == {}
    if month.name == "real_sample":
        # Five rates of size-flexible reservations cover several instance sizes.
        qualified = {p for p in parents if "." in p}
        assert len(qualified) >= 5


def test_SkuPriceDetails_C_00x_key_value_json_of_custom_properties_per_price(
    month: Month,
) -> None:
    details: dict[str, set[str]] = defaultdict(set)
    for row in month.rows():
        if row["SkuPriceId"] is None:
            assert row["SkuPriceDetails"] is None, row  # SkuPriceDetails-C-004-C
        elif row["SkuPriceDetails"] is not None:
            value = json.loads(row["SkuPriceDetails"])  # SkuPriceDetails-C-001-M
            assert isinstance(value, dict) and value, row
            # C-017-C: custom property keys begin with x_ (and C-002-O: PascalCase after it).
            assert all(re.fullmatch(r"x_[A-Z][A-Za-z]*", key) for key in value), row
            assert all(isinstance(v, str) and v for v in value.values()), row
            details[row["SkuPriceId"]].add(row["SkuPriceDetails"])
    assert details
    # C-007-M: the details belong to the price, so one price has one set of details.
    assert {price: d for price, d in details.items() if len(d) > 1} == {}


def test_PricingCurrency_columns_C_00x_repeat_the_billing_currency_figures(month: Month) -> None:
    for row in month.rows():
        assert row["PricingCurrency"] == row["BillingCurrency"], row
        assert row["PricingCurrencyEffectiveCost"] == row["EffectiveCost"], row
        assert row["PricingCurrencyListUnitPrice"] == row["ListUnitPrice"], row
        assert row["PricingCurrencyContractedUnitPrice"] == row["ContractedUnitPrice"], row
        if row["ChargeCategory"] == "Tax":
            assert row["PricingCurrencyListUnitPrice"] is None, row
        if row["PricingCurrencyListUnitPrice"] is not None:
            assert row["PricingCurrencyListUnitPrice"] >= 0, row  # C-008-M


def _focus_of(rows: list[dict]) -> list[dict]:
    """focus_cost.sql run in DuckDB over a month of `rows` (canonical columns, the rest NULL)."""
    columns = {**CANONICAL_COLUMNS, "org": pa.string(), "year": pa.int32(), "month": pa.int32()}
    common = {"org": "o", "year": 2026, "month": 9, "line_item_currency_code": "USD"}
    table = pa.Table.from_pylist(
        [{**common, **row} for row in rows], schema=pa.schema(list(columns.items()))
    )
    con = duckdb.connect()
    con.execute("CREATE SCHEMA db")
    con.register("month_rows", table)
    con.execute("CREATE TABLE db.tb_cur_raw AS SELECT * FROM month_rows")
    params = {"database": Identifier("db"), "org": "o", "year": 2026, "month": 9}
    cursor = con.execute(render_file("curated/focus_cost.sql", params, "duckdb"))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def test_CapacityReservationStatus_C_00x_from_the_cur_status_or_a_legacy_usage_type() -> None:
    """CUR 2.0 names the reservation and its status; a legacy CUR bills unused capacity as
    `UnusedBox` line items of the reservation (`cr-...`) itself."""
    hour = {
        "line_item_line_item_type": "Usage",
        "line_item_usage_start_date": dt.datetime(2026, 9, 1),
        "line_item_usage_end_date": dt.datetime(2026, 9, 1, 1),
        "line_item_product_code": "AmazonEC2",
        "line_item_usage_amount": 1.0,
        "line_item_unblended_cost": 0.1,
    }
    arn = "arn:aws:ec2:us-east-1:111122223333:capacity-reservation/cr-0a"
    reserved = {"capacity_reservation_capacity_reservation_arn": arn}
    status = "capacity_reservation_capacity_reservation_status"

    def line(item: str, usage_type: str, resource: str, **more: object) -> dict:
        return {
            **hour,
            "identity_line_item_id": item,
            "line_item_usage_type": usage_type,
            "line_item_resource_id": resource,
            **more,
        }

    rows = _focus_of(
        [
            line("used", "BoxUsage:m5.large", "i-0a", **reserved, **{status: "Used"}),
            line("unused", "BoxUsage:m5.large", "cr-0a", **reserved, **{status: "Unused"}),
            line("legacy", "UnusedBox:m5.large", "cr-0b"),
            line("none", "BoxUsage:m5.large", "i-0c"),
            line("tax", "", "", **reserved, line_item_line_item_type="Tax"),
        ]
    )
    got = {
        r["x_LineItemId"]: (r["CapacityReservationId"], r["CapacityReservationStatus"])
        for r in rows
    }
    assert got == {
        "used": (arn, "Used"),
        "unused": (arn, "Unused"),
        "legacy": ("cr-0b", "Unused"),
        "none": (None, None),
        "tax": (arn, None),  # C-003-C/C-004-C: a status on usage only
    }


def test_CapacityReservationId_C_00x_carried_from_generated_cur2_deliveries(month: Month) -> None:
    raw = month.raw.column("capacity_reservation_capacity_reservation_arn").to_pylist()
    rows = month.rows()
    ids = [r["CapacityReservationId"] for r in rows if r["CommitmentDiscountStatus"] != "Unused"]
    assert sum(1 for i in ids if i) == sum(1 for a in raw if a)
    if month.name == "cur2_org":
        assert any(raw)  # the generator runs instances in capacity reservations
    for row in rows:
        if row["CapacityReservationId"] is None:
            assert row["CapacityReservationStatus"] is None, row
        elif row["ChargeCategory"] == "Usage":
            assert row["CapacityReservationStatus"] in ("Used", "Unused"), row
