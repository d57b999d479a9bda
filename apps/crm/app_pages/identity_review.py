"""Identity review: suggested merges with their evidence; merge, split an identifier off, or set a
person's account. Each decision is an app.identity_overrides row that the next dbt build honours
(and every rebuild keeps); nothing here edits a mart, so the marts change at the next build."""

import streamlit as st

from apps.crm import auth
from apps.crm.data import identity as data
from apps.state import identity as commands

actor = auth.require_actor()
is_admin, is_member = actor.at_least("ADMIN"), actor.at_least("MEMBER")
st.title("Identity review")
st.caption("Decisions apply at the next build (`devsignal run`, or Dagster's next materialisation) and survive "
           "every rebuild. Merge, split and revoke need ADMIN; setting an account needs MEMBER.")


def run(write, success: str) -> None:
    auth.run_write(success, write)


auth.show_flash()

suggest_tab, person_tab, decisions_tab = st.tabs(["Suggested merges", "A person", "Decisions"])

with suggest_tab:
    suggestions = data.merge_suggestions()
    st.caption(f"{len(suggestions)} groups of people with the same name at the same account. The graph joins "
               "two identifiers only when one record holds both, so someone's GitHub login and product login "
               "often stay apart: check the evidence before merging.")
    if not suggestions.empty:
        st.dataframe(suggestions[["name", "account_domain", "people", "evidence"]], hide_index=True,
                     width="stretch", height=260)
        number = st.selectbox("Review", range(len(suggestions)), key="identity_suggestion",
                              format_func=lambda i: f"{suggestions.name.iloc[i]} at "
                                                    f"{suggestions.account_domain.iloc[i]} "
                                                    f"({suggestions.people.iloc[i]} people)")
        group = list(suggestions.person_ids.iloc[number])
        st.dataframe(data.people(group), hide_index=True, width="stretch")
        st.dataframe(data.identifiers(group), hide_index=True, width="stretch")
        reason = st.text_input("Reason (kept with the decision)", key="identity_merge_reason", max_chars=500,
                               value="same name and account; identifiers from complementary sources")
        if st.button(f"Merge these {len(group)} people", key="identity_merge", disabled=not is_admin):
            run(lambda: commands.merge_group(actor, group, reason=reason),
                f"Merge recorded for {len(group)} people: applied at the next build.")

with person_tab:
    found = data.find_people(st.text_input("Find a person (name, email, GitHub login or id)", key="identity_find"))
    if not found.empty:
        person_id = st.selectbox("Person", found.person_id, key="identity_person",
                                 format_func=dict(zip(found.person_id, found.label)).get)
        st.dataframe(data.people([person_id]), hide_index=True, width="stretch")
        ids = data.identifiers([person_id])
        st.dataframe(ids, hide_index=True, width="stretch")
        split, account = st.columns(2)
        with split:
            st.markdown("**Split an identifier off**")
            choices = list(zip(ids.identifier_type, ids.identifier_value))
            if len(choices) > 1:
                picked = st.selectbox("Identifier", choices, key="identity_split_identifier",
                                      format_func=lambda c: f"{c[0]}: {c[1]}")
                split_reason = st.text_input("Reason", key="identity_split_reason", max_chars=500)
                if st.button("Split it off", key="identity_split", disabled=not is_admin):
                    run(lambda: commands.split_identifier(actor, picked[0], picked[1], reason=split_reason),
                        "Split recorded: applied at the next build.")
            else:
                st.caption("A person with one identifier has nothing to split.")
        with account:
            st.markdown("**Set the account**")
            accounts = data.account_choices()
            labels = dict(zip(accounts.account_id, accounts.label))
            account_id = st.selectbox("Works at", [None, *accounts.account_id], key="identity_account",
                                      format_func=lambda a: "No account (not a customer)" if a is None else labels[a])
            since = st.date_input("From (empty = always)", value=None, key="identity_account_since")
            account_reason = st.text_input("Reason", key="identity_account_reason", max_chars=500)
            if st.button("Set account", key="identity_set_account", disabled=not is_member):
                run(lambda: commands.set_account(actor, person_id, account_id=account_id, effective_from=since,
                                                 reason=account_reason),
                    "Account recorded: applied at the next build.")

with decisions_tab:
    decided = data.decisions()
    if decided.empty:
        st.caption("No decisions yet.")
    else:
        st.dataframe(decided, hide_index=True, width="stretch")
        live = decided[decided.revoked_at.isna()]
        if not live.empty:
            override_id = st.selectbox("Decision", live.override_id, key="identity_revoke_choice",
                                       format_func=lambda o: f"#{o} {live.set_index('override_id').action[o]}")
            if st.button("Revoke it", key="identity_revoke", disabled=not is_admin):
                run(lambda: commands.revoke(actor, int(override_id)), "Revoked: the next build ignores it.")
