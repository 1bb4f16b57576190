"""The lake's and the catalog's layout: every path, version and name, in one place.

The writer of a month (`ingest_month`), its readers (the catalog tables, provisioning, the
freshness check) and the stores agree on these because they all ask this module, never by
building the same string twice (docs/ARCHITECTURE.md, "Data layout and naming"):

| what | pattern |
| --- | --- |
| raw month | `<lake_root>custos/cur/org=<org>/year=<YYYY>/month=<M>/` |
| curated month | `<lake_root>custos/curated/<table>/[org=<org>/]year=<YYYY>/month=<M>/` |
| a version (S3, Athena) | `<month>v=<UTC time>-<8 hex>/`, complete once `_SUCCESS` is in it |
| local store's own folders | `custos/_staging/...`, `custos/_replaced/...`, `custos/_locks/...` |
| delivery file lists (Athena) | `<lake_root>custos/_staging/cur/org=<org>/.../month=<M>/<tag>/` |
| database, workgroup, crawler | `custos_<org>_db`, `wg_custos_<org>`, `custos_<org>_crawler` |
| raw table | `tb_cur_raw` |
| on Glue, a table whose readers supply columns: its files | `<table>_files` (`tb_cur_raw_files`) |
| tables while Athena ingests a month | `tb_cur_ingest_<YYYYMM>_<tag>_delivery_<i>`, `..._staged` |
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from pathlib import Path

LAKE_FOLDER = "custos"
RAW_TABLE = "tb_cur_raw"
VERSION_PREFIX = "v="
SUCCESS_MARKER = "_SUCCESS"
# The local store's own folders beside the lake, hidden from readers by their leading `_`.
STAGING = "_staging"
REPLACED = "_replaced"
LOCKS = "_locks"


# The platform's own catalog names are those of this reserved "org": no tenant may take them.
CENTRAL = "central"


def database_name(org_id: str) -> str:
    """A tenant's catalog database unless its config names one."""
    return f"{LAKE_FOLDER}_{org_id}_db"


def workgroup_name(org_id: str) -> str:
    """A tenant's Athena workgroup unless its config names one."""
    return f"wg_{LAKE_FOLDER}_{org_id}"


def crawler_name(org_id: str) -> str:
    """A tenant's Glue crawler (for tenants with `glue_crawler`)."""
    return f"{LAKE_FOLDER}_{org_id}_crawler"


def join(root: str, *parts: str) -> str:
    """`root` and `parts` joined with single slashes, as a prefix (ending in `/`)."""
    return "/".join([root.rstrip("/"), *[p.strip("/") for p in parts if p.strip("/")]]) + "/"


def raw_table_location(lake_root: str, org_id: str) -> str:
    """Where `tb_cur_raw` of a tenant lives: `<lake_root>custos/cur/org=<org>/`."""
    return join(lake_root, LAKE_FOLDER, "cur", f"org={org_id}")


def partition_values(month: dt.date, org_id: str | None = None) -> dict[str, str]:
    """Partition key values in key order: (org,) year, month."""
    values = {"org": org_id} if org_id else {}
    return {**values, "year": str(month.year), "month": str(month.month)}


def month_of(values: Mapping[str, str]) -> dt.date:
    """The month of a partition's key values (the inverse of `partition_values`)."""
    return dt.date(int(values["year"]), int(values["month"]), 1)


def month_of_prefix(prefix: str) -> dt.date | None:
    """The month of a `.../year=YYYY/month=M/` prefix (the inverse of `partition_location`);
    None for any other prefix."""
    values = dict(p.split("=", 1) for p in prefix.rstrip("/").split("/")[-2:] if "=" in p)
    try:
        return month_of(values)
    except (KeyError, ValueError):
        return None


# The levels of prefixes a month partition adds below its table's location: year=, month=.
MONTH_LEVELS = 2


def partition_location(table_location: str, month: dt.date) -> str:
    """`<table location>year=YYYY/month=M/` (a tenant table's location already holds `org=`)."""
    return join(table_location, f"year={month.year}", f"month={month.month}")


def raw_month(lake_root: str, org_id: str, month: dt.date) -> str:
    """The raw month of a tenant: `<lake_root>custos/cur/org=<org>/year=<YYYY>/month=<M>/`."""
    return partition_location(raw_table_location(lake_root, org_id), month)


def curated_location(lake_root: str, table: str, org_id: str | None = None) -> str:
    """A curated table's location: a tenant's under `org=<org_id>/`, or a central one."""
    return join(lake_root, LAKE_FOLDER, "curated", table, f"org={org_id}" if org_id else "")


def new_version(prefix: str, now: dt.datetime | None = None) -> str:
    """A fresh version prefix under `prefix`; versions sort by the time they were made."""
    stamp = f"{now or dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"
    return join(prefix, f"{VERSION_PREFIX}{stamp}")


INGEST_TABLES = "tb_cur_ingest_"


def ingest_tables(month: dt.date) -> str:
    """The common start of the names of the catalog tables an Athena ingest of `month` makes:
    a run of the month drops those a killed run left."""
    return f"{INGEST_TABLES}{month:%Y%m}_"


def ingest_table_month(name: str) -> dt.date | None:
    """The month of a catalog table an Athena ingest made (`ingest_tables`); None for any other
    table."""
    found = re.fullmatch(rf"{INGEST_TABLES}(\d{{4}})(\d{{2}})_\w+", name)
    if found is None or not 1 <= int(found[2]) <= 12:
        return None
    return dt.date(int(found[1]), int(found[2]), 1)


def delivery_table(month: dt.date, tag: str, index: int) -> str:
    """The catalog table over the files of one schema of a delivery, while Athena ingests it."""
    return f"{ingest_tables(month)}{tag}_delivery_{index}"


def files_table(name: str) -> str:
    """On Glue, the table holding the partitions of table `name` once some partition's files
    lack columns its readers supply; `name` is then a view over it (lib/catalog/glue.py)."""
    return f"{name}_files"


def staged_table(month: dt.date, tag: str) -> str:
    """The catalog table over a raw month's new version while Athena validates it."""
    return f"{ingest_tables(month)}{tag}_staged"


def delivery_listings(lake_root: str, org_id: str, month: dt.date) -> str:
    """Where the Athena ingest lists the files of a tenant's deliveries of `month` for the
    tables it reads them through: beside the raw month under `custos/_staging/`, where readers
    never look (the object store's counterpart of `beside_lake`). One run's lists are under
    `<tag>/`."""
    lake = join(lake_root, LAKE_FOLDER)
    return join(lake, STAGING, raw_month(lake_root, org_id, month).removeprefix(lake))


def beside_lake(final: Path, kind: str) -> Path:
    """`.../custos/cur/org=a/year=2026/month=1` -> `.../custos/<kind>/cur/org=a/...`: the local
    store's staging, replaced and lock folders, beside the lake where its readers never look."""
    anchor = next((p for p in final.parents if p.name == LAKE_FOLDER), final.parent)
    return anchor / kind / final.relative_to(anchor)
