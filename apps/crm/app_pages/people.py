"""People: everyone the identity graph knows, searchable; open one for their identities and history."""

import streamlit as st

from apps.crm import auth
from apps.crm.data import people

auth.require_actor()
st.title("People")
search = st.text_input("Search name, email, GitHub login or domain", key="people_search")
left, right = st.columns(2)
include_noise = left.checkbox("Include bots, internal and test accounts", key="people_noise")
identified_only = right.checkbox("Identified people only", value=True, key="people_identified")
frame = people.people_list(search, include_noise=include_noise, identified_only=identified_only)
st.caption(f"{len(frame)} people" + (f" (first {people.LIST_LIMIT})" if len(frame) >= people.LIST_LIMIT else ""))
st.dataframe(frame.drop(columns=["account_id"], errors="ignore"), hide_index=True, key="people_table",
             column_config={"person_id": st.column_config.TextColumn("person")})
if not frame.empty:
    labels = dict(zip(frame["person_id"], frame["display_name"].fillna(frame["person_id"])))
    chosen = st.selectbox("Open a person", list(labels), format_func=lambda pid: f"{labels[pid]} ({pid})",
                          key="people_open")
    if st.button("Open person", key="people_open_button"):
        st.session_state["person_id"] = chosen
        st.switch_page("app_pages/person.py")
