"""Each page of the CRM core renders the demo world's data, and one real interaction works.

Pages run with `AppTest.from_file` and a logged-in member in `st.session_state`; what they should
show is read from the demo database itself (read-only) and compared with what they render from the
test database's copy.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from devsignal import db

PAGES = Path(__file__).resolve().parents[2] / "apps" / "crm" / "app_pages"


def demo(sql: str, params=()):
    """Rows from the demo database (read-only): what the pages must show."""
    connection = db.connect("devsignal")
    connection.set_session(readonly=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    finally:
        connection.close()


def page(name: str, actor) -> AppTest:
    app = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=60)
    app.session_state["actor"] = actor
    return app.run()


def metric(app: AppTest, label: str):
    return next(element.value for element in app.metric if element.label == label)


def test_home_shows_todays_changes_and_looks_back_further(crm_database, actors):
    app = page("home", actors["MEMBER"])
    assert not app.exception
    expected_hot = demo("""select c.domain from marts.fct_account_tier_changes t
                           join marts.account_scores_current c using (account_id)
                           where t.score_date = c.score_date and t.to_tier = 'HOT' and c.tier = 'HOT'
                           order by c.score desc""")
    assert expected_hot, "the demo world should have a new HOT account on its latest score date"
    assert metric(app, "New HOT accounts") == str(len(expected_hot))
    hot_table = next(frame.value for frame in app.dataframe if "from_tier" in frame.value.columns and "reason" in frame.value.columns)
    assert sorted(hot_table["domain"]) == sorted(domain for (domain,) in expected_hot)
    week = demo("""select count(*) from marts.fct_account_tier_changes
                   where score_date > (select max(score_date) from marts.fct_account_tier_changes) - 7""")[0][0]
    assert metric(app, "Tier changes (7 days)") == str(min(week, 500))

    app.selectbox(key="home_days").set_value(30).run()
    month = demo("""select count(*) from marts.fct_account_tier_changes
                    where score_date > (select max(score_date) from marts.fct_account_tier_changes) - 30""")[0][0]
    assert metric(app, "Tier changes (30 days)") == str(min(month, 500))
    signups = demo("""select count(*) from marts.fct_signals where signal_type = 'signup' and occurred_at >
                      (select max(occurred_at) from marts.fct_signals where signal_type = 'signup') - interval '30 days'""")[0][0]
    assert metric(app, "New signups (30 days)") == str(min(signups, 500))
    freshness = next(frame.value for frame in app.dataframe if "last_load_at" in frame.value.columns)
    loaded = {source for source in ("npm", "pypi", "github", "segment", "crm")
              if demo(f"select count(*) from raw_{source}._dlt_loads where status = 0")[0][0]}
    assert loaded and set(freshness["source"]) == loaded


def test_accounts_filters_by_tier_and_tags_in_bulk(crm_database, actors):
    app = page("accounts", actors["MEMBER"])
    assert not app.exception
    everything = demo("select domain from marts.account_scores_current order by score desc, domain")
    table = app.dataframe[0].value
    assert list(table["domain"]) == [domain for (domain,) in everything]
    assert all(len(line) > 0 for line in table["sparkline"])

    app.multiselect(key="acc_tiers").set_value(["HOT"]).run()
    hot = demo("select domain from marts.account_scores_current where tier = 'HOT' order by score desc, domain")
    assert list(app.dataframe[0].value["domain"]) == [domain for (domain,) in hot]

    top_two = [account_id for (account_id,) in demo(
        "select account_id from marts.account_scores_current where tier = 'HOT' order by score desc, domain limit 2")]
    app.multiselect(key="acc_chosen").set_value(top_two).run()
    app.text_input(key="acc_tag_text").set_value("page-test-tag")
    app.button(key="FormSubmitter:acc_tag_form-Add tag").click().run()
    assert not app.exception
    assert "Tagged 2 account(s)" in app.success[0].value
    app.selectbox(key="acc_tag").set_value("page-test-tag").run()
    assert list(app.dataframe[0].value["domain"]) == [domain for (domain,) in hot[:2]]


def test_accounts_saved_view_and_safe_export(crm_database, actors):
    app = page("accounts", actors["VIEWER"])
    app.multiselect(key="acc_trends").set_value(["RISING", "FALLING"]).run()
    app.text_input(key="acc_view_name").set_value("Moving accounts")
    app.button(key="FormSubmitter:acc_save_view-Save current filters").click().run()
    assert not app.exception and "Saved view" in app.success[0].value
    assert not app.download_button  # exports need MEMBER

    fresh = page("accounts", actors["VIEWER"])  # a new session: no filter until the view is chosen
    rows = demo("select count(*) from marts.account_scores_current")[0][0]
    assert len(fresh.dataframe[0].value) == rows
    from apps.state import views

    view_id = next(view["view_id"] for view in views.list_views(actors["VIEWER"].email, "account")
                   if view["name"] == "Moving accounts")
    fresh.selectbox(key="acc_view").set_value(view_id).run()
    moving = demo("select count(*) from marts.account_scores_current where trend in ('RISING', 'FALLING')")[0][0]
    assert fresh.multiselect(key="acc_trends").value == ["RISING", "FALLING"]
    assert len(fresh.dataframe[0].value) == moving


def test_account_360_shows_the_score_and_takes_a_note(crm_database, actors):
    (account_id, name, score, tier), = demo("""select account_id, name, score, tier from marts.account_scores_current
                                              order by score desc, domain limit 1""")
    app = AppTest.from_file(str(PAGES / "account_360.py"), default_timeout=60)
    app.session_state["actor"] = actors["MEMBER"]
    app.session_state["account_id"] = account_id
    app.run()
    assert not app.exception
    assert metric(app, "Score") == str(score) and metric(app, "Tier") == tier
    factor_names = [factor["name"] for factor in demo(
        "select factors from marts.account_scores_current where account_id = %s", (account_id,))[0][0]]
    factors = next(frame.value for frame in app.dataframe if "max_points" in frame.value.columns)
    assert list(factors["name"]) == factor_names
    evidence = next(frame.value for frame in app.dataframe if "signal_id" in frame.value.columns)
    expected = demo("select evidence_signal_ids from marts.account_scores_current where account_id = %s", (account_id,))[0][0]
    assert sorted(evidence["signal_id"]) == sorted(expected)
    people = next(frame.value for frame in app.dataframe if "seniority" in frame.value.columns)
    known = demo("""select count(*) from marts.dim_people where account_id = %s
                    and not is_bot and not is_internal and not is_test_account""", (account_id,))[0][0]
    assert len(people) == known
    assert any("Next best actions" in header.value for header in app.subheader)
    assert any("Claim the account" in text.value for text in app.text)  # HOT and unowned in the demo

    app.text_area(key="a360_note").set_value("Called <b>them</b>; =SUM(A1) follow up")
    app.button(key="FormSubmitter:a360_note_form-Save note").click().run()
    assert not app.exception and app.success[0].value == "Note saved."
    timeline = next(frame.value for frame in app.dataframe if "lane" in frame.value.columns)
    notes = timeline[timeline["lane"] == "note"]
    assert list(notes["detail"]) == ["Called <b>them</b>; =SUM(A1) follow up"]  # kept as text, never HTML


def test_people_search_finds_the_demo_people(crm_database, actors):
    app = page("people", actors["VIEWER"])
    assert not app.exception
    app.text_input(key="people_search").set_value("khalil").run()
    expected = demo("""select count(*) from marts.dim_people
                       where (display_name ilike '%%khalil%%' or primary_email ilike '%%khalil%%'
                              or github_login ilike '%%khalil%%' or account_domain ilike '%%khalil%%')
                         and not (is_bot or is_internal or is_test_account) and not is_anonymous""")[0][0]
    table = app.dataframe[0].value
    assert expected > 0 and len(table) == expected
    assert all("khalil" in " ".join(str(value) for value in row).lower() for row in table.itertuples())


def test_person_shows_identities_and_employment(crm_database, actors):
    (person_id, display_name), = demo("""select person_id, display_name from marts.dim_people
                                         where not is_anonymous and account_id is not null
                                         order by count_identifiers desc, person_id limit 1""")
    app = page("person", actors["VIEWER"])
    assert not app.exception and app.info  # nobody chosen yet
    app.text_input(key="person_id_input").set_value(person_id).run()
    assert not app.exception
    assert app.header[0].value.replace("\\", "") == display_name
    identities = next(frame.value for frame in app.dataframe if "identifier_type" in frame.value.columns)
    expected = demo("select identifier_type, identifier_value from marts.dim_identifiers where person_id = %s", (person_id,))
    assert sorted(zip(identities["identifier_type"], identities["identifier_value"])) == sorted(expected)
    employment = next(frame.value for frame in app.dataframe if "first_signal_at" in frame.value.columns)
    accounts = demo("select count(distinct coalesce(account_id, '-')) from marts.fct_signals where person_id = %s", (person_id,))[0][0]
    assert len(employment) == accounts


def test_settings_creates_a_key_shown_once_and_filters_the_audit_log(crm_database, actors):
    app = page("settings", actors["ADMIN"])
    assert not app.exception
    roster = app.dataframe[0].value
    assert {"owner@crm.test", "admin@crm.test", "member@crm.test", "viewer@crm.test"} <= set(roster["email"])
    app.text_input(key="settings_key_name").set_value("page test key")
    app.button(key="FormSubmitter:settings_key_form-Create key").click().run()
    assert not app.exception
    shown = [block.value for block in app.code]
    assert len(shown) == 1 and shown[0].startswith("ds_live_")
    from apps.api import keys

    prefix = keys.parse_key(shown[0])
    listed = next(frame.value for frame in app.dataframe if "prefix" in frame.value.columns)
    assert prefix in set(listed["prefix"])
    app.selectbox(key="audit_action").set_value("api_key.create").run()
    log = next(frame.value for frame in app.dataframe if "outcome" in frame.value.columns)
    assert list(log["entity_id"]) == [prefix] and list(log["actor"]) == ["admin@crm.test"]
    assert shown[0] not in log.to_string()  # the key itself is never audited
    assert not app.code  # shown once: gone on the next rerun


def test_settings_for_a_viewer_offers_no_admin_forms(crm_database, actors):
    app = page("settings", actors["VIEWER"])
    assert not app.exception
    labels = {button.label for button in app.button}
    assert "Change my password" in labels  # everyone manages their own password
    assert not labels & {"Invite", "Change role", "Create key", "Revoke", "Save default channel"}
    assert not [frame for frame in app.dataframe if "outcome" in frame.value.columns]  # no audit log


def test_accounts_export_is_offered_to_members_and_audited(crm_database, actors):
    from sqlalchemy import text

    from apps.state import engine

    app = page("accounts", actors["MEMBER"])
    app.multiselect(key="acc_tiers").set_value(["HOT"]).run()
    hot = demo("select count(*) from marts.account_scores_current where tier = 'HOT'")[0][0]
    assert app.download_button[0].label == f"Export {hot} accounts as CSV"
    app.download_button(key="acc_export").click().run()
    assert not app.exception
    with engine().connect() as connection:
        row = connection.execute(text("""select after from app.audit_log where action = 'account.export'
                                         and actor = :actor order by audit_id desc limit 1"""),
                                 {"actor": actors["MEMBER"].email}).scalar()
    assert row["rows"] == hot and row["filters"]["tiers"] == ["HOT"]


def test_account_360_timeline_shows_slack_alerts_sent(crm_database, actors):
    from sqlalchemy import text

    from apps.state import engine

    (account_id,), = demo("select account_id from marts.account_scores_current order by score desc, domain offset 1 limit 1")
    with engine().begin() as connection:  # a row as the Slack sender writes it (migration 0004)
        connection.execute(text("""insert into app.slack_alerts_sent (idempotency_key, alert_type, account_id, channel,
                                                                       transport, status, ts, message, sent_at)
                                   values (:key, 'hot_account', :account, '#sales', 'sink', 'sent', '1.2',
                                           '{}'::jsonb, now())"""), {"key": f"test-{account_id}", "account": account_id})
    app = AppTest.from_file(str(PAGES / "account_360.py"), default_timeout=60)
    app.session_state["actor"] = actors["VIEWER"]
    app.session_state["account_id"] = account_id
    app.run()
    assert not app.exception
    timeline = next(frame.value for frame in app.dataframe if "lane" in frame.value.columns)
    alerts = timeline[timeline["lane"] == "alert"]
    assert list(alerts["what"]) == ["Slack alert: hot_account"] and list(alerts["detail"]) == ["#sales via sink (sent)"]
    assert timeline["at"].is_monotonic_decreasing  # one stream, newest first
    assert not app.text_area  # a VIEWER gets no note form
