"""`devsignal backtest`: how well each PQA score version predicts closed-won, on a generated world.

The scores are read *as of* a day before the world's end from `marts.fct_account_scores_daily`
(point in time: a day's score only uses signals that occurred by its end), and the outcomes come
from the world's ground truth (`truth/companies.parquet`), *after* that day: an account
"converts" when its company is `closed_won` with `as_of < outcome_date <= as_of + horizon_days`.
Accounts already won by the as-of day are left out (they are customers, not prospects).

This module is the only place that reads the truth next to the scores; the pipeline (dlt, dbt,
Dagster) never does. The results go to `analysis.score_backtest` (not `marts`: they are an
evaluation of the marts against data the product does not have), one set per
(as_of, horizon_days, score_version), replaced on a rerun.

Measures, per score version:
- `roc_auc`: how well the score ranks converters above the rest (0.5 = chance);
- `precision_at_k`: the share of converters among the k highest scores (k = 10, 20, and the number
  of converters);
- `conversion_rate` and `lift` by tier: a tier's conversion rate over the base rate;
- a logistic regression on the six factors' shares (points / max points, 0..1):
  `lr_coefficient` per factor, `suggested_weight` (the positive coefficients scaled to 100 points)
  and `lr_cv_roc_auc` (5-fold cross-validated), i.e. what re-weighting the same factors could reach.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd

FACTORS = ("user_count", "usage_velocity", "feature_breadth", "engagement_recency", "seniority_signals",
           "firmographic_fit")
V1_MAX_POINTS = {"user_count": 25, "usage_velocity": 20, "feature_breadth": 20, "engagement_recency": 15,
                 "seniority_signals": 10, "firmographic_fit": 10}
TIERS = ("HOT", "WARM", "COLD", "INACTIVE")
K_VALUES = (10, 20)
COLUMNS = ["score_version", "metric", "subject", "value", "accounts", "conversions", "as_of", "horizon_days",
           "world_end_date", "world_seed"]
TABLE = "analysis.score_backtest"


def _world_meta(world_dir: Path) -> dict:
    return json.loads((world_dir / "meta.json").read_text())


def _as_of(meta: dict, as_of, horizon_days: int) -> dt.date:
    end = dt.date.fromisoformat(meta["end_date"])
    day = dt.date.fromisoformat(str(as_of)) if as_of else end - dt.timedelta(days=horizon_days)
    if day + dt.timedelta(days=horizon_days) > end:
        raise ValueError(f"as_of {day} + {horizon_days} days is after the world's end ({end}): "
                         "outcomes in that horizon are not known yet")
    return day


def labelled_scores(world_dir=None, as_of=None, horizon_days: int = 30, engine=None) -> tuple[pd.DataFrame, dt.date]:
    """One row per (account, score_version) scored on `as_of`, with its factors and `converted` (0/1)."""
    import sqlalchemy as sa

    from devsignal import db, settings

    world_dir = Path(world_dir) if world_dir else settings.world_dir()
    meta = _world_meta(world_dir)
    day = _as_of(meta, as_of, horizon_days)
    engine = engine or db.engine()
    points = ", ".join(f"s.pqa_{name}_points" for name in FACTORS)
    query = sa.text(f"""
        select s.account_id, a.domain, s.score_version, s.score, s.tier, {points}
        from marts.fct_account_scores_daily as s
        inner join marts.dim_accounts as a on s.account_id = a.account_id
        where s.score_date = :as_of
    """)
    with engine.connect() as conn:
        scores = pd.read_sql(query, conn, params={"as_of": day})
        weights = pd.read_sql(sa.text(
            "select subject, value from staging.pqa_scoring_config "
            "where score_version = 'v2' and parameter = 'factor_weight'"), conn)
    if scores.empty:
        raise RuntimeError(f"no scores on {day} in marts.fct_account_scores_daily: build the project as of the "
                           f"world's end ({meta['end_date']}) first")

    truth = pd.read_parquet(world_dir / "truth" / "companies.parquet",
                            columns=["domain", "outcome", "outcome_date", "is_vendor"])
    truth["outcome_date"] = pd.to_datetime(truth["outcome_date"]).dt.date
    truth["domain"] = truth["domain"].str.lower()
    frame = scores.merge(truth, on="domain", how="left")
    won = frame["outcome"].eq("closed_won")
    already = won & frame["outcome_date"].map(lambda d: d is not None and not pd.isna(d) and d <= day)
    horizon_end = day + dt.timedelta(days=horizon_days)
    frame["converted"] = (won & frame["outcome_date"].map(
        lambda d: d is not None and not pd.isna(d) and day < d <= horizon_end)).astype(int)
    frame = frame[~already & ~frame["is_vendor"].fillna(False).astype(bool)].copy()

    max_points = {"v1": V1_MAX_POINTS, "v2": dict(zip(weights["subject"], weights["value"]))}
    for name in FACTORS:
        frame[f"{name}_share"] = [
            (float(p) / max_points.get(v, {}).get(name, 1) if max_points.get(v, {}).get(name) else 0.0)
            for p, v in zip(frame[f"pqa_{name}_points"], frame["score_version"])]
    frame.attrs.update(world_end_date=meta["end_date"], world_seed=meta.get("seed"))
    return frame.sort_values(["score_version", "account_id"]).reset_index(drop=True), day


def _metrics(version: str, group: pd.DataFrame) -> list[dict]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    rows = []
    y = group["converted"].to_numpy()
    n, positives = len(group), int(y.sum())
    base = positives / n if n else float("nan")

    def add(metric, subject, value, accounts=None, conversions=None):
        rows.append({"score_version": version, "metric": metric, "subject": str(subject),
                     "value": None if value is None or pd.isna(value) else float(value),
                     "accounts": accounts, "conversions": conversions})

    has_both = 0 < positives < n
    add("roc_auc", "*", roc_auc_score(y, group["score"]) if has_both else None, n, positives)
    add("base_rate", "*", base, n, positives)
    ranked = group.sort_values(["score", "account_id"], ascending=[False, True])
    for k in (*K_VALUES, positives):
        if k <= 0:
            continue
        hits = int(ranked["converted"].head(k).sum())
        add("precision_at_k", k, hits / min(k, n), min(k, n), hits)
    for tier in TIERS:
        in_tier = group[group["tier"] == tier]
        hits = int(in_tier["converted"].sum())
        rate = hits / len(in_tier) if len(in_tier) else None
        add("conversion_rate", tier, rate, len(in_tier), hits)
        add("lift", tier, rate / base if rate is not None and base else None, len(in_tier), hits)

    shares = group[[f"{name}_share" for name in FACTORS]].to_numpy(dtype=float)
    if has_both and positives >= 2:
        model = LogisticRegression(C=1.0, max_iter=2000).fit(shares, y)
        coefficients = model.coef_[0]
        positive = np.clip(coefficients, 0, None)
        weights = 100 * positive / positive.sum() if positive.sum() > 0 else np.zeros_like(positive)
        for name, coefficient, weight in zip(FACTORS, coefficients, weights):
            add("lr_coefficient", name, coefficient)
            add("suggested_weight", name, round(float(weight), 1))
        folds = min(5, positives)
        if folds >= 2:
            predicted = cross_val_predict(LogisticRegression(C=1.0, max_iter=2000), shares, y,
                                          cv=StratifiedKFold(folds, shuffle=True, random_state=0),
                                          method="predict_proba")[:, 1]
            add("lr_cv_roc_auc", "*", roc_auc_score(y, predicted), n, positives)
    return rows


def run_backtest(world_dir=None, as_of=None, horizon_days: int = 30, store: bool = True, engine=None) -> pd.DataFrame:
    """v1 and v2 against "converts within `horizon_days` after `as_of`" (default as_of: the world's end
    minus the horizon). Returns the long table (score_version, metric, subject, value, accounts,
    conversions, as_of, horizon_days, world_end_date, world_seed); stores it in analysis.score_backtest."""
    frame, day = labelled_scores(world_dir, as_of, horizon_days, engine)
    rows = []
    for version, group in frame.groupby("score_version", sort=True):
        rows.extend(_metrics(version, group))
    result = pd.DataFrame(rows)
    result["as_of"] = day
    result["horizon_days"] = horizon_days
    result["world_end_date"] = dt.date.fromisoformat(frame.attrs["world_end_date"])
    result["world_seed"] = frame.attrs["world_seed"]
    result = result[COLUMNS]
    if store:
        store_backtest(result, engine)
    return result


def store_backtest(result: pd.DataFrame, engine=None) -> None:
    """Replace this (as_of, horizon_days, score_version) set in analysis.score_backtest."""
    import sqlalchemy as sa

    from devsignal import db

    engine = engine or db.engine()
    stored = result.assign(run_at=pd.Timestamp.now(tz="UTC"))
    with engine.begin() as conn:
        conn.execute(sa.text("create schema if not exists analysis"))
        exists = conn.execute(sa.text("select to_regclass(:t) is not null"), {"t": TABLE}).scalar()
        if exists:
            for (as_of, horizon, version), _ in result.groupby(["as_of", "horizon_days", "score_version"]):
                conn.execute(sa.text(f"delete from {TABLE} where as_of = :a and horizon_days = :h and score_version = :v"),
                             {"a": as_of, "h": int(horizon), "v": version})
        stored.to_sql("score_backtest", conn, schema="analysis", if_exists="append", index=False)


def summary(result: pd.DataFrame) -> pd.DataFrame:
    """One row per score version: AUC, precision@k, HOT lift, the LR's cross-validated AUC."""
    out = []
    for version, group in result.groupby("score_version", sort=True):
        get = {(m, s): v for m, s, v in zip(group["metric"], group["subject"], group["value"])}
        row = {"score_version": version, "roc_auc": get.get(("roc_auc", "*")),
               "base_rate": get.get(("base_rate", "*"))}
        for metric, subject, value in zip(group["metric"], group["subject"], group["value"]):
            if metric == "precision_at_k":
                row[f"precision_at_{subject}"] = value
        row["hot_lift"] = get.get(("lift", "HOT"))
        row["lr_cv_roc_auc"] = get.get(("lr_cv_roc_auc", "*"))
        out.append(row)
    return pd.DataFrame(out)


def _fmt(value, digits=3) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def print_backtest(result: pd.DataFrame | None = None, *, world_dir=None, as_of=None, horizon_days: int = 30,
                   store: bool = True) -> pd.DataFrame:
    """Run the backtest (unless `result` is given) and print it as three tables."""
    from devsignal.console import console, table

    if result is None:
        result = run_backtest(world_dir=world_dir, as_of=as_of, horizon_days=horizon_days, store=store)
    first = result.iloc[0]
    versions = sorted(result["score_version"].unique())
    console.print(f"Backtest: scores as of {first['as_of']}, converts = closed_won within {first['horizon_days']} days "
                  f"after (world end {first['world_end_date']}, seed {first['world_seed']})")

    rows = []
    for version in versions:
        group = result[result["score_version"] == version]
        get = {(m, s): (v, a, c) for m, s, v, a, c in
               zip(group["metric"], group["subject"], group["value"], group["accounts"], group["conversions"])}
        auc, accounts, conversions = get[("roc_auc", "*")]
        precisions = [f"{_fmt(v, 2)} ({int(c)}/{int(a)})" for (m, s), (v, a, c) in get.items() if m == "precision_at_k"]
        rows.append([version, int(accounts), int(conversions), _fmt(auc), " · ".join(precisions),
                     _fmt(get.get(("lr_cv_roc_auc", "*"), (None,))[0])])
    table("Ranking", ["version", "accounts", "converted", "ROC AUC", "precision@10 · @20 · @converted",
                      "LR on factors (CV AUC)"], rows, justify_right={"accounts", "converted", "ROC AUC"})

    rows = []
    for tier in TIERS:
        row = [tier]
        for version in versions:
            group = result[(result["score_version"] == version) & (result["subject"] == tier)]
            lift = group[group["metric"] == "lift"]
            if lift.empty:
                row += ["–"]
                continue
            value, accounts, conversions = lift.iloc[0][["value", "accounts", "conversions"]]
            row.append(f"{_fmt(value, 2)}× ({int(conversions)}/{int(accounts)})")
        rows.append(row)
    table("Lift by tier (conversion rate / base rate; converted/accounts)", ["tier", *versions], rows)

    rows = []
    for factor in FACTORS:
        row = [factor]
        for version in versions:
            group = result[(result["score_version"] == version) & (result["subject"] == factor)]
            coef = group[group["metric"] == "lr_coefficient"]["value"]
            weight = group[group["metric"] == "suggested_weight"]["value"]
            row.append(f"{_fmt(coef.iloc[0] if len(coef) else None, 2)} → {_fmt(weight.iloc[0] if len(weight) else None, 0)}")
        rows.append(row)
    table("Logistic regression on the factor shares: coefficient → suggested weight (of 100)",
          ["factor", *versions], rows)
    return result


def main(argv: list[str] | None = None) -> None:
    """`python -m devsignal.backtest [--as-of YYYY-MM-DD] [--horizon-days N] [--world-dir DIR] [--no-store]`."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m devsignal.backtest", description=__doc__.splitlines()[0])
    parser.add_argument("--as-of", default=None)
    parser.add_argument("--horizon-days", type=int, default=30)
    parser.add_argument("--world-dir", default=None)
    parser.add_argument("--no-store", action="store_true")
    args = parser.parse_args(argv)
    print_backtest(world_dir=args.world_dir, as_of=args.as_of, horizon_days=args.horizon_days, store=not args.no_store)


if __name__ == "__main__":
    main()
