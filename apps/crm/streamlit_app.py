"""The Streamlit CRM: the login gate, then routing. Pages live in app_pages/, SQL in data/."""

from pathlib import Path

import streamlit as st

from apps.crm import auth

HERE = Path(__file__).resolve().parent

SECTIONS = {
    "Work": [("home.py", "Home", ":material/home:"), ("accounts.py", "Accounts", ":material/domain:"),
             ("deals.py", "Deals", ":material/view_kanban:"), ("workflows.py", "Workflows", ":material/bolt:")],
    "Explore": [("account_360.py", "Account 360", ":material/travel_explore:"),
                ("people.py", "People", ":material/group:"), ("person.py", "Person", ":material/person:"),
                ("signals.py", "Signals", ":material/sensors:"), ("packages.py", "Package adoption", ":material/package_2:"),
                ("dashboards.py", "Dashboards", ":material/dashboard:"), ("search.py", "Search", ":material/search:")],
    "Admin": [("import_crm.py", "Import", ":material/upload_file:"),
              ("identity_review.py", "Identity review", ":material/join:"),
              ("settings.py", "Settings", ":material/settings:")],
}

st.set_page_config(page_title="DevSignal", layout="wide")
actor = auth.login_gate()

# a page appears once its file exists (pages are written by two engineers in parallel)
pages = {section: [st.Page(f"app_pages/{name}", title=title, icon=icon, default=name == "home.py")
                   for name, title, icon in entries if (HERE / "app_pages" / name).exists()]
         for section, entries in SECTIONS.items()}
navigation = st.navigation({section: entries for section, entries in pages.items() if entries})
with st.sidebar:
    st.text(f"{actor.email} · {actor.role}")
    st.button("Log out", on_click=auth.logout, key="logout")
navigation.run()
