"""Split cost allocation data for generated months: EKS pods and ECS tasks on the month's EC2
instances.

A payer that opts in to split cost allocation data gets, for each Kubernetes pod (or ECS task)
and hour, two usage rows, one for vCPU and one for memory, whose `split_line_item_*` columns
carry the pod's share of its parent instance's cost and its share of the instance's unused
(idle) cost; the rows themselves cost nothing (`line_item_unblended_cost` 0), so the bill is not
counted twice. The pod's cluster, namespace, workload and node are AWS tags (`aws:eks:...`,
map keys `aws_eks_cluster_name` ...).

An ECS task on an EC2 container instance is written as AWS writes it (AWS CUR user guide,
"Split line item details"; the CUR query library's ECS queries): product `AmazonECS`, operation
`ECSTask-EC2`, usage types `<region prefix>ECS-EC2-vCPU-Hours` and `...-GB-Hours` (the prefix of
the instance's own usage type: none in us-east-1, `USE2-` in us-east-2), the task's ARN
(`arn:aws:ecs:<region>:<account>:task/<cluster>/<32 hex>`) as resource id, the instance's id as
`split_line_item_parent_resource_id`, and the ECS managed tags `aws:ecs:clusterName` and
`aws:ecs:serviceName` (legacy columns `resource_tags_aws_ecs_cluster_name` ..., CUR 2.0 map keys
`aws_ecs_cluster_name` ...); a standalone task (RunTask, no service) has no service tag. Fargate
tasks are not split (they have no parent instance: their own line items bill them); with ECS,
the month's own Fargate task rows get the same ECS tags (the cluster in their ARN).

Here every on-demand instance hour (`Usage`, `BoxUsage`) is an EKS node running `PODS` pods or
an ECS container instance running `TASKS` tasks, chosen from the instance's id when both
platforms are asked for; the workloads it runs are chosen from its id too. How AWS weighs vCPU
against memory is not modelled: the instance hour's cost is split 9:1 (`CPU_SHARE`) between its
vCPU and memory rows, and each pod or task takes a fixed ratio of each. Amounts are whole units
of 1e-10 USD, and each instance hour's unused cost is spread over its pods with the remainder on
the last, so the pods' split plus unused cost adds up to the instance hour's cost exactly, as
the curated `cost_by_workload` check requires.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from finops_platform.lib.cur.schema import SPLIT_LINE_ITEM_COLUMNS
from finops_platform.sample.catalog import Format

# The container platforms split cost allocation data covers, in the order they are written.
PLATFORMS = ("eks", "ecs")
# Kubernetes tags of a pod (CUR 2.0 map keys; legacy flat `resource_tags_<key>` columns).
TAG_KEYS = ("aws_eks_cluster_name", "aws_eks_namespace", "aws_eks_deployment", "aws_eks_node")
CLUSTERS = ("prod-eks", "batch-eks")
# (namespace, deployment); a node runs PODS of them, chosen by its instance id.
WORKLOADS = (
    ("checkout", "cart-api"),
    ("checkout", "payments"),
    ("search", "indexer"),
    ("search", "query-api"),
    ("platform", "ingress-nginx"),
)
PODS = 2
CPU_SHARE = (9, 10)  # the vCPU rows' part of an instance hour's cost: 9/10
# Each pod's ratio of the node's vCPUs and of its memory; what is left is unused.
CPU_RATIOS = (0.45, 0.3)
MEMORY_RATIOS = (0.35, 0.4)
NODE_VCPUS, NODE_MEMORY_GB = 4.0, 16.0
# The ECS managed tags of a task (`aws:ecs:clusterName`, `aws:ecs:serviceName`).
ECS_TAG_KEYS = ("aws_ecs_cluster_name", "aws_ecs_service_name")
ECS_CLUSTERS = ("web-ecs", "jobs-ecs")
# A container instance runs TASKS tasks of these services, chosen by its instance id; None is a
# standalone task (RunTask), which has no service tag.
ECS_SERVICES = ("storefront", "orders-api", "image-resizer", "notifications", None)
TASKS = 3
# The services of the month's Fargate tasks, which get the ECS tags when ECS is asked for.
FARGATE_SERVICES = ("checkout-web", "events-worker")
TASK_CPU_RATIOS = (0.25, 0.25, 0.2)
TASK_MEMORY_RATIOS = (0.3, 0.2, 0.25)
# What an ECS task row says of its product (the instance's columns otherwise); CUR 2.0 keeps
# `product_product_name` and `product_servicename` in its `product` map, without `product_`.
ECS_PRODUCT = {
    "line_item_product_code": "AmazonECS",
    "product_servicecode": "AmazonECS",
    "product_product_name": "Amazon Elastic Container Service",
    "product_servicename": "Amazon Elastic Container Service",
}
_UNIT = 10**10


# What `generate_month(split_cost_allocation=...)` takes: see `split_platforms`.
SplitPlatforms = bool | str | Iterable[str] | None


def split_platforms(value: SplitPlatforms) -> tuple[str, ...]:
    """The platforms a `split_cost_allocation` argument asks for, in `PLATFORMS` order: True is
    EKS (what the flag always meant), False or None none, else names such as "eks,ecs"."""
    if value is True:
        return ("eks",)
    if not value:
        return ()
    names = value.split(",") if isinstance(value, str) else list(value)
    chosen = {name.strip().lower() for name in names} - {""}
    unknown = sorted(chosen - set(PLATFORMS))
    if unknown or not chosen:
        named = ", ".join(repr(name) for name in unknown) or repr(value)
        raise ValueError(
            f"split cost allocation platform {named} is not one of {', '.join(PLATFORMS)} "
            "(comma separated)"
        )
    return tuple(p for p in PLATFORMS if p in chosen)


def split_key(platforms: tuple[str, ...]) -> str:
    """The platforms' part of a delivery's assembly id key: EKS alone keeps the ids it had
    when the flag meant EKS only."""
    if not platforms:
        return ""
    return "|split" if platforms == ("eks",) else f"|split={','.join(platforms)}"


def _tag_keys(platforms: tuple[str, ...]) -> tuple[str, ...]:
    return (TAG_KEYS if "eks" in platforms else ()) + (ECS_TAG_KEYS if "ecs" in platforms else ())


def split_schema(
    schema: pa.Schema, fmt: Format, platforms: tuple[str, ...] = ("eks",)
) -> pa.Schema:
    """The delivery's schema followed by the split columns (and, in legacy CUR, the tag columns
    of the pods and tasks of `platforms`), which the payer's opt-in adds."""
    legacy = fmt.startswith("legacy")
    fields = [pa.field(n, t, nullable=not legacy) for n, t in SPLIT_LINE_ITEM_COLUMNS.items()]
    if legacy:
        fields += [
            pa.field(f"resource_tags_{k}", pa.string(), nullable=False)
            for k in _tag_keys(platforms)
        ]
    for column in fields:
        schema = schema.append(column)
    return schema


def _stable(value: str) -> int:
    return int.from_bytes(hashlib.sha256(value.encode()).digest()[:4], "big")


def _parents(table: pa.Table) -> np.ndarray:
    """Rows of on-demand instance hours: the EKS nodes' and ECS container instances' own cost."""
    usage = pc.and_(
        pc.equal(table["line_item_line_item_type"], "Usage"),
        pc.match_substring(table["line_item_usage_type"], "BoxUsage"),
    )
    usage = pc.and_(usage, pc.starts_with(table["line_item_resource_id"], "i-"))
    return np.flatnonzero(usage.to_numpy(zero_copy_only=False))


def _shares(total: int, ratios: tuple[float, ...]) -> tuple[list[int], list[int]]:
    """(split, unused) per pod of `total` units: each pod's ratio of it, and the rest spread
    over the pods by their ratios, the remainder on the last."""
    split = [int(total * r) for r in ratios]
    unused_total = total - sum(split)
    unused = [unused_total * int(r * 1000) // int(sum(ratios) * 1000) for r in ratios[:-1]]
    return split, [*unused, unused_total - sum(unused)]


@dataclass(frozen=True)
class _Instance:
    """The parent instance hour a pod or task row copies."""

    node: str
    line_item_id: str
    usage_type: str
    region: str
    account: str


@dataclass(frozen=True)
class _Container:
    """A pod or task on an instance: its name (in the row's id), ARN and tags."""

    name: str
    arn: str
    tags: dict[str, str]


@dataclass(frozen=True)
class _Platform:
    operation: str
    usage_type: str  # with {prefix} (the instance usage type's region prefix) and {resource}
    cpu_ratios: tuple[float, ...]
    memory_ratios: tuple[float, ...]
    product: dict[str, str]  # overrides of the instance's columns (none: an EKS pod's)


def _pods(instance: _Instance, pick: int) -> list[_Container]:
    cluster = CLUSTERS[pick % len(CLUSTERS)]
    pods = []
    for pod in range(PODS):
        namespace, deployment = WORKLOADS[(pick + pod) % len(WORKLOADS)]
        name = f"{deployment}-{pick % 997:03d}{pod}"
        arn = f"arn:aws:eks:us-east-1:000000000000:pod/{cluster}/{namespace}/{name}"
        tags = dict(zip(TAG_KEYS, (cluster, namespace, deployment, instance.node), strict=True))
        pods.append(_Container(name, arn, tags))
    return pods


def _tasks(instance: _Instance, pick: int) -> list[_Container]:
    cluster = ECS_CLUSTERS[pick % len(ECS_CLUSTERS)]
    tasks = []
    for slot in range(TASKS):
        service = ECS_SERVICES[(pick + slot) % len(ECS_SERVICES)]
        task = hashlib.sha256(f"{instance.node}|{slot}".encode()).hexdigest()[:32]
        arn = f"arn:aws:ecs:{instance.region}:{instance.account}:task/{cluster}/{task}"
        tags = {"aws_ecs_cluster_name": cluster}
        if service is not None:
            tags["aws_ecs_service_name"] = service
        tasks.append(_Container(task, arn, tags))
    return tasks


_PLATFORM = {
    "eks": (
        _Platform("EKSPod-EC2", "EKS-EC2-{resource}-Hours", CPU_RATIOS, MEMORY_RATIOS, {}),
        _pods,
    ),
    "ecs": (
        _Platform(
            "ECSTask-EC2",
            "{prefix}ECS-EC2-{resource}-Hours",
            TASK_CPU_RATIOS,
            TASK_MEMORY_RATIOS,
            ECS_PRODUCT,
        ),
        _tasks,
    ),
}


def _platform_of(node: str, platforms: tuple[str, ...]) -> str:
    """The platform an instance serves: with both, chosen from its id (by another hash than the
    one choosing its cluster, so each platform gets every cluster)."""
    return platforms[_stable(f"{node}|platform") % len(platforms)]


def _column(table: pa.Table, name: str, default: str) -> list[str]:
    if name not in table.column_names:
        return [default] * table.num_rows
    return [value or default for value in table[name].to_pylist()]


def _pod_rows(table: pa.Table, parents: np.ndarray, platforms: tuple[str, ...]) -> dict[str, list]:
    """Column -> values of the pod and task rows of the parent rows, in AWS's column names."""
    ids = table["identity_line_item_id"].to_pylist()
    resources = table["line_item_resource_id"].to_pylist()
    costs = table["line_item_unblended_cost"].to_pylist()
    usage_types = table["line_item_usage_type"].to_pylist()
    regions = _column(table, "product_region_code", "us-east-1")
    accounts = _column(table, "line_item_usage_account_id", "000000000000")
    rows: dict[str, list] = {
        "parent": [], "id": [], "pod": [], "usage_type": [], "operation": [], "product": [],
        "tags": [],
    }  # fmt: skip
    rows |= {name: [] for name in SPLIT_LINE_ITEM_COLUMNS}
    for parent in parents.tolist():
        node, cost = resources[parent], round((costs[parent] or 0.0) * _UNIT)
        instance = _Instance(
            node, ids[parent], usage_types[parent], regions[parent], accounts[parent]
        )
        pick = _stable(node)
        platform, containers = _PLATFORM[_platform_of(node, platforms)]
        running = containers(instance, pick)
        prefix = instance.usage_type.split("BoxUsage", 1)[0]
        cpu = cost * CPU_SHARE[0] // CPU_SHARE[1]
        for resource, total, ratios, capacity in (
            ("vCPU", cpu, platform.cpu_ratios, NODE_VCPUS),
            ("GB", cost - cpu, platform.memory_ratios, NODE_MEMORY_GB),
        ):
            split, unused = _shares(total, ratios)
            for slot, (container, ratio) in enumerate(zip(running, ratios, strict=True)):
                rows["parent"].append(parent)
                rows["id"].append(f"{instance.line_item_id}-{container.name}-{resource}")
                rows["pod"].append(container.arn)
                rows["usage_type"].append(
                    platform.usage_type.format(prefix=prefix, resource=resource)
                )
                rows["operation"].append(platform.operation)
                rows["product"].append(platform.product)
                rows["tags"].append(container.tags)
                usage = ratio * capacity
                values = {
                    "split_line_item_parent_resource_id": node,
                    "split_line_item_split_usage": usage,
                    "split_line_item_split_usage_ratio": ratio,
                    "split_line_item_reserved_usage": usage,
                    "split_line_item_actual_usage": usage * 0.8,
                    "split_line_item_split_cost": split[slot] / _UNIT,
                    "split_line_item_unused_cost": unused[slot] / _UNIT,
                    "split_line_item_net_split_cost": None,
                    "split_line_item_net_unused_cost": None,
                    "split_line_item_public_on_demand_split_cost": split[slot] / _UNIT,
                    "split_line_item_public_on_demand_unused_cost": unused[slot] / _UNIT,
                }
                for column, value in values.items():
                    rows[column].append(value)
    return rows


def with_split_rows(
    table: pa.Table, schema: pa.Schema, fmt: Format, platforms: tuple[str, ...] = ("eks",)
) -> pa.Table:
    """`table` (a block of the month, in `fmt`'s layout) in `schema` (`split_schema`), followed
    by the pod and task rows of its instance hours (`platforms`). Values that do not apply are
    NULL, or 0 and '' in legacy Parquet, which writes no NULL."""
    legacy_parquet = fmt == "legacy"
    parents = _parents(table)
    pods = _pod_rows(table, parents, platforms)
    taken = table.take(pa.array(pods["parent"], pa.int64()))
    count = len(pods["parent"])
    fargate = _fargate_tags(table) if "ecs" in platforms else None
    columns = []
    for field in schema:
        base = table[field.name] if field.name in table.column_names else None
        own = _unsplit(base, field, table.num_rows, legacy_parquet)
        if fargate is not None and field.name in _ECS_TAG_COLUMNS:
            own = _with_fargate_tags(own, field, fargate)
        columns.append(
            pa.concat_arrays([own, _pod_column(field, taken, pods, count, legacy_parquet)])
        )
    return pa.Table.from_arrays(columns, schema=schema)


_ECS_TAG_COLUMNS = {"resource_tags", *(f"resource_tags_{key}" for key in ECS_TAG_KEYS)}


def _fargate_tags(table: pa.Table) -> list[dict[str, str] | None]:
    """The ECS managed tags of the block's Fargate task rows (None for the other rows), which
    ECS puts on a task as on one on EC2: the cluster in the task's ARN, a service of
    `FARGATE_SERVICES` chosen from the ARN."""
    operations = table["line_item_operation"].to_pylist()
    tags: list[dict[str, str] | None] = []
    for operation, arn in zip(operations, table["line_item_resource_id"].to_pylist(), strict=True):
        if operation != "FargateTask" or ":task/" not in (arn or ""):
            tags.append(None)
            continue
        cluster = arn.split(":task/", 1)[1].split("/", 1)[0]
        service = FARGATE_SERVICES[_stable(arn) % len(FARGATE_SERVICES)]
        tags.append(dict(zip(ECS_TAG_KEYS, (cluster, service), strict=True)))
    return tags


def _with_fargate_tags(
    own: pa.Array, field: pa.Field, fargate: list[dict[str, str] | None]
) -> pa.Array:
    """A tag column of the block's own rows with the ECS tags of its Fargate tasks added."""
    values = own.to_pylist()
    if field.name == "resource_tags":
        merged = [
            [*(entries or []), *tags.items()] if tags else entries
            for entries, tags in zip(values, fargate, strict=True)
        ]
        return pa.array(merged, field.type)
    key = field.name.removeprefix("resource_tags_")
    tagged = [tags[key] if tags else value for value, tags in zip(values, fargate, strict=True)]
    return pa.array(tagged, field.type)


def _unsplit(
    base: pa.ChunkedArray | None, field: pa.Field, rows: int, legacy_parquet: bool
) -> pa.Array:
    """A column of the block's own rows: as generated, or empty for the columns split adds."""
    if base is not None:
        return base.combine_chunks().cast(field.type)
    if pa.types.is_string(field.type) and field.name.startswith("resource_tags_"):
        return pa.array([""] * rows, field.type)
    if legacy_parquet:
        return pa.array([""] * rows if pa.types.is_string(field.type) else [0.0] * rows, field.type)
    return pa.nulls(rows, field.type)


_ZERO_COSTS = (
    "line_item_unblended_cost",
    "line_item_blended_cost",
    "pricing_public_on_demand_cost",
)


def _pod_column(
    field: pa.Field,
    taken: pa.Table,
    pods: dict[str, list],
    count: int,
    legacy_parquet: bool,
) -> pa.Array:
    """A column of the pod and task rows: the parent's values, with the pod's id, resource,
    usage type, operation, product (a task's), usage, tags and split columns, and no cost of
    their own."""
    name = field.name
    if name in SPLIT_LINE_ITEM_COLUMNS:
        values = pods[name]
        if legacy_parquet and not pa.types.is_string(field.type):
            values = [0.0 if v is None else v for v in values]
        return pa.array(values, field.type)
    if name.removeprefix("resource_tags_") in (*TAG_KEYS, *ECS_TAG_KEYS):
        key = name.removeprefix("resource_tags_")
        return pa.array([tags.get(key, "") for tags in pods["tags"]], field.type)
    if name == "resource_tags":
        return pa.array([list(tags.items()) for tags in pods["tags"]], field.type)
    if name == "discount":
        return pa.array([[]] * count, field.type)
    if name == "product":
        return pa.array(_product_maps(taken[name].to_pylist(), pods["product"]), field.type)
    if name in ECS_PRODUCT:
        own = taken[name].to_pylist()
        values = [product.get(name, v) for product, v in zip(pods["product"], own, strict=True)]
        return pa.array(values, field.type)
    overrides = {
        "identity_line_item_id": pods["id"],
        "line_item_resource_id": pods["pod"],
        "line_item_usage_type": pods["usage_type"],
        "line_item_operation": pods["operation"],
        "line_item_usage_amount": pods["split_line_item_split_usage"],
        **{cost: [0.0] * count for cost in _ZERO_COSTS},
    }
    if name in overrides:
        return pa.array(overrides[name], field.type)
    if pa.types.is_floating(field.type):  # a pod row's other measures do not apply
        return pa.array([0.0] * count if legacy_parquet else [None] * count, field.type)
    return taken[name].combine_chunks().cast(field.type)


def _product_maps(maps: list, products: list[dict[str, str]]) -> list[list[tuple[str, str]]]:
    """CUR 2.0 `product` maps of the rows: the instance's, with the keys a task's product names
    (`product_product_name` is key `product_name`) set to the task's values."""
    rows = []
    for entries, product in zip(maps, products, strict=True):
        named = {column.removeprefix("product_"): value for column, value in product.items()}
        rows.append([(key, named.get(key, value)) for key, value in entries or []])
    return rows
