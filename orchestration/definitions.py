"""The Dagster code location: a thin root that merges each domain's definitions."""

from dagster import Definitions

from orchestration.defs import ingestion, transform

defs = Definitions.merge(ingestion.defs(), transform.defs())
