"""The 5 alerts (and a workflow's plain message) as the fake Slack receives them from slack-sdk:
Block Kit content, buttons, metadata, routing to the owner's channel or the default, escaping."""

from __future__ import annotations

import datetime as dt

import pytest

from ingestion.sandbox.slack import block_problems, channel_id_for
from orchestration.activation.slack import AlertError, blocks, client, deliver

from .conftest import NOW, sql

ACCOUNT_BUTTONS = ["claim", "snooze_1d", "snooze_7d", "snooze_30d", "view_brief", "dismiss"]


def only_message(fake, channel: str) -> dict:
    messages = fake.messages(channel)
    assert len(messages) == 1, messages
    return messages[0]


def texts(message: dict) -> str:
    """Every text of a message's blocks, joined (what a reader sees)."""
    out = []
    for block in message["blocks"]:
        for part in [block.get("text")] + block.get("fields", []) + block.get("elements", []):
            if isinstance(part, dict):
                out.append(part.get("text") if isinstance(part.get("text"), str) else (part.get("text") or {}).get("text", ""))
    return "\n".join(filter(None, out))


def buttons(message: dict) -> list[dict]:
    return [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_hot_account_goes_to_the_owners_channel_with_score_reasons_evidence_and_buttons(slack_env):
    result = deliver({"type": "hot_account", "account_id": "acct-acme"}, "t-hot-acme")
    assert result == {"channel": channel_id_for("ana-accounts"), "ts": result["ts"]}
    message = only_message(slack_env, "ana-accounts")
    assert message["ts"] == result["ts"]
    assert message["metadata"] == {"event_type": "devsignal_alert", "event_payload": {"idempotency_key": "t-hot-acme"}}
    assert message["blocks"][0] == {"type": "header", "text": {"type": "plain_text", "text": "🔥 HOT account: Acme Rockets",
                                                               "emoji": True}}
    shown = texts(message)
    for expected in ("*Tier*\n🔥 HOT", "*PQA score*\n91/100", "*Trend*\n📈 Rising", "*Signals (30d)*\n120",
                     "*Owner*\nAna Owner"):
        assert expected in shown
    # the three biggest factors, biggest first, with the signals behind them
    why = next(b["text"]["text"] for b in message["blocks"] if b["type"] == "section" and "Why" in b.get("text", {}).get("text", ""))
    lines = why.splitlines()
    assert lines[1].startswith("1. Breadth 10.3 per top person (*40*/40 pts)")
    assert "`trial_started` by Ada Lovelace" in lines[2] and "`teammate_invited` by Bob &lt;b&gt;" in lines[2]
    assert lines[3].startswith("2. 363.9 decayed signals per active person (*25*/25 pts)")
    assert lines[4].startswith("3. Last signal 0 days ago")
    assert "<http://crm.test/account_360?account_id=acct-acme|Acme Rockets>" in shown
    assert "score 91 (intent 90, fit 80): 4 active people" in shown
    assert [b["action_id"] for b in buttons(message)] == ACCOUNT_BUTTONS
    assert {b["value"] for b in buttons(message)} == {"acct-acme"}
    assert message["text"] == "🔥 Acme Rockets is HOT: score 91/100"
    recorded = sql("select status, tier, channel, transport from app.slack_alerts_sent where idempotency_key = 't-hot-acme'")
    assert recorded == [{"status": "sent", "tier": "HOT", "channel": channel_id_for("ana-accounts"), "transport": "slack"}]


def test_an_unowned_account_goes_to_the_default_channel(slack_env):
    result = deliver({"type": "hot_account", "account_id": "acct-globex"}, "t-hot-globex")
    assert result["channel"] == channel_id_for("devsignal-alerts")
    shown = texts(only_message(slack_env, "devsignal-alerts"))
    assert "*Owner*\nUnclaimed" in shown and "*Signals (scoring window)*\n300" in shown
    assert slack_env.messages("ana-accounts") == []


def test_an_owner_without_a_channel_falls_back_to_the_crm_default_setting(slack_env):
    from apps.state import Actor, deals, members

    admin = Actor.system("tests")
    deals.assign_owner(admin, "acct-initech", "noc@vendor.dev")
    members.set_setting(admin, "slack.default_channel", "#ops")
    try:
        deliver({"type": "hot_account", "account_id": "acct-initech"}, "t-hot-initech")
    finally:
        members.set_setting(admin, "slack.default_channel", None)
        deals.assign_owner(admin, "acct-initech", None)
    assert "*Owner*\nNo Channel" in texts(only_message(slack_env, "ops"))


def test_names_cannot_inject_mentions_or_links(slack_env):
    deliver({"type": "hot_account", "account_id": "acct-evil"}, "t-hot-evil")
    message = only_message(slack_env, "devsignal-alerts")
    mrkdwn = texts(message).replace(message["blocks"][0]["text"]["text"], "") + message["text"]
    assert "<!channel>" not in mrkdwn and "<https://evil.example" not in mrkdwn
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example" in mrkdwn
    # the header is plain_text, which Slack never parses: the name shows as written
    assert message["blocks"][0]["text"] == {"type": "plain_text", "emoji": True,
                                            "text": "🔥 HOT account: <!channel> & <https://evil.example|Bank> Co"}


def test_new_signup(slack_env):
    deliver({"type": "new_signup", "person_id": "p-ada", "signal_id": "s-acct-acme-1"}, "t-signup-ada")
    message = only_message(slack_env, "ana-accounts")
    assert message["blocks"][0]["text"]["text"] == "✉️ New signup"
    assert message["blocks"][1]["text"]["text"] == "*Ada Lovelace* at *Acme Rockets*\nada@acme.io\nCTO"
    assert "trial_started" in texts(message)
    assert [b["action_id"] for b in buttons(message)] == ACCOUNT_BUTTONS
    assert message["text"] == "✉️ New signup: Ada Lovelace at Acme Rockets"


def test_deal_stage_change_from_the_stage_history(slack_env):
    from apps.state import Actor, deals

    ana = Actor("ana@vendor.dev", "MEMBER")
    deal = deals.create_deal(ana, title="Acme - Expansion", account_id="acct-acme", stage="SALES_QUALIFIED",
                             amount=48000, owner="ana@vendor.dev")
    deals.move_deal(ana, deal["deal_id"], "NEGOTIATION")
    change_id = sql("select max(change_id) as id from app.deal_stage_history where deal_id = :id", id=deal["deal_id"])[0]["id"]
    deliver({"type": "deal_stage_changed", "change_id": change_id}, f"t-deal-{change_id}")
    message = only_message(slack_env, "ana-accounts")
    assert message["blocks"][0]["text"]["text"] == "🤝 Deal stage changed"
    assert message["blocks"][1]["text"]["text"] == (
        f"*<http://crm.test/deals?deal_id={deal['deal_id']}|Acme - Expansion>* • Acme Rockets\n$48,000")
    assert [f["text"] for f in message["blocks"][2]["fields"]] == [
        "*From*\n🎯 Sales Qualified", "*To*\n🤝 Negotiation", "*Owner*\nAna Owner"]


def test_workflow_failure_quotes_the_error_escaped_and_cut(slack_env):
    error = "<script>boom</script> " + "x" * 900
    deliver({"type": "workflow_failed", "workflow_id": 7, "workflow_name": "Hot -> CRM", "action": "create_deal",
             "error": error}, "t-wf-7")
    message = only_message(slack_env, "devsignal-alerts")
    assert message["blocks"][0]["text"]["text"] == "⚠️ Workflow failed"
    body = message["blocks"][1]["text"]["text"]
    assert body.startswith("*<http://crm.test/workflows?workflow_id=7|Hot -&gt; CRM>*: action `create_deal` encountered an error")
    quoted = body.split("```")[1]
    assert quoted.startswith("&lt;script&gt;boom&lt;/script&gt; xxx") and quoted.count("x") == 500 - len("<script>boom</script> ")
    assert message["text"] == "⚠️ Workflow Hot -&gt; CRM failed"


def test_weekly_digest_counts_the_week(slack_env):
    from apps.state import Actor, deals

    ana = Actor("ana@vendor.dev", "MEMBER")
    won = deals.create_deal(ana, title="Won one", account_id="acct-globex", stage="NEGOTIATION", amount=1000)
    deals.move_deal(ana, won["deal_id"], "CLOSED_WON")
    open_amounts = sql("""select coalesce(sum(amount), 0) as total from app.deals
                          where deleted_at is null and stage not in ('CLOSED_WON', 'CLOSED_LOST')""")[0]["total"]
    deliver({"type": "weekly_digest", "period_end": NOW.date().isoformat()}, f"t-digest-{NOW.date()}")
    message = only_message(slack_env, "devsignal-alerts")
    assert message["blocks"][0]["text"]["text"].startswith("📊 Weekly digest — ")
    top = message["blocks"][1]["text"]["text"].splitlines()
    assert top[0] == "*Top accounts*"
    assert top[1] == "1. 🔥 HOT *Acme Rockets* 91/100" and top[5] == "5. 🟠 WARM *Initech* 55/100"
    assert len(top) == 6  # the five best of the scored accounts
    fields = [f["text"] for f in message["blocks"][3]["fields"]]
    # 3 signals in the last 7 days (s-old is 30 days old); 1 new contact (Ada, 2 days ago)
    assert fields == ["*New signals*\n3", "*New contacts*\n1", "*Deals won*\n1", "*Deals lost*\n0"]
    assert f"*Pipeline value* ${float(open_amounts):,.0f}" in message["blocks"][4]["text"]["text"]


def test_workflow_message_to_a_named_channel(slack_env):
    result = deliver({"type": "message", "channel": "#ops", "text": "Deal <@U123> & co"}, "t-msg-1")
    message = only_message(slack_env, "ops")
    assert message["text"] == "Deal &lt;@U123&gt; &amp; co" and result["ts"] == message["ts"]


def test_same_key_twice_posts_once(slack_env):
    first = deliver({"type": "message", "channel": "#ops", "text": "once"}, "t-once")
    second = deliver({"type": "message", "channel": "#ops", "text": "once"}, "t-once")
    assert first == second and len(slack_env.messages("ops")) == 1


def test_bad_alerts_are_permanent_errors_that_say_what_is_wrong(slack_env):
    from orchestration.activation.outbox import PermanentError

    with pytest.raises(AlertError, match="unknown Slack alert type 'hot'"):
        deliver({"type": "hot"}, "t-bad-1")
    with pytest.raises(AlertError, match="needs 'account_id'"):
        deliver({"type": "hot_account"}, "t-bad-2")
    with pytest.raises(AlertError, match="'acct-nope' has no score"):
        deliver({"type": "hot_account", "account_id": "acct-nope"}, "t-bad-3")
    with pytest.raises(PermanentError, match="channel #nowhere not found"):
        deliver({"type": "message", "channel": "#nowhere", "text": "x"}, "t-bad-4")
    assert slack_env.messages() == []


def test_the_client_retries_429_with_slack_sdks_rate_limit_handler(slack_env):
    from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

    web = client.transport().client
    assert web.base_url == slack_env.api_url
    assert [type(h).__mro__[1] for h in web.retry_handlers] == [RateLimitErrorRetryHandler]


def test_block_builders_stay_within_slack_limits():
    long_name = "N" * 400
    built = blocks.hot_account({"account_id": "a" * 300, "name": long_name, "score": 1, "tier": "HOT", "trend": None,
                                "count_signals_30d": 0, "owner": None, "reasons": [], "account_url": None,
                                "as_of": str(dt.date.today())})
    assert len(built["blocks"][0]["text"]["text"]) == blocks.HEADER_CHARS
    assert len(built["blocks"][-1]["block_id"]) <= 255
    assert block_problems(built["blocks"]) == []


def test_the_fake_refuses_blocks_real_slack_would_refuse(slack_env):
    from slack_sdk.errors import SlackApiError

    web = client.transport().client
    bad = [{"type": "header", "text": {"type": "mrkdwn", "text": "x"}},
           {"type": "context", "elements": [{"type": "mrkdwn", "text": ""}]}]
    with pytest.raises(SlackApiError) as refused:
        web.chat_postMessage(channel="#ops", text="x", blocks=bad)
    assert refused.value.response["error"] == "invalid_blocks" and len(refused.value.response["errors"]) == 2
    assert slack_env.messages("ops") == []


def test_a_message_without_a_channel_goes_to_the_default(slack_env):
    deliver({"type": "message", "text": "no channel given"}, "t-msg-default")
    assert only_message(slack_env, "devsignal-alerts")["text"] == "no channel given"
