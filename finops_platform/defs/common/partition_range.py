"""Tenant x month assets over one partition or a range of them (a single-run backfill).

Every tenant x month asset has `BackfillPolicy.single_run()`: a backfill of many partitions is
one Dagster run whose steps loop over the range, instead of a run per partition, which costs
about 0.45 s of orchestration each on a small machine (BENCHMARKS.md). An asset body is written
for one partition; `materialize_each` runs it for every partition of the step and reports each
one as a one-partition run would: the materialization's metadata per partition, and a check
evaluation per check and partition.

A partition whose new result fails a blocking check keeps its previous version (the work raises
`BlockingCheckFailed` after putting it back) and still reports its checks. Dagster records a
ranged step as materialized for the whole range or not at all, so a partition that fails (an
error, or a failed blocking check) does not stop the others but fails the step at the end,
naming every failed partition; `runner` then re-runs that range partition by partition.
A ranged step also owes Dagster one result per check: it is the verdict over the range (which
partitions failed), with no partition of its own.
"""

from collections.abc import Callable, Iterator

import dagster as dg

RANGE_CHECK_DESCRIPTION = "Verdict over the run's partition range: "

PartitionWork = Callable[[str], dg.MaterializeResult]
Reported = dg.MaterializeResult | dg.AssetCheckResult | dg.AssetCheckEvaluation


class BlockingCheckFailed(Exception):
    """A partition's new result failed a blocking check and was not kept. Its check results are
    still reported, and the partition fails."""

    def __init__(self, check_results: list[dg.AssetCheckResult], failed: list[str]) -> None:
        super().__init__(
            f"blocking check {', '.join(failed)} failed; the previous version stays in place"
        )
        self.check_results = check_results


def materialize_each(context: dg.AssetExecutionContext, work: PartitionWork) -> Iterator[Reported]:
    """The step's results: `work` for its partition, or for each partition of its range."""
    if context.has_partition_key:
        key = context.partition_key
        try:
            yield work(key)
        except BlockingCheckFailed as exc:
            for check in exc.check_results:
                yield _evaluation(context.asset_key, check, key)
            raise dg.Failure(description=f"{key}: {exc}") from exc
        return
    failed: list[str] = []
    failed_checks: dict[str, tuple[dg.AssetCheckSeverity, list[str]]] = {}
    keys = context.partition_keys
    for key in keys:
        try:
            result = work(key)
        except BlockingCheckFailed as exc:
            failed.append(f"{key}: {exc}")
            check_results = exc.check_results
        except Exception as exc:  # reported with its partition when the range is done
            failed.append(f"{key}: {_reason(exc)}")
            continue
        else:
            context.add_asset_metadata(dict(result.metadata or {}), partition_key=key)
            check_results = list(result.check_results or [])
        for check in check_results:
            yield _evaluation(context.asset_key, check, key)
            if not check.passed:
                failed_checks.setdefault(check.check_name, (check.severity, []))[1].append(key)
    if failed:
        asset = context.asset_key.to_user_string()
        raise dg.Failure(
            description=f"{len(failed)} of {len(keys)} partition(s) of {asset} failed: "
            + "; ".join(failed)
        )
    yield dg.MaterializeResult()
    for spec in context.assets_def.check_specs:
        severity, failing = failed_checks.get(spec.name, (dg.AssetCheckSeverity.ERROR, []))
        yield dg.AssetCheckResult(
            check_name=spec.name,
            passed=not failing,
            severity=severity,
            description=RANGE_CHECK_DESCRIPTION
            + (f"failed for {', '.join(failing)}" if failing else f"passed for all {len(keys)}"),
            metadata={"partitions": len(keys), "failed_partitions": len(failing)},
        )


def _evaluation(
    asset_key: dg.AssetKey, check: dg.AssetCheckResult, partition: str
) -> dg.AssetCheckEvaluation:
    return dg.AssetCheckEvaluation(
        asset_key=asset_key,
        check_name=check.check_name,
        passed=check.passed,
        severity=check.severity,
        description=check.description,
        metadata=check.metadata,
        partition=partition,
    )


def _reason(exc: Exception) -> str:
    if isinstance(exc, dg.Failure) and exc.description:
        return exc.description
    return f"{type(exc).__name__}: {exc}"
