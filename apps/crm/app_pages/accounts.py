"""Accounts: filter, save views, act in bulk (tag, owner, export, delete)."""

import streamlit as st

from apps.crm import auth
from apps.crm.data import TIERS, TRENDS, accounts, admin, to_safe_csv
from apps.crm.data.accounts import NO_OWNER, AccountFilter
from apps.state import accounts as account_commands
from apps.state import views

actor = auth.require_actor()
auth.show_flash()
st.title("Accounts")

ACTIVITY = {None: "any time", 1: "last day", 7: "last 7 days", 30: "last 30 days", 90: "last 90 days"}
WIDGETS = {"tiers": "acc_tiers", "trends": "acc_trends", "owner": "acc_owner", "tag": "acc_tag",
           "signal_types": "acc_signal_types", "active_within_days": "acc_active", "search": "acc_search"}


def apply_view(view: dict) -> None:
    """Put a saved view's filters into the widgets (before they are drawn)."""
    saved = AccountFilter.from_dict(view["filters"])
    for name, key in WIDGETS.items():
        value = getattr(saved, name)
        st.session_state[key] = list(value) if isinstance(value, tuple) else value
    st.session_state["acc_score"] = (saved.min_score, saved.max_score)


def on_view_chosen() -> None:
    chosen = st.session_state.get("acc_view")
    if chosen is not None:
        apply_view(saved_views[chosen])


saved_views = {view["view_id"]: view for view in views.list_views(actor.email, "account")}
if "acc_loaded" not in st.session_state:
    st.session_state["acc_loaded"] = True
    default = next((view for view in saved_views.values() if view["is_default"]), None)
    if default is not None:
        st.session_state["acc_view"] = default["view_id"]
        apply_view(default)

# -- saved views -----------------------------------------------------------------------------------
view_column, manage_column = st.columns([2, 3])
view_column.selectbox("Saved view", list(saved_views), index=None, placeholder="(none)", key="acc_view",
                      on_change=on_view_chosen,
                      format_func=lambda view_id: saved_views[view_id]["name"]
                      + (" · shared" if saved_views[view_id]["is_shared"] else "")
                      + (" · default" if saved_views[view_id]["is_default"] else ""))

# -- filters ---------------------------------------------------------------------------------------
members_frame = admin.members()
owner_options = [None, NO_OWNER] + (members_frame["email"].tolist() if not members_frame.empty else [])
if st.session_state.get("acc_owner") not in owner_options:
    st.session_state.pop("acc_owner", None)
tag_options = [None] + accounts.tags()
if st.session_state.get("acc_tag") not in tag_options:
    st.session_state.pop("acc_tag", None)
first, second, third, fourth = st.columns(4)
tiers = first.multiselect("Tier", TIERS, key="acc_tiers")
st.session_state.setdefault("acc_score", (0, 100))
score = second.slider("Score", 0, 100, key="acc_score")
trends = third.multiselect("Trend", TRENDS, key="acc_trends")
owner = fourth.selectbox("Owner", owner_options, format_func=lambda value: "any" if value is None else value,
                         key="acc_owner")
first, second, third, fourth = st.columns(4)
tag = first.selectbox("Tag", tag_options, format_func=lambda value: "any" if value is None else value, key="acc_tag")
signal_types = second.multiselect("Signal type (last 30 days)", accounts.signal_types(), key="acc_signal_types")
active = third.selectbox("Last activity", list(ACTIVITY), format_func=ACTIVITY.get, key="acc_active")
search = fourth.text_input("Name or domain", key="acc_search")
filters = AccountFilter(tiers=tuple(tiers), min_score=score[0], max_score=score[1], trends=tuple(trends), owner=owner,
                        tag=tag, signal_types=tuple(signal_types), active_within_days=active, search=search)

with manage_column.popover("Save or manage views"):
    with st.form("acc_save_view", clear_on_submit=True):
        name = st.text_input("Name", key="acc_view_name")
        shared = st.checkbox("Shared with everyone", key="acc_view_shared", disabled=not actor.at_least("MEMBER"))
        if st.form_submit_button("Save current filters"):
            auth.run_write(f"Saved view {name.strip()!r}.", views.create_view, actor, "account", name, filters.to_dict(),
                           shared=shared)
    current = st.session_state.get("acc_view")
    if current is not None:
        if st.button("Make it my default", key="acc_view_default"):
            auth.run_write("Default view set (for you only).", views.set_default_view, actor, "account", current)
        if saved_views[current]["owner"] == actor.email or actor.at_least("ADMIN"):
            if st.button("Delete this view", key="acc_view_delete"):
                st.session_state.pop("acc_view", None)
                auth.run_write("View deleted.", views.delete_view, actor, current)

# -- the list --------------------------------------------------------------------------------------
frame = accounts.account_list(filters)
if frame.empty:
    st.info("No account matches these filters." if accounts.account_list(AccountFilter(), 1).shape[0]
            else "No scores yet: run `make demo` (or `devsignal run` on your own data).")
    st.stop()
st.metric("Accounts", len(frame))
if len(frame) >= accounts.LIST_LIMIT:
    st.caption(f"The {accounts.LIST_LIMIT} highest-scoring matches; narrow the filters to see others.")
st.dataframe(frame.drop(columns=["account_id"]), hide_index=True, width="stretch", key="acc_table",
             column_config={"sparkline": st.column_config.LineChartColumn("30 days", y_min=0, y_max=100),
                            "tags": st.column_config.ListColumn("tags"),
                            "score": st.column_config.ProgressColumn("score", min_value=0, max_value=100, format="%d")})

# -- bulk actions ----------------------------------------------------------------------------------
labels = dict(zip(frame["account_id"], frame["name"] + " (" + frame["domain"] + ")"))
st.subheader("Act on accounts")
everything = st.checkbox(f"All {len(frame)} listed accounts", key="acc_all")
chosen = list(labels) if everything else st.multiselect("Accounts", list(labels), format_func=labels.get, key="acc_chosen")
open_column, export_column = st.columns(2)
if chosen and open_column.button("Open the first in Account 360", key="acc_open"):
    st.session_state["account_id"] = chosen[0]
    st.switch_page("app_pages/account_360.py")
if actor.at_least("MEMBER"):
    export = frame[frame["account_id"].isin(chosen)] if chosen else frame
    export_column.download_button(
        f"Export {len(export)} accounts as CSV", to_safe_csv(export.drop(columns=["sparkline"])), "accounts.csv",
        "text/csv", key="acc_export",
        on_click=account_commands.record_export, args=(actor, "account", len(export), filters.to_dict()))
if not chosen:
    st.caption("Choose accounts (or tick all) to tag, assign an owner or delete.")
elif not actor.at_least("MEMBER"):
    st.caption("Viewers can filter and save private views; tagging, owners and exports need MEMBER.")
else:
    tag_column, owner_column = st.columns(2)
    with tag_column.form("acc_tag_form"):
        tag_text = st.text_input("Tag", key="acc_tag_text")
        add, remove = st.columns(2)
        if add.form_submit_button("Add tag"):
            auth.run_write(f"Tagged {len(chosen)} account(s) {tag_text.strip()!r}.", account_commands.tag_accounts,
                           actor, chosen, tag_text)
        if remove.form_submit_button("Remove tag"):
            auth.run_write(f"Removed {tag_text.strip()!r} from the chosen accounts.", account_commands.untag_accounts,
                           actor, chosen, tag_text)
    with owner_column.form("acc_owner_form"):
        active_members = members_frame[members_frame["disabled_at"].isna()]["email"].tolist() if not members_frame.empty else []
        new_owner = st.selectbox("Owner", [None] + active_members, format_func=lambda value: "(nobody)" if value is None else value,
                                 key="acc_new_owner")
        if st.form_submit_button("Assign owner"):
            auth.run_write(f"{new_owner or 'Nobody'} now owns {len(chosen)} account(s).",
                           account_commands.bulk_assign_owner, actor, chosen, new_owner)
    if actor.at_least("ADMIN"):
        with st.expander(f"Delete {len(chosen)} account(s)"):
            st.caption("Deleted accounts disappear from the CRM and its lists (the sources still see them); "
                       "the audit log keeps who did it, and an admin can restore them.")
            reason = st.text_input("Reason", key="acc_delete_reason")
            confirm = st.checkbox(f"Yes, delete these {len(chosen)} account(s)", key="acc_delete_confirm")
            if st.button("Delete", type="primary", disabled=not confirm, key="acc_delete"):
                auth.run_write(f"Deleted {len(chosen)} account(s).", account_commands.delete_accounts, actor, chosen,
                               reason=reason)
