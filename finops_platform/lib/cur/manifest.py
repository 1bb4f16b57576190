"""CUR delivery manifests: the legacy CUR manifest and the CUR 2.0 (Data Exports) manifest.

AWS writes a manifest after the data files of a delivery, so a manifest is the commit marker the
arrival sensor watches. Both formats are modelled as AWS writes them (pydantic, camelCase aliases,
unknown fields kept) and both parse into one small common view, `Manifest`.

Layouts, relative to a tenant's source root (the S3 prefix the report or export is delivered to):

- legacy CUR, Athena integration (Parquet, overwrite):
  data ``<report>/<report>/year=YYYY/month=M/<report>-00001.snappy.parquet``,
  manifest ``<report>/<yyyymmdd-yyyymmdd>/<report>-Manifest.json`` (the range ends on the first
  day of the next month, e.g. ``20181001-20181101``).
- legacy CUR, gzip or ZIP CSV (a new report version each update, or overwrite without the
  ``<assemblyId>/`` folder):
  data ``<report>/<yyyymmdd-yyyymmdd>/<assemblyId>/<report>-1.csv.gz`` (``.csv.zip`` when the
  manifest's compression is ``ZIP``), manifest as above; the
  manifest's ``columns`` give each CSV column's type, and a copy of the manifest sits in the
  assembly folder.
- CUR 2.0 (Data Exports, Parquet, overwrite):
  data ``<export>/data/BILLING_PERIOD=YYYY-MM/<export>-00001.snappy.parquet``,
  manifest ``<export>/metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json``.
- CUR 2.0 as gzip CSV: the same folders, data ``<export>-00001.csv.gz`` with the CUR 2.0
  column names as header and the map columns as JSON text; the manifest's ``columns`` type them.
- FOCUS 1.0 with AWS columns (Data Exports' FOCUS export, Parquet or gzip CSV): the CUR 2.0
  folders and manifest; the manifest's ``columns`` (``BilledCost``, ``ChargePeriodStart``, ...)
  tell it from a CUR 2.0 export of the same layout.

Legacy ``reportKeys`` are object keys inside the bucket; CUR 2.0 ``dataFiles`` are full
``s3://bucket/...`` URIs. `data_keys_under_root` maps both onto keys relative to the source root.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import pyarrow as pa
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
)

from finops_platform.lib.cur.names import csv_column
from finops_platform.months import next_month
from finops_platform.settings import CurFormat

ManifestFormat = Literal["legacy", "cur2"]

LEGACY_MANIFEST_RE = re.compile(
    r"^(?P<name>[^/]+)/(?P<year>\d{4})(?P<month>0[1-9]|1[0-2])01-\d{8}/(?P=name)-Manifest\.json$"
)
CUR2_MANIFEST_RE = re.compile(
    r"^(?P<name>[^/]+)/metadata/BILLING_PERIOD=(?P<year>\d{4})-(?P<month>0[1-9]|1[0-2])/"
    r"(?P=name)-Manifest\.json$"
)
# The billing month as it appears in a data file's key, in any layout.
_KEY_MONTH_RE = re.compile(
    r"/year=(?P<ly>\d{4})/month=(?P<lm>0?[1-9]|1[0-2])/"
    r"|/BILLING_PERIOD=(?P<cy>\d{4})-(?P<cm>0[1-9]|1[0-2])/"
    r"|/(?P<ry>\d{4})(?P<rm>0[1-9]|1[0-2])01-\d{8}/"
)
# A legacy report key of a CSV delivery, however compressed.
CSV_KEY_RE = re.compile(r"\.csv(\.[a-z0-9]+)?$", re.IGNORECASE)
CSV_CONTENT_TYPE = "text/csv"
GZIP = "GZIP"
ZIP = "ZIP"
# The compressions AWS offers for a CSV report (the manifest's `compression`), and the suffix
# of the report's files in each: `<report>-<n>.csv.<gz|zip>`.
CSV_SUFFIXES = {GZIP: ".csv.gz", ZIP: ".csv.zip"}


@dataclass(frozen=True)
class Manifest:
    """What the platform needs from either manifest format. `columns` maps a CSV header
    (legacy `lineItem/UnblendedCost`, CUR 2.0 `line_item_unblended_cost`) to the type the
    manifest gives it (`OptionalBigDecimal`, `double`): a CSV file's types come from there,
    not from its text."""

    format: ManifestFormat
    assembly_id: str
    billing_period_start: dt.date
    data_keys: tuple[str, ...]
    content_type: str = ""
    compression: str = ""
    columns: tuple[tuple[str, str], ...] = ()

    @property
    def data_format(self) -> CurFormat:
        """How the data files are written: a legacy manifest of `text/csv` or `.csv...` keys
        is a CSV report; the rest of legacy is the Athena integration's Parquet."""
        csv_keys = any(CSV_KEY_RE.search(key) for key in self.data_keys)
        if self.format == "cur2" and self.is_focus:
            return "focus-csv" if csv_keys else "focus"
        if self.format == "cur2":
            return "cur2-csv" if csv_keys else "cur2"
        if self.content_type.lower() == CSV_CONTENT_TYPE or csv_keys:
            return "legacy-csv"
        return "legacy"

    @property
    def is_focus(self) -> bool:
        """A Data Exports manifest of a FOCUS export: its columns are FOCUS's, not CUR 2.0's
        (both exports share one layout, so only the columns tell them apart)."""
        names = {name for name, _ in self.columns}
        return names >= FOCUS_MARKER_COLUMNS


# The columns every FOCUS export has and no CUR 2.0 export does.
FOCUS_MARKER_COLUMNS = frozenset({"BilledCost", "EffectiveCost", "ChargePeriodStart"})


# --- paths ---------------------------------------------------------------------------------


def legacy_manifest_key(name: str, month: dt.date) -> str:
    """``<report>/<yyyymmdd-yyyymmdd>/<report>-Manifest.json`` for the billing month."""
    return f"{name}/{legacy_range(month)}/{name}-Manifest.json"


def legacy_data_dir(name: str, month: dt.date) -> str:
    """Athena-integration data folder; AWS writes the month without zero padding."""
    return f"{name}/{name}/year={month.year}/month={month.month}"


def legacy_range(month: dt.date) -> str:
    """``yyyymmdd-yyyymmdd``: the billing period folder of a legacy report."""
    return f"{month:%Y%m%d}-{next_month(month):%Y%m%d}"


def legacy_csv_data_dir(name: str, month: dt.date, assembly_id: str | None = None) -> str:
    """The CSV report's folder of the month; a new report version has its own assembly folder
    (no such folder when the report overwrites its previous version)."""
    folder = f"{name}/{legacy_range(month)}"
    return f"{folder}/{assembly_id}" if assembly_id else folder


def csv_file_name(name: str, part: int, compression: str = GZIP) -> str:
    """AWS numbers the CSV parts of a report version from 1, without padding."""
    return f"{name}-{part}{CSV_SUFFIXES[compression]}"


def cur2_manifest_key(name: str, month: dt.date) -> str:
    """``<export>/metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json``."""
    return f"{name}/metadata/BILLING_PERIOD={month:%Y-%m}/{name}-Manifest.json"


def cur2_data_dir(name: str, month: dt.date) -> str:
    """``<export>/data/BILLING_PERIOD=YYYY-MM``."""
    return f"{name}/data/BILLING_PERIOD={month:%Y-%m}"


def data_file_name(name: str, part: int) -> str:
    """AWS numbers the Parquet parts of a delivery from 1, zero-padded to five digits."""
    return f"{name}-{part:05d}.snappy.parquet"


def cur2_csv_file_name(name: str, part: int) -> str:
    """CUR 2.0 gzip CSV parts, numbered as its Parquet parts."""
    return f"{name}-{part:05d}{CSV_SUFFIXES[GZIP]}"


def match_manifest_key(key: str) -> tuple[ManifestFormat, str, dt.date] | None:
    """(format, report/export name, billing month) of a manifest key, or None if it is not one."""
    for fmt, pattern in (("legacy", LEGACY_MANIFEST_RE), ("cur2", CUR2_MANIFEST_RE)):
        found = pattern.match(key)
        if found:
            month = dt.date(int(found["year"]), int(found["month"]), 1)
            return fmt, found["name"], month
    return None


_DATA_DIRS = {
    "legacy": legacy_data_dir,
    "legacy-csv": legacy_csv_data_dir,
    "cur2": cur2_data_dir,
    "cur2-csv": cur2_data_dir,
    "focus": cur2_data_dir,
    "focus-csv": cur2_data_dir,
}


def data_keys_under_root(manifest: Manifest, manifest_key: str) -> tuple[str, ...]:
    """The manifest's data keys relative to the source root the manifest key is relative to.

    Whatever bucket and prefix AWS wrote in front, a data key must lie in the data folder of the
    manifest's own report and month; a key elsewhere is refused rather than silently loaded.
    """
    name = manifest_key.split("/", 1)[0]
    month = manifest.billing_period_start
    data_dir = _DATA_DIRS[manifest.data_format](name, month)
    keys = []
    for key in manifest.data_keys:
        relative = key[key.rfind(f"/{data_dir}/") + 1 :]  # rfind -1 keeps the whole key
        if not relative.startswith(f"{data_dir}/"):
            raise ValueError(f"{manifest_key}: data key {key!r} is not under {data_dir}/")
        keys.append(relative)
    return tuple(keys)


# --- models --------------------------------------------------------------------------------


def _parse_compact_utc(value: Any) -> Any:
    """Legacy manifests write instants as ``20181001T000000.000Z``; pass other forms through."""
    if isinstance(value, str) and re.fullmatch(r"\d{8}T\d{6}\.\d{3}Z", value):
        parsed = dt.datetime.strptime(value, "%Y%m%dT%H%M%S.%fZ")
        return parsed.replace(tzinfo=dt.UTC)
    return value


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


CompactInstant = Annotated[
    dt.datetime,
    BeforeValidator(_parse_compact_utc),
    PlainSerializer(lambda v: f"{_utc(v):%Y%m%dT%H%M%S}.000Z", return_type=str),
]
IsoInstant = Annotated[
    dt.datetime,
    PlainSerializer(lambda v: f"{_utc(v):%Y-%m-%dT%H:%M:%S}.000Z", return_type=str),
]


class _AwsModel(BaseModel):
    """AWS JSON: camelCase on the wire, snake_case in Python, unknown fields kept."""

    model_config = ConfigDict(
        extra="allow", validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )


def _check_period_start(start: dt.datetime) -> dt.datetime:
    utc = _utc(start)
    if (utc.day, utc.hour, utc.minute, utc.second, utc.microsecond) != (1, 0, 0, 0, 0):
        raise ValueError("must be the first day of a month at 00:00 UTC")
    return utc


class LegacyBillingPeriod(_AwsModel):
    start: CompactInstant
    end: CompactInstant

    @field_validator("start")
    @classmethod
    def start_is_month(cls, start: dt.datetime) -> dt.datetime:
        return _check_period_start(start)


class LegacyColumn(_AwsModel):
    category: str
    name: str
    type: str | None = None


class AdditionalArtifactKey(_AwsModel):
    artifact_type: str = Field(alias="artifactType")
    name: str


class LegacyManifest(_AwsModel):
    """``<report>-Manifest.json`` of a legacy Cost and Usage Report."""

    assembly_id: str = Field(alias="assemblyId", min_length=1)
    account: str = ""
    columns: list[LegacyColumn] = Field(default_factory=list)
    charset: str = "UTF-8"
    compression: str = ""
    content_type: str = Field(default="", alias="contentType")
    report_id: str = Field(default="", alias="reportId")
    report_name: str = Field(alias="reportName", min_length=1)
    billing_period: LegacyBillingPeriod = Field(alias="billingPeriod")
    bucket: str = ""
    report_keys: list[str] = Field(alias="reportKeys")
    additional_artifact_keys: list[AdditionalArtifactKey] = Field(
        default_factory=list, alias="additionalArtifactKeys"
    )


class Cur2Column(_AwsModel):
    name: str
    type: str


class Cur2BillingPeriod(_AwsModel):
    start: IsoInstant
    end: IsoInstant

    @field_validator("start")
    @classmethod
    def start_is_month(cls, start: dt.datetime) -> dt.datetime:
        return _check_period_start(start)


class Cur2Manifest(_AwsModel):
    """``<export>-Manifest.json`` of an AWS Data Exports (CUR 2.0) export.

    executionId, exportArn, columns, dataFiles and additionalOutputFiles are the documented
    fields; billingPeriod is optional here, the month can also be read from the data file paths.
    """

    execution_id: str = Field(alias="executionId", min_length=1)
    export_arn: str = Field(alias="exportArn", min_length=1)
    billing_period: Cur2BillingPeriod | None = Field(default=None, alias="billingPeriod")
    columns: list[Cur2Column] = Field(default_factory=list)
    data_files: list[str] = Field(alias="dataFiles")
    additional_output_files: list[dict[str, Any]] = Field(
        default_factory=list, alias="additionalOutputFiles"
    )


# --- building (the generator's side) -------------------------------------------------------


def _legacy_column(field: pa.Field) -> LegacyColumn:
    """Athena column name back to the CUR category/name pair the manifest lists, with the type
    AWS would give the column's values."""
    category, name = csv_column(field.name)
    if field.name == "identity_time_interval":
        kind = "Interval"
    elif pa.types.is_timestamp(field.type):
        kind = "DateTime"
    elif pa.types.is_floating(field.type):
        kind = "OptionalBigDecimal"
    else:
        kind = "OptionalString"
    return LegacyColumn(category=category, name=name, type=kind)


def build_legacy_manifest(
    *,
    report_name: str,
    month: dt.date,
    assembly_id: str,
    report_keys: list[str],
    schema: pa.Schema,
    account: str,
    bucket: str,
    report_id: str,
    csv: bool = False,
    compression: str = GZIP,
) -> LegacyManifest:
    """A legacy manifest for a Parquet (Athena integration) or a CSV delivery (`compression`
    GZIP or ZIP)."""
    start = dt.datetime(month.year, month.month, 1, tzinfo=dt.UTC)
    end = dt.datetime.combine(next_month(month), dt.time(), tzinfo=dt.UTC)
    return LegacyManifest(
        assembly_id=assembly_id,
        account=account,
        columns=[_legacy_column(field) for field in schema],
        compression=compression if csv else "Parquet",
        content_type=CSV_CONTENT_TYPE if csv else "Parquet",
        report_id=report_id,
        report_name=report_name,
        billing_period=LegacyBillingPeriod(start=start, end=end),
        bucket=bucket,
        report_keys=report_keys,
    )


def _cur2_type(data_type: pa.DataType) -> str:
    if pa.types.is_map(data_type):
        return f"map<{_cur2_type(data_type.key_type)},{_cur2_type(data_type.item_type)}>"
    if pa.types.is_timestamp(data_type):
        return "timestamp"
    if pa.types.is_floating(data_type):
        return "double"
    return "string"


def build_cur2_manifest(
    *,
    export_name: str,
    month: dt.date,
    execution_id: str,
    data_files: list[str],
    schema: pa.Schema,
    account: str,
) -> Cur2Manifest:
    """A CUR 2.0 manifest; `data_files` are full ``s3://`` URIs as AWS writes them."""
    start = dt.datetime(month.year, month.month, 1, tzinfo=dt.UTC)
    end = dt.datetime.combine(next_month(month), dt.time(), tzinfo=dt.UTC)
    return Cur2Manifest(
        execution_id=execution_id,
        export_arn=f"arn:aws:bcm-data-exports:us-east-1:{account}:export/{export_name}",
        billing_period=Cur2BillingPeriod(start=start, end=end),
        columns=[Cur2Column(name=f.name, type=_cur2_type(f.type)) for f in schema],
        data_files=data_files,
    )


def serialize_manifest(manifest: LegacyManifest | Cur2Manifest) -> bytes:
    """Compact JSON with AWS's field names."""
    return manifest.model_dump_json(exclude_none=True).encode()


# --- parsing -------------------------------------------------------------------------------


def _detect_format(document: dict[str, Any], source: str) -> ManifestFormat:
    if "dataFiles" in document or "executionId" in document:
        return "cur2"
    if "reportKeys" in document or "assemblyId" in document:
        return "legacy"
    raise ValueError(
        f"{source}: not a CUR manifest: no reportKeys/assemblyId (legacy CUR) "
        "and no dataFiles/executionId (CUR 2.0)"
    )


def _describe(error: ValidationError) -> str:
    return "; ".join(
        f"field {'.'.join(str(part) for part in e['loc']) or '(root)'}: {e['msg']}"
        for e in error.errors()
    )


def parse_manifest_model(raw: bytes, *, source: str) -> LegacyManifest | Cur2Manifest:
    """Validate manifest bytes into the model of their format; errors name `source` and field."""
    try:
        document = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{source}: manifest is not valid JSON: {error}") from error
    if not isinstance(document, dict):
        raise ValueError(f"{source}: manifest is not a JSON object")
    fmt = _detect_format(document, source)
    model = LegacyManifest if fmt == "legacy" else Cur2Manifest
    try:
        return model.model_validate(document)
    except ValidationError as error:
        raise ValueError(f"{source}: invalid {fmt} CUR manifest: {_describe(error)}") from error


def _months_in_keys(keys: list[str]) -> dict[int, dt.date]:
    """Billing month of each key that carries one in its path, by position."""
    months = {}
    for index, key in enumerate(keys):
        found = _KEY_MONTH_RE.search(key)
        if found:
            year, month = next(
                found.group(y, m) for y, m in (("ly", "lm"), ("cy", "cm"), ("ry", "rm")) if found[y]
            )
            months[index] = dt.date(int(year), int(month), 1)
    return months


def _period_start(model: LegacyManifest | Cur2Manifest, keys: list[str], source: str) -> dt.date:
    """The billing month; data files whose path names another month are refused."""
    field = "reportKeys" if isinstance(model, LegacyManifest) else "dataFiles"
    in_keys = _months_in_keys(keys)
    if model.billing_period is not None:
        start = model.billing_period.start.date()
    elif in_keys:
        start = next(iter(in_keys.values()))
    else:
        raise ValueError(f"{source}: invalid cur2 CUR manifest: field billingPeriod: missing")
    for index, month in in_keys.items():
        if month != start:
            raise ValueError(
                f"{source}: field {field}.{index}: data file of {month:%Y-%m} "
                f"in a manifest for {start:%Y-%m}"
            )
    return start


def to_manifest(model: LegacyManifest | Cur2Manifest, *, source: str) -> Manifest:
    """The common view of a validated manifest model."""
    if isinstance(model, Cur2Manifest):
        start = _period_start(model, model.data_files, source)
        return Manifest(
            format="cur2",
            assembly_id=model.execution_id,
            billing_period_start=start,
            data_keys=tuple(model.data_files),
            columns=tuple((c.name, c.type) for c in model.columns),
        )
    start = _period_start(model, model.report_keys, source)
    return Manifest(
        format="legacy",
        assembly_id=model.assembly_id,
        billing_period_start=start,
        data_keys=tuple(model.report_keys),
        content_type=model.content_type,
        compression=model.compression,
        columns=tuple((f"{c.category}/{c.name}", c.type or "") for c in model.columns),
    )


def parse_manifest(raw: bytes, *, source: str) -> Manifest:
    """Parse a legacy or CUR 2.0 manifest, detecting which; ValueError names `source` and field."""
    return to_manifest(parse_manifest_model(raw, source=source), source=source)
