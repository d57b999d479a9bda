"""Person detail: identities across sources, employment history (accounts over time), recent signals."""

import streamlit as st

from apps.crm import auth
from apps.crm.data import escape_markdown, people

auth.require_actor()
st.title("Person")
person_id = st.text_input("Person id", value=st.session_state.get("person_id") or st.query_params.get("person", ""),
                          key="person_id_input").strip()
if not person_id:
    st.info("Pick someone on People, or paste a person id.")
    st.stop()
person = people.person(person_id)
if person is None:
    st.warning("No such person in the identity graph.")
    st.stop()
st.session_state["person_id"] = person["person_id"]
st.header(escape_markdown(person["display_name"] or person["person_id"]))
facts = {"title": person["title"], "email": person["primary_email"], "GitHub": person["github_login"],
         "account": person["account_name"], "match rule": person["match_rule"],
         "match confidence": person["match_confidence"], "first seen": person["first_seen_at"],
         "last seen": person["last_seen_at"], "noise": person["noise_reason"]}
st.dataframe([{"field": key, "value": "" if value is None else str(value)} for key, value in facts.items()],
             hide_index=True, key="person_facts")
if person["person_id"] != person_id:
    st.caption(f"{person_id} was merged into {person['person_id']}.")
st.subheader("Identities across sources")
st.dataframe(people.identities(person["person_id"]), hide_index=True, key="person_identities")
st.subheader("Employment history")
st.caption("Accounts this person's activity was attributed to, newest first: a move between companies shows as two rows.")
st.dataframe(people.employment(person["person_id"]), hide_index=True, key="person_employment")
st.subheader("Recent signals")
st.dataframe(people.recent_signals(person["person_id"]), hide_index=True, key="person_signals")
