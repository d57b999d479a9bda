"""The Streamlit CRM: routing only. Pages live in app_pages/, SQL in data.py."""

import streamlit as st

st.set_page_config(page_title="DevSignal", layout="wide")
navigation = st.navigation([st.Page("app_pages/accounts.py", title="Accounts", default=True)])
navigation.run()
