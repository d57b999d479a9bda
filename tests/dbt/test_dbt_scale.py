"""The daily score model at volume: 200 accounts x 120 days (~80k product events) must build in seconds."""

from __future__ import annotations

import pytest

import dbt_raw_fixture as fx

SCALE_DBNAME = "devsignal_dbt_scale"


@pytest.mark.slow
def test_daily_scores_build_in_seconds_at_200_accounts_by_120_days(pg_params, tmp_path):
    fx.load_fixture(pg_params, SCALE_DBNAME, fx.scale_rows(accounts=200, days=120))
    # cautious: only the tests whose every parent is built (marts outside the selection, e.g. the
    # identity marts, have relationship tests into dim_accounts)
    run = fx.run_dbt(pg_params, SCALE_DBNAME,
                     ["build", "--select", "+account_scores_current", "--indirect-selection", "cautious"],
                     {"score_as_of": fx.SCORE_AS_OF}, tmp_path)
    assert run.returncode == 0, run.output[-4000:]
    timings = {r["unique_id"].split(".")[-1]: r["execution_time"] for r in run.results}
    print(f"\nscale build {run.seconds:.1f}s; inputs {timings['int_pqa__account_day_inputs']:.2f}s, "
          f"daily fact {timings['fct_account_scores_daily']:.2f}s")
    assert timings["int_pqa__account_day_inputs"] < 15
    assert timings["fct_account_scores_daily"] < 15

    conn = fx.connect(pg_params, SCALE_DBNAME)
    try:
        with conn.cursor() as cur:
            cur.execute("select count(*), count(distinct account_id), count(distinct score_date) "
                        "from marts.fct_account_scores_daily where score_version = 'v1'")
            rows, accounts, days = cur.fetchone()
    finally:
        conn.close()
    assert accounts == 200 and days == 120 and rows == accounts * days
