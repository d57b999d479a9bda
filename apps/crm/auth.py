"""Who is using the CRM: the login gate, and the current member as an `apps.state.Actor`.

The gate runs in `streamlit_app.py` before navigation, so no page renders for a stranger. The role
shown here only decides which buttons appear; the write commands in `apps.state` check it again.
The member is re-read on every run, so a role change or a disable takes effect at the next click.
"""

from __future__ import annotations

import streamlit as st

from apps.state import Actor, members

SESSION_KEY = "actor"


@st.cache_resource(show_spinner=False)
def _first_run(database: str) -> bool:
    """Migrate (idempotent), then create the OWNER once per database per server process; print a
    generated password once."""
    from apps import migrations

    migrations.upgrade()
    password = members.ensure_owner()
    if password is not None:
        from devsignal import settings

        email = settings.get("DEVSIGNAL_CRM_OWNER_EMAIL") or "owner@devsignal.local"
        # the console of whoever started the CRM; shown once, never stored in clear or logged
        print(f"\nDevSignal CRM: first run, created the OWNER {email} with password: {password}\n"
              "Change it under Settings > Members (or set DEVSIGNAL_CRM_OWNER_PASSWORD before the first run).\n",
              flush=True)
    return True


def current_actor() -> Actor | None:
    """The logged-in member (fresh role from `app.members`), or None. Disabled members are logged out."""
    actor = st.session_state.get(SESSION_KEY)
    if actor is None:
        return None
    fresh = members.actor_for_email(actor.email)
    if fresh is None:
        st.session_state.pop(SESSION_KEY, None)
        return None
    if fresh != actor:
        st.session_state[SESSION_KEY] = fresh
    return fresh


def require_actor() -> Actor:
    """For pages: the current member, or stop the page (a page opened without the gate)."""
    actor = current_actor()
    if actor is None:
        st.warning("Please log in.")
        st.stop()
    return actor


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml at all: OIDC is simply not configured
        return False


def login_gate() -> Actor:
    """Show the login form (and the OIDC button when configured) until a member logs in."""
    from apps.crm.data import database_key

    _first_run(database_key())
    actor = current_actor()
    if actor is not None:
        return actor
    if _oidc_configured() and getattr(st.user, "is_logged_in", False):
        mapped = members.actor_for_email(st.user.get("email") or "")
        if mapped is not None:
            st.session_state[SESSION_KEY] = mapped
            return mapped
        st.error("Your single sign-on account is not a member of this CRM; ask an admin to invite you.")
    st.title("DevSignal")
    with st.form("login"):
        email = st.text_input("Email", key="login_email")
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Log in")
    if submitted:
        try:
            st.session_state[SESSION_KEY] = members.authenticate(email, password)
            st.rerun()
        except members.LoginFailed as refusal:
            st.error(str(refusal))
    if _oidc_configured():
        st.button("Log in with single sign-on", on_click=st.login)
    st.stop()


def logout() -> None:
    st.session_state.pop(SESSION_KEY, None)
    if _oidc_configured() and getattr(st.user, "is_logged_in", False):
        st.logout()


FLASH_KEY = "flash"


def show_flash() -> None:
    """The message of the write that caused this rerun (pages call it at the top)."""
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.success(message)


def run_write(success: str, write, *args, rerun: bool = True, bad_input: tuple = (), **kwargs):
    """Call an `apps.state` command for a page: show its refusal or bad-input error instead of a traceback;
    after a write clear cached reads and rerun so the whole page shows it (with `success` on top).
    `bad_input`: more exception types that mean "the input was wrong" (e.g. a YAML parse error).
    Returns the command's result (when not rerunning) or None."""
    from apps.crm.data import clear_caches, escape_markdown
    from apps.state import NotFound, PermissionDenied

    try:
        result = write(*args, **kwargs)
    except PermissionDenied as refusal:
        st.error(f"Not allowed: {escape_markdown(refusal)}")
        return None
    except (ValueError, NotFound, *bad_input) as problem:
        st.error(escape_markdown(problem))
        return None
    clear_caches()
    if rerun:
        st.session_state[FLASH_KEY] = success
        st.rerun()
    st.success(success)
    return result
