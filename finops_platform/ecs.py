"""The run launcher of prod (deploy/prod/dagster.yaml): dagster-aws's EcsRunLauncher, each run
in its own ECS task, sized by its tenant.

Tenants differ by orders of magnitude (a payer's month of 500 GB against a team's of 50 MB), so
one task size for every run either starves the large or overpays for the small. A tenant x
month run, however it was launched (a sensor, a schedule, a backfill from the UI), gets its
tenant's `run_resources` (tenants config). They are written on the run as the launcher's own
`ecs/cpu` and `ecs/memory` tags before its task starts, so the UI shows what each run was
given. The daemon reads the tenants config as the other tasks do, from SSM when CONFIG_PATH is
`ssm:/...` (Terraform sets it so). A run launched with these tags keeps them; a cross-org run, or
a tenant without `run_resources`, gets the launcher's `run_resources`. A range run spanning two
tenants (a backfill from the UI) gets the larger of the two sizes.
"""

from __future__ import annotations

from collections.abc import Mapping

from dagster._core.launcher import LaunchRunContext
from dagster_aws.ecs import EcsRunLauncher

from finops_platform.defs.common.partitions import (
    PARTITION_TAG,
    RANGE_END_TAG,
    RANGE_START_TAG,
    tenant_and_month,
)
from finops_platform.resources import settings_from
from finops_platform.settings import RunResources, Settings

# The run tags EcsRunLauncher sizes a run's task by.
CPU_TAG = "ecs/cpu"
MEMORY_TAG = "ecs/memory"


def run_size(settings: Settings, tags: Mapping[str, str]) -> dict[str, str]:
    """The `ecs/cpu` and `ecs/memory` tags of a run with these tags: its tenant's
    `run_resources`; none when the run names no tenant with them."""
    keys = [tags.get(PARTITION_TAG), tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)]
    sizes: list[RunResources] = []
    for key in filter(None, keys):
        if "|" not in key:
            continue  # a cross-org month: no tenant
        org_id, _ = tenant_and_month(key)
        sized = settings.tenants.get(org_id).run_resources
        if sized is not None:
            sizes.append(sized)
    if not sizes:
        return {}
    largest = max(sizes, key=lambda s: (s.cpu, s.memory))
    return {CPU_TAG: str(largest.cpu), MEMORY_TAG: str(largest.memory)}


class TenantSizedEcsRunLauncher(EcsRunLauncher):
    """EcsRunLauncher that first tags a tenant x month run with its tenant's size."""

    def launch_run(self, context: LaunchRunContext) -> None:
        run = context.dagster_run
        if not {CPU_TAG, MEMORY_TAG} & set(run.tags):
            sized = run_size(settings_from(), run.tags)
            if sized:
                self._instance.add_run_tags(run.run_id, sized)
                run = self._instance.get_run_by_id(run.run_id) or run
                context = LaunchRunContext(dagster_run=run, workspace=context.workspace)
        super().launch_run(context)
