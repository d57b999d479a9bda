"""Account 360: Overview, Timeline, People, Deals, Intelligence for one account."""

import pandas as pd
import streamlit as st

from apps.crm import auth
from apps.crm.data import accounts, admin, escape_markdown
from apps.state import accounts as account_commands
from apps.state import deals as deal_commands
from apps.state import notes

actor = auth.require_actor()
auth.show_flash()
st.title("Account 360")

choices = accounts.account_choices()
if choices.empty:
    st.info("No accounts yet: run `make demo` (or `devsignal run` on your own data).")
    st.stop()
labels = dict(zip(choices["account_id"], choices["label"]))
wanted = st.session_state.get("account_id") or st.query_params.get("account")
if wanted in labels and st.session_state.get("a360_account") != wanted:
    st.session_state["a360_account"] = wanted
account_id = st.selectbox("Account", list(labels), format_func=labels.get, key="a360_account")
st.session_state["account_id"] = account_id
row = accounts.account(account_id)
if row is None:
    st.warning("This account no longer exists (or was deleted).")
    st.stop()

overview, timeline_tab, people_tab, deals_tab, intelligence_tab = st.tabs(
    ["Overview", "Timeline", "People", "Deals", "Intelligence"])

with overview:
    st.header(escape_markdown(f"{row['name']} ({row['domain']})"))
    if pd.isna(row["score"]):
        st.caption("Not scored yet.")
    else:
        score_column, tier_column, trend_column, owner_column = st.columns(4)
        delta = None if pd.isna(row["score_7d_ago"]) else int(row["score"] - row["score_7d_ago"])
        score_column.metric("Score", int(row["score"]), delta=delta, help="Change over 7 days")
        tier_column.metric("Tier", row["tier"], help=f"since {row['tier_since']}")
        trend_column.metric("Trend", row["trend"])
        owner_column.metric("Owner", row["owner"] or "nobody")
        st.text(row["reason"] or "")
        st.subheader("What the score is made of")
        st.dataframe(accounts.factors(row), hide_index=True, key="a360_factors",
                     column_config={"points": st.column_config.ProgressColumn("points", min_value=0, max_value=40,
                                                                              format="%.1f")})
        st.subheader("Evidence signals")
        st.dataframe(accounts.evidence_signals(account_id), hide_index=True, key="a360_evidence")
        history = accounts.score_history(account_id)
        if not history.empty:
            st.line_chart(history, x="score_date", y="score", height=200)
    st.subheader("Firmographics")
    st.dataframe([{"field": field, "value": "" if row[field] is None else str(row[field])}
                  for field in ("industry", "size_band", "count_employees", "firmographic_sources", "count_people",
                                "count_crm_contacts", "count_signals", "first_seen_at", "last_seen_at")],
                 hide_index=True, key="a360_firmographics")
    st.write("Tags:", ", ".join(row["tags"]) if row["tags"] else "none")
    if actor.at_least("MEMBER"):
        members_frame = admin.members()
        active_members = members_frame[members_frame["disabled_at"].isna()]["email"].tolist() if not members_frame.empty else []
        own_column, tag_column = st.columns(2)
        with own_column.form("a360_owner_form"):
            options = [None] + active_members
            owner = st.selectbox("Owner", options, index=options.index(row["owner"]) if row["owner"] in options else 0,
                                 format_func=lambda value: "(nobody)" if value is None else value, key="a360_owner")
            if st.form_submit_button("Save owner"):
                auth.run_write("Owner saved.", account_commands.bulk_assign_owner, actor, [account_id], owner)
        with tag_column.form("a360_tag_form", clear_on_submit=True):
            tag = st.text_input("Add a tag", key="a360_tag")
            if st.form_submit_button("Add tag"):
                auth.run_write(f"Tagged {tag.strip()!r}.", account_commands.tag_accounts, actor, [account_id], tag)

with timeline_tab:
    timeline, alerts_included = accounts.timeline(account_id)
    lanes = sorted(timeline["lane"].unique()) if not timeline.empty else []
    hidden = st.multiselect("Hide", lanes, key="a360_hidden_lanes")
    if not alerts_included:
        st.caption("Slack alerts sent are not recorded in this database yet, so they are not on the timeline.")
    st.dataframe(timeline[~timeline["lane"].isin(hidden)] if not timeline.empty else timeline, hide_index=True,
                 width="stretch", key="a360_timeline")
    if actor.at_least("MEMBER"):
        with st.form("a360_note_form", clear_on_submit=True):
            body = st.text_area("Add a note", key="a360_note")
            if st.form_submit_button("Save note"):
                auth.run_write("Note saved.", notes.add_note, actor, body, account_id=account_id)

with people_tab:
    people = accounts.account_people(account_id)
    st.caption(f"{len(people)} people at this account (bots, internal and test accounts left out).")
    st.dataframe(people, hide_index=True, key="a360_people",
                 column_config={"top_types": st.column_config.ListColumn("most frequent signals")})

with deals_tab:
    deals = accounts.account_deals(account_id)
    if deals.empty:
        st.caption("No deal on this account yet.")
    else:
        st.dataframe(deals, hide_index=True, key="a360_deals")
    if actor.at_least("MEMBER"):
        with st.form("a360_deal_form", clear_on_submit=True):
            title = st.text_input("New deal title", value=f"{row['name']} - Inbound", key="a360_deal_title")
            stage = st.selectbox("Stage", deal_commands.STAGES, index=1, key="a360_deal_stage")
            if st.form_submit_button("Create deal"):
                auth.run_write("Deal created.", deal_commands.create_deal, actor, title=title, account_id=account_id,
                               stage=stage, owner=row["owner"])

with intelligence_tab:
    brief = accounts.intelligence(row, accounts.account_people(account_id), accounts.signal_mix(account_id),
                                  accounts.account_deals(account_id))
    st.caption("Written by rules from this account's facts (no AI key needed).")
    st.subheader("Brief")
    st.text(brief.summary)
    for fact in brief.facts:
        st.text("• " + fact)
    st.subheader("Next best actions")
    for number, action in enumerate(brief.actions, start=1):
        st.text(f"{number}. {action}")
