"""The Dagster code location: a thin root that merges each domain's definitions."""

from dagster import Definitions

from orchestration.defs import activation, automation, ingestion, transform

_sources = ingestion.source_assets()

defs = Definitions.merge(
    Definitions(assets=list(_sources.values()), resources=ingestion.defs().resources),
    transform.defs(),
    activation.defs(),
    automation.defs(_sources),
)
