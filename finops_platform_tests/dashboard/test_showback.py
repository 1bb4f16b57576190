"""Showback page: cost by tag key and value, untagged share and coverage equal cost_by_tag, and
the CSV download holds the same figures."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from decimal import Decimal

import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from finops_platform.defs.common.sql_checks import UNTAGGED
from finops_platform_tests.dashboard.conftest import Generated
from finops_platform_tests.dashboard.shown import cents, metric, no_exceptions, table

BY_TAG_SQL = """
SELECT tag_key, tag_value, sum(unblended_cost) AS unblended, sum(amortized_cost) AS amortized,
    sum(line_items) AS line_items
FROM cost_by_tag WHERE year = 2026 AND month = 9 GROUP BY tag_key, tag_value
"""


class RecordingStorage(MemoryMediaFileStorage):
    """The in-memory media storage of AppTest, kept so a test can read downloads."""

    latest: RecordingStorage | None = None

    def __init__(self, media_endpoint: str) -> None:
        super().__init__(media_endpoint)
        RecordingStorage.latest = self


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> type[RecordingStorage]:
    monkeypatch.setattr("streamlit.testing.v1.app_test.MemoryMediaFileStorage", RecordingStorage)
    return RecordingStorage


def expected_by_key(generated: Generated, org: str) -> dict[str, dict[str, dict]]:
    by_key: dict[str, dict[str, dict]] = defaultdict(dict)
    for row in generated.query(org, BY_TAG_SQL):
        by_key[row["tag_key"]][row["tag_value"]] = row
    return by_key


def test_tenant_showback_equals_cost_by_tag(app, generated: Generated, downloads) -> None:
    at = app("tenant_beta").run()
    at = no_exceptions(at.switch_page("views/showback.py").run())
    assert at.title[0].value == "Showback: tenant_beta, 2026-09"
    by_key = expected_by_key(generated, "tenant_beta")
    assert sorted(by_key) == ["cost_center", "team"]

    coverage = table(at, "tag_key", "amortized_cost", "tagged_amortized_cost").set_index("tag_key")
    per_value = [
        d.value
        for d in at.dataframe
        if list(d.value.columns[:2]) == ["tag_value", "unblended_cost"]
    ]
    assert len(per_value) == len(by_key)  # one tab per key, in key order
    for (key, values), shown in zip(sorted(by_key.items()), per_value, strict=True):
        total = sum((v["amortized"] for v in values.values()), Decimal(0))
        untagged = values[UNTAGGED]["amortized"]
        assert coverage.loc[key, "amortized_cost"] == cents(total)
        assert coverage.loc[key, "untagged_amortized_cost"] == cents(untagged)
        assert coverage.loc[key, "tagged_amortized_cost"] == cents(total - untagged)
        share = float((total - untagged) / total)
        assert coverage.loc[key, "amortized_coverage"] == pytest.approx(share, abs=1e-12)
        assert metric(at, f"{key} coverage")[0] == f"{share:.1%}"
        assert {
            r.tag_value: (r.amortized_cost, r.unblended_cost, int(r.line_items))
            for r in shown.itertuples()
        } == {
            value: (cents(v["amortized"]), cents(v["unblended"]), int(v["line_items"]))
            for value, v in values.items()
        }
        assert shown.amortized_share.sum() == pytest.approx(1.0)

    (button,) = at.get("download_button")
    assert button.label == "Download showback as CSV"
    file_name = button.proto.url.rsplit("/", 1)[-1]
    stored = downloads.latest.get_file(file_name)
    assert stored.filename == "showback_tenant_beta_2026-09.csv"
    rows = list(csv.DictReader(io.StringIO(stored.content.decode())))
    assert {(r["org"], r["month"]) for r in rows} == {("tenant_beta", "2026-09")}
    assert {(r["tag_key"], r["tag_value"], float(r["amortized_cost"])) for r in rows} == {
        (key, value, cents(v["amortized"]))
        for key, values in by_key.items()
        for value, v in values.items()
    }


def test_all_tenants_showback_compares_tag_coverage(app, generated: Generated) -> None:
    at = app().run()
    at = no_exceptions(at.switch_page("views/showback.py").run())
    shown = table(at, "org", "tag_key", "amortized_cost", "tagged_amortized_cost")
    expected = {
        (org, key): cents(sum((v["amortized"] for v in values.values()), Decimal(0)))
        for org in ("tenant_alpha", "tenant_beta")
        for key, values in expected_by_key(generated, org).items()
    }
    assert {(r.org, r.tag_key): r.amortized_cost for r in shown.itertuples()} == expected
