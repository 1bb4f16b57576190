"""Split cost allocation data for generated months: EKS pods on the month's EC2 instances.

A payer that opts in to split cost allocation data gets, for each Kubernetes pod (or ECS task)
and hour, two usage rows, one for vCPU and one for memory, whose `split_line_item_*` columns
carry the pod's share of its parent instance's cost and its share of the instance's unused
(idle) cost; the rows themselves cost nothing (`line_item_unblended_cost` 0), so the bill is not
counted twice. The pod's cluster, namespace, workload and node are AWS tags (`aws:eks:...`,
map keys `aws_eks_cluster_name` ...).

Here every on-demand instance hour (`Usage`, `BoxUsage`) runs `PODS` pods of a workload chosen
from the instance's id. How AWS weighs vCPU against memory is not modelled: the instance hour's
cost is split 9:1 (`CPU_SHARE`) between its vCPU and memory rows, and each pod takes a fixed
ratio of each. Amounts are whole units of 1e-10 USD, and each instance hour's unused cost is
spread over its pods with the remainder on the last, so the pods' split plus unused cost adds up
to the instance hour's cost exactly, as the curated `cost_by_workload` check requires.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from finops_platform.lib.cur.schema import SPLIT_LINE_ITEM_COLUMNS
from finops_platform.sample.catalog import Format

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
_UNIT = 10**10


def split_schema(schema: pa.Schema, fmt: Format) -> pa.Schema:
    """The delivery's schema followed by the split columns (and, in legacy CUR, the pods' tag
    columns), which the payer's opt-in adds."""
    legacy = fmt.startswith("legacy")
    fields = [pa.field(n, t, nullable=not legacy) for n, t in SPLIT_LINE_ITEM_COLUMNS.items()]
    if legacy:
        fields += [pa.field(f"resource_tags_{k}", pa.string(), nullable=False) for k in TAG_KEYS]
    for field in fields:
        schema = schema.append(field)
    return schema


def _stable(value: str) -> int:
    return int.from_bytes(hashlib.sha256(value.encode()).digest()[:4], "big")


def _parents(table: pa.Table) -> np.ndarray:
    """Rows of on-demand instance hours: the EKS nodes' own cost."""
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


def _pod_rows(table: pa.Table, parents: np.ndarray) -> dict[str, list]:
    """Column -> values of the pod rows of the parent rows, in AWS's column names."""
    ids = table["identity_line_item_id"].to_pylist()
    resources = table["line_item_resource_id"].to_pylist()
    costs = table["line_item_unblended_cost"].to_pylist()
    rows: dict[str, list] = {"parent": [], "id": [], "pod": [], "usage_type": [], "tags": []}
    rows |= {name: [] for name in SPLIT_LINE_ITEM_COLUMNS}
    for parent in parents.tolist():
        node, cost = resources[parent], round((costs[parent] or 0.0) * _UNIT)
        pick = _stable(node)
        cluster = CLUSTERS[pick % len(CLUSTERS)]
        cpu = cost * CPU_SHARE[0] // CPU_SHARE[1]
        for resource, total, ratios, capacity in (
            ("vCPU", cpu, CPU_RATIOS, NODE_VCPUS),
            ("GB", cost - cpu, MEMORY_RATIOS, NODE_MEMORY_GB),
        ):
            split, unused = _shares(total, ratios)
            for pod, ratio in enumerate(ratios):
                namespace, deployment = WORKLOADS[(pick + pod) % len(WORKLOADS)]
                name = f"{deployment}-{pick % 997:03d}{pod}"
                rows["parent"].append(parent)
                rows["id"].append(f"{ids[parent]}-{name}-{resource}")
                rows["pod"].append(
                    f"arn:aws:eks:us-east-1:000000000000:pod/{cluster}/{namespace}/{name}"
                )
                rows["usage_type"].append(f"EKS-EC2-{resource}-Hours")
                rows["tags"].append(
                    dict(zip(TAG_KEYS, (cluster, namespace, deployment, node), strict=True))
                )
                usage = ratio * capacity
                values = {
                    "split_line_item_parent_resource_id": node,
                    "split_line_item_split_usage": usage,
                    "split_line_item_split_usage_ratio": ratio,
                    "split_line_item_reserved_usage": usage,
                    "split_line_item_actual_usage": usage * 0.8,
                    "split_line_item_split_cost": split[pod] / _UNIT,
                    "split_line_item_unused_cost": unused[pod] / _UNIT,
                    "split_line_item_net_split_cost": None,
                    "split_line_item_net_unused_cost": None,
                    "split_line_item_public_on_demand_split_cost": split[pod] / _UNIT,
                    "split_line_item_public_on_demand_unused_cost": unused[pod] / _UNIT,
                }
                for column, value in values.items():
                    rows[column].append(value)
    return rows


def with_split_rows(table: pa.Table, schema: pa.Schema, fmt: Format) -> pa.Table:
    """`table` (a block of the month, in `fmt`'s layout) in `schema` (`split_schema`), followed
    by the pod rows of its instance hours. Values that do not apply are NULL, or 0 and '' in
    legacy Parquet, which writes no NULL."""
    legacy_parquet = fmt == "legacy"
    parents = _parents(table)
    pods = _pod_rows(table, parents)
    taken = table.take(pa.array(pods["parent"], pa.int64()))
    count = len(pods["parent"])
    columns = []
    for field in schema:
        base = table[field.name] if field.name in table.column_names else None
        columns.append(
            pa.concat_arrays(
                [
                    _unsplit(base, field, table.num_rows, legacy_parquet),
                    _pod_column(field, taken, pods, count, legacy_parquet),
                ]
            )
        )
    return pa.Table.from_arrays(columns, schema=schema)


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
    """A column of the pod rows: the parent's values, with the pod's id, resource, usage type,
    usage, tags and split columns, and no cost of their own."""
    name = field.name
    if name in SPLIT_LINE_ITEM_COLUMNS:
        values = pods[name]
        if legacy_parquet and not pa.types.is_string(field.type):
            values = [0.0 if v is None else v for v in values]
        return pa.array(values, field.type)
    if name.startswith("resource_tags_") and name.removeprefix("resource_tags_") in TAG_KEYS:
        key = name.removeprefix("resource_tags_")
        return pa.array([tags[key] for tags in pods["tags"]], field.type)
    if name == "resource_tags":
        return pa.array([list(tags.items()) for tags in pods["tags"]], field.type)
    if name == "discount":
        return pa.array([[]] * count, field.type)
    overrides = {
        "identity_line_item_id": pods["id"],
        "line_item_resource_id": pods["pod"],
        "line_item_usage_type": pods["usage_type"],
        "line_item_operation": ["EKSPod-EC2"] * count,
        "line_item_usage_amount": pods["split_line_item_split_usage"],
        **{cost: [0.0] * count for cost in _ZERO_COSTS},
    }
    if name in overrides:
        return pa.array(overrides[name], field.type)
    if pa.types.is_floating(field.type):  # a pod row's other measures do not apply
        return pa.array([0.0] * count if legacy_parquet else [None] * count, field.type)
    return taken[name].combine_chunks().cast(field.type)
