"""What Dagster recorded of an asset's partition: the hand-off between assets.

An asset reads what its upstream published (or what it published itself last time) from the
upstream's latest materialization, instead of looking it up again in the store or the catalog,
so the version registered is the version that was checked.
"""

import dagster as dg


def latest_metadata(
    instance: dg.DagsterInstance, asset: dg.AssetKey, partition: str
) -> dict[str, object] | None:
    """The metadata of `asset`'s latest materialization of `partition`; None if it has none."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset, asset_partitions=[partition]), limit=1
    ).records
    if not records:
        return None
    metadata = records[0].asset_materialization.metadata
    return {name: value.value for name, value in metadata.items()}
