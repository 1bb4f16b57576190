"""The sample CUR generator: real files in a temporary folder, checked with DuckDB."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from finops_platform.lib.cur import manifest as mf
from finops_platform.lib.cur.schema import (
    CUR2_COLUMNS,
    LINE_ITEM_TYPES,
    SPLIT_LINE_ITEM_COLUMNS,
)
from finops_platform.sample import GeneratedDelivery, generate_month

MONTH = dt.date(2026, 10, 1)
ROWS = 3000
FORMATS = ("legacy", "cur2")

# The amortized cost formula of docs/ARCHITECTURE.md ("CUR facts"), as the curated SQL will use it.
AMORTIZED = """
    CASE line_item_line_item_type
        WHEN 'SavingsPlanCoveredUsage' THEN savings_plan_savings_plan_effective_cost
        WHEN 'SavingsPlanRecurringFee'
            THEN savings_plan_total_commitment_to_date - savings_plan_used_commitment
        WHEN 'SavingsPlanNegation' THEN 0
        WHEN 'SavingsPlanUpfrontFee' THEN 0
        WHEN 'DiscountedUsage' THEN reservation_effective_cost
        WHEN 'RIFee' THEN reservation_unused_amortized_upfront_fee_for_billing_period
            + reservation_unused_recurring_fee
        ELSE CASE WHEN line_item_line_item_type = 'Fee' AND reservation_reservation_a_r_n <> ''
            THEN 0 ELSE line_item_unblended_cost END
    END
"""


def _generate(root: Path, fmt: str, **kwargs: object) -> GeneratedDelivery:
    arguments = {"month": MONTH, "rows": ROWS, "fmt": fmt, "seed": 42} | kwargs
    return generate_month(root, **arguments)  # type: ignore[arg-type]


@pytest.fixture(scope="module", params=FORMATS)
def delivery(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    return _generate(tmp_path_factory.mktemp(request.param), request.param)


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    return connection


def _view(con: duckdb.DuckDBPyConnection, files: list[Path]) -> None:
    """The delivery's rows as view `cur`."""
    paths = ", ".join(f"'{f}'" for f in files)
    source = f"read_parquet([{paths}], hive_partitioning = false)"
    con.execute(f"CREATE OR REPLACE VIEW cur AS SELECT * FROM {source}")


def _one(con: duckdb.DuckDBPyConnection, files: list[Path], select: str) -> tuple:
    _view(con, files)
    return con.execute(f"SELECT {select} FROM cur").fetchall()[0]


def test_layout_and_manifest_list_exactly_the_data_files(delivery: GeneratedDelivery) -> None:
    root = next(p for p in delivery.manifest_path.parents if p.name == "finops-demo").parent
    manifest_key = delivery.manifest_path.relative_to(root).as_posix()
    if delivery.fmt == "legacy":
        assert manifest_key == "finops-demo/20261001-20261101/finops-demo-Manifest.json"
        data_dir = "finops-demo/finops-demo/year=2026/month=10"
    else:
        assert (
            manifest_key == "finops-demo/metadata/BILLING_PERIOD=2026-10/finops-demo-Manifest.json"
        )
        data_dir = "finops-demo/data/BILLING_PERIOD=2026-10"
    assert mf.match_manifest_key(manifest_key) == (delivery.fmt, "finops-demo", MONTH)
    on_disk = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.parquet"))
    assert on_disk == [f"{data_dir}/finops-demo-00001.snappy.parquet"]
    manifest = mf.parse_manifest(delivery.manifest_path.read_bytes(), source=manifest_key)
    assert manifest.format == delivery.fmt
    assert manifest.assembly_id == delivery.assembly_id
    assert manifest.billing_period_start == MONTH
    assert list(mf.data_keys_under_root(manifest, manifest_key)) == on_disk
    newest_data = max(p.stat().st_mtime_ns for p in delivery.data_files)
    assert delivery.manifest_path.stat().st_mtime_ns >= newest_data  # the commit marker is last


def test_several_parts_when_rows_per_file_is_small(tmp_path: Path) -> None:
    delivery = _generate(tmp_path, "cur2", rows_per_file=1000, chunk_rows=700)
    assert [p.name for p in delivery.data_files] == [
        "finops-demo-00001.snappy.parquet",
        "finops-demo-00002.snappy.parquet",
        "finops-demo-00003.snappy.parquet",
    ]
    assert [pq.read_metadata(p).num_rows for p in delivery.data_files] == [1000, 1000, 1000]
    manifest = mf.parse_manifest(delivery.manifest_path.read_bytes(), source="m")
    assert [k.rsplit("/", 1)[1] for k in manifest.data_keys] == [
        p.name for p in delivery.data_files
    ]


def test_cur2_has_exactly_the_canonical_columns(tmp_path: Path) -> None:
    delivery = _generate(tmp_path / "plain", "cur2")
    assert pq.read_schema(delivery.data_files[0]).remove_metadata() == pa.schema(
        [(n, t) for n, t in CUR2_COLUMNS.items() if n not in SPLIT_LINE_ITEM_COLUMNS]
    )
    # With split cost allocation data the split columns follow; the set is then the canonical one.
    split = _generate(tmp_path / "split", "cur2", split_cost_allocation=True)
    schema = pq.read_schema(split.data_files[0]).remove_metadata()
    assert dict(zip(schema.names, schema.types, strict=True)) == CUR2_COLUMNS


def test_legacy_columns_look_like_the_real_export(tmp_path: Path, real_sample: Path) -> None:
    schema = pq.read_schema(_generate(tmp_path, "legacy").data_files[0])
    real = pq.read_schema(next(real_sample.rglob("*.parquet")))
    assert not [n for n in schema.names if "_net_" in n or n in ("product", "resource_tags")]
    for name in (
        "line_item_unblended_cost",
        "line_item_unblended_rate",
        "product_region",
        "line_item_usage_start_date",
        "reservation_effective_cost",
        "pricing_term",
    ):
        assert schema.field(name).type == real.field(name).type, name
    assert {
        "savings_plan_savings_plan_effective_cost",
        "resource_tags_user_cost_center",
        "product_servicename",
        "product_product_name",
    } <= set(schema.names)


def test_same_seed_same_data_other_seed_other_data(tmp_path: Path) -> None:
    first = _generate(tmp_path / "a", "cur2")
    again = _generate(tmp_path / "b", "cur2", chunk_rows=512, rows_per_file=1100)
    other = _generate(tmp_path / "c", "cur2", seed=43)
    read = lambda d: pa.concat_tables(pq.read_table(f) for f in d.data_files)  # noqa: E731
    assert read(first).equals(read(again))  # chunking and file size do not change the data
    assert first.assembly_id == again.assembly_id
    assert not read(first).equals(read(other))
    assert first.assembly_id != other.assembly_id


def test_line_item_id_and_interval_are_unique(con, delivery: GeneratedDelivery) -> None:
    rows, unique = _one(
        con,
        delivery.data_files,
        "count(*), count(DISTINCT (identity_line_item_id, identity_time_interval))",
    )
    assert rows == unique == ROWS


def test_every_line_item_type_is_present(con, delivery: GeneratedDelivery) -> None:
    _view(con, delivery.data_files)
    found = {
        t for (t,) in con.execute("SELECT DISTINCT line_item_line_item_type FROM cur").fetchall()
    }
    assert found == set(LINE_ITEM_TYPES)


def test_usage_lies_in_the_billing_period(con, delivery: GeneratedDelivery) -> None:
    first, last, period_start, period_end = _one(
        con,
        delivery.data_files,
        "min(line_item_usage_start_date), max(line_item_usage_start_date), "
        "min(bill_billing_period_start_date), max(bill_billing_period_end_date)",
    )
    start = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    assert period_start.replace(tzinfo=dt.UTC) == start
    assert period_end.replace(tzinfo=dt.UTC) == dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    assert start <= first.replace(tzinfo=dt.UTC) <= last.replace(tzinfo=dt.UTC)
    # A closed month's data reaches its last hour (the completeness check relies on it).
    assert last.replace(tzinfo=dt.UTC) == dt.datetime(2026, 10, 31, 23, tzinfo=dt.UTC)


def test_month_to_date_delivery_stops_at_until(tmp_path: Path, con) -> None:
    until = dt.datetime(2026, 10, 12, 7, 30, tzinfo=dt.UTC)
    delivery = _generate(tmp_path, "legacy", until=until)
    last, invoices, rows = _one(
        con,
        delivery.data_files,
        "max(line_item_usage_start_date), string_agg(DISTINCT bill_invoice_id, ','), count(*)",
    )
    assert last == dt.datetime(2026, 10, 12, 7, tzinfo=dt.UTC)  # the latest hour started
    assert invoices == ""  # not invoiced yet
    assert rows == ROWS
    assert delivery.assembly_id != _generate(tmp_path / "full", "legacy").assembly_id


def test_rewriting_a_month_replaces_it_and_leaves_other_months(tmp_path: Path) -> None:
    first = _generate(tmp_path, "cur2", rows_per_file=1000)
    other = _generate(tmp_path, "cur2", month=dt.date(2026, 9, 1))
    other_bytes = [p.read_bytes() for p in other.data_files]
    restated = _generate(tmp_path, "cur2", rows=2000, seed=7)
    assert len(first.data_files) == 3
    data_dir = restated.data_files[0].parent
    assert sorted(data_dir.iterdir()) == restated.data_files
    assert sum(pq.read_metadata(p).num_rows for p in restated.data_files) == 2000
    assert [p.read_bytes() for p in other.data_files] == other_bytes
    assert other.manifest_path.exists()


def test_exact_total_matches_a_decimal_sum(con, delivery: GeneratedDelivery) -> None:
    (total,) = _one(
        con, delivery.data_files, "sum(CAST(line_item_unblended_cost AS DECIMAL(38, 10)))"
    )
    assert isinstance(delivery.unblended_total, Decimal)
    assert total == delivery.unblended_total


def test_amortized_cost_differs_from_unblended(con, delivery: GeneratedDelivery) -> None:
    amortized, unblended, fee_with_arn = _one(
        con,
        delivery.data_files,
        f"sum({AMORTIZED}), sum(line_item_unblended_cost), count(*) FILTER "
        "(line_item_line_item_type = 'Fee' AND reservation_reservation_a_r_n <> '')",
    )
    assert amortized > 0
    assert abs(amortized - unblended) > 1
    assert fee_with_arn == 1


def test_savings_plan_fee_uses_what_covered_usage_used(con, delivery: GeneratedDelivery) -> None:
    """Each hour's used commitment is the covered usage's effective cost of that plan and hour."""
    _view(con, delivery.data_files)
    mismatches, hours, unused = con.execute("""
        WITH covered AS (
            SELECT savings_plan_savings_plan_a_r_n AS arn, identity_time_interval AS t,
                   sum(savings_plan_savings_plan_effective_cost) AS used
            FROM cur WHERE line_item_line_item_type = 'SavingsPlanCoveredUsage'
            GROUP BY ALL),
        fees AS (
            SELECT savings_plan_savings_plan_a_r_n AS arn, identity_time_interval AS t,
                   savings_plan_used_commitment AS used,
                   savings_plan_total_commitment_to_date AS total
            FROM cur WHERE line_item_line_item_type = 'SavingsPlanRecurringFee')
        SELECT count(*) FILTER (abs(coalesce(c.used, 0) - f.used) > 1e-6),
               count(*), sum(f.total - f.used)
        FROM fees f LEFT JOIN covered c USING (arn, t)
    """).fetchall()[0]
    assert mismatches == 0
    assert hours > 0
    assert unused > 0
    orphans = con.execute("""
        SELECT count(*) FROM cur c WHERE line_item_line_item_type = 'SavingsPlanCoveredUsage'
        AND NOT EXISTS (SELECT 1 FROM cur f
            WHERE f.line_item_line_item_type = 'SavingsPlanRecurringFee'
            AND f.savings_plan_savings_plan_a_r_n = c.savings_plan_savings_plan_a_r_n
            AND f.identity_time_interval = c.identity_time_interval)
    """).fetchall()[0][0]
    assert orphans == 0


def test_negation_cancels_covered_usage_and_ri_fee_counts_unused_hours(
    con, delivery: GeneratedDelivery
) -> None:
    _view(con, delivery.data_files)
    covered, negated, discounted_unblended = con.execute("""
        SELECT sum(line_item_unblended_cost) FILTER (type = 'SavingsPlanCoveredUsage'),
               sum(line_item_unblended_cost) FILTER (type = 'SavingsPlanNegation'),
               sum(abs(line_item_unblended_cost)) FILTER (type = 'DiscountedUsage')
        FROM (SELECT *, line_item_line_item_type AS type FROM cur)
    """).fetchall()[0]
    assert covered == pytest.approx(-negated) and covered > 0
    assert discounted_unblended == 0
    bad = con.execute("""
        WITH used AS (
            SELECT reservation_reservation_a_r_n AS arn, sum(line_item_usage_amount) AS hours
            FROM cur WHERE line_item_line_item_type = 'DiscountedUsage' GROUP BY 1)
        SELECT count(*) FROM cur r JOIN used u ON u.arn = r.reservation_reservation_a_r_n
        WHERE r.line_item_line_item_type = 'RIFee'
        AND abs(r.line_item_usage_amount - u.hours - r.reservation_unused_quantity) > 1e-6
    """).fetchall()[0][0]
    assert bad == 0


def test_tags_on_most_usage_rows_but_not_all(con, delivery: GeneratedDelivery) -> None:
    _view(con, delivery.data_files)
    if delivery.fmt == "legacy":
        tag = "nullif(resource_tags_user_cost_center, '')"
    else:
        tag = "resource_tags['user_cost_center']"
    share, values = con.execute(f"""
        SELECT avg(CASE WHEN {tag} IS NULL THEN 0 ELSE 1 END), count(DISTINCT {tag})
        FROM cur WHERE line_item_line_item_type = 'Usage'
    """).fetchall()[0]
    assert 0.6 < share < 0.98
    assert values > 1


def test_cur2_net_cost_carries_the_edp_discount(tmp_path: Path, con) -> None:
    _view(con, _generate(tmp_path, "cur2").data_files)
    discounted, edp_lines, net_total, unblended_total, payer_accounts = con.execute("""
        SELECT count(*) FILTER (line_item_line_item_type = 'Usage'
                                AND line_item_net_unblended_cost < line_item_unblended_cost
                                AND discount['edp_discount'] < 0),
               sum(line_item_unblended_cost) FILTER (line_item_line_item_type = 'EdpDiscount'),
               sum(line_item_net_unblended_cost), sum(line_item_unblended_cost),
               count(DISTINCT bill_payer_account_id)
        FROM cur
    """).fetchall()[0]
    assert discounted > 0 and edp_lines < 0
    assert net_total == pytest.approx(unblended_total)  # discounts netted into the usage rows
    assert payer_accounts == 2


def test_progress_bar_goes_to_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _generate(tmp_path, "legacy", progress=True)
    assert "rows" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"month": dt.date(2026, 10, 2)}, "first day of a month"),
        ({"rows": 10}, "at least"),
        ({"fmt": "csv"}, "fmt"),
        ({"until": dt.datetime(2026, 9, 30, tzinfo=dt.UTC)}, "not after the start"),
    ],
)
def test_bad_arguments_are_refused(tmp_path: Path, change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _generate(tmp_path, **({"fmt": "legacy"} | change))
    assert not list(tmp_path.rglob("*"))
