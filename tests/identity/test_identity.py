"""Identity resolution on the default demo world, measured against its ground truth (truth/):
person -> account precision and recall (overall and per rule), false merges, the noise filter;
then what must hold over rebuilds: identical marts, stable person ids (an added identifier keeps
the id, a merge keeps the older one and records an alias), manual overrides that win and survive,
an incremental fct_signals equal to a full refresh; and the SQL TF-IDF against scikit-learn's.

One world is built per session (conftest.py); the tests that change it run last, in file order."""

from __future__ import annotations

import datetime as dt

import pytest

from bench import identity as bench_identity

from .conftest import IDENTITY_OVERRIDES_DDL

pytestmark = pytest.mark.slow


# -- measured against the truth ------------------------------------------------------------------


def test_person_to_account_precision_and_recall(built_world, figures):
    """Two readings of person -> account precision, both reported; the bar is on the first.

    - precision: the predicted account is the employer on the world's last day OR on the day
      DevSignal last saw the person (their latest activity or record). The issue's rule is that
      activity is credited to the employer at the time of the event, and a person's current account
      is the employer of their latest evidence; a job change after that is in no source.
    - precision_at_end (strict): the employer on the world's last day only. Its extra misses are
      exactly those job changes nothing shows (`stale_after_job_change`); it is held to a lower bar so
      a resolver that ignored newer evidence of a move would still fail.
    See models/intermediate/identity/README.md ("Which reading is the measure")."""
    print("\n" + bench_identity.figures_table(figures))
    print(f"timings (s): { {k: round(v, 1) for k, v in built_world.timings.items()} }")
    people = figures["people"]
    print(f"person -> account precision: {people['precision']:.3f} (employer at the end or when last seen; "
          f"the measure) | {people['precision_at_end']:.3f} (strict: employer on the last day); "
          f"{people['stale_after_job_change']} job changes after the last evidence")
    assert people["precision"] >= 0.99, figures["wrong_examples"]
    assert people["recall_attributable"] >= 0.95
    # the strict reading differs from the measure only by job changes after the last evidence
    stale_share = people["stale_after_job_change"] / people["predicted"]
    assert abs(people["precision"] - people["precision_at_end"] - stale_share) < 1e-3
    assert people["precision_at_end"] >= 0.93
    for rule, row in figures["per_rule"].items():
        if row["predicted"] >= 20:
            assert row["precision"] >= 0.98, (rule, row)


def test_no_false_merges(figures):
    assert figures["false_merges"]["devsignal_people"] == 0, figures["false_merges"]["examples"]


def test_noise_filter_catches_bots_staff_and_test_accounts(built_world, figures):
    noise = figures["noise"]
    assert noise["bot"]["flagged_as_noise"] == noise["bot"]["present"] > 0
    assert noise["vendor"]["flagged_as_noise"] == noise["vendor"]["present"] > 0
    assert figures["people"]["noise_flagged_customers"] == 0
    signals = figures["signals"]
    assert signals["noise_excluded"] == signals["noise_signals"] > 0
    kinds = {row["noise_type"]: row["n"] for row in built_world.query(
        "select noise_type, count(*) as n from intermediate.int_signals__noise group by 1")}
    assert set(kinds) == {"bot", "internal_domain", "test_account"}
    # every [bot] login, every CI-user-agent call and the world's test domains are caught, with a reason
    assert built_world.query("""
        select count(*) as n from intermediate.int_signals__attributed
        where (github_login like '%[bot]' or user_agent ~* '^(github-actions|curl/|gitlab-runner)')
          and exclusion_reason is distinct from 'bot'""")[0]["n"] == 0
    tests = built_world.query("""
        select primary_email, noise_reason from marts.dim_people
        where primary_email ~ '(@example\\.com|@forgeflow-staging\\.com)$'""")
    assert tests and all(row["noise_reason"] == "test_account" for row in tests)


def test_signals_credited_to_the_employer_of_the_day(figures):
    signals = figures["signals"]
    assert signals["precision"] >= 0.99
    # the rest are anonymous visitors who never identified: nothing ties them to a company
    assert signals["recall"] >= 0.85


def test_every_rule_is_exercised_and_recorded(built_world):
    rules = {row["match_rule"] for row in built_world.query(
        "select distinct match_rule from marts.dim_people where match_rule is not null")}
    assert {"crm_association", "segment_group", "work_email_domain", "github_company"} <= rules
    rows = built_world.query("""
        select count(*) filter (where account_id is not null and (match_rule is null or match_confidence is null)) as n
        from marts.fct_signals""")
    assert rows[0]["n"] == 0


def test_signal_types_are_canonical(built_world):
    types = {row["signal_type"] for row in built_world.query("select distinct signal_type from marts.fct_signals")}
    aliases = {row["signal_type"] for row in built_world.query(
        "select distinct signal_type from staging.signal_type_aliases")}
    assert types <= aliases, types - aliases
    assert {"repo_star", "page_view", "signup", "api_call"} <= types


def test_sql_tfidf_equals_scikit_learn(built_world):
    """The TF-IDF the SQL computes is scikit-learn's TfidfVectorizer(char_wb, 3-grams), to 1e-9."""
    conn = built_world.connect()
    try:
        documents = bench_identity._documents(conn)
        queries = sorted({text for (text,) in bench_identity._query(conn, """
            select distinct query_text from intermediate.int_identity__company_name_matches
            where query_text is not null""")})
        sql = bench_identity._query(conn, """
            select distinct query_text, account_domain, similarity, runner_up_similarity
            from intermediate.int_identity__company_name_matches where match_method = 'tfidf'""")
    finally:
        conn.close()
    assert sql, "no name went to TF-IDF"
    reference = bench_identity.best_matches(documents, [row[0] for row in sql], queries)
    for text, domain, similarity, runner_up in sql:
        expected_domain, expected, expected_runner_up = reference[text]
        assert abs(float(similarity) - expected) < 1e-6, text
        assert abs(float(runner_up) - expected_runner_up) < 1e-6, text
        if expected - expected_runner_up > 1e-9:
            assert domain == expected_domain, text


def test_fuzzy_threshold_is_calibrated(built_world):
    """Leave-one-out on the truth: the configured threshold keeps fuzzy matches >= 0.99 precise."""
    conn = built_world.connect()
    try:
        calibration = bench_identity.calibrate_fuzzy(conn, built_world.world_dir)
    finally:
        conn.close()
    configured = 0.86  # var identity_fuzzy_threshold's default, with margin 0.1
    row = next(r for r in calibration["table"] if r["threshold"] == configured and r["margin"] == 0.1)
    print(f"\nfuzzy calibration: {calibration['samples']} names, at {configured}: {row}; "
          f"chosen {calibration['chosen']}; highest wrong {calibration['highest_wrong'][:3]}")
    assert row["precision"] is None or row["precision"] >= 0.99
    assert calibration["chosen"] is not None and calibration["chosen"]["threshold"] <= configured


# -- over rebuilds: stable ids, overrides, incremental == full refresh ---------------------------


def _people_by_identifier(built_world) -> dict[str, str]:
    return {row["identifier_key"]: row["person_id"] for row in built_world.query(
        "select identifier_key, person_id from marts.dim_identifiers where person_id is not null")}


def _insert(built_world, table: str, rows: list[dict]) -> None:
    """Rows into a raw table the way a loader would (dlt's bookkeeping columns when the table has them)."""
    schema, name = table.split(".")
    columns = {row["column_name"] for row in built_world.query(
        "select column_name from information_schema.columns where table_schema = %s and table_name = %s", schema, name)}
    conn = built_world.connect()
    try:
        with conn.cursor() as cur:
            for index, row in enumerate(rows):
                extra = {"_dlt_load_id": "9999999999.0", "_dlt_id": f"identity-test-{name}-{index}"}
                row = {**row, **{key: value for key, value in extra.items() if key in columns}}
                names = ", ".join(f'"{name}"' for name in row)
                cur.execute(f"insert into {table} ({names}) values ({', '.join(['%s'] * len(row))})",
                            list(row.values()))
    finally:
        conn.close()


@pytest.fixture(scope="module")
def changes(built_world, figures):
    """Apply, then rebuild once: a new identifier for a known person, evidence that joins two people,
    a late event, and manual merge / split / set_account decisions in app.identity_overrides."""
    people = built_world.query("""
        select p.person_id, p.segment_user_id, p.primary_email, p.account_id, p.first_seen_at
        from marts.dim_people p
        where p.noise_reason is null and p.segment_user_id is not null and p.primary_email is not null
          and p.account_id is not null and p.count_identifiers >= 3
        order by p.person_id
        limit 8""")
    assert len(people) == 8
    # distinct people, each pair ordered by when they were first seen (the older id survives a merge)
    merge_old, manual_a, add, split, set_account, manual_b, _, _ = sorted(
        people, key=lambda p: (p["first_seen_at"], p["person_id"]))
    # someone seen only as a browser, later: logging in from that browser joins them to merge_old
    [merge_new] = built_world.query("""
        select p.person_id, i.identifier_value as anonymous_id, p.first_seen_at
        from marts.dim_people p join marts.dim_identifiers i using (person_id)
        where p.is_anonymous and p.count_identifiers = 1 and p.first_seen_at > %s
        order by p.person_id limit 1""", merge_old["first_seen_at"])
    target = built_world.query("""
        select account_id, domain from marts.dim_accounts where account_id <> %s order by domain limit 1""",
                               set_account["account_id"])[0]
    before = _people_by_identifier(built_world)
    end = dt.datetime.fromisoformat(built_world.vars["score_as_of"] + "T12:00:00+00:00")
    new_email = "added.address@" + add["primary_email"].split("@")[1]
    _insert(built_world, "raw_segment.identifies", [
        # 1. a new identifier for a known person
        {"message_id": "identity-test-add", "type": "identify", "timestamp": end - dt.timedelta(days=1),
         "user_id": add["segment_user_id"], "traits__email": new_email}])
    _insert(built_world, "raw_segment.tracks", [
        # 2. evidence tying two people together: the older one's user calls from the newer one's browser
        {"message_id": "identity-test-merge", "type": "track", "timestamp": end - dt.timedelta(days=1),
         "user_id": merge_old["segment_user_id"], "anonymous_id": merge_new["anonymous_id"], "event": "API Call"},
        # 3. a late event, older than the lookback window
        {"message_id": "identity-test-late", "type": "track", "timestamp": end - dt.timedelta(days=40),
         "user_id": add["segment_user_id"], "event": "API Call"}])
    conn = built_world.connect()
    try:
        with conn.cursor() as cur:
            cur.execute(IDENTITY_OVERRIDES_DDL)
            cur.execute("""
                insert into app.identity_overrides
                    (action, person_id, other_person_id, identifier_type, identifier_value, account_id,
                     reason, created_by)
                values
                    ('merge', %s, %s, null, null, null, 'same human, two sign-ups', 'test'),
                    ('split', %s, null, 'email', %s, null, 'shared address', 'test'),
                    ('set_account', %s, null, null, null, %s, 'moved to the parent company', 'test')
                returning override_id""",
                        (manual_a["person_id"], manual_b["person_id"], split["person_id"],
                         "  " + split["primary_email"].upper() + " ", set_account["person_id"], target["account_id"]))
            merge_override = cur.fetchone()[0]
    finally:
        conn.close()
    built_world.dbt("run")
    return {"add": add, "new_email": new_email, "merge_old": merge_old, "merge_new": merge_new,
            "manual_a": manual_a, "manual_b": manual_b, "split": split, "set_account": set_account,
            "target": target, "before": before, "merge_override": merge_override,
            "after": _people_by_identifier(built_world), "hashes": built_world.mart_hashes()}


def test_adding_an_identifier_keeps_the_person_id(changes):
    add, after, before = changes["add"], changes["after"], changes["before"]
    assert after[f"email:{changes['new_email']}"] == add["person_id"]
    for key, person in before.items():
        if person == add["person_id"]:
            assert after[key] == add["person_id"], key


def test_a_merge_keeps_the_older_id_and_records_an_alias(built_world, changes):
    old, new, after, before = changes["merge_old"], changes["merge_new"], changes["after"], changes["before"]
    moved = [key for key, person in before.items() if person == new["person_id"]]
    assert moved and all(after[key] == old["person_id"] for key in moved)
    aliases = built_world.query("select * from marts.dim_person_aliases where alias_person_id = %s", new["person_id"])
    assert [(a["person_id"], a["alias_reason"]) for a in aliases] == [(old["person_id"], "merge")]
    assert not built_world.query("select 1 from marts.dim_people where person_id = %s", new["person_id"])


def test_manual_overrides_win(built_world, changes):
    a, b, split, moved, target = (changes["manual_a"], changes["manual_b"], changes["split"], changes["set_account"],
                                  changes["target"])
    after = changes["after"]
    # merge: one person, the older id, the other an alias
    assert after[f"segment_user_id:{b['segment_user_id']}"] == a["person_id"]
    [alias] = built_world.query("select * from marts.dim_person_aliases where alias_person_id = %s", b["person_id"])
    assert (alias["person_id"], alias["alias_reason"]) == (a["person_id"], "manual_merge")
    # split: the address (written any which way in the override) left its person, who keeps the id
    email_key = f"email:{split['primary_email']}"
    assert after[f"segment_user_id:{split['segment_user_id']}"] == split["person_id"]
    assert after[email_key] != split["person_id"]
    assert built_world.query("select inactive_reason from intermediate.int_identity__edges "
                             "where %s in (identifier_key_a, identifier_key_b)", email_key)[0]["inactive_reason"] \
        == "split_override"
    # set_account: the person and their signals, every day
    [person] = built_world.query("select account_id, match_rule, match_confidence from marts.dim_people "
                                 "where person_id = %s", moved["person_id"])
    assert (person["account_id"], person["match_rule"], float(person["match_confidence"])) == \
        (target["account_id"], "manual", 1.0)
    accounts = built_world.query("select distinct account_id from marts.fct_signals where person_id = %s",
                                 moved["person_id"])
    assert [row["account_id"] for row in accounts] == [target["account_id"]]


def test_late_events_land_and_incremental_equals_full_refresh(built_world, changes):
    assert built_world.query("select 1 from marts.fct_signals s join intermediate.int_signals__unioned u "
                             "using (signal_id) where u.source_event = 'API Call' and u.signal_id = md5('segment' "
                             "|| '-' || 'identity-test-late')")
    incremental = changes["hashes"]["fct_signals"]
    built_world.dbt("run", "--select", "fct_signals", "--full-refresh", select=False)
    assert built_world.mart_hashes()["fct_signals"] == incremental


def test_rebuilding_gives_identical_marts_and_overrides_survive(built_world, changes):
    built_world.dbt("run")
    assert built_world.mart_hashes() == changes["hashes"]
    assert _people_by_identifier(built_world) == changes["after"]


def test_revoking_a_manual_merge_gives_the_id_back(built_world, changes):
    a, b = changes["manual_a"], changes["manual_b"]
    built_world.query("update app.identity_overrides set revoked_at = now() where override_id = %s",
                      changes["merge_override"])
    built_world.dbt("run")
    after = _people_by_identifier(built_world)
    assert after[f"segment_user_id:{a['segment_user_id']}"] == a["person_id"]
    assert after[f"segment_user_id:{b['segment_user_id']}"] == b["person_id"]
    assert not built_world.query("select 1 from marts.dim_person_aliases where alias_person_id = %s", b["person_id"])
    # the other decisions still hold
    assert after[f"email:{changes['split']['primary_email']}"] != changes["split"]["person_id"]
    [person] = built_world.query("select match_rule from marts.dim_people where person_id = %s",
                                 changes["set_account"]["person_id"])
    assert person["match_rule"] == "manual"
