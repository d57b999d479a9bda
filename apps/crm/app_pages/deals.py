"""Deals: the PLG pipeline as a board over its 9 stages (count and amount per stage), with
create, edit and move. Every move is a row in app.deal_stage_history (that is what fires
`deal_stage_changed`); all writes go through apps.state.deals, which checks the role again."""

import pandas as pd
import streamlit as st

from apps.crm import auth
from apps.crm.data import deals as data
from apps.state import deals as commands

actor = auth.require_actor()
can_write = actor.at_least("MEMBER")
STAGE_LABELS = {stage: stage.replace("_", " ").title() for stage in commands.STAGES}

st.title("Deals")
mine = st.toggle("Only my deals", key="deals_mine")
owner = actor.email if mine else None
totals = data.stage_totals(owner)
board = data.open_board(owner)

open_totals = totals[~totals.stage.isin(commands.CLOSED)]
left, middle, right = st.columns(3)
left.metric("Open deals", int(open_totals.deals.sum()))
middle.metric("Open pipeline", f"${open_totals.amount.sum():,.0f}")
won = totals.set_index("stage").loc["CLOSED_WON"]
right.metric("Closed won", f"{int(won.deals)} · ${won.amount:,.0f}")

# the board: one column per stage, PLG order; cells are dataframes (deal titles are user text)
columns = st.columns(len(commands.STAGES), gap="small")
for column, row in zip(columns, totals.itertuples()):
    with column:
        st.markdown(f"**{STAGE_LABELS[row.stage]}**")
        st.caption(f"{row.deals} · ${row.amount:,.0f}")
        in_stage = board[board.stage == row.stage]
        if not in_stage.empty:
            st.dataframe(in_stage[["title", "amount"]], hide_index=True, width="stretch",
                         height=min(400, 38 + 35 * len(in_stage)), key=f"deals_board_{row.stage}")


def deal_label(deal_id: int) -> str:
    deal = board.set_index("deal_id").loc[deal_id]
    account = f" · {deal.account_name}" if isinstance(deal.account_name, str) else ""
    return f"#{deal_id} {deal.title}{account} ({STAGE_LABELS[deal.stage]})"


def text_of(value) -> str:
    return "" if value is None or pd.isna(value) else str(value)


def run(write, success: str) -> None:
    auth.run_write(success, write)


auth.show_flash()
if not can_write:
    st.info("You can look at the pipeline; changing deals needs the MEMBER role.")

move_tab, edit_tab, new_tab, history_tab = st.tabs(["Move", "Edit", "New deal", "Stage history"])
deal_ids = board.deal_id.tolist()

with move_tab:
    if not deal_ids:
        st.caption("No deals yet: create one under New deal (or claim an account from a Slack alert).")
    else:
        with st.form("deal_move"):
            deal_id = st.selectbox("Deal", deal_ids, format_func=deal_label, key="deal_move_deal")
            stage = st.selectbox("Move to", commands.STAGES, format_func=STAGE_LABELS.get, key="deal_move_stage")
            if st.form_submit_button("Move deal", disabled=not can_write):
                run(lambda: commands.move_deal(actor, int(deal_id), stage),
                    f"Deal #{deal_id} moved to {STAGE_LABELS[stage]}.")

with edit_tab:
    if deal_ids:
        deal_id = st.selectbox("Deal", deal_ids, format_func=deal_label, key="deal_edit_deal")
        deal = board.set_index("deal_id").loc[deal_id]
        with st.form("deal_edit"):
            title = st.text_input("Title", value=deal.title, max_chars=200)
            amount = st.number_input("Amount", min_value=0.0, step=100.0,
                                     value=float(deal.amount) if pd.notna(deal.amount) else 0.0)
            owner_email = st.text_input("Owner (member email)", value=text_of(deal.owner))
            close = st.date_input("Expected close",
                                  value=deal.expected_close_date if pd.notna(deal.expected_close_date) else None)
            description = st.text_area("Description", value=text_of(deal.description), max_chars=5000)
            if st.form_submit_button("Save changes", disabled=not can_write):
                changes = {"title": title.strip(), "amount": amount, "owner": owner_email.strip().lower() or None,
                           "expected_close_date": close, "description": description.strip() or None}
                run(lambda: commands.update_deal(actor, int(deal_id), changes), f"Deal #{deal_id} saved.")

with new_tab:
    accounts = data.account_choices()
    with st.form("deal_new", clear_on_submit=True):
        title = st.text_input("Title", max_chars=200, key="deal_new_title")
        account_id = st.selectbox("Account", [None, *accounts.account_id.tolist()], key="deal_new_account",
                                  format_func=lambda a: "(none)" if a is None else
                                  accounts.set_index("account_id").label.get(a, a))
        stage = st.selectbox("Stage", commands.STAGES, format_func=STAGE_LABELS.get, key="deal_new_stage")
        amount = st.number_input("Amount", min_value=0.0, step=100.0, key="deal_new_amount")
        if st.form_submit_button("Create deal", disabled=not can_write):
            run(lambda: commands.create_deal(actor, title=title, account_id=account_id, stage=stage,
                                             amount=amount or None, owner=actor.email),
                "Deal created.")

with history_tab:
    if deal_ids:
        deal_id = st.selectbox("Deal", deal_ids, format_func=deal_label, key="deal_history_deal")
        st.dataframe(data.stage_history(int(deal_id)), hide_index=True, width="stretch")
