"""Manifest models, the common view, path patterns and error messages."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pytest

from finops_platform.lib.cur import manifest as mf
from finops_platform.lib.cur.schema import CUR2_COLUMNS

NOVEMBER = dt.date(2026, 11, 1)
LEGACY_KEY = "acme/acme/year=2026/month=11/acme-00001.snappy.parquet"
CUR2_URI = "s3://bucket/exports/acme/data/BILLING_PERIOD=2026-11/acme-00001.snappy.parquet"

# Shaped like a manifest AWS writes for a legacy report (compact instants, keys in the bucket).
AWS_LEGACY = {
    "assemblyId": "0f1d8a4e-7b9e-4c0b-9d6a-2b6f3c1e5a77",
    "account": "123456789012",
    "columns": [
        {"category": "identity", "name": "LineItemId", "type": "String"},
        {"category": "lineItem", "name": "UnblendedCost", "type": "BigDecimal"},
    ],
    "charset": "UTF-8",
    "compression": "Parquet",
    "contentType": "Parquet",
    "reportId": "5d1b9a0b3c0e",
    "reportName": "acme",
    "billingPeriod": {"start": "20261101T000000.000Z", "end": "20261201T000000.000Z"},
    "bucket": "bucket",
    "reportKeys": [f"prefix/{LEGACY_KEY}"],
    "additionalArtifactKeys": [{"artifactType": "RedshiftCommands", "name": "x.sql"}],
}


LEGACY_SCHEMA = pa.schema(
    [("identity_line_item_id", pa.string()), ("resource_tags_user_team", pa.string())]
)


def _legacy_model(
    schema: pa.Schema = LEGACY_SCHEMA, key: str = LEGACY_KEY, csv: bool = False
) -> mf.LegacyManifest:
    return mf.build_legacy_manifest(
        report_name="acme",
        month=NOVEMBER,
        assembly_id="assembly-1",
        report_keys=[key],
        schema=schema,
        account="123456789012",
        bucket="bucket",
        report_id="report-1",
        csv=csv,
    )


def _cur2_model() -> mf.Cur2Manifest:
    return mf.build_cur2_manifest(
        export_name="acme",
        month=NOVEMBER,
        execution_id="execution-1",
        data_files=[CUR2_URI],
        schema=pa.schema(list(CUR2_COLUMNS.items())),
        account="123456789012",
    )


def test_legacy_manifest_round_trip() -> None:
    raw = mf.serialize_manifest(_legacy_model())
    document = json.loads(raw)
    assert document["billingPeriod"] == {
        "start": "20261101T000000.000Z",
        "end": "20261201T000000.000Z",
    }
    assert document["columns"][1] == {
        "category": "resourceTags",
        "name": "user:team",
        "type": "OptionalString",
    }
    assert mf.parse_manifest(raw, source="m.json") == mf.Manifest(
        format="legacy",
        assembly_id="assembly-1",
        billing_period_start=NOVEMBER,
        data_keys=(LEGACY_KEY,),
        content_type="Parquet",
        compression="Parquet",
        columns=(
            ("identity/LineItemId", "OptionalString"),
            ("resourceTags/user:team", "OptionalString"),
        ),
    )
    assert mf.parse_manifest(raw, source="m.json").data_format == "legacy"
    assert mf.parse_manifest_model(raw, source="m.json") == _legacy_model()


CSV_KEY = "acme/20261101-20261201/4f0c-assembly/acme-1.csv.gz"
# Shaped like the manifest of a legacy gzip CSV report (a new report version each update).
AWS_CSV = AWS_LEGACY | {
    "compression": "GZIP",
    "contentType": "text/csv",
    "columns": [
        {"category": "identity", "name": "LineItemId", "type": "String"},
        {"category": "lineItem", "name": "UsageStartDate", "type": "DateTime"},
        {"category": "lineItem", "name": "UnblendedCost", "type": "BigDecimal"},
        {"category": "resourceTags", "name": "user:cost-center", "type": "OptionalString"},
    ],
    "reportKeys": [f"prefix/{CSV_KEY}"],
}


def test_a_csv_manifest_gives_its_column_types_and_its_data_folder() -> None:
    manifest = mf.parse_manifest(json.dumps(AWS_CSV).encode(), source="m.json")
    assert manifest.data_format == "legacy-csv"
    assert (manifest.content_type, manifest.compression) == ("text/csv", "GZIP")
    assert dict(manifest.columns) == {
        "identity/LineItemId": "String",
        "lineItem/UsageStartDate": "DateTime",
        "lineItem/UnblendedCost": "BigDecimal",
        "resourceTags/user:cost-center": "OptionalString",
    }
    key = mf.legacy_manifest_key("acme", NOVEMBER)
    assert mf.data_keys_under_root(manifest, key) == (CSV_KEY,)
    # The keys alone say CSV too, whatever the content type says.
    keys_only = mf.Manifest("legacy", "a", NOVEMBER, (CSV_KEY.replace(".gz", ".zip"),))
    assert keys_only.data_format == "legacy-csv"


def test_a_csv_key_of_another_month_is_refused() -> None:
    august = AWS_CSV | {"reportKeys": ["prefix/acme/20260801-20260901/a/acme-1.csv.gz"]}
    with pytest.raises(ValueError, match=r"reportKeys\.0: data file of 2026-08 in a manifest for"):
        mf.parse_manifest(json.dumps(august).encode(), source="m.json")


def test_a_csv_manifest_built_for_a_schema_types_each_column() -> None:
    schema = pa.schema(
        [
            ("identity_time_interval", pa.string()),
            ("line_item_usage_start_date", pa.timestamp("ms", tz="UTC")),
            ("line_item_unblended_cost", pa.float64()),
            ("reservation_reservation_a_r_n", pa.string()),
        ]
    )
    model = _legacy_model(schema, CSV_KEY, csv=True)
    assert (model.content_type, model.compression) == ("text/csv", "GZIP")
    assert [(c.category, c.name, c.type) for c in model.columns] == [
        ("identity", "TimeInterval", "Interval"),
        ("lineItem", "UsageStartDate", "DateTime"),
        ("lineItem", "UnblendedCost", "OptionalBigDecimal"),
        ("reservation", "ReservationARN", "OptionalString"),
    ]


def test_cur2_manifest_round_trip() -> None:
    raw = mf.serialize_manifest(_cur2_model())
    document = json.loads(raw)
    assert document["billingPeriod"]["start"] == "2026-11-01T00:00:00.000Z"
    assert {"name": "resource_tags", "type": "map<string,string>"} in document["columns"]
    assert {"name": "discount", "type": "map<string,double>"} in document["columns"]
    parsed = mf.parse_manifest(raw, source="m.json")
    columns = tuple((c["name"], c["type"]) for c in document["columns"])
    assert parsed == mf.Manifest("cur2", "execution-1", NOVEMBER, (CUR2_URI,), columns=columns)
    assert parsed.data_format == "cur2"
    assert mf.parse_manifest_model(raw, source="m.json") == _cur2_model()


def test_a_cur2_manifest_of_csv_files_is_a_cur2_csv_export_in_its_data_folder() -> None:
    csv_uri = CUR2_URI.replace(".snappy.parquet", ".csv.gz")
    raw = json.dumps({"executionId": "e", "exportArn": "arn", "dataFiles": [csv_uri]}).encode()
    manifest = mf.parse_manifest(raw, source="m")
    assert manifest.data_format == "cur2-csv"
    key = mf.cur2_manifest_key("acme", NOVEMBER)
    assert mf.data_keys_under_root(manifest, key) == (
        "acme/data/BILLING_PERIOD=2026-11/acme-00001.csv.gz",
    )


def test_aws_shaped_legacy_manifest_keeps_unknown_fields() -> None:
    model = mf.parse_manifest_model(json.dumps(AWS_LEGACY | {"newField": 1}).encode(), source="m")
    assert model.billing_period.start == dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    assert model.additional_artifact_keys[0].artifact_type == "RedshiftCommands"
    assert json.loads(mf.serialize_manifest(model))["newField"] == 1


def test_cur2_month_comes_from_data_files_without_billing_period() -> None:
    raw = json.dumps({"executionId": "e", "exportArn": "arn", "dataFiles": [CUR2_URI]}).encode()
    assert mf.parse_manifest(raw, source="m").billing_period_start == NOVEMBER


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "not a JSON object"),
        (b'{"files": []}', "not a CUR manifest"),
        (json.dumps(AWS_LEGACY | {"reportKeys": "x"}).encode(), "field reportKeys"),
        (
            json.dumps({k: v for k, v in AWS_LEGACY.items() if k != "assemblyId"}).encode(),
            "field assemblyId",
        ),
        (
            json.dumps(
                AWS_LEGACY
                | {
                    "billingPeriod": {
                        "start": "20261102T000000.000Z",
                        "end": "20261201T000000.000Z",
                    }
                }
            ).encode(),
            "field billingPeriod.start",
        ),
        (json.dumps({"executionId": "e", "exportArn": "a", "dataFiles": 3}).encode(), "dataFiles"),
        (
            json.dumps(
                {"executionId": "e", "exportArn": "a", "dataFiles": ["s3://b/x.parquet"]}
            ).encode(),
            "field billingPeriod",
        ),
        (
            json.dumps(
                AWS_LEGACY | {"reportKeys": [LEGACY_KEY.replace("month=11", "month=10")]}
            ).encode(),
            "field reportKeys.0",
        ),
    ],
)
def test_bad_manifest_names_source_and_field(document: bytes, expected: str) -> None:
    with pytest.raises(ValueError, match=expected) as error:
        mf.parse_manifest(document, source="s3://bucket/acme/20261101-20261201/acme-Manifest.json")
    assert "s3://bucket/acme/20261101-20261201/acme-Manifest.json" in str(error.value)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("acme/20261101-20261201/acme-Manifest.json", ("legacy", "acme", NOVEMBER)),
        ("acme/metadata/BILLING_PERIOD=2026-11/acme-Manifest.json", ("cur2", "acme", NOVEMBER)),
        ("acme/20261101-20261201/0f1d8a4e/acme-Manifest.json", None),  # versioned copy
        ("acme/20261101-20261201/other-Manifest.json", None),
        ("acme/metadata/BILLING_PERIOD=2026-13/acme-Manifest.json", None),
        (LEGACY_KEY, None),
    ],
)
def test_manifest_key_patterns(key: str, expected: tuple | None) -> None:
    assert mf.match_manifest_key(key) == expected


def test_key_builders_match_the_patterns() -> None:
    legacy = mf.legacy_manifest_key("acme", dt.date(2026, 12, 1))
    assert legacy == "acme/20261201-20270101/acme-Manifest.json"
    assert mf.LEGACY_MANIFEST_RE.match(legacy)["month"] == "12"
    cur2 = mf.cur2_manifest_key("acme", dt.date(2026, 2, 1))
    assert mf.CUR2_MANIFEST_RE.match(cur2).group("year", "month") == ("2026", "02")
    assert mf.legacy_data_dir("acme", dt.date(2026, 2, 1)) == "acme/acme/year=2026/month=2"


def test_data_keys_under_root_strips_bucket_and_prefix() -> None:
    legacy = mf.Manifest("legacy", "a", NOVEMBER, (f"prefix/{LEGACY_KEY}", LEGACY_KEY))
    key = mf.legacy_manifest_key("acme", NOVEMBER)
    assert mf.data_keys_under_root(legacy, key) == (LEGACY_KEY, LEGACY_KEY)
    cur2 = mf.Manifest("cur2", "e", NOVEMBER, (CUR2_URI,))
    assert mf.data_keys_under_root(cur2, mf.cur2_manifest_key("acme", NOVEMBER)) == (
        "acme/data/BILLING_PERIOD=2026-11/acme-00001.snappy.parquet",
    )
    elsewhere = mf.Manifest("cur2", "e", NOVEMBER, ("s3://bucket/other/data/x.parquet",))
    with pytest.raises(ValueError, match="not under acme/data/BILLING_PERIOD=2026-11/"):
        mf.data_keys_under_root(elsewhere, mf.cur2_manifest_key("acme", NOVEMBER))
