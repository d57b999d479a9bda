"""Settings: members and roles, API keys, Slack, the audit log."""

import streamlit as st

from apps.crm import auth
from apps.crm.data import admin
from apps.state import ROLES, api_keys, members

actor = auth.require_actor()
auth.show_flash()
st.title("Settings")
members_tab, keys_tab, slack_tab, audit_tab = st.tabs(["Members", "API keys", "Slack", "Audit log"])
is_admin = actor.at_least("ADMIN")

with members_tab:
    roster = admin.members()
    st.dataframe(roster, hide_index=True, key="settings_members")
    with st.form("settings_password", clear_on_submit=True):
        st.caption(f"Your password ({actor.email})")
        new_password = st.text_input("New password", type="password", key="settings_new_password")
        if st.form_submit_button("Change my password"):
            auth.run_write("Password changed.", members.set_password, actor, actor.email, new_password)
    if not is_admin:
        st.caption("Inviting members and changing roles needs ADMIN.")
    else:
        invite_column, role_column = st.columns(2)
        with invite_column.form("settings_invite", clear_on_submit=True):
            st.caption("Invite a member")
            email = st.text_input("Email", key="settings_invite_email")
            name = st.text_input("Name", key="settings_invite_name")
            role = st.selectbox("Role", members.INVITABLE_ROLES, index=1, key="settings_invite_role")
            password = st.text_input("Initial password (leave empty for single sign-on only)", type="password",
                                     key="settings_invite_password")
            if st.form_submit_button("Invite"):
                auth.run_write(f"Invited {email.strip()}.", members.invite_member, actor, email, role,
                               display_name=name, password=password or None)
        others = [email for email in roster["email"]] if not roster.empty else []
        with role_column.form("settings_role"):
            st.caption("Change a role, disable or enable")
            target = st.selectbox("Member", others, key="settings_role_member")
            new_role = st.selectbox("Role", members.INVITABLE_ROLES, key="settings_role_role")
            change, disable, enable = st.columns(3)
            if change.form_submit_button("Change role"):
                auth.run_write(f"{target} is now {new_role}.", members.change_role, actor, target, new_role)
            if disable.form_submit_button("Disable"):
                auth.run_write(f"{target} is disabled.", members.set_disabled, actor, target, True)
            if enable.form_submit_button("Enable"):
                auth.run_write(f"{target} is enabled.", members.set_disabled, actor, target, False)
        if actor.role == "OWNER":
            with st.expander("Transfer ownership"):
                heir = st.selectbox("New owner", [email for email in others if email != actor.email], key="settings_heir")
                if st.checkbox("I understand I become an ADMIN", key="settings_heir_confirm") and \
                        st.button("Transfer", key="settings_transfer"):
                    auth.run_write(f"{heir} now owns this workspace.", members.transfer_ownership, actor, heir)

with keys_tab:
    st.caption("Keys authenticate the intake API's custom signals. A key is shown once, at creation; only its hash is kept.")
    new_key = st.session_state.pop("settings_created_key", None)
    if new_key:
        st.warning("Copy this key now: it will not be shown again.")
        st.code(new_key, language=None)
    st.dataframe(admin.api_keys(), hide_index=True, key="settings_keys")
    if is_admin:
        with st.form("settings_key_form", clear_on_submit=True):
            key_name = st.text_input("Key name", key="settings_key_name")
            scopes = st.multiselect("Scopes", ["read", "write"], default=["write"], key="settings_key_scopes")
            if st.form_submit_button("Create key"):
                created = auth.run_write("Key created.", api_keys.create_key, actor, key_name, scopes, rerun=False)
                if created:
                    st.session_state["settings_created_key"] = created
                    st.rerun()
        active_keys = admin.api_keys()
        active_keys = active_keys[active_keys["revoked_at"].isna()]["prefix"].tolist() if not active_keys.empty else []
        if active_keys:
            revoke = st.selectbox("Revoke a key", active_keys, key="settings_revoke_prefix")
            if st.button("Revoke", key="settings_revoke"):
                auth.run_write(f"Key {revoke} revoked.", api_keys.revoke_key, actor, revoke)
    else:
        st.caption("Creating and revoking keys needs ADMIN.")

with slack_tab:
    from devsignal import settings as devsignal_settings

    configured = members.get_setting("slack.default_channel")
    environment = devsignal_settings.get("DEVSIGNAL_SLACK_DEFAULT_CHANNEL") or ""
    st.write("Default channel:", configured or environment or "(none)",
             "(set here)" if configured else "(from DEVSIGNAL_SLACK_DEFAULT_CHANNEL)" if environment else "")
    st.caption("Alerts for an account go to its owner's channel (per member, below), else to the default channel. "
               "The Slack user id maps a Slack button click to a member.")
    if is_admin:
        with st.form("settings_slack_default"):
            channel = st.text_input("Default channel", value=configured or "", key="settings_slack_channel")
            if st.form_submit_button("Save default channel"):
                auth.run_write("Default channel saved.", members.set_setting, actor, "slack.default_channel", channel)
        roster = admin.members()
        if not roster.empty:
            with st.form("settings_slack_member"):
                who = st.selectbox("Member", roster["email"].tolist(), key="settings_slack_member")
                slack_user = st.text_input("Slack user id (U…)", key="settings_slack_user")
                slack_channel = st.text_input("Their alerts channel", key="settings_slack_member_channel")
                if st.form_submit_button("Save member's Slack"):
                    auth.run_write(f"Slack settings saved for {who}.", members.set_slack, actor, who,
                                   slack_user_id=slack_user, slack_channel=slack_channel)

with audit_tab:
    if not is_admin:
        st.caption("The audit log is for ADMINs (each account's own history is on its Account 360).")
    else:
        roster = admin.members()
        person_column, entity_column, id_column, action_column = st.columns(4)
        who = person_column.selectbox("Person", [None] + (roster["email"].tolist() if not roster.empty else []),
                                      format_func=lambda value: "anyone" if value is None else value, key="audit_actor")
        entity = entity_column.selectbox("Entity", [None] + admin.audit_entity_types(),
                                         format_func=lambda value: "any" if value is None else value, key="audit_entity")
        entity_id = id_column.text_input("Entity id", key="audit_entity_id")
        action = action_column.selectbox("Action", [None] + admin.audit_actions(),
                                         format_func=lambda value: "any" if value is None else value, key="audit_action")
        log = admin.audit_log(actor=who, entity_type=entity, entity_id=entity_id.strip() or None, action=action)
        st.caption(f"{len(log)} rows (newest first, at most {admin.AUDIT_LIMIT}); roles: {' < '.join(ROLES)}")
        st.dataframe(log, hide_index=True, width="stretch", key="audit_table")
