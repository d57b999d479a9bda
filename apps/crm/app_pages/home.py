"""Home: today's new HOT accounts, tier changes, new signups, my accounts, sources' freshness.

Refreshes itself every minute (`st.fragment(run_every=...)`) instead of a WebSocket.
"""

import streamlit as st

from apps.crm import auth
from apps.crm.data import home

REFRESH_SECONDS = 60

actor = auth.require_actor()
auth.show_flash()
st.title("Home")
st.selectbox("Look back", [1, 7, 30], index=1, format_func=lambda days: f"{days} day(s)", key="home_days")


@st.fragment(run_every=REFRESH_SECONDS)
def today():
    score_date = home.latest_score_date()
    if score_date is None:
        st.info("No scores yet: run `make demo` (or `devsignal run` on your own data).")
        return
    st.caption(f"As of the latest score date, {score_date}; refreshes every {REFRESH_SECONDS} s.")
    days = st.session_state.get("home_days", 7)
    hot, changes, signups = home.new_hot_accounts(), home.tier_changes(days), home.new_signups(days)
    mine = home.my_accounts(actor.email)
    left, middle, right, last = st.columns(4)
    left.metric("New HOT accounts", len(hot))
    middle.metric(f"Tier changes ({days} days)", len(changes))
    right.metric(f"New signups ({days} days)", len(signups))
    last.metric("My accounts", len(mine))

    st.subheader("New HOT accounts")
    if hot.empty:
        st.caption("No account became HOT on the latest score date.")
    else:
        st.dataframe(hot.drop(columns=["account_id"]), hide_index=True, key="home_hot")
    st.subheader("Tier changes")
    st.dataframe(changes.drop(columns=["account_id"], errors="ignore"), hide_index=True, key="home_changes")
    st.subheader("New signups")
    st.dataframe(signups.drop(columns=["person_id"], errors="ignore"), hide_index=True, key="home_signups")
    st.subheader("My accounts")
    if mine.empty:
        st.caption("You own no account yet: claim one from Slack or assign it on Accounts.")
    else:
        st.dataframe(mine.drop(columns=["account_id"]), hide_index=True, key="home_mine")
    st.subheader("Sources' freshness")
    freshness = home.source_freshness()
    if freshness.empty:
        st.caption("No source has loaded yet.")
    else:
        st.dataframe(freshness, hide_index=True, key="home_freshness")


today()
