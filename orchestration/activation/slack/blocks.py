"""The 5 Block Kit alerts (and a plain message), built from plain dicts; no I/O here.

Each builder returns `{"text": fallback, "blocks": [...]}`: `text` is what notifications and
screen readers show. Names, titles and errors come from users and data, so everything placed in
`mrkdwn` goes through `escape()` (`&`, `<`, `>`): a company called `<!channel>` cannot ping a
channel or forge a link. Header blocks are `plain_text`, which Slack never parses.

Account buttons carry the account id as `value` and these `action_id`s, handled by
`interactions.py` when Slack posts the click to `POST /slack/interactions`.
"""

from __future__ import annotations

from typing import Any, Iterable

# action_id -> button label; `snooze_<n>d` snoozes for n days
ACCOUNT_ACTIONS = {
    "claim": "Claim",
    "snooze_1d": "Snooze 1 day",
    "snooze_7d": "Snooze 7 days",
    "snooze_30d": "Snooze 30 days",
    "view_brief": "View brief",
    "dismiss": "Dismiss",
}
SNOOZE_DAYS = {"snooze_1d": 1, "snooze_7d": 7, "snooze_30d": 30}

TIER_BADGES = {"HOT": "🔥 HOT", "WARM": "🟠 WARM", "COLD": "🔵 COLD", "INACTIVE": "⚪ INACTIVE"}
TRENDS = {"RISING": "📈 Rising", "FALLING": "📉 Falling", "STABLE": "↔️ Stable"}
# every stage of apps.state.deals.STAGES (the seed keyed this on stale names, so most showed 🔹)
STAGE_EMOJI = {
    "ANONYMOUS_USAGE": "👤", "IDENTIFIED": "🪪", "ACTIVATED": "⚡", "TEAM_ADOPTION": "👥",
    "EXPANSION_SIGNAL": "📈", "SALES_QUALIFIED": "🎯", "NEGOTIATION": "🤝", "CLOSED_WON": "🏆",
    "CLOSED_LOST": "❌",
}
ERROR_CHARS = 500
# Slack's own limits (Block Kit reference): header 150, section text 3000, field 2000 characters
HEADER_CHARS = 150
SECTION_CHARS = 3000
FIELD_CHARS = 2000


def escape(value: Any) -> str:
    """Text safe inside mrkdwn: Slack's three control characters escaped, as its docs require."""
    return str(value if value is not None else "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _header(text: str) -> dict:
    return {"type": "header", "text": {"type": "plain_text", "text": _cut(text, HEADER_CHARS), "emoji": True}}


def _section(mrkdwn: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(mrkdwn, SECTION_CHARS)}}


def _fields(pairs: Iterable[tuple[str, str]]) -> dict:
    return {"type": "section",
            "fields": [{"type": "mrkdwn", "text": _cut(f"*{label}*\n{value}", FIELD_CHARS)} for label, value in pairs]}


def _context(*mrkdwn: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(text, SECTION_CHARS)} for text in mrkdwn]}


def _link(url: str | None, label: str) -> str:
    # URLs are ours (DEVSIGNAL_APP_URL + ids); the label is escaped and `|` would end it early
    return f"<{url}|{escape(label).replace('|', '¦')}>" if url else escape(label)


def account_buttons(account_id: str) -> dict:
    elements = []
    for action_id, label in ACCOUNT_ACTIONS.items():
        button = {"type": "button", "action_id": action_id, "value": account_id,
                  "text": {"type": "plain_text", "text": label}}
        if action_id == "claim":
            button["style"] = "primary"
        elements.append(button)
    # block_id is unique per message; Slack allows 255 characters
    return {"type": "actions", "block_id": _cut(f"account_actions:{account_id}", 255), "elements": elements}


def _money(amount: Any, currency: str = "USD") -> str:
    if amount is None:
        return "No amount"
    symbol = "$" if currency == "USD" else f"{currency} "
    return f"{symbol}{float(amount):,.0f}"


def _stage(stage: str | None) -> str:
    if not stage:
        return "—"
    return f"{STAGE_EMOJI.get(stage, '🔹')} {stage.replace('_', ' ').title()}"


def hot_account(data: dict) -> dict:
    """`data`: account_id, name, score, tier, trend, signals_label + signals (a count), owner (display
    or None), summary (the score's one-line reason), reasons: up to 3 of {text, points, max_points,
    evidence: [{signal_type, who, occurred_at}]}, account_url, as_of."""
    name = data["name"] or data["account_id"]
    reason_lines = []
    for number, reason in enumerate(data.get("reasons", [])[:3], start=1):
        line = f"{number}. {escape(reason['text'])} (*{reason['points']:g}*/{reason['max_points']:g} pts)"
        evidence = [f"`{escape(item['signal_type'])}` by {escape(item['who'])} on {escape(item['occurred_at'])}"
                    for item in reason.get("evidence", [])]
        if evidence:
            line += "\n      ↳ " + "; ".join(evidence)
        reason_lines.append(line)
    blocks = [
        _header(f"🔥 HOT account: {name}"),
        _fields([("Tier", TIER_BADGES.get(data["tier"], escape(data["tier"]))),
                 ("PQA score", f"{data['score']}/100"),
                 ("Trend", TRENDS.get(data.get("trend") or "", escape(data.get("trend") or "—"))),
                 (data.get("signals_label") or "Signals", f"{data.get('signals') or 0:,}"),
                 ("Owner", escape(data.get("owner") or "Unclaimed"))]),
        _section("*Why it is hot*\n" + ("\n".join(reason_lines) or "_no factor details_")),
        _context(f"{_link(data.get('account_url'), name)} · scored {escape(data.get('as_of') or '')}"
                 + (f" · {escape(data['summary'])}" if data.get("summary") else "")),
        account_buttons(data["account_id"]),
    ]
    text = f"🔥 {escape(name)} is HOT: score {data['score']}/100"
    return {"text": text, "blocks": blocks}


def new_signup(data: dict) -> dict:
    """`data`: person_id, name, email, title, account_id, account_name, signal_type, occurred_at, account_url."""
    who = escape(data.get("name") or data.get("email") or data["person_id"])
    company = escape(data.get("account_name") or "an unknown company")
    lines = [f"*{who}* at *{company}*", escape(data.get("email") or "No email")]
    if data.get("title"):
        lines.append(escape(data["title"]))
    blocks = [
        _header("✉️ New signup"),
        _section("\n".join(lines)),
        _context(f"{escape(data.get('signal_type') or 'signup')} · {escape(data.get('occurred_at') or '')}"
                 + (f" · {_link(data.get('account_url'), 'open account')}" if data.get("account_url") else "")),
    ]
    if data.get("account_id"):
        blocks.append(account_buttons(data["account_id"]))
    return {"text": f"✉️ New signup: {who} at {company}", "blocks": blocks}


def deal_stage_changed(data: dict) -> dict:
    """`data`: deal_id, title, account_id, account_name, amount, currency, from_stage, to_stage, owner, deal_url."""
    title = escape(data["title"])
    company = escape(data.get("account_name") or "no account")
    blocks = [
        _header(f"{STAGE_EMOJI.get(data['to_stage'], '🔹')} Deal stage changed"),
        _section(f"*{_link(data.get('deal_url'), data['title'])}* • {company}\n"
                 f"{_money(data.get('amount'), data.get('currency') or 'USD')}"),
        _fields([("From", _stage(data.get("from_stage"))), ("To", _stage(data["to_stage"])),
                 ("Owner", escape(data.get("owner") or "Unassigned"))]),
    ]
    if data.get("account_id"):
        blocks.append(account_buttons(data["account_id"]))
    return {"text": f"Deal {title} moved to {_stage(data['to_stage'])}", "blocks": blocks}


def workflow_failed(data: dict) -> dict:
    """`data`: workflow_id, workflow_name, action, error, workflow_url, failed_at."""
    name = escape(data.get("workflow_name") or f"workflow {data.get('workflow_id')}")
    error = str(data.get("error") or "no error message")[:ERROR_CHARS].replace("```", "'''")
    blocks = [
        _header("⚠️ Workflow failed"),
        _section(f"*{_link(data.get('workflow_url'), data.get('workflow_name') or str(data.get('workflow_id')))}*: "
                 f"action `{escape(data.get('action') or '?')}` encountered an error\n```{escape(error)}```"),
    ]
    if data.get("failed_at"):  # Slack refuses empty text objects
        blocks.append(_context(escape(data["failed_at"])))
    return {"text": f"⚠️ Workflow {name} failed", "blocks": blocks}


def weekly_digest(data: dict) -> dict:
    """`data`: period, top_accounts [{account_id, name, tier, score}], new_signals, new_contacts,
    deals_won, deals_lost, pipeline_value, dashboard_url."""
    rows = [f"{rank}. {TIER_BADGES.get(acct['tier'], escape(acct['tier']))} "
            f"*{escape(acct['name'] or acct['account_id'])}* {acct['score']}/100"
            for rank, acct in enumerate(data.get("top_accounts", [])[:5], start=1)]
    blocks = [
        _header(f"📊 Weekly digest — {data['period']}"),
        _section("*Top accounts*\n" + ("\n".join(rows) or "_no scored accounts_")),
        {"type": "divider"},
        _fields([("New signals", f"{data.get('new_signals', 0):,}"),
                 ("New contacts", f"{data.get('new_contacts', 0):,}"),
                 ("Deals won", f"{data.get('deals_won', 0):,}"),
                 ("Deals lost", f"{data.get('deals_lost', 0):,}")]),
        _section(f"*Pipeline value* {_money(data.get('pipeline_value') or 0)}"
                 + (f" · {_link(data.get('dashboard_url'), 'open dashboard')}" if data.get("dashboard_url") else "")),
    ]
    return {"text": f"📊 Weekly digest — {escape(data['period'])}", "blocks": blocks}


def plain_message(text: str) -> dict:
    """A workflow's `send_slack` text, escaped (templated from data, so it may contain anything)."""
    return {"text": _cut(escape(text), 40_000), "blocks": []}


BUILDERS = {
    "hot_account": hot_account,
    "new_signup": new_signup,
    "deal_stage_changed": deal_stage_changed,
    "workflow_failed": workflow_failed,
    "weekly_digest": weekly_digest,
}
