"""Pass-through: a CUR 2.0 Parquet delivery already in the canonical row enters the lake as is.

Rewriting a month costs a full read and a full Parquet write; a CUR 2.0 export already has the
canonical columns (CUR 2.0 names, maps for tags, product attributes, cost categories and
discounts). So when every file of such a delivery is compatible (`incompatibility`: judged
from the Parquet footers alone), raw_cur publishes the files byte for byte and the readers
supply what the files lack: the lineage columns (from the catalog partition's parameters,
`SuppliedColumns`) and NULL for optional columns the export left out. Anything else (legacy
CUR, CSV, drifted types, flat tag columns) goes through the normalizing SELECT (normalize.py).
`choose_mode` is the one place that decides. "Byte for byte" is a copy-on-write clone or a
kernel copy by default, not a hard link: a delivery rewritten in place would rewrite a linked
month too, behind its checks' back (`place`).

Compatible means, for every file with rows:
- each canonical CUR 2.0 column present has its canonical type, as the catalog names types
  (`glue_type`: `string`, `double`, `timestamp`, `map<string,string>`...), and no timestamp
  carries a time zone (DuckDB would read it as TIMESTAMPTZ, not TIMESTAMP);
- the four map columns (product, resource_tags, cost_category, discount) are present: the
  normalization makes a missing one an empty map, which a reader cannot tell from NULL;
- every required column is present; a missing optional one (split cost allocation columns
  without the payer's opt-in, say) reads as NULL, exactly what the normalization writes;
- no flat column that the normalization would fold into a map (`resource_tags_*`,
  `cost_category_*`, `discount_*`, `product_*` beyond the CUR 2.0 product columns) and no
  lineage column (`x_*`): their rows would differ from the normalized ones;
- other extra columns are allowed: published with the file, never read (the read projects
  the canonical columns), as the normalization drops them;
- all files share one schema (a CUR 2.0 export's files do).
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import pyarrow as pa

from finops_platform.lib.catalog.base import SuppliedColumns
from finops_platform.lib.catalog.types import glue_type
from finops_platform.lib.cur.normalize import Lineage
from finops_platform.lib.cur.schema import (
    CUR2_COLUMNS,
    LEGACY_MAP_PREFIXES,
    LINEAGE_COLUMNS,
    MAP_COLUMNS,
    REQUIRED_COLUMNS,
)

IngestMode = Literal["pass-through", "normalized"]
PASS_THROUGH: IngestMode = "pass-through"
NORMALIZED: IngestMode = "normalized"

# Linux's ioctl that makes a file a copy-on-write clone of another (linux/fs.h).
FICLONE = 0x40049409
# The delivery formats whose files may pass through: CUR 2.0 Parquet only.
PASS_THROUGH_FORMATS = ("cur2",)


def incompatibility(schema: pa.Schema) -> str | None:
    """Why a file of this schema cannot pass through; None when it can."""
    present = {field.name: field.type for field in schema}
    for name, kind in present.items():
        if name in CUR2_COLUMNS:
            expected = CUR2_COLUMNS[name]
            if _catalog_type(kind) != glue_type(expected) or _zoned(kind):
                return f"column {name!r} has type {kind}, expected {expected}"
        elif name in LINEAGE_COLUMNS:
            return f"column {name!r} is a lineage column the platform adds"
        elif any(name.startswith(prefix) for prefix in LEGACY_MAP_PREFIXES.values()):
            return f"flat column {name!r} belongs in a map"
    missing = [name for name in (*REQUIRED_COLUMNS, *MAP_COLUMNS) if name not in present]
    if missing:
        return f"column {missing[0]!r} is missing"
    return None


def _catalog_type(kind: pa.DataType) -> str | None:
    try:
        return glue_type(kind)
    except TypeError:
        return None


def _zoned(kind: pa.DataType) -> bool:
    """A timestamp with a time zone, at any depth of the type."""
    if pa.types.is_timestamp(kind):
        return kind.tz is not None
    if pa.types.is_map(kind):
        return _zoned(kind.key_type) or _zoned(kind.item_type)
    return False


def choose_mode(
    fmt: str, schemas: Sequence[tuple[pa.Schema, Sequence[str]]], enabled: bool = True
) -> tuple[IngestMode, str]:
    """How raw_cur loads a delivery of format `fmt` whose files with rows have `schemas` (each
    schema, from the footers, with the URIs of its files), when the ingest has pass-through
    `enabled`: the mode and why, as the asset's metadata records it."""
    if not enabled:
        return NORMALIZED, "pass-through is turned off"
    if fmt not in PASS_THROUGH_FORMATS:
        return NORMALIZED, f"{fmt} deliveries are normalized"
    if not schemas:
        return NORMALIZED, "no file has rows"
    if len(schemas) > 1:
        return NORMALIZED, f"the files have {len(schemas)} different schemas"
    ((schema, uris),) = schemas
    reason = incompatibility(schema)
    if reason is not None:
        return NORMALIZED, f"{uris[0]}: {reason}"
    return PASS_THROUGH, "every file has the canonical CUR 2.0 columns and types"


def published_name(index: int) -> str:
    """The name of a delivery's `index`th file in the lake, as the normalization names its
    output files (part-0.parquet, ...)."""
    return f"part-{index}.parquet"


# A delivery file name a copy keeps (kept_names): what S3 and `"$path"` spell alike.
_KEPT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9!*'()=+_.-]*\.parquet")


def kept_names(uris: Sequence[str]) -> list[str] | None:
    """The names the copies of a delivery's files (`uris`) keep in an S3 lake: their own, so
    that Athena's reads tell each copy's delivery file from its name with one expression per
    month (lib/catalog/supplied_view.py). None when they cannot: files in several folders
    (two could share a name), or a name Athena skips (`_...`, `.`...), no Parquet file's, or
    with a character outside the plain ones S3 object names use (a space, `%`, non-ASCII),
    which `"$path"` might spell otherwise."""
    if len({uri.rsplit("/", 1)[0] for uri in uris}) != 1:
        return None
    names = [uri.rsplit("/", 1)[1] for uri in uris]
    if not all(_KEPT_NAME.fullmatch(name) for name in names):
        return None
    return names


def supplied_columns(
    schema: pa.Schema, lineage: Lineage, sources: dict[str, str]
) -> SuppliedColumns:
    """What readers of a passed-through month supply: the lineage (`sources`: published file
    name -> the delivery file's URI) and NULL for canonical columns the files lack."""
    present = set(schema.names)
    constants: dict[str, str | None] = {name: None for name in CUR2_COLUMNS if name not in present}
    constants |= {
        "x_source_format": lineage.format,
        "x_assembly_id": lineage.assembly_id,
        "x_ingestion_time": lineage.ingestion_time.isoformat(" "),
    }
    return SuppliedColumns(constants=constants, by_file={"x_source_file": sources})


def place(source: Path, target: Path, *, hard_link: bool = False) -> str:
    """Put `source`'s bytes at `target`, never rewritten: a copy-on-write clone where the file
    system has them (btrfs, XFS), else a copy the kernel makes (`sendfile`, no byte through
    Python). Returns how.

    `hard_link` links instead, where both lie on one file system (a copy elsewhere): free, but
    the lake then shares the delivery's bytes, so a delivery file rewritten in place (`rsync
    --inplace`, a tool that truncates and writes) would change a validated month behind the
    checks' back. Only for sources that are always replaced by new files, as S3 objects are."""
    if hard_link:
        try:
            os.link(source, target)
            return "hard link"
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                raise
    with open(source, "rb") as reader, open(target, "xb") as writer:
        try:
            fcntl.ioctl(writer.fileno(), FICLONE, reader.fileno())
            return "clone"
        except OSError:
            pass
    shutil.copyfile(source, target)
    return "copy"
