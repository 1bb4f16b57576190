"""Shaped demo months (`finops demo-data --anomalies`): deterministic by seed, continuous from
month to month, exact totals, and ground truth written beside the export."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import duckdb

from finops_platform.sample import generate_month
from finops_platform.sample.parts import ground_truth_path
from finops_platform.sample.shape import read_ground_truth
from finops_platform_tests.cli.support import finops
from finops_platform_tests.conftest import WriteConfig, tenant_entry

SPAN = (dt.date(2026, 9, 1), dt.date(2026, 10, 1))


def shaped(root: Path, month: dt.date, seed: int = 3) -> object:
    return generate_month(
        root, month=month, rows=8_000, fmt="cur2", seed=seed, name="demo", shape_span=SPAN
    )


def test_the_same_seed_gives_the_same_month_and_ground_truth(tmp_path: Path) -> None:
    first = shaped(tmp_path / "a", SPAN[1])
    again = shaped(tmp_path / "b", SPAN[1])
    assert first.anomalies == again.anomalies and first.unblended_total == again.unblended_total
    assert [f.read_bytes() for f in first.data_files] == [f.read_bytes() for f in again.data_files]
    assert shaped(tmp_path / "c", SPAN[1], seed=4).anomalies != first.anomalies
    written = read_ground_truth(ground_truth_path(tmp_path / "a", "demo", SPAN[1]))
    assert written == first.anomalies
    kinds = {(a.kind, a.level) for a in first.anomalies}
    assert kinds == {
        ("spike", "service"),
        ("spike", "account"),
        ("spike", "total"),
        ("step", "service"),
        ("new_service", "service"),
    }
    new = next(a for a in first.anomalies if a.kind == "new_service")
    assert new.expected == 0 and new.impact > 0


def test_shaped_months_continue_each_other_and_keep_exact_totals(tmp_path: Path) -> None:
    months = [shaped(tmp_path, month) for month in SPAN]
    services = []
    for delivery in months:
        files = [str(f) for f in delivery.data_files]
        ((total,),) = duckdb.sql(
            f"SELECT sum(CAST(line_item_unblended_cost AS DECIMAL(38, 10))) "
            f"FROM read_parquet({files})"
        ).fetchall()
        assert Decimal(total) == delivery.unblended_total
        services.append(
            duckdb.sql(
                f"SELECT DISTINCT line_item_usage_type FROM read_parquet({files}) "
                "WHERE line_item_line_item_type = 'Usage'"
            ).fetchall()
        )
    # The same resources run on (the new service aside, which only the last month has).
    assert set(services[0]) <= set(services[1])


def test_demo_data_with_anomalies_writes_the_ground_truth(
    tmp_path: Path, finops_home: Path, write_config: WriteConfig
) -> None:
    source = tmp_path / "source"
    write_config([tenant_entry("acme", source, cur_format="cur2")])
    result = finops(
        "demo-data", "--months", "2", "--rows-per-month", "2000", "--anomalies", "--format", "json"
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert all("injected_anomalies" in row for row in rows)
    previous = dt.date.fromisoformat(rows[0]["month"] + "-01")
    truth = read_ground_truth(ground_truth_path(source, "acme-cur", previous))
    assert len(truth) == rows[0]["injected_anomalies"] >= 4
    # Without the flag, no shape and no ground truth: the plain demo months are unchanged.
    plain = finops("demo-data", "--months", "1", "--rows-per-month", "2000", "--format", "json")
    (row,) = json.loads(plain.stdout)
    assert "injected_anomalies" not in row
