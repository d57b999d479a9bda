"""Shape of the dbt project itself, read from the manifest the fixture build wrote."""

from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="module")
def manifest(dbt_build):
    return json.loads((dbt_build.work_dir / "target" / "manifest.json").read_text())


def _nodes(manifest, resource_type):
    return [n for n in manifest["nodes"].values()
            if n["resource_type"] == resource_type and n["package_name"] == "devsignal"]


def test_every_source_is_keyed_to_its_dlt_asset(manifest):
    sources = list(manifest["sources"].values())
    assert {s["source_name"] for s in sources} == {"npm", "pypi", "github", "segment", "crm", "app"}
    for source in sources:
        if source["source_name"] == "app":  # the app's own tables (Alembic), read back by dbt: no dlt asset
            assert source["schema"] == "app"
            assert source["config"]["meta"]["dagster"]["asset_key"] == ["app", source["name"]]
            continue
        assert source["schema"] == f"raw_{source['source_name']}"
        key = source["config"]["meta"]["dagster"]["asset_key"]
        assert key == ["raw", source["source_name"], source["name"]], source["unique_id"]


def test_models_sit_in_their_layer_schema_with_the_right_prefix(manifest):
    prefixes = {"staging": ("stg_",), "intermediate": ("int_",), "marts": ("dim_", "fct_", "account_scores_")}
    for node in _nodes(manifest, "model"):
        layer = node["fqn"][1]
        assert node["schema"] == layer, node["unique_id"]
        # marts/app/: tables shaped for one CRM screen (its README), named mart_<screen>_...
        allowed = ("mart_",) if layer == "marts" and node["fqn"][2] == "app" else prefixes[layer]
        assert node["name"].startswith(allowed), node["unique_id"]
        if layer == "staging":
            assert node["name"].startswith(f"stg_{node['fqn'][2]}__"), node["unique_id"]


def test_staging_models_read_one_source_and_nothing_else(manifest):
    for node in _nodes(manifest, "model"):
        if node["fqn"][1] == "staging":
            parents = node["depends_on"]["nodes"]
            assert len(parents) == 1 and parents[0].startswith("source."), node["unique_id"]


def test_every_model_has_a_description_and_a_tested_key(manifest):
    tests_by_model: dict[str, set[str]] = {}
    for test in _nodes(manifest, "test"):
        meta = test.get("test_metadata") or {}
        for parent in test["depends_on"]["nodes"]:
            tests_by_model.setdefault(parent, set()).add(meta.get("name", "singular"))
    for node in _nodes(manifest, "model"):
        assert node["description"].strip(), f"{node['unique_id']} has no description"
        kinds = tests_by_model.get(node["unique_id"], set())
        has_key = {"unique", "not_null"} <= kinds or "unique_combination_of_columns" in kinds
        assert has_key, f"{node['unique_id']} has no primary-key test ({sorted(kinds)})"


def test_pqa_factor_model_is_unit_tested(manifest):
    unit_tests = [u for u in manifest.get("unit_tests", {}).values()]
    on_factors = [u["name"] for u in unit_tests if u["model"] == "int_pqa__v1_factors"]
    assert len(on_factors) >= 6, on_factors
