"""Find one billing month's CUR delivery under a tenant's source path.

Legacy CUR (Athena integration, Parquet) keeps a month under `.../year=YYYY/month=M/` and its
manifest at `<report>/<yyyymmdd-yyyymmdd>/<report>-Manifest.json`; a legacy CSV report (gzip or
ZIP) keeps its files in that same billing period folder (in an `<assemblyId>/` folder per report
version); CUR 2.0 (Data Exports, Parquet or gzip CSV) keeps it under
`.../data/BILLING_PERIOD=YYYY-MM/` with the manifest under `.../metadata/BILLING_PERIOD=YYYY-MM/`,
and so does Data Exports' FOCUS export (Parquet or gzip CSV): only its manifest's columns tell
it from a CUR 2.0 export.
The manifest is written after the data, so when there is
one, it decides which files make up the delivery; a real Parquet export copied without its
manifest (like the 2018 sample) is read from the month's folder alone. A CSV report cannot be:
its column types are in the manifest.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from finops_platform.lib.cur.manifest import (
    CSV_SUFFIXES,
    CUR2_MANIFEST_RE,
    GZIP,
    LEGACY_MANIFEST_RE,
    ZIP,
    Manifest,
    data_keys_under_root,
    parse_manifest,
)
from finops_platform.lib.store import ObjectStore, StoredObject
from finops_platform.settings import CUR_FORMATS, CurFormat, TenantConfig


class DeliveryError(ValueError):
    """A delivery that cannot be ingested; the message names the tenant, month and file."""


@dataclass(frozen=True)
class Delivery:
    org_id: str
    month: dt.date
    format: CurFormat
    data_files: tuple[StoredObject, ...]
    manifest: StoredObject | None
    assembly_id: str | None
    # CSV header -> the type its manifest gives it (CSV deliveries only).
    column_types: tuple[tuple[str, str], ...] = ()

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.data_files)

    @property
    def zipped(self) -> bool:
        """A legacy CSV report compressed as ZIP: its parts must be unpacked before any reader
        but the worker's (Athena reads gzip CSV and Parquet where they lie, not ZIP)."""
        return any(f.uri.lower().endswith(CSV_SUFFIXES[ZIP]) for f in self.data_files)


# Data files of a billing month, relative to the tenant's source path.
# A folder that is not a calendar month (`month=13`) is not a delivery and is left alone.
DATA_FILE_PATTERNS: dict[CurFormat, re.Pattern[str]] = {
    "legacy": re.compile(
        r"(^|/)year=(?P<year>\d{4})/month=(?P<month>0?[1-9]|1[0-2])/[^/]+\.parquet$"
    ),
    # Any compression is found here, so that one we do not read is named.
    "legacy-csv": re.compile(
        r"(^|/)(?P<year>\d{4})(?P<month>0[1-9]|1[0-2])01-\d{8}/([^/]+/)?[^/]+\.csv(\.\w+)?$",
        re.IGNORECASE,
    ),
    "cur2": re.compile(
        r"(^|/)data/BILLING_PERIOD=(?P<year>\d{4})-(?P<month>0[1-9]|1[0-2])/(.+/)?[^/]+\.parquet$"
    ),
    "cur2-csv": re.compile(
        r"(^|/)data/BILLING_PERIOD=(?P<year>\d{4})-(?P<month>0[1-9]|1[0-2])/(.+/)?[^/]+\.csv(\.\w+)?$",
        re.IGNORECASE,
    ),
}
# Formats delivered in another's layout (the FOCUS export in CUR 2.0's): the same files match,
# and the manifest (or the tenant's `cur_format`) says which of the two they are.
LAYOUT_TWINS: dict[CurFormat, CurFormat] = {"focus": "cur2", "focus-csv": "cur2-csv"}
for _twin, _layout in LAYOUT_TWINS.items():
    DATA_FILE_PATTERNS[_twin] = DATA_FILE_PATTERNS[_layout]
# Data Exports formats: manifest `<export>/metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json`.
DATA_EXPORTS_FORMATS: tuple[CurFormat, ...] = ("cur2", "cur2-csv", "focus", "focus-csv")
# The CSV formats, whose column types are in their manifest.
CSV_FORMATS: tuple[CurFormat, ...] = ("legacy-csv", "cur2-csv", "focus-csv")


def _relative(uri: str, root: str) -> str:
    return uri[len(root.rstrip("/")) + 1 :]


def _data_month(fmt: CurFormat, obj: StoredObject, root: str) -> dt.date | None:
    match = DATA_FILE_PATTERNS[fmt].search(_relative(obj.uri, root))
    return _manifest_month(match) if match else None


def delivered_months(store: ObjectStore, tenant: TenantConfig) -> list[dt.date]:
    """Every billing month with CUR data files under the tenant's source path."""
    formats = CUR_FORMATS if tenant.cur_format == "auto" else (tenant.cur_format,)
    months = {
        _data_month(fmt, obj, tenant.source_path)
        for obj in store.list_objects(tenant.source_path)
        for fmt in formats
    }
    return sorted(m for m in months if m is not None)


def find_delivery(store: ObjectStore, tenant: TenantConfig, month: dt.date) -> Delivery:
    """The files of `tenant`'s CUR delivery for `month`; raises DeliveryError if there is none."""
    where = f"tenant {tenant.org_id!r}, month {month:%Y-%m}"
    objects = store.list_objects(tenant.source_path)
    data_by_format: dict[CurFormat, list[StoredObject]] = {
        fmt: [o for o in objects if _data_month(fmt, o, tenant.source_path) == month]
        for fmt in DATA_FILE_PATTERNS
    }
    fmt = _choose_format(tenant, data_by_format, where)
    manifest_object, manifest = _find_manifest(store, tenant, objects, fmt, month, where)
    if manifest is not None and LAYOUT_TWINS.get(manifest.data_format) == fmt:
        fmt = manifest.data_format  # `auto`: a FOCUS export in CUR 2.0's layout
    data_files = data_by_format[fmt]
    if manifest is not None and manifest_object is not None:
        if manifest.data_format != fmt:
            raise DeliveryError(
                f"{where}: manifest {manifest_object.uri} describes a {manifest.data_format} "
                f"delivery (contentType {manifest.content_type!r}), the month's files are {fmt}"
            )
        data_files = _files_listed_in(
            manifest, data_files, manifest_object, tenant.source_path, where
        )
        if fmt == "legacy-csv":
            _readable_csv(manifest.compression, data_files, where)
        elif fmt in ("cur2-csv", "focus-csv"):
            _gzip_export(data_files, where, "FOCUS" if fmt == "focus-csv" else "CUR 2.0")
    elif fmt in CSV_FORMATS:
        raise DeliveryError(
            f"{where}: CSV report files ({data_files[0].uri}, ...) without their manifest "
            f"({MANIFEST_LAYOUTS[fmt]}): a CSV report's column types are in it"
        )
    else:
        _one_report(fmt, data_files, tenant.source_path, where)
    return Delivery(
        org_id=tenant.org_id,
        month=month,
        format=fmt,
        data_files=tuple(data_files),
        manifest=manifest_object,
        assembly_id=manifest.assembly_id if manifest else None,
        column_types=manifest.columns if manifest else (),
    )


def _readable_csv(compression: str, data_files: list[StoredObject], where: str) -> None:
    """The CSV compressions AWS offers (GZIP, ZIP) are read, each file with its own suffix;
    any other compression, or a file whose suffix is not its manifest's, fails by file name."""
    suffix = CSV_SUFFIXES.get(compression.upper())
    for data_file in data_files:
        if suffix is None or not data_file.uri.lower().endswith(suffix):
            raise DeliveryError(
                f"{where}: {data_file.uri}: CSV compressed as {compression or 'none'!r} "
                f"is not a format read here; deliver the report as CSV compressed with "
                f"{' or '.join(CSV_SUFFIXES)}, or as Parquet"
            )


def _gzip_export(data_files: list[StoredObject], where: str, export: str) -> None:
    """Data Exports write CSV as gzip only (their manifest does not say so): another
    compression fails by file name."""
    for data_file in data_files:
        if not data_file.uri.lower().endswith(CSV_SUFFIXES[GZIP]):
            raise DeliveryError(
                f"{where}: {data_file.uri}: a {export} CSV export is gzip CSV "
                f"({CSV_SUFFIXES[GZIP]}); this file's compression is not read here"
            )


def _choose_format(
    tenant: TenantConfig, data_by_format: dict[CurFormat, list[StoredObject]], where: str
) -> CurFormat:
    found = [fmt for fmt, files in data_by_format.items() if files]
    if tenant.cur_format != "auto":
        if tenant.cur_format not in found:
            raise DeliveryError(
                f"{where}: no {tenant.cur_format} CUR files for this month under "
                f"{tenant.source_path} (looked for {EXPECTED_LAYOUTS[tenant.cur_format]})"
            )
        return tenant.cur_format
    found = [fmt for fmt in found if fmt not in LAYOUT_TWINS]  # the manifest tells twins apart
    if len(found) == 1:
        return found[0]
    if not found:
        raise DeliveryError(
            f"{where}: no CUR delivery under {tenant.source_path} (looked for "
            f"{', '.join(EXPECTED_LAYOUTS.values())})"
        )
    raise DeliveryError(
        f"{where}: files of several CUR formats ({', '.join(found)}) for this month under "
        f"{tenant.source_path}; set cur_format in the tenant's config to say which one to load"
    )


EXPECTED_LAYOUTS: dict[CurFormat, str] = {
    "legacy": ".../year=YYYY/month=M/*.parquet",
    "legacy-csv": ".../<report>/yyyymmdd-yyyymmdd/[<assemblyId>/]*.csv.gz|*.csv.zip",
    "cur2": ".../data/BILLING_PERIOD=YYYY-MM/*.parquet",
    "cur2-csv": ".../data/BILLING_PERIOD=YYYY-MM/*.csv.gz",
    "focus": ".../data/BILLING_PERIOD=YYYY-MM/*.parquet with a FOCUS manifest",
    "focus-csv": ".../data/BILLING_PERIOD=YYYY-MM/*.csv.gz with a FOCUS manifest",
}
MANIFEST_LAYOUTS: dict[CurFormat, str] = {
    "legacy-csv": "<report>/<yyyymmdd-yyyymmdd>/<report>-Manifest.json",
    "cur2-csv": "<export>/metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json",
    "focus-csv": "<export>/metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json",
}


def _find_manifest(
    store: ObjectStore,
    tenant: TenantConfig,
    objects: list[StoredObject],
    fmt: CurFormat,
    month: dt.date,
    where: str,
) -> tuple[StoredObject | None, Manifest | None]:
    pattern = CUR2_MANIFEST_RE if fmt in DATA_EXPORTS_FORMATS else LEGACY_MANIFEST_RE
    candidates = []
    for obj in objects:
        match = pattern.search(_relative(obj.uri, tenant.source_path))
        if match and _manifest_month(match) == month:
            candidates.append(obj)
    if not candidates:
        return None, None
    if len(candidates) > 1:
        names = ", ".join(c.uri for c in candidates)
        raise DeliveryError(
            f"{where}: several CUR manifests for this month ({names}); a tenant's source path "
            "must hold one report"
        )
    manifest_object = candidates[0]
    try:
        manifest = parse_manifest(store.read_bytes(manifest_object.uri), source=manifest_object.uri)
    except ValueError as exc:
        raise DeliveryError(f"{where}: {exc}") from exc
    return manifest_object, manifest


def _manifest_month(match: re.Match[str]) -> dt.date:
    return dt.date(int(match.group("year")), int(match.group("month")), 1)


def _files_listed_in(
    manifest: Manifest,
    data_files: list[StoredObject],
    manifest_object: StoredObject,
    root: str,
    where: str,
) -> list[StoredObject]:
    """The data files the manifest lists, matched by their whole key under the source path (a
    stray copy with the same name in another folder is not the delivery's); a listed file that
    is absent is a partial delivery."""
    by_key = {_relative(f.uri, root): f for f in data_files}
    try:
        listed = data_keys_under_root(manifest, _relative(manifest_object.uri, root))
    except ValueError as exc:
        raise DeliveryError(f"{where}: {exc}") from exc
    missing = [key for key in listed if key not in by_key]
    if missing:
        raise DeliveryError(
            f"{where}: partial delivery: manifest {manifest_object.uri} lists "
            f"{len(missing)} file(s) that are not there: {', '.join(missing[:5])}"
        )
    return [by_key[key] for key in listed]


def _one_report(fmt: CurFormat, data_files: list[StoredObject], root: str, where: str) -> None:
    """Without a manifest every data file of the month is loaded, so they must all belong to
    one report: files of the month under two report folders (a backup copy, a second export)
    would be loaded twice."""
    folders = sorted(
        {
            _relative(f.uri, root)[: match.start()]
            for f in data_files
            if (match := DATA_FILE_PATTERNS[fmt].search(_relative(f.uri, root)))
        }
    )
    if len(folders) > 1:
        named = ", ".join(f"{root.rstrip('/')}/{folder}" for folder in folders)
        raise DeliveryError(
            f"{where}: data files for this month under several report folders ({named}) and no "
            "manifest to say which is the delivery; a tenant's source path must hold one report"
        )
