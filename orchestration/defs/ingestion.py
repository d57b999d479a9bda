"""One `@dlt_assets` per source; keys `raw/<source>/<table>`, group `ingestion`.

The dlt pipeline and source are rebuilt inside the op so settings (base URLs, credentials,
package lists) are read at run time, never when the code location loads.

npm and PyPI are partitioned by day: a partitioned run loads exactly its day (a backfill from the
UI loads each day it covers). It runs as a dlt pipeline of its own (`npm_day_2026_11_25`, state in
a temporary folder and under that name in the destination) so the day is not skipped because the
source's incremental cursor is already past it; the rows merge into the same `raw_<source>` tables.
A run without a partition (`devsignal demo`) loads the whole series as before.

Every load's outcome lands in `app.source_health`; the alerting sensors read it (freshness gating).
"""

import datetime as dt
import tempfile

import dlt
from dagster import AssetExecutionContext, AssetKey, AssetSpec, DailyPartitionsDefinition, Definitions
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from ingestion import pipelines

SOURCE_NAMES = ("npm", "pypi", "github", "segment", "crm")
# npm keeps 18 months of daily counts, pypistats 180 days: the first partition is a fixed day
# (a setting cannot be read when the code location loads); older days are simply not offered
DAILY = DailyPartitionsDefinition(start_date="2025-06-01", timezone="UTC")
PARTITIONED = {"npm": DAILY, "pypi": DAILY}


class RawTranslator(DagsterDltTranslator):
    def get_asset_spec(self, data: DltResourceTranslatorData) -> AssetSpec:
        spec = super().get_asset_spec(data)
        # the source's name, not the pipeline's: a partition's pipeline (npm_day_...) feeds the same assets
        source = data.resource.source_name or (data.pipeline.pipeline_name if data.pipeline else None)
        return spec.replace_attributes(
            key=AssetKey(["raw", source, data.resource.table_name]),
            deps=[],
            kinds={"dlt", "postgres"},
        )


def raw_keys(assets_def) -> list[AssetKey]:
    return sorted(assets_def.keys)


def _record(name: str, error: BaseException | None) -> None:
    from apps import migrations
    from devsignal import db
    from orchestration.activation import freshness

    migrations.upgrade()  # app.source_health exists before the first load records into it
    with db.engine().begin() as connection:
        if error is None:
            freshness.record_success(connection, name)
        else:
            freshness.record_failure(connection, name, f"{type(error).__name__}: {error}")


def partition_source(name: str, day: dt.date):
    """The source restricted to one day (npm: its date range; PyPI: a filter on the day's rows)."""
    if name == "npm":
        return pipelines.get_source(name, start_date=day.isoformat(), end_date=day.isoformat())
    source = pipelines.get_source(name)
    source.resources["downloads"].add_filter(lambda row: str(row["day"])[:10] == day.isoformat())
    return source


def _source_assets(name: str):
    # a placeholder pipeline without credentials: only its name is read while loading definitions
    definition_pipeline = dlt.pipeline(pipeline_name=name, destination="postgres", dataset_name=f"raw_{name}")

    @dlt_assets(
        dlt_source=pipelines.get_source(name),
        dlt_pipeline=definition_pipeline,
        name=f"{name}_raw",
        group_name="ingestion",
        dagster_dlt_translator=RawTranslator(),
        partitions_def=PARTITIONED.get(name),
    )
    def _assets(context: AssetExecutionContext, dlt: DagsterDltResource):
        # the same advisory lock as `devsignal load`: an overlapping run (a retry, a manual launch)
        # waits for this one instead of loading the same data twice
        try:
            with pipelines.pipeline_lock(name, wait=3600):
                if context.has_partition_key:
                    day = dt.date.fromisoformat(context.partition_key)
                    context.log.info(f"{name}: loading {day} only (partition)")
                    with tempfile.TemporaryDirectory(prefix=f"devsignal-{name}-day-") as state_dir:
                        yield from dlt.run(
                            context=context,
                            dlt_source=partition_source(name, day),
                            dlt_pipeline=pipelines.make_pipeline(
                                name, pipeline_name=f"{name}_day_{day:%Y_%m_%d}", pipelines_dir=state_dir),
                        )
                else:
                    yield from dlt.run(
                        context=context,
                        dlt_source=pipelines.get_source(name),
                        dlt_pipeline=pipelines.make_pipeline(name),
                    )
        except BaseException as error:
            if isinstance(error, Exception):
                _record(name, error)
            raise
        _record(name, None)

    return _assets


def source_assets() -> dict:
    return {name: _source_assets(name) for name in SOURCE_NAMES}


def defs() -> Definitions:
    return Definitions(
        assets=list(source_assets().values()),
        resources={"dlt": DagsterDltResource()},
    )
