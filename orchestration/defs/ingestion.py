"""One `@dlt_assets` per source; keys `raw/<source>/<table>`, group `ingestion`.

The dlt pipeline and source are rebuilt inside the op so settings (base URLs, credentials,
package lists) are read at run time, never when the code location loads.
"""


import dlt
from dagster import AssetExecutionContext, AssetKey, AssetSpec, Definitions
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from ingestion import pipelines

SOURCE_NAMES = ("npm", "pypi", "github", "segment", "crm")


class RawTranslator(DagsterDltTranslator):
    def get_asset_spec(self, data: DltResourceTranslatorData) -> AssetSpec:
        spec = super().get_asset_spec(data)
        source = data.pipeline.pipeline_name if data.pipeline else data.resource.source_name
        return spec.replace_attributes(
            key=AssetKey(["raw", source, data.resource.table_name]),
            deps=[],
            kinds={"dlt", "postgres"},
        )


def _source_assets(name: str):
    # a placeholder pipeline without credentials: only its name is read while loading definitions
    definition_pipeline = dlt.pipeline(pipeline_name=name, destination="postgres", dataset_name=f"raw_{name}")

    @dlt_assets(
        dlt_source=pipelines.get_source(name),
        dlt_pipeline=definition_pipeline,
        name=f"{name}_raw",
        group_name="ingestion",
        dagster_dlt_translator=RawTranslator(),
    )
    def _assets(context: AssetExecutionContext, dlt: DagsterDltResource):
        # the same advisory lock as `devsignal load`: an overlapping run (a retry, a manual launch)
        # waits for this one instead of loading the same data twice
        with pipelines.pipeline_lock(name, wait=3600):
            yield from dlt.run(
                context=context,
                dlt_source=pipelines.get_source(name),
                dlt_pipeline=pipelines.make_pipeline(name),
            )

    return _assets


def defs() -> Definitions:
    return Definitions(
        assets=[_source_assets(name) for name in SOURCE_NAMES],
        resources={"dlt": DagsterDltResource()},
    )
