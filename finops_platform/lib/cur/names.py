"""Legacy CUR column names: the CSV header (`lineItem/UnblendedCost`) and the Athena/Parquet
column (`line_item_unblended_cost`), both ways, in one place.

A legacy report names a column `<category>/<name>` in its CSV header and in its manifest, and
AWS's Athena integration (the Parquet delivery) names the same column by rewriting that header
(AWS CUR user guide, "Running Amazon Athena queries"): an underscore before each upper case
letter, lower case, any other character than a letter or digit an underscore, repeated
underscores folded, none at either end. So `resourceTags/user:cost-center` is
`resource_tags_user_cost_center` and `reservation/ReservationARN` is
`reservation_reservation_a_r_n`. Reading a CSV report with this rule gives the very columns the
Parquet path normalizes, so both go through one normalization.
"""

from __future__ import annotations

import re

_UPPER = re.compile(r"([A-Z])")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def athena_column(header: str) -> str:
    """The Athena/Parquet column name AWS gives the CSV header `header`."""
    spaced = _UPPER.sub(r"_\1", header).lower()
    return _NOT_ALNUM.sub("_", spaced).strip("_")


# Athena column prefix -> the CSV category it comes from.
CATEGORIES = {
    "identity_": "identity",
    "bill_": "bill",
    "line_item_": "lineItem",
    "product_": "product",
    "pricing_": "pricing",
    "reservation_": "reservation",
    "savings_plan_": "savingsPlan",
    "resource_tags_": "resourceTags",
    "cost_category_": "costCategory",
    "discount_": "discount",
    "split_line_item_": "splitLineItem",
}


# AWS-generated tags whose CUR spelling the rule above cannot recover (it loses their camel case
# and dashes): those of split cost allocation data's EKS pods and ECS tasks.
AWS_TAG_NAMES = {
    "aws_eks_cluster_name": "aws:eks:cluster-name",
    "aws_eks_namespace": "aws:eks:namespace",
    "aws_eks_deployment": "aws:eks:deployment",
    "aws_eks_workload_name": "aws:eks:workload-name",
    "aws_eks_node": "aws:eks:node",
    "aws_ecs_cluster_name": "aws:ecs:clusterName",
    "aws_ecs_service_name": "aws:ecs:serviceName",
}


def csv_column(column: str) -> tuple[str, str]:
    """(category, name) of the CSV header an Athena column name comes from, spelled as AWS
    spells it where the name allows: `line_item_unblended_cost` -> (`lineItem`,
    `UnblendedCost`), `resource_tags_user_team` -> (`resourceTags`, `user:team`). The generator
    and the tests write CSV reports with it; `athena_column` maps each header back."""
    prefix = next((p for p in CATEGORIES if column.startswith(p)), None)
    if prefix is None:
        raise ValueError(f"column {column!r} is in no legacy CUR category")
    category, rest = CATEGORIES[prefix], column[len(prefix) :]
    words = rest.split("_")
    if category == "resourceTags":
        name = AWS_TAG_NAMES.get(rest) or f"{words[0]}:{'_'.join(words[1:])}"
    elif category == "costCategory":
        name = rest
    elif category == "product":
        name = words[0] + "".join(w.capitalize() for w in words[1:])
    else:
        name = "".join(w.upper() if len(w) == 1 else w.capitalize() for w in words)
    return category, name


def csv_header(column: str) -> str:
    """`<category>/<name>`: the CSV header of an Athena column name."""
    return "/".join(csv_column(column))
