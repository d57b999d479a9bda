"""Search: one box over accounts, people, deals and notes (PostgreSQL full-text search, ranked,
with highlighted snippets). Any input is safe: it is only ever a bound parameter."""

from urllib.parse import quote

import streamlit as st

from apps.crm import auth
from apps.crm.data import search as data

auth.require_actor()
st.title("Search")

LABELS = {"account": "Accounts", "person": "People", "deal": "Deals", "note": "Notes"}
ICONS = {"account": ":material/domain:", "person": ":material/person:", "deal": ":material/view_kanban:",
         "note": ":material/sticky_note_2:"}
LINKS = {"account": "account_360?account=", "person": "person?person="}

text = st.text_input("Search accounts, people, deals and notes", key="search_text", max_chars=data.MAX_CHARS,
                     placeholder='acme, "data platform", ana@, -staging')
types = st.pills("In", list(LABELS), format_func=LABELS.get, selection_mode="multi", default=list(LABELS),
                 key="search_types")
if len(text.strip()) < data.MIN_CHARS:
    st.caption(f"Type at least {data.MIN_CHARS} characters. Words match as prefixes; \"quotes\" match a phrase, "
               "`-word` leaves a word out, `or` widens.")
    st.stop()

results = data.search(text, tuple(types or ()))
st.caption(f"{len(results)} result{'s' if len(results) != 1 else ''}")
for row in results.itertuples():
    with st.container(border=True):
        kind, title = st.columns([1, 6])
        kind.markdown(f"{ICONS[row.type]} {LABELS[row.type][:-1] if row.type != 'person' else 'Person'}")
        # titles, subtitles and snippets are data (names, notes): escaped, never HTML
        link = LINKS.get(row.type)
        heading = data.highlight_markdown(row.title or "")
        title.markdown(f"**[{heading}]({link}{quote(str(row.id))})**" if link else f"**{heading}**")
        if row.subtitle:
            title.caption(data.highlight_markdown(row.subtitle))
        title.markdown(data.highlight_markdown(row.snippet))
