"""Signals explorer: every person-level signal (noise already left out by dbt), filtered by dates,
type, source and account; counts per day by type, and the newest matching events."""

from datetime import date, timedelta

import streamlit as st

from apps.crm import auth
from apps.crm.data import signals as data

auth.require_actor()
st.title("Signals")

vocabulary = data.vocabulary()
if vocabulary.empty:
    st.info("No signals yet: run `make demo` (or `devsignal run` on your own data).")
    st.stop()

last = data.latest_day() or date.today()
accounts = data.accounts_with_signals()
labels = dict(zip(accounts.account_id, accounts.label))
left, middle, right = st.columns([2, 3, 3])
with left:
    days = st.date_input("Days", value=(last - timedelta(days=29), last), key="signals_days")
    sources = st.multiselect("Source", sorted(vocabulary.source.unique()), key="signals_sources")
with middle:
    types = st.multiselect("Signal type", vocabulary.signal_type.unique().tolist(), key="signals_types",
                           help="Canonical types (dbt's signal_type_aliases seed): every alias a source "
                                "sends is mapped to one of these.")
with right:
    account_id = st.selectbox("Account", [None, *accounts.account_id], key="signals_account",
                              format_func=lambda a: "All accounts" if a is None else labels.get(a, a))

start, end = (days[0], days[-1]) if isinstance(days, (tuple, list)) and days else (last, last)
filters = dict(start=start, end=end, types=tuple(types), sources=tuple(sources), account_id=account_id)
totals = data.summary(**filters)
columns = st.columns(4)
columns[0].metric("Signals", f"{totals['signals']:,}")
columns[1].metric("People", f"{totals['people']:,}")
columns[2].metric("Accounts", f"{totals['accounts']:,}")
columns[3].metric("Not credited to an account", f"{totals['unattributed']:,}",
                  help="Personal emails, anonymous visitors, or a manual 'no account' decision.")

per_day = data.by_day(**filters)
if per_day.empty:
    st.info("No signals match these filters.")
else:
    st.bar_chart(per_day, x="day", y="signals", color="signal_type", stack=True)
    st.subheader("Newest matching signals")
    st.dataframe(data.recent(**filters), hide_index=True, width="stretch",
                 column_config={"occurred_at": st.column_config.DatetimeColumn("When", format="YYYY-MM-DD HH:mm")})
