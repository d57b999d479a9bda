"""The Dagster code location loads, and dlt + dbt form one lineage graph."""

from __future__ import annotations

import pytest
from dagster import AssetKey

from devsignal import pipeline

SOURCES = {"npm", "pypi", "github", "segment", "crm"}


@pytest.fixture(scope="module")
def defs():
    pipeline.prepare_dbt()
    from orchestration.definitions import defs

    return defs


@pytest.fixture(scope="module")
def graph(defs):
    return defs.resolve_asset_graph()


def test_every_source_has_raw_assets(graph):
    raw = [key for key in graph.get_all_asset_keys() if key.path[0] == "raw"]
    assert {key.path[1] for key in raw} == SOURCES
    assert all(len(key.path) == 3 for key in raw)


def test_dbt_sources_are_the_dlt_assets(defs, graph):
    """Every dbt source resolves to a materialisable raw/<source>/<table> asset, not a phantom."""
    materializable = {key for key in graph.get_all_asset_keys() if graph.get(key).is_materializable}
    staging = [key for key in materializable if key.path[0] == "staging"]
    assert staging
    for key in staging:
        for parent in graph.get(key).parent_keys:
            assert parent in materializable, f"{key.to_user_string()} depends on phantom {parent.to_user_string()}"
            assert parent.path[0] in {"raw", "staging"}


def test_marts_reach_back_to_raw(graph):
    scores = AssetKey(["marts", "fct_account_scores_daily"])
    seen, frontier = set(), [scores]
    while frontier:
        key = frontier.pop()
        for parent in graph.get(key).parent_keys:
            if parent not in seen:
                seen.add(parent)
                frontier.append(parent)
    assert {key.path[1] for key in seen if key.path[0] == "raw"} >= {"github", "segment", "crm"}


def test_groups(graph):
    groups = {graph.get(key).group_name for key in graph.get_all_asset_keys() if graph.get(key).is_materializable}
    assert {"ingestion", "staging", "intermediate", "marts"} <= groups


def test_dbt_tests_are_asset_checks(graph):
    checks = graph.asset_check_keys
    assert any(check.asset_key.path[0] == "marts" for check in checks)
