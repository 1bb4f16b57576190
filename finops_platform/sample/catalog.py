"""The generator's fixed world: the organization (payers, accounts, regions), the services
and their prices, the commitments (reservations, savings plans), and the line item types and
usage groups a month is drawn from. Constants only, so every other module reads one catalog.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from finops_platform.settings import CurFormat

Format = CurFormat

DEMO_BUCKET = "finops-demo-cur"  # the bucket CUR 2.0 dataFiles URIs name
MIN_ROWS = 500  # enough for every line item type plus the monthly items
_UNIT = 10**10  # money unit: 1e-10 USD
_CENT = 10**8
_MAX_ROW_UNITS = 10**5 * _UNIT  # below this a double holds a value exactly to 10 decimals
# The random draws of a format: legacy CSV holds the very rows of legacy Parquet.
_FMT_CODE = {"legacy": 1, "legacy-csv": 1, "cur2": 2, "cur2-csv": 2}


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
