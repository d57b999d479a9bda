"""Accounts: every scored account, hottest first, filtered by tier."""

import streamlit as st

from apps.crm import data

st.title("Accounts")
tiers = st.multiselect("Tier", data.TIERS, default=list(data.TIERS), key="tiers")
accounts = data.scored_accounts(tuple(tiers))
if accounts.empty:
    st.info("No scores yet: run `make demo` (or `devsignal run` on your own data).")
else:
    st.metric("Accounts", len(accounts))
    st.dataframe(accounts, hide_index=True, use_container_width=True)
