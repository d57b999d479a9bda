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


def test_activation_asset_reads_the_marts(graph):
    outbox = graph.get(AssetKey(["activation", "outbox"]))
    assert outbox.group_name == "activation"
    assert {AssetKey(["marts", "fct_account_tier_changes"]), AssetKey(["marts", "dim_people"]),
            AssetKey(["marts", "fct_signals"])} <= set(outbox.parent_keys)


def test_npm_and_pypi_are_partitioned_by_day(graph):
    from dagster import DailyPartitionsDefinition

    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if key.path[0] == "raw" and key.path[1] in {"npm", "pypi"}:
            assert isinstance(node.partitions_def, DailyPartitionsDefinition), key.to_user_string()
        elif node.is_materializable:
            assert node.partitions_def is None, key.to_user_string()


def test_schedules_and_sensors(defs):
    schedules = {s.name: s for s in defs.schedules}
    assert schedules["github_hourly"].cron_schedule == "7 * * * *"
    assert schedules["daily_scoring_schedule"].cron_schedule == "30 3 * * *"
    assert schedules["weekly_digest_schedule"].cron_schedule == "0 9 * * 1"
    assert {"npm_daily_schedule", "pypi_daily_schedule", "freshness_checks_schedule"} <= set(schedules)
    sensors = {s.name for s in defs.sensors}
    assert {"intake_inbox_sensor", "crm_drop_folder_sensor", "tier_change_sensor", "deal_stage_sensor",
            "contact_created_sensor", "signal_received_sensor", "outbox_sensor",
            "slack_interactions_sensor"} <= sensors


def test_fast_path_selects_segment_and_what_follows_it(defs):
    keys = set(defs.resolve_job_def("fast_path").asset_layer.executable_asset_keys)
    raw = {key.path[1] for key in keys if key.path[0] == "raw"}
    assert raw == {"segment"}
    assert AssetKey(["marts", "account_scores_current"]) in keys
    assert AssetKey(["activation", "outbox"]) in keys


def test_a_freshness_check_per_source(graph):
    checks = {check.name for check in graph.asset_check_keys if check.asset_key.path[0] == "raw"}
    assert checks == {f"{source}_fresh" for source in SOURCES}
