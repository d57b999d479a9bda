"""PQA scoring v1 vs v2 on the default demo world: the build and its tests, the backtest against
the world's closed-won outcomes, point-in-time correctness, incremental = full, idempotent rebuilds.

The tests run in file order on one database: the read-only ones first, then the ones that add
signals to the raw tables.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

import scoring_world as sw

pytestmark = pytest.mark.slow

# v2 on the default world (seed 7, end 2025-06-30, as of 30 days before): ROC AUC 0.72 vs v1 0.66.
# The ceiling is low: the world's own latent intent ranks the same accounts at 0.90 AUC, and even a
# model fitted to that latent intent on account-level features reaches ~0.74 (see
# models/intermediate/pqa/README.md). The floor leaves room for run-to-run noise, none for a regression
# to v1's level.
V2_AUC_FLOOR = 0.70


def _end(world_dir) -> dt.date:
    return dt.date.fromisoformat(json.loads((world_dir / "meta.json").read_text())["end_date"])


def test_build_runs_the_scoring_unit_and_data_tests(scoring_build):
    _, _, run = scoring_build
    assert run.failures() == []
    ids = {r["unique_id"] for r in run.results}
    unit = {i.split(".")[-1] for i in ids if i.startswith("unit_test.")}
    assert {"pqa_v2_tier_boundaries", "pqa_v2_tier_hysteresis_and_silence", "pqa_v2_single_signal_12h_ago_is_not_full_velocity",
            "pqa_v1_tier_boundaries", "pqa_trend_against_previous_day"} <= unit
    singular = {i.split(".")[-1] for i in ids if i.startswith("test.") and ".assert_pqa_" in i}
    assert {"assert_pqa_scores_bounded_by_weights_and_caps", "assert_pqa_one_row_per_account_day_and_version",
            "assert_pqa_config_is_well_formed", "assert_pqa_tier_changes_change_tier"} <= singular


def test_both_versions_score_every_account_every_day(scoring_build, scoring_engine):
    import pandas as pd

    frame = pd.read_sql("""
        select score_version, count(*) as n, count(distinct account_id) as accounts,
               count(distinct score_date) as days, max(score_date) as last_day, min(score) as low, max(score) as high
        from marts.fct_account_scores_daily group by score_version order by score_version""", scoring_engine)
    assert list(frame["score_version"]) == ["v1", "v2"]
    assert frame["n"].nunique() == 1 and (frame["n"] == frame["accounts"] * frame["days"]).all()
    assert (frame["last_day"] == _end(scoring_build[0])).all()
    assert frame["low"].min() >= 0 and frame["high"].max() <= 100
    current = pd.read_sql("select score_version, count(*) as n, count(distinct account_id) as accounts "
                          "from marts.account_scores_current group by 1", scoring_engine)
    assert list(current["score_version"]) == ["v2"] and current["n"][0] == current["accounts"][0] == frame["accounts"][0]


def test_current_scores_explain_themselves(scoring_engine):
    import pandas as pd

    hot = pd.read_sql("select account_id, score, tier, reason, factors, evidence_signal_ids, v1_score "
                      "from marts.account_scores_current where tier = 'HOT' order by score desc limit 5", scoring_engine)
    assert len(hot) > 0
    for row in hot.itertuples():
        assert row.reason.startswith(f"score {row.score} ") and "active people" in row.reason
        assert [f["name"] for f in row.factors] == ["user_count", "usage_velocity", "feature_breadth",
                                                    "engagement_recency", "seniority_signals", "firmographic_fit"]
        assert abs(sum(f["points"] for f in row.factors) - row.score) <= 1
        assert 1 <= len(row.evidence_signal_ids) <= 3
    ids = [i for row in hot.itertuples() for i in row.evidence_signal_ids]
    found = pd.read_sql("select count(*) as n from intermediate.int_signals__attributed where signal_id = any(%(ids)s)",
                        scoring_engine, params={"ids": ids})
    assert found["n"][0] == len(set(ids))  # evidence ids are real signals


def test_tier_changes_list_every_transition(scoring_engine):
    import pandas as pd

    counts = pd.read_sql("""
        select flagged.score_version, flagged.n as flagged, listed.n as listed
        from (select score_version, count(*) as n from marts.fct_account_scores_daily
              where is_tier_change group by 1) as flagged
        inner join (select score_version, count(*) as n from marts.fct_account_tier_changes group by 1) as listed
            on flagged.score_version = listed.score_version
        order by 1""", scoring_engine)
    assert (counts["flagged"] == counts["listed"]).all()
    # hysteresis: v2 flips tiers less often per account than v1 (no one-day dips)
    v1, v2 = counts["listed"]
    assert v2 < v1


def test_v2_beats_v1_in_the_backtest(scoring_build, scoring_engine, capsys):
    from devsignal import backtest

    world_dir = scoring_build[0]
    result = backtest.run_backtest(world_dir=world_dir, horizon_days=30, engine=scoring_engine)
    summary = backtest.summary(result).set_index("score_version")
    with capsys.disabled():
        print()
        backtest.print_backtest(result)
        print(summary.round(3).to_string())
    v1, v2 = summary.loc["v1", "roc_auc"], summary.loc["v2", "roc_auc"]
    assert v2 > v1, (v1, v2)
    assert v2 >= V2_AUC_FLOOR, v2
    # as of 30 days before the end, no peeking: the scores used are those of that day
    assert set(result["as_of"]) == {_end(world_dir) - dt.timedelta(days=30)}
    labelled = backtest.labelled_scores(world_dir, None, 30, scoring_engine)[0]
    conversions = labelled.groupby("score_version")["converted"].sum()
    assert conversions["v1"] == conversions["v2"] > 0  # the same accounts and labels for both versions
    import pandas as pd

    in_db = pd.read_sql("select score_version, metric, subject, value from analysis.score_backtest "
                        "where metric = 'roc_auc'", scoring_engine).set_index("score_version")
    assert abs(in_db.loc["v2", "value"] - v2) < 1e-9


def test_rebuilding_gives_identical_score_marts(scoring_build):
    world_dir, work_dir, _ = scoring_build
    before = sw.table_hashes()
    run = sw.run_dbt(["run", "--select", *sw.SCORING_MODELS], sw.world_vars(world_dir), work_dir=work_dir)
    assert run.returncode == 0, run.output[-3000:]
    assert sw.table_hashes() == before


def _differing(left: dict, right: dict) -> list[str]:
    return sorted(t for t in left if left[t] != right.get(t))


def test_point_in_time_and_late_signals(scoring_build):
    """Signals after day D never change D's scores, even rebuilt in full; late signals inside the
    lookback (3 days) are caught by the incremental run exactly as a full rebuild computes them.
    (Signals older than the lookback need `--full-refresh`: see models/intermediate/pqa/README.md.)"""
    from bench.scoring import add_segment_signals

    world_dir, work_dir, _ = scoring_build
    end = _end(world_dir)
    day_d = end - dt.timedelta(days=10)
    vars_ = sw.world_vars(world_dir)
    until_d = f"score_date <= '{day_d}'"
    before_d = sw.table_hashes(where=until_d)
    before_end = sw.table_hashes(where=f"score_date = '{end}'")

    conn = sw.connect()
    try:
        added = add_segment_signals(conn, 3000, end - dt.timedelta(days=2), end, salt="late")
    finally:
        conn.close()
    assert added == 3000

    # incremental: the signal models, then the scoring models (the last 3 days are recomputed)
    run = sw.run_dbt(["run", "--select", "stg_segment__tracks", "int_signals__unioned", "int_signals__attributed",
                      *sw.SCORING_MODELS], vars_, work_dir=work_dir)
    assert run.returncode == 0, run.output[-3000:]
    assert _differing(sw.table_hashes(where=until_d), before_d) == []
    after_end = sw.table_hashes(where=f"score_date = '{end}'")
    assert "marts.fct_account_scores_daily" in _differing(after_end, before_end)  # the new signals count
    incremental = sw.table_hashes()

    # in full: the days up to D are still the same (point in time), and every row equals the incremental run's
    run = sw.run_dbt(["run", "--full-refresh", "--select", *sw.SCORING_MODELS], vars_, work_dir=work_dir)
    assert run.returncode == 0, run.output[-3000:]
    assert _differing(sw.table_hashes(where=until_d), before_d) == []
    assert _differing(sw.table_hashes(), incremental) == []


def test_an_account_added_by_a_config_change_gets_its_whole_history(scoring_build, scoring_engine):
    """A config change that ADDS an account (here: a domain that was internal no longer is) is
    backfilled by the next plain incremental run: the account gets every day from the first of the
    spine, in both versions, exactly as a full rebuild computes it (no `--full-refresh` needed)."""
    import pandas as pd

    world_dir, work_dir, _ = scoring_build
    vars_ = sw.world_vars(world_dir)
    [domain, account_id, first_day] = pd.read_sql("""
        select accounts.domain, accounts.account_id, min(scores.score_date) filter (where scores.count_signals_30d > 0)
        from marts.dim_accounts as accounts
        inner join marts.fct_account_scores_daily as scores
            on accounts.account_id = scores.account_id and scores.score_version = 'v1'
        group by accounts.domain, accounts.account_id, accounts.count_signals
        order by 3, accounts.count_signals desc, accounts.domain
        limit 1""", scoring_engine).iloc[0]
    end = _end(world_dir)
    assert (end - first_day).days > 30  # early days the lookback would never reach
    before = sw.table_hashes()
    upstream_and_scores = ["run", "--select", "+account_scores_current"]

    # the domain becomes internal: its people are staff, the account and its scores leave
    as_internal = {**vars_, "internal_domains": [*vars_["internal_domains"], domain]}
    run = sw.run_dbt(upstream_and_scores, as_internal, work_dir=work_dir)
    assert run.returncode == 0, run.output[-3000:]
    left = pd.read_sql("select count(*) as n from marts.fct_account_scores_daily where account_id = %(a)s",
                       scoring_engine, params={"a": account_id})
    assert left["n"][0] == 0

    # and back: an incremental run adds the account with its whole history, equal to a full build
    run = sw.run_dbt(upstream_and_scores, vars_, work_dir=work_dir)
    assert run.returncode == 0, run.output[-3000:]
    days = pd.read_sql("""select score_version, min(score_date) as first_day, count(*) as n
                          from marts.fct_account_scores_daily where account_id = %(a)s group by 1 order by 1""",
                       scoring_engine, params={"a": account_id})
    spine = pd.read_sql("select min(score_date) as first_day, max(score_date) as last_day "
                        "from marts.fct_account_scores_daily", scoring_engine).iloc[0]
    assert list(days["first_day"]) == [spine["first_day"]] * 2
    assert list(days["n"]) == [(spine["last_day"] - spine["first_day"]).days + 1] * 2
    assert _differing(sw.table_hashes(), before) == []
