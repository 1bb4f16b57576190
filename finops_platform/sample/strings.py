"""The month's strings as Arrow lookup tables (rates, products, accounts, reservations, tags,
resource ids, descriptions), built once and taken by index for each chunk of rows.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import itertools
import uuid

import numpy as np
import pyarrow as pa

from finops_platform.lib.cur.schema import PRODUCT_COLUMNS
from finops_platform.sample.catalog import (
    _ACCOUNTS,
    _BUNDLED,
    _CREDIT,
    _DISCOUNTED,
    _EDP,
    _FEE,
    _GROUP_SIZES,
    _PAYERS,
    _PRIVATE,
    _PRODUCT_CODES,
    _REFUND,
    _REGIONS,
    _RESERVATIONS,
    _RI_RECURRING_HOURLY,
    _RI_UPFRONT_HOURLY,
    _RI_VOLUME,
    _RIFEE,
    _SAVINGS_PLANS,
    _SP_COVERED,
    _SP_NEGATION,
    _SP_RECURRING,
    _SP_UPFRONT,
    _TAX,
    _UNIT,
    _USAGE,
)
from finops_platform.sample.context import _NOT_PRODUCT, _TAG_KEYS, _Context
from finops_platform.sample.plan import _Groups, _Plan

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
    return {"rate_code": pa.array(codes, pa.string())}


def _rate_id(sku: str, term: str) -> str:
    """AWS's `pricing_rate_id`: one per price, so a SKU's reserved price has an id of its own
    (as in real CURs) beside its on-demand one."""
    if not sku:
        return ""
    key = f"{sku}:{term}" if term == "Reserved" else sku
    return str(int(hashlib.sha256(key.encode()).hexdigest()[:8], 16))


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
        "rate_id": [
            _rate_id(offerings[plan.offering[i]].get("sku", ""), t.get("term", ""))
            for i, t in enumerate(texts)
        ],
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
