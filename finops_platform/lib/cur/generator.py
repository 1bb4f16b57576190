"""Deterministic, streaming generator of realistic sample CUR deliveries (legacy and CUR 2.0).

A delivery is one billing month written the way AWS writes it (layouts in `manifest`): the
Parquet parts first, the manifest last, so the manifest is the commit marker. Writing a month
again first deletes that month's manifest and parts: a restatement is a clean replacement and
other months are not touched.

How the data is shaped, and why:

- Rows belong to *series*: one resource's line item of one type, one row per usage hour, as in
  real hourly CUR (a line item id repeats across hours; (line item id, time interval) is unique).
  Series are planned up front with a seeded `numpy.random.Generator` (about one per 100 rows
  for small samples, one per resource-month for large ones); rows are then made chunk by chunk,
  so memory stays flat however many rows are asked for.
- Per-row noise is a hash of (seed, series, hour), not a sequential draw: a row does not depend
  on chunking, and a dependent line item (SavingsPlanNegation, EdpDiscount, ...) recomputes the
  exact cost of the usage it belongs to.
- Commitment, fee, tax and credit lines come last, from what the usage rows consumed: RIFee
  unused hours from the DiscountedUsage hours, SavingsPlanRecurringFee used commitment from the
  covered usage of that hour, taxes from the usage per account and service. So the amortized
  cost formula gives meaningful values.
- Money is integral in units of 1e-10 USD (monthly items in whole cents) and below 1e5 USD per
  row, so a double holds each value exactly to 10 decimals and the exact `Decimal` total can be
  checked with a DECIMAL sum in SQL.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import itertools
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from finops_platform.lib.cur import manifest as mf
from finops_platform.lib.cur.schema import CUR2_COLUMNS, PRODUCT_COLUMNS
from finops_platform.months import next_month

Format = Literal["legacy", "cur2"]

DEMO_BUCKET = "finops-demo-cur"  # the bucket CUR 2.0 dataFiles URIs name
MIN_ROWS = 500  # enough for every line item type plus the monthly items
_UNIT = 10**10  # money unit: 1e-10 USD
_CENT = 10**8
_MAX_ROW_UNITS = 10**5 * _UNIT  # below this a double holds a value exactly to 10 decimals
_FMT_CODE = {"legacy": 1, "cur2": 2}


@dataclass(frozen=True)
class GeneratedDelivery:
    """What `generate_month` wrote; `unblended_total` is the exact sum over all rows."""

    data_files: list[Path]
    manifest_path: Path
    assembly_id: str
    rows: int
    unblended_total: Decimal
    month: dt.date
    fmt: Format


# --- the fixed catalog: organization, services, commitments ---------------------------------


class _Payer(NamedTuple):
    id: str
    name: str
    entity: str  # invoicing and legal entity
    tax_type: str
    edp: float  # Enterprise Discount Program rate


class _Account(NamedTuple):
    id: str
    name: str
    payer: int
    business_unit: str
    environment: str  # what most of its resources are tagged with


_PAYERS = (
    _Payer("482913057316", "acme-payer", "Amazon Web Services, Inc.", "Sales Tax", 0.06),
    _Payer("903127465820", "acme-eu-payer", "Amazon Web Services EMEA SARL", "VAT", 0.04),
)
# Three usage accounts per payer, in payer order: account index // 3 is the payer index.
_ACCOUNTS = (
    _Account("730415928461", "acme-prod", 0, "Retail", "production"),
    _Account("215908347712", "acme-staging", 0, "Retail", "staging"),
    _Account("658204193557", "acme-dev", 0, "Platform", "development"),
    _Account("384562019734", "acme-eu-prod", 1, "Retail EU", "production"),
    _Account("547210386925", "acme-data", 1, "Analytics", "production"),
    _Account("129487305618", "acme-sandbox", 1, "Platform", "development"),
)
_ACCOUNT_WEIGHTS = np.array([0.3, 0.15, 0.12, 0.2, 0.15, 0.08])
_REGIONS = {  # region -> (usage type prefix, location, price multiplier)
    "us-east-1": ("", "US East (N. Virginia)", "1"),
    "us-west-2": ("USW2-", "US West (Oregon)", "1"),
    "eu-west-1": ("EU-", "EU (Ireland)", "1.1"),
}
_HOURS, _STORAGE, _METERED, _REQUESTS = range(4)  # how a series' hourly amount behaves


class _Product(NamedTuple):
    key: str
    code: str  # line_item_product_code
    service: str  # product_servicename
    name: str  # product_product_name
    family: str
    usage: str  # usage type after the region prefix
    operation: str
    unit: str
    kind: int
    rate: str  # on-demand USD per unit in us-east-1
    resource: str  # resource id shape
    weight: float  # share of on-demand usage series
    scale: tuple[float, float]  # per-series size range: GB, GB an hour, requests an hour...
    description: str
    attrs: tuple[tuple[str, str], ...] = ()
    nf: float = 0.0  # normalization factor of an instance size
    regional: bool = True


def _instance(size: str, family: str, vcpu: str, memory: str) -> tuple[tuple[str, str], ...]:
    return (
        ("instance_type", size),
        ("instance_family", family),
        ("instance_type_family", size.split(".")[0]),
        ("vcpu", vcpu),
        ("memory", memory),
        ("operating_system", "Linux"),
        ("tenancy", "Shared"),
        ("capacitystatus", "Used"),
        ("pre_installed_sw", "NA"),
        ("license_model", "No License required"),
        ("current_generation", "Yes"),
    )


_EC2 = ("AmazonEC2", "Amazon Elastic Compute Cloud", "Amazon Elastic Compute Cloud")
_RDS = ("AmazonRDS", "Amazon Relational Database Service", "Amazon Relational Database Service")
_S3 = ("AmazonS3", "Amazon Simple Storage Service", "Amazon Simple Storage Service")

# fmt: off
_PRODUCTS = (
    _Product("ec2-m5.xlarge", *_EC2, "Compute Instance", "BoxUsage:m5.xlarge", "RunInstances",
             "Hrs", _HOURS, "0.192", "instance", 9, (1, 1),
             "${rate} per On Demand Linux m5.xlarge Instance Hour",
             _instance("m5.xlarge", "General purpose", "4", "16 GiB"), 8),
    _Product("ec2-c5.large", *_EC2, "Compute Instance", "BoxUsage:c5.large", "RunInstances",
             "Hrs", _HOURS, "0.085", "instance", 9, (1, 1),
             "${rate} per On Demand Linux c5.large Instance Hour",
             _instance("c5.large", "Compute optimized", "2", "4 GiB"), 4),
    _Product("ec2-r5.2xlarge", *_EC2, "Compute Instance", "BoxUsage:r5.2xlarge", "RunInstances",
             "Hrs", _HOURS, "0.504", "instance", 4, (1, 1),
             "${rate} per On Demand Linux r5.2xlarge Instance Hour",
             _instance("r5.2xlarge", "Memory optimized", "8", "64 GiB"), 16),
    _Product("ebs-gp3", *_EC2, "Storage", "EBS:VolumeUsage.gp3", "CreateVolume-Gp3", "GB-Mo",
             _STORAGE, "0.08", "volume", 8, (20, 2000),
             "${rate} per GB-month of General Purpose (gp3) provisioned storage",
             (("volume_api_name", "gp3"), ("storage_media", "SSD-backed"))),
    _Product("ec2-data-out", "AmazonEC2", "AWS Data Transfer", _EC2[2], "Data Transfer",
             "DataTransfer-Out-Bytes", "RunInstances", "GB", _METERED, "0.09", "instance", 5,
             (0.05, 5), "${rate} per GB - data transfer out to the internet",
             (("to_location", "External"), ("to_location_type", "Other"),
              ("transfer_type", "AWS Outbound"))),
    _Product("nat-gateway", *_EC2, "NAT Gateway", "NatGateway-Hours", "NatGateway", "Hrs",
             _HOURS, "0.045", "natgateway", 2, (1, 1), "${rate} per NAT Gateway Hour",
             (("group", "NGW:NatGateway"),)),
    _Product("rds-db.r5.large", *_RDS, "Database Instance", "InstanceUsage:db.r5.large",
             "CreateDBInstance:0002", "Hrs", _HOURS, "0.24", "rds", 4, (1, 1),
             "${rate} per RDS db.r5.large instance hour (or partial hour) running MySQL",
             (("instance_type", "db.r5.large"), ("database_engine", "MySQL"),
              ("deployment_option", "Single-AZ"), ("vcpu", "2"), ("memory", "16 GiB")), 4),
    _Product("rds-storage", *_RDS, "Database Storage", "RDS:GP2-Storage", "CreateDBInstance:0002",
             "GB-Mo", _STORAGE, "0.115", "rds", 3, (20, 1000),
             "${rate} per GB-month of provisioned GP2 storage running MySQL",
             (("database_engine", "MySQL"), ("volume_type", "General Purpose"))),
    _Product("s3-storage", *_S3, "Storage", "TimedStorage-ByteHrs", "StandardStorage", "GB-Mo",
             _STORAGE, "0.023", "bucket", 6, (10, 5000),
             "${rate} per GB - first 50 TB / month of storage used",
             (("storage_class", "General Purpose"), ("volume_type", "Standard"))),
    _Product("s3-requests", *_S3, "API Request", "Requests-Tier1", "PutObject", "Requests",
             _REQUESTS, "0.000005", "bucket", 5, (10, 20000),
             "${rate} per PUT, COPY, POST, or LIST request",
             (("group", "S3-API-Tier1"), ("group_description", "PUT/COPY/POST or LIST requests"))),
    _Product("lambda", "AWSLambda", "AWS Lambda", "AWS Lambda", "Serverless", "Lambda-GB-Second",
             "Invoke", "Lambda-GB-Second", _METERED, "0.0000166667", "function", 5, (100, 20000),
             "AWS Lambda - Total Compute - {location}", (("group", "AWS-Lambda-Duration"),)),
    _Product("dynamodb", "AmazonDynamoDB", "Amazon DynamoDB", "Amazon DynamoDB",
             "Amazon DynamoDB PayPerRequest Throughput", "WriteRequestUnits",
             "PayPerRequestThroughput", "WriteRequestUnits", _REQUESTS, "0.00000125", "table", 4,
             (100, 50000), "${rate} per WriteRequestUnits (WRU)", (("group", "DDB-WriteUnits"),)),
    _Product("cloudfront", "AmazonCloudFront", "Amazon CloudFront", "Amazon CloudFront",
             "Data Transfer", "US-DataTransfer-Out-Bytes", "GET", "GB", _METERED, "0.085",
             "distribution", 3, (0.1, 5),
             "${rate} per GB - first 10 TB / month data transfer out (United States)",
             (("transfer_type", "CloudFront Outbound"),), regional=False),
    _Product("cloudwatch", "AmazonCloudWatch", "AmazonCloudWatch", "AmazonCloudWatch", "Metric",
             "CW:MetricMonitorUsage", "MetricStorage", "Metrics", _STORAGE, "0.30", "none", 3,
             (10, 2000), "${rate} per metric-month - first 10,000 metrics", (("group", "Metric"),)),
    _Product("eks", "AmazonEKS", "Amazon Elastic Container Service for Kubernetes",
             "Amazon Elastic Container Service for Kubernetes", "Compute",
             "AmazonEKS-Hours:perCluster", "CreateOperation", "Hours", _HOURS, "0.10", "cluster",
             2, (1, 1), "Amazon EKS cluster usage in {location}"),
    _Product("fargate", "AmazonECS", "Amazon Elastic Container Service",
             "Amazon Elastic Container Service", "Compute", "Fargate-vCPU-Hours:perCPU",
             "FargateTask", "hours", _HOURS, "0.04048", "task", 3, (1, 1),
             "AWS Fargate - vCPU - {location}"),
    _Product("elasticache", "AmazonElastiCache", "Amazon ElastiCache", "Amazon ElastiCache",
             "Cache Instance", "NodeUsage:cache.r6g.large", "CreateCacheCluster:0002", "Hrs",
             _HOURS, "0.206", "cache", 2, (1, 1), "${rate} per Redis cache.r6g.large Node Hour",
             (("instance_type", "cache.r6g.large"), ("cache_engine", "Redis"))),
    _Product("elb", "AWSELB", "Elastic Load Balancing", "Elastic Load Balancing",
             "Load Balancer-Application", "LoadBalancerUsage", "LoadBalancing:Application", "Hrs",
             _HOURS, "0.0225", "loadbalancer", 3, (1, 1),
             "${rate} per Application LoadBalancer-hour (or partial hour)"),
    _Product("kms", "awskms", "AWS Key Management Service", "AWS Key Management Service",
             "Encryption Key", "KMS-Requests", "Decrypt", "Requests", _REQUESTS, "0.000003", "key",
             2, (10, 100000), "${rate} per request"),
    _Product("sqs", "AWSQueueService", "Amazon Simple Queue Service",
             "Amazon Simple Queue Service", "API Request", "Requests-RBP", "SendMessage",
             "Requests", _REQUESTS, "0.0000004", "queue", 2, (100, 200000),
             "${rate} per Standard Queue request", (("queue_type", "Standard"),)),
)
# fmt: on
_PRODUCT_CODES = tuple(sorted({p.code for p in _PRODUCTS}))


class _Reservation(NamedTuple):
    product: str
    region: str
    payer: int
    option: str
    term_years: int
    upfront_per_unit: str  # USD per instance for the term
    recurring_hourly: str  # USD per instance hour
    months_old: int  # 0: bought at the start of this month, its upfront is this month's Fee


class _SavingsPlan(NamedTuple):
    offering: str
    payer: int
    option: str
    term_years: int
    discount: float  # off the on-demand rate
    upfront_share: float  # part of the commitment paid up front
    family: str  # instance family of an EC2 Instance Savings Plan
    region: str  # region of an EC2 Instance Savings Plan
    months_old: int  # 0: bought this month, its upfront is a SavingsPlanUpfrontFee


_RESERVATIONS = (
    _Reservation("ec2-m5.xlarge", "us-east-1", 0, "Partial Upfront", 1, "841", "0.048", 5),
    _Reservation("rds-db.r5.large", "eu-west-1", 1, "All Upfront", 1, "1380", "0", 0),
    _Reservation("ec2-c5.large", "us-west-2", 0, "No Upfront", 1, "0", "0.062", 9),
)
_RI_VOLUME_DISCOUNTED = 0  # the reservation that earns a RiVolumeDiscount
_RI_UPFRONT = np.array([float(r.upfront_per_unit) for r in _RESERVATIONS])
_RI_UPFRONT_HOURLY = _RI_UPFRONT / np.array([r.term_years * 8760 for r in _RESERVATIONS])
_RI_RECURRING_HOURLY = np.array([float(r.recurring_hourly) for r in _RESERVATIONS])
_SAVINGS_PLANS = (
    _SavingsPlan("ComputeSavingsPlans", 0, "No Upfront", 1, 0.28, 0.0, "", "", 4),
    _SavingsPlan(
        "EC2InstanceSavingsPlans", 1, "Partial Upfront", 1, 0.4, 0.5, "m5", "eu-west-1", 0
    ),
)
_SP_PRODUCTS = {"ec2-m5.xlarge", "ec2-c5.large", "ec2-r5.2xlarge", "fargate"}  # hourly compute
# Caps keep every monthly commitment line below 1e5 USD, whatever the row count.
_MAX_SERIES_PER_COMMITMENT = 50
_BUNDLED_RATE, _PRIVATE_RATE, _RI_VOLUME_RATE = 0.15, 0.10, 0.03
_TAX_RATE, _CREDIT_RATE, _CREDIT_CAP, _REFUND_RATE, _REFUND_CAP = 0.08, 0.02, 25_000, 0.005, 10_000
_DOMAIN_FEE = 12

# --- line item types and usage groups ------------------------------------------------------

_TYPE_NAMES = (
    "Usage", "DiscountedUsage", "SavingsPlanCoveredUsage", "SavingsPlanNegation", "EdpDiscount",
    "BundledDiscount", "PrivateRateDiscount", "SavingsPlanRecurringFee", "SavingsPlanUpfrontFee",
    "RIFee", "Fee", "Tax", "Credit", "Refund", "RiVolumeDiscount",
)  # fmt: skip
(
    _USAGE, _DISCOUNTED, _SP_COVERED, _SP_NEGATION, _EDP, _BUNDLED, _PRIVATE,
    _SP_RECURRING, _SP_UPFRONT, _RIFEE, _FEE, _TAX, _CREDIT, _REFUND, _RI_VOLUME,
) = range(len(_TYPE_NAMES))  # fmt: skip
# A group is a usage series plus the series that exist because of it (same resource, hours).
_G_USAGE, _G_EDP, _G_BUNDLED, _G_PRIVATE, _G_RI, _G_SP = range(6)
_GROUP_MEMBERS = np.array(
    [[_USAGE, -1], [_USAGE, _EDP], [_USAGE, _BUNDLED], [_USAGE, _PRIVATE],
     [_DISCOUNTED, -1], [_SP_COVERED, _SP_NEGATION]]
)  # fmt: skip
_GROUP_SIZES = (_GROUP_MEMBERS >= 0).sum(axis=1)
_GROUP_WEIGHTS = np.array([0.40, 0.25, 0.03, 0.04, 0.12, 0.16])
_MIN_SERIES = 96  # fewer series would make a small sample monotonous
# Keys of the CUR 2.0 discount map; a usage series' discount line decides its key.
_DISCOUNT_KEYS = (
    "",
    "edp_discount",
    "bundled_discount",
    "private_rate_discount",
    "ri_volume_discount",
)


# --- the entry point -----------------------------------------------------------------------


def generate_month(
    source_root: Path,
    *,
    month: dt.date,
    rows: int,
    fmt: Format,
    seed: int,
    name: str = "finops-demo",
    until: dt.datetime | None = None,
    assembly_id: str | None = None,
    rows_per_file: int = 2_000_000,
    chunk_rows: int = 250_000,
    progress: bool = False,
) -> GeneratedDelivery:
    """Write one billing month of sample CUR under `source_root`, the manifest last.

    `until` makes a month-to-date delivery: no usage starts at or after it. The same arguments
    always give the same data; the assembly id is derived from them unless given.
    """
    _check_arguments(month, rows, fmt, seed, rows_per_file, chunk_rows)
    plan = _plan(_Context.create(month, rows, fmt, seed, until))
    assembly = assembly_id or _derive_assembly_id(seed, month, fmt, rows, until, name)
    data_dir, manifest_path = _month_paths(source_root, name, month, fmt)
    _clear_month(data_dir, manifest_path)
    writer = _PartWriter(
        data_dir, name, _LEGACY_SCHEMA if fmt == "legacy" else _CUR2_SCHEMA, rows_per_file
    )
    to_table = _legacy_table if fmt == "legacy" else _cur2_table
    total_units = 0
    with tqdm(total=rows, unit="rows", file=sys.stderr, disable=not progress) as bar:
        for block in _blocks(plan, chunk_rows):
            total_units += block.unblended_total()
            writer.write(to_table(block, plan))
            bar.update(block.size)
    files = writer.close()
    _write_manifest(manifest_path, source_root, files, name, month, fmt, assembly)
    return GeneratedDelivery(
        data_files=files,
        manifest_path=manifest_path,
        assembly_id=assembly,
        rows=rows,
        unblended_total=Decimal(total_units).scaleb(-10),
        month=month,
        fmt=fmt,
    )


def _check_arguments(
    month: dt.date, rows: int, fmt: str, seed: int, rows_per_file: int, chunk_rows: int
) -> None:
    if month.day != 1:
        raise ValueError(f"month must be the first day of a month, got {month}")
    if fmt not in _FMT_CODE:
        raise ValueError(f"fmt must be 'legacy' or 'cur2', got {fmt!r}")
    if rows < MIN_ROWS:
        raise ValueError(f"rows must be at least {MIN_ROWS} to hold every line item type")
    if seed < 0:
        raise ValueError("seed must be non-negative")
    if rows_per_file < 1 or chunk_rows < 1:
        raise ValueError("rows_per_file and chunk_rows must be positive")


def _derive_assembly_id(
    seed: int, month: dt.date, fmt: str, rows: int, until: dt.datetime | None, name: str
) -> str:
    """Derived from every argument that changes the data: a restatement gets a new id."""
    key = f"{seed}|{month}|{fmt}|{rows}|{until.isoformat() if until else ''}|{name}"
    return str(_stable_uuid(key))


def _month_paths(root: Path, name: str, month: dt.date, fmt: str) -> tuple[Path, Path]:
    if fmt == "legacy":
        return root / mf.legacy_data_dir(name, month), root / mf.legacy_manifest_key(name, month)
    return root / mf.cur2_data_dir(name, month), root / mf.cur2_manifest_key(name, month)


def _clear_month(data_dir: Path, manifest_path: Path) -> None:
    """Manifest first, so no reader follows it to parts that are being replaced."""
    manifest_path.unlink(missing_ok=True)
    for part in data_dir.glob("*.parquet"):
        part.unlink()


def _write_manifest(
    path: Path, root: Path, files: list[Path], name: str, month: dt.date, fmt: str, assembly: str
) -> None:
    """Keys as AWS writes them: bucket keys (legacy), full s3:// URIs (CUR 2.0)."""
    keys = [f.relative_to(root).as_posix() for f in files]
    payer = _PAYERS[0].id
    if fmt == "legacy":
        report_id = hashlib.sha256(f"{payer}/{name}".encode()).hexdigest()
        model: mf.LegacyManifest | mf.Cur2Manifest = mf.build_legacy_manifest(
            report_name=name,
            month=month,
            assembly_id=assembly,
            report_keys=keys,
            schema=_LEGACY_SCHEMA,
            account=payer,
            bucket=DEMO_BUCKET,
            report_id=report_id,
        )
    else:
        model = mf.build_cur2_manifest(
            export_name=name,
            month=month,
            execution_id=assembly,
            data_files=[f"s3://{DEMO_BUCKET}/{key}" for key in keys],
            schema=_CUR2_SCHEMA,
            account=payer,
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.tmp")
    staging.write_bytes(mf.serialize_manifest(model))
    os.replace(staging, path)  # a reader sees no manifest or a whole one


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
        cls, month: dt.date, rows: int, fmt: str, seed: int, until: dt.datetime | None
    ) -> _Context:
        rng = np.random.default_rng([seed, month.year, month.month, _FMT_CODE[fmt]])
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
_CUR2_SCHEMA = pa.schema(list(CUR2_COLUMNS.items()))


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

    def __post_init__(self) -> None:
        self.ri_used_hours = np.zeros(len(_RESERVATIONS))
        self.sp_used = np.zeros((len(_SAVINGS_PLANS), self.ctx.hours), dtype=np.int64)
        self.usage = np.zeros((len(_ACCOUNTS), len(_PRODUCT_CODES)), dtype=np.int64)


def _plan(ctx: _Context) -> _Plan:
    """Usage groups sized to the row count, then the monthly tail, then the string tables."""
    length = min(ctx.hours, max(1, ctx.rows // _MIN_SERIES))
    sp_start = ctx.rng.integers(0, ctx.hours - length + 1, size=len(_SAVINGS_PLANS))
    tail, pseudo = _tail_series(ctx, sp_start, length)
    groups = _draw_groups(ctx, ctx.rows - int(tail["length"].sum()), length, sp_start)
    series = _expand_groups(ctx, groups)
    tail["parent"] = len(series["kind"]) + np.arange(len(tail["kind"]))  # each its own
    merged = {key: np.concatenate([series[key], tail[key]]) for key in series}
    lengths = merged.pop("length")
    sp_rate = _sp_rates(ctx, merged)
    commit = _sp_commitments(merged, sp_rate)
    shares = np.array([p.upfront_share for p in _SAVINGS_PLANS])
    plan = _Plan(
        ctx=ctx,
        row_start=np.concatenate([[0], np.cumsum(lengths)[:-1]]),
        hourly_rows=int(series["length"].sum()),
        sp_rate=sp_rate,
        ri_units=_reservation_units(merged),
        sp_commit=commit,
        sp_upfront=np.rint(commit * shares).astype(np.int64),
        **merged,
    )
    _build_strings(plan, groups, ctx.offerings + pseudo)
    return plan


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


def _draw_groups(ctx: _Context, hourly_rows: int, length: int, sp_start: np.ndarray) -> _Groups:
    """Groups filling `hourly_rows` rows; the first ones guarantee every usage line type.

    The covered series of a Savings Plan all start at its `sp_start` hour, so its hourly fee
    rows cover exactly the hours its usage can fall in.
    """
    rng = ctx.rng
    forced = [_G_EDP, *[_G_RI] * len(_RESERVATIONS), *[_G_SP] * len(_SAVINGS_PLANS)]
    forced += [_G_BUNDLED, _G_PRIVATE, _G_USAGE]
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


# --- strings: Arrow lookup tables, taken by index for each chunk -----------------------------

_WORDS = ("orders", "payments", "catalog", "search", "auth", "analytics", "events", "billing")
_COST_CENTERS = ("CC-1001", "CC-1002", "CC-2001", "CC-3001", "CC-4001")
_TEAMS = ("platform", "checkout", "search", "data", "ml", "web")
_ENVIRONMENTS = ("production", "staging", "development")


def _build_strings(plan: _Plan, groups: _Groups, offerings: list[dict[str, str]]) -> None:
    ctx = plan.ctx
    plan.strings["offering"] = _offering_table(offerings)
    plan.maps["product"] = _map_array(
        [{k: v for k, v in o.items() if v and _in_product_map(k)} for o in offerings]
    )
    plan.strings["account"], plan.maps["cost_category"] = _account_tables(ctx)
    plan.strings["ri"] = _reservation_table(ctx, plan.ri_units)
    plan.strings["sp"] = _savings_plan_table(ctx)
    plan.strings["time"] = {"interval": _interval_table(ctx)}
    plan.strings["rates"] = _rate_table(offerings)
    plan.strings["series"], plan.maps["resource_tags"] = _series_tables(plan, groups, offerings)


def _rate_table(offerings: list[dict[str, str]]) -> dict[str, pa.Array]:
    """Price list identifiers per offering: rate code is SKU.offer term code.rate code."""
    skus = [o.get("sku", "") for o in offerings]
    codes = [f"{sku}.JRTCKXETXF.6YS6EN2CT7" if sku else "" for sku in skus]
    ids = [
        str(int(hashlib.sha256(sku.encode()).hexdigest()[:8], 16)) if sku else "" for sku in skus
    ]
    return {"rate_code": pa.array(codes, pa.string()), "rate_id": pa.array(ids, pa.string())}


def _in_product_map(key: str) -> bool:
    """CUR 2.0 keeps a few product attributes as columns, the rest in the `product` map."""
    return f"product_{key}" not in PRODUCT_COLUMNS and key not in _NOT_PRODUCT


def _offering_table(offerings: list[dict[str, str]]) -> dict[str, pa.Array]:
    keys = sorted({k for o in offerings for k in o} - _NOT_PRODUCT)
    return {k: pa.array([o.get(k, "") for o in offerings], pa.string()) for k in keys}


def _map_array(rows: list[dict[str, str]]) -> pa.Array:
    offsets = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int32)
    keys = pa.array([k for r in rows for k in r], pa.string())
    return pa.MapArray.from_arrays(offsets, keys, pa.array([v for r in rows for v in r.values()]))


def _account_tables(ctx: _Context) -> tuple[dict[str, pa.Array], pa.Array]:
    """Account and payer fields per usage account; invoice ids only once a month is closed."""
    invoices = [str(n) if ctx.invoiced else "" for n in ctx.rng.integers(10**8, 10**9, 2)]
    columns = {
        "usage_account_id": [a.id for a in _ACCOUNTS],
        "usage_account_name": [a.name for a in _ACCOUNTS],
        "payer_account_id": [_PAYERS[a.payer].id for a in _ACCOUNTS],
        "payer_account_name": [_PAYERS[a.payer].name for a in _ACCOUNTS],
        "invoice_id": [invoices[a.payer] for a in _ACCOUNTS],
        "entity": [_PAYERS[a.payer].entity for a in _ACCOUNTS],
        "tax_type": [_PAYERS[a.payer].tax_type for a in _ACCOUNTS],
        "business_unit": [a.business_unit for a in _ACCOUNTS],
    }
    cost_category = _map_array([{"business_unit": a.business_unit} for a in _ACCOUNTS])
    return {k: pa.array(v, pa.string()) for k, v in columns.items()}, cost_category


def _iso_ms(moment: dt.datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%S}.000Z"


def _months_before(month: dt.date, count: int) -> dt.datetime:
    index = month.year * 12 + month.month - 1 - count
    return dt.datetime(index // 12, index % 12 + 1, 1, tzinfo=dt.UTC)


def _stable_uuid(key: str) -> uuid.UUID:
    return uuid.UUID(bytes=hashlib.sha256(key.encode()).digest()[:16], version=4)


def _reservation_table(ctx: _Context, units: np.ndarray) -> dict[str, pa.Array]:
    """Reservation columns per reservation, then an all-empty row for every other series."""
    rows = []
    for index, r in enumerate(_RESERVATIONS):
        offering = ctx.ri_offering[index]
        account = _ACCOUNTS[r.payer * 3].id
        start = _months_before(ctx.month, r.months_old) + dt.timedelta(hours=9, minutes=17)
        count, hours, nf = int(units[index]), ctx.hours_in_month, float(ctx.nf[offering])
        arn = (
            f"arn:aws:ec2:{r.region}:{account}:reserved-instances/{_stable_uuid(f'ri{index}')}"
            if r.product.startswith("ec2")
            else f"arn:aws:rds:{r.region}:{account}:ri:acme-reserved-db-{index}"
        )
        rows.append(
            {
                "arn": arn,
                "subscription_id": _subscription_id(index),
                "start_time": _iso_ms(start),
                "end_time": _iso_ms(start.replace(year=start.year + r.term_years)),
                "modification_status": "Original",
                "number_of_reservations": str(count),
                "units_per_reservation": f"{hours:.10f}",
                "total_reserved_units": f"{count * hours:.10f}",
                "normalized_units_per_reservation": f"{hours * nf:.11f}",
                "total_reserved_normalized_units": f"{count * hours * nf:.11f}",
                "lease": f"{r.term_years}yr",
                "offering_class": "standard",
                "purchase_option": r.option,
            }
        )
    rows.append(dict.fromkeys(rows[0], ""))
    return {k: pa.array([row[k] for row in rows], pa.string()) for k in rows[0]}


def _subscription_id(reservation: int) -> str:
    return str(1_088_000_000 + reservation * 7919)


def _savings_plan_table(ctx: _Context) -> dict[str, pa.Array]:
    rows = []
    for index, p in enumerate(_SAVINGS_PLANS):
        start = _months_before(ctx.month, p.months_old) + dt.timedelta(hours=3)
        payer = _PAYERS[p.payer].id
        rows.append(
            {
                "arn": f"arn:aws:savingsplans::{payer}:savingsplan/{_stable_uuid(f'sp{index}')}",
                "offering_type": p.offering,
                "payment_option": p.option,
                "purchase_term": f"{p.term_years}yr",
                "region": _REGIONS[p.region][1] if p.region else "",
                "instance_type_family": p.family,
                "start_time": _iso_ms(start),
                "end_time": _iso_ms(start.replace(year=start.year + p.term_years)),
            }
        )
    rows.append(dict.fromkeys(rows[0], ""))
    return {k: pa.array([row[k] for row in rows], pa.string()) for k in rows[0]}


def _interval_table(ctx: _Context) -> pa.Array:
    """``start/end`` of every delivered hour, then the whole-month interval of monthly items."""
    start = dt.datetime(ctx.month.year, ctx.month.month, 1, tzinfo=dt.UTC)
    stamps = [start + dt.timedelta(hours=h) for h in range(ctx.hours + 1)]
    month_end = start + dt.timedelta(hours=ctx.hours_in_month, seconds=-1)
    pairs = [*itertools.pairwise(stamps), (start, month_end)]
    return pa.array([f"{a:%Y-%m-%dT%H:%M:%SZ}/{b:%Y-%m-%dT%H:%M:%SZ}" for a, b in pairs])


def _series_tables(
    plan: _Plan, groups: _Groups, offerings: list[dict[str, str]]
) -> tuple[dict[str, pa.Array], pa.Array]:
    """Per-series strings: line item id, resource, zone, tags, description and rates."""
    sizes = _GROUP_SIZES[groups.kind]
    group_of = np.repeat(np.arange(len(sizes)), sizes)
    total, tail = len(plan.kind), len(plan.kind) - len(group_of)
    resources, zones = _group_resources(plan.ctx, groups)
    sp_arns = plan.strings["sp"]["arn"].to_pylist()
    tail_resources = [
        sp_arns[plan.sp[i]] if plan.kind[i] in (_SP_RECURRING, _SP_UPFRONT) else ""
        for i in range(len(group_of), total)
    ]
    texts = [_series_texts(plan, offerings, i) for i in range(total)]
    tags = {
        k: np.concatenate([v[group_of], np.full(tail, "")])
        for k, v in _group_tags(plan.ctx, groups).items()
    }
    strings = {
        "line_item_id": _line_item_ids(plan.ctx.rng, total),
        "resource_id": [resources[g] for g in group_of] + tail_resources,
        "availability_zone": [zones[g] for g in group_of] + [""] * tail,
        **{key: [t.get(key, "") for t in texts] for key in _TEXT_KEYS},
        **{f"tag_{k}": v.tolist() for k, v in tags.items()},
    }
    tag_maps = [{k: str(v[i]) for k, v in tags.items() if v[i]} for i in range(total)]
    return {k: pa.array(v, pa.string()) for k, v in strings.items()}, _map_array(tag_maps)


def _line_item_ids(rng: np.random.Generator, count: int) -> list[str]:
    """52 lowercase base32 characters, like real line item ids."""
    raw = rng.bytes(32 * count)
    return [base64.b32encode(raw[32 * i : 32 * i + 32]).decode().lower()[:52] for i in range(count)]


def _group_tags(ctx: _Context, groups: _Groups) -> dict[str, np.ndarray]:
    """Tags of each group's resource: most carry each tag, not all of them do."""
    rng, n = ctx.rng, len(groups.kind)
    usual_env = np.array([a.environment for a in _ACCOUNTS])[groups.account]
    other_env = np.array(_ENVIRONMENTS)[rng.integers(0, len(_ENVIRONMENTS), n)]
    creators = np.array([f"AssumedRole:AROA{a.id}EXAMPLE:ci-deployer" for a in _ACCOUNTS])
    ec2 = np.array([ctx.product_of[o].resource in ("instance", "volume") for o in groups.offering])
    values = {
        "aws_created_by": creators[groups.account],
        "user_cost_center": np.array(_COST_CENTERS)[rng.integers(0, len(_COST_CENTERS), n)],
        "user_environment": np.where(rng.random(n) < 0.85, usual_env, other_env),
        "user_team": np.array(_TEAMS)[rng.integers(0, len(_TEAMS), n)],
    }
    present = {
        "aws_created_by": ec2 & (rng.random(n) < 0.6),
        "user_cost_center": rng.random(n) < 0.85,
        "user_environment": rng.random(n) < 0.9,
        "user_team": rng.random(n) < 0.8,
    }
    return {k: np.where(present[k], values[k], "") for k in _TAG_KEYS}


def _resource_id(shape: str, region: str, account: str, token: str, word: str) -> str:
    """A resource id shaped like the real ones of that service."""
    ids = {
        "instance": f"i-0{token[:16]}",
        "volume": f"vol-0{token[:16]}",
        "natgateway": f"arn:aws:ec2:{region}:{account}:natgateway/nat-0{token[:16]}",
        "rds": f"arn:aws:rds:{region}:{account}:db:{word}-db",
        "bucket": f"acme-{word}-{token[:8]}",
        "function": f"arn:aws:lambda:{region}:{account}:function:{word}-handler",
        "table": f"arn:aws:dynamodb:{region}:{account}:table/{word}",
        "distribution": f"arn:aws:cloudfront::{account}:distribution/E{token[:13].upper()}",
        "cluster": f"arn:aws:eks:{region}:{account}:cluster/{word}",
        "task": f"arn:aws:ecs:{region}:{account}:task/{word}/{token}",
        "cache": f"arn:aws:elasticache:{region}:{account}:cluster:{word}-redis-001",
        "loadbalancer": f"arn:aws:elasticloadbalancing:{region}:{account}:loadbalancer/app/"
        f"{word}-alb/{token[:16]}",
        "key": f"arn:aws:kms:{region}:{account}:key/{uuid.UUID(token)}",
        "queue": f"arn:aws:sqs:{region}:{account}:{word}-queue",
    }
    return ids.get(shape, "")


def _group_resources(ctx: _Context, groups: _Groups) -> tuple[list[str], list[str]]:
    """Resource id and availability zone of each group."""
    rng, n = ctx.rng, len(groups.kind)
    tokens = rng.bytes(16 * n).hex()
    words = rng.integers(0, len(_WORDS), n)
    zones = rng.integers(0, 3, n)
    resources, azs = [], []
    for g, o in enumerate(groups.offering):
        shape, region = ctx.product_of[o].resource, ctx.offerings[o]["region_code"]
        account = _ACCOUNTS[groups.account[g]].id
        token = tokens[32 * g : 32 * g + 32]
        resources.append(_resource_id(shape, region, account, token, _WORDS[words[g]]))
        zoned = shape in ("instance", "volume", "rds", "cache")
        azs.append(f"{region}{'abc'[zones[g]]}" if zoned else "")
    return resources, azs


_TEXT_KEYS = ("description", "unblended_rate", "blended_rate", "net_rate", "public_rate", "term")


def _rate(units: float) -> str:
    return f"{units / _UNIT:.10f}"


def _series_texts(plan: _Plan, offerings: list[dict[str, str]], i: int) -> dict[str, str]:
    """Description and rate strings of series `i`; they depend on its line item type."""
    kind, offering = int(plan.kind[i]), offerings[plan.offering[i]]
    rate = offering.get("rate", "")
    if kind in (_USAGE, _SP_COVERED):
        net = f"{float(rate) * (1 - plan.pct[i]):.10f}"
        return {
            "description": offering["description"],
            "unblended_rate": rate,
            "blended_rate": rate,
            "net_rate": net,
            "public_rate": rate,
            "term": "OnDemand",
        }
    if kind == _SP_NEGATION:
        account, sku = _ACCOUNTS[plan.account[i]].id, offering["sku"]
        return {
            "description": f"SavingsPlanNegation used by AccountId : {account} and "
            f"UsageSku : {sku}",
            "unblended_rate": f"-{rate}",
            "blended_rate": f"-{rate}",
            "net_rate": f"-{rate}",
            "public_rate": rate,
        }
    if kind == _DISCOUNTED:
        effective = _RI_UPFRONT_HOURLY[plan.ri[i]] + _RI_RECURRING_HOURLY[plan.ri[i]]
        size = offering["usagetype"].split(":", 1)[1]
        platform = "MySQL" if size.startswith("db.") else "Linux/UNIX (Amazon VPC)"
        return {
            "description": f"{platform}, {size} reserved instance applied",
            "unblended_rate": _rate(0),
            "blended_rate": f"{effective:.10f}",
            "net_rate": _rate(0),
            "public_rate": rate,
            "term": "Reserved",
        }
    if kind == _SP_RECURRING:
        p, commitment = _SAVINGS_PLANS[plan.sp[i]], plan.sp_commit[plan.sp[i]]
        recurring = _rate(commitment - plan.sp_upfront[plan.sp[i]])
        return {
            "description": f"{p.term_years} year {p.option} {p.offering} with "
            f"${commitment / _UNIT:.2f} hourly commitment",
            "unblended_rate": recurring,
            "blended_rate": recurring,
            "net_rate": recurring,
        }
    if kind == _RIFEE:
        r = _RESERVATIONS[plan.ri[i]]
        recurring = f"{float(r.recurring_hourly):.10f}"
        return {
            "description": f"USD {float(r.recurring_hourly):g} hourly fee per {r.option} "
            f"{r.product} reservation",
            "unblended_rate": recurring,
            "blended_rate": recurring,
            "net_rate": recurring,
        }
    return {"description": _tail_description(plan, kind, i)}


def _tail_description(plan: _Plan, kind: int, i: int) -> str:
    if kind == _FEE:
        if plan.ri[i] < len(_RESERVATIONS):
            return f"Sign up charge for subscription: {_subscription_id(int(plan.ri[i]))}"
        return "Registration of acme-demo.com"
    if kind == _SP_UPFRONT:
        p = _SAVINGS_PLANS[plan.sp[i]]
        return f"{p.term_years} year {p.option} {p.offering} upfront fee"
    return {
        _EDP: f"{plan.pct[i]:.0%} Enterprise Discount Program discount",
        _BUNDLED: "Bundled usage discount",
        _PRIVATE: "Private pricing discount",
        _RI_VOLUME: "Reserved Instance volume discount",
        _TAX: f"{_PAYERS[_ACCOUNTS[plan.account[i]].payer].tax_type} for product code "
        f"{_PRODUCT_CODES[plan.code[i]]}",
        _CREDIT: "AWS Promotional Credit",
        _REFUND: "Refund for Amazon S3 service credit",
    }[kind]


# --- rows: numbers, chunk by chunk -----------------------------------------------------------

_NUMBER_COLUMNS = [n for n, t in CUR2_COLUMNS.items() if pa.types.is_floating(t)]


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
        "pricing_rate_id": _take(plan.strings["rates"]["rate_id"], o),
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


def _legacy_table(block: _Block, plan: _Plan) -> pa.Table:
    """Legacy layout: flat product/tag/cost category columns, "" and 0 instead of nulls."""
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
        columns[name] = np.nan_to_num(values, nan=0.0)
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
    for name, values in block.numbers.items():
        columns[name] = pa.array(values, mask=np.isnan(values))
    return _table(columns, _CUR2_SCHEMA)


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


class _PartWriter:
    """Snappy Parquet parts of at most `rows_per_file` rows, numbered from 1."""

    def __init__(self, directory: Path, name: str, schema: pa.Schema, rows_per_file: int) -> None:
        self._directory, self._name, self._schema = directory, name, schema
        self._rows_per_file = rows_per_file
        self._writer: pq.ParquetWriter | None = None
        self._rows_in_file = 0
        self.files: list[Path] = []

    def write(self, table: pa.Table) -> None:
        while table.num_rows:
            if self._writer is None or self._rows_in_file == self._rows_per_file:
                self._open_next()
            take = min(table.num_rows, self._rows_per_file - self._rows_in_file)
            self._writer.write_table(table.slice(0, take))
            self._rows_in_file += take
            table = table.slice(take)

    def _open_next(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._directory.mkdir(parents=True, exist_ok=True)
        path = self._directory / mf.data_file_name(self._name, len(self.files) + 1)
        self._writer = pq.ParquetWriter(path, self._schema, compression="snappy")
        self.files.append(path)
        self._rows_in_file = 0

    def close(self) -> list[Path]:
        if self._writer is not None:
            self._writer.close()
        return self.files
