"""Cool-downs (no second HOT alert within the window unless the tier went down and back up) and
snoozes that really expire, on a clock passed in (no sleeps)."""

from __future__ import annotations

import datetime as dt

from orchestration.activation.slack import deliver, interactions

from .conftest import sql

T0 = dt.datetime(2030, 1, 6, 9, 0, tzinfo=dt.timezone.utc)  # later than any real alert in the test database


def hot(account_id: str, key: str, now: dt.datetime) -> dict:
    return deliver({"type": "hot_account", "account_id": account_id}, key, now=now)


def test_a_second_hot_alert_within_the_cooldown_is_skipped_and_sent_after_it(slack_env):
    assert "ts" in hot("acct-globex", "cd-1", T0)
    assert hot("acct-globex", "cd-2", T0 + dt.timedelta(days=6, hours=23)) == {"skipped": "cooldown"}
    assert "ts" in hot("acct-globex", "cd-3", T0 + dt.timedelta(days=7))
    assert len(slack_env.messages("devsignal-alerts")) == 2


def test_the_cooldown_window_is_configurable(slack_env):
    start = T0 + dt.timedelta(days=30)
    assert "ts" in hot("acct-globex", "cfg-1", start)
    assert "ts" in deliver({"type": "hot_account", "account_id": "acct-globex"}, "cfg-2",
                           now=start + dt.timedelta(hours=2), cooldowns={"hot_account": dt.timedelta(hours=1)})


def test_an_account_that_left_hot_and_came_back_is_alerted_again_but_flapping_within_is_not(slack_env):
    start = T0 + dt.timedelta(days=60)
    assert "ts" in hot("acct-globex", "flap-1", start)
    # nothing changed: skipped
    assert hot("acct-globex", "flap-2", start + dt.timedelta(days=1)) == {"skipped": "cooldown"}
    sql("""insert into marts.fct_account_tier_changes values
           ('acct-globex', :down, 'HOT', 'WARM'), ('acct-globex', :up, 'WARM', 'HOT')""",
        down=start + dt.timedelta(days=2), up=start + dt.timedelta(days=3))
    try:
        assert "ts" in hot("acct-globex", "flap-3", start + dt.timedelta(days=3, hours=1))
        # back up once is news once: the next one is in the new alert's cool-down
        assert hot("acct-globex", "flap-4", start + dt.timedelta(days=3, hours=2)) == {"skipped": "cooldown"}
    finally:
        sql("delete from marts.fct_account_tier_changes where account_id = 'acct-globex'")
    assert len(slack_env.messages("devsignal-alerts")) == 2


def _snooze(action_id: str, account_id: str, now: dt.datetime, trigger: str) -> int:
    payload = {"type": "block_actions", "trigger_id": trigger, "user": {"id": "U_ANA"}, "team": {"id": "T0DEVSIG"},
               "response_url": None, "actions": [{"action_id": action_id, "value": account_id, "action_ts": "1"}]}
    click = interactions.parse(payload)
    interaction_id = interactions.store(payload, click)
    assert interactions.process(interaction_id, now=now) == "done"
    return interaction_id


def test_a_snooze_silences_the_account_until_it_expires(slack_env):
    start = T0 + dt.timedelta(days=100)
    _snooze("snooze_1d", "acct-acme", start, "trigger-snooze-1d")
    assert hot("acct-acme", "sn-1", start + dt.timedelta(hours=23, minutes=59)) == {"skipped": "snoozed"}
    assert deliver({"type": "new_signup", "person_id": "p-ada"}, "sn-2", now=start + dt.timedelta(hours=1)) == {
        "skipped": "snoozed"}
    # deal moves are someone's deliberate act: not silenced
    assert slack_env.messages("ana-accounts") == []
    assert "ts" in hot("acct-acme", "sn-3", start + dt.timedelta(days=1, seconds=1))
    assert len(slack_env.messages("ana-accounts")) == 1


def test_snooze_lengths_and_one_row_per_click(slack_env):
    start = T0 + dt.timedelta(days=200)
    for action_id, days in (("snooze_7d", 7), ("snooze_30d", 30)):
        iid = _snooze(action_id, "acct-initech", start, f"trigger-{action_id}")
        # a second run of the same click (a crash and a retry) does not snooze twice
        sql("update app.slack_interactions set status = 'pending' where interaction_id = :id", id=iid)
        interactions.process(iid, now=start + dt.timedelta(days=1))
        rows = sql("select until from app.slack_snoozes where interaction_id = :id", id=iid)
        assert [r["until"] for r in rows] == [start + dt.timedelta(days=days)]
    assert hot("acct-initech", "sn-len-1", start + dt.timedelta(days=29)) == {"skipped": "snoozed"}
    assert "ts" in hot("acct-initech", "sn-len-2", start + dt.timedelta(days=30, seconds=1))


def test_signups_from_one_account_within_an_hour_are_one_alert(slack_env):
    start = T0 + dt.timedelta(days=300)
    assert "ts" in deliver({"type": "new_signup", "person_id": "p-ada"}, "su-1", now=start)
    assert deliver({"type": "new_signup", "person_id": "p-bob"}, "su-2", now=start + dt.timedelta(minutes=59)) == {
        "skipped": "cooldown"}
    assert "ts" in deliver({"type": "new_signup", "person_id": "p-bob"}, "su-3", now=start + dt.timedelta(hours=1))
    assert [m["blocks"][1]["text"]["text"].splitlines()[0] for m in slack_env.messages("ana-accounts")] == [
        "*Ada Lovelace* at *Acme Rockets*", "*Bob &lt;b&gt;* at *Acme Rockets*"]


def test_an_account_deleted_in_the_crm_gets_no_alerts_until_restored(slack_env):
    start = T0 + dt.timedelta(days=400)
    sql("insert into app.account_suppressions (account_id, reason, suppressed_by) values ('acct-acme', 'duplicate', 'a@x')")
    try:
        assert hot("acct-acme", "del-1", start) == {"skipped": "deleted"}
    finally:
        sql("delete from app.account_suppressions where account_id = 'acct-acme'")
    assert "ts" in hot("acct-acme", "del-2", start + dt.timedelta(minutes=1))
