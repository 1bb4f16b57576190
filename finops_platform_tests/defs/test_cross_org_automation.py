"""The cross-org table follows the tenants: when a tenant's month is rebuilt, that month (and
only that one) of cost_cross_org_monthly is requested, even when another tenant has no data for
it; once the cross-org month is rebuilt, nothing more is requested. Evaluated with Dagster's
public `evaluate_automation_conditions`, as the automation condition sensor would."""

import datetime as dt
from pathlib import Path

import dagster as dg

from finops_platform.definitions import build_definitions
from finops_platform.defs.common.keys import CROSS_ORG_JOB, TENANT_MONTH_JOB
from finops_platform.defs.cross_org.assets import CROSS_ORG
from finops_platform.defs.cross_org.automation import CROSS_ORG_AUTOMATION_SENSOR
from finops_platform.sample import generate_month
from finops_platform.settings import load_settings
from finops_platform_tests.conftest import WriteConfig, tenant_entry
from finops_platform_tests.support.materialize import load

SEPTEMBER, OCTOBER = dt.date(2026, 9, 1), dt.date(2026, 10, 1)
CROSS = dg.AssetKey(CROSS_ORG)


def run() -> None:
    assert load().ok


def requested(result: dg.EvaluateAutomationConditionsResult) -> list[str]:
    return sorted(result.get_requested_partitions(CROSS))


def test_a_restated_tenant_month_requests_that_cross_org_month_only(
    finops_home: Path, write_config: WriteConfig, tmp_path: Path
) -> None:
    write_config(
        [
            tenant_entry("beta", tmp_path / "beta", first_billing_month="2026-09"),
            # gamma starts in October: September has no gamma partition, ever.
            tenant_entry("gamma", tmp_path / "gamma", first_billing_month="2026-10"),
        ]
    )
    for month in (SEPTEMBER, OCTOBER):
        generate_month(tmp_path / "beta", month=month, rows=500, fmt="legacy", seed=1)
    generate_month(tmp_path / "gamma", month=OCTOBER, rows=500, fmt="cur2", seed=1)
    run()  # every tenant month and the cross-org months, as after `finops run`

    defs = build_definitions(load_settings())
    instance = dg.DagsterInstance.get()
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert requested(result) == []  # everything is up to date

    # AWS restates beta's September: the arrival sensor's job rebuilds the tenant's month (it
    # does not touch the cross-org table); gamma has no September, the cross-org one follows.
    generate_month(tmp_path / "beta", month=SEPTEMBER, rows=600, fmt="legacy", seed=2)
    job = defs.resolve_job_def(TENANT_MONTH_JOB)
    refresh = job.execute_in_process(instance=instance, partition_key="2026-09-01|beta")
    assert refresh.success
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
    assert requested(result) == ["2026-09-01"]
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
    assert requested(result) == []  # requested once, not on every tick

    # The requested run happens; afterwards nothing more is requested.
    cross = defs.resolve_job_def(CROSS_ORG_JOB)
    assert cross.execute_in_process(instance=instance, partition_key="2026-09-01").success
    result = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=result.cursor)
    assert requested(result) == []


def test_the_automation_sensor_runs_by_default_and_covers_the_cross_org_asset(
    finops_home: Path,
) -> None:
    defs = build_definitions(load_settings())
    repository = defs.get_repository_def()
    sensor = repository.get_sensor_def(CROSS_ORG_AUTOMATION_SENSOR)
    assert isinstance(sensor, dg.AutomationConditionSensorDefinition)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.asset_selection.resolve(repository.asset_graph) == {CROSS}
    # Dagster adds its own (stopped by default) sensor only for conditions no sensor covers.
    assert "default_automation_condition_sensor" not in {s.name for s in repository.sensor_defs}
