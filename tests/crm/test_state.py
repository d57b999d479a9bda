"""The CRM's write commands: logins, member rules, saved views' privacy, account deletes, notes, CSV safety."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from sqlalchemy import text

from apps.state import Actor, PermissionDenied, engine
from apps.state import accounts, members, notes, views
from conftest import PASSWORDS, email_of


def _audit(action: str, actor: str | None = None) -> list:
    with engine().connect() as connection:
        return connection.execute(text("""select actor, outcome, before, after, detail from app.audit_log
                                          where action = :action and (cast(:actor as text) is null or actor = :actor)
                                          order by audit_id"""), {"action": action, "actor": actor}).all()


# -- logins ----------------------------------------------------------------------------------------

def test_passwords_are_argon2id_and_logins_are_audited(crm_database):
    with engine().connect() as connection:
        stored = connection.execute(text("select password_hash from app.members where email = :e"),
                                    {"e": email_of("MEMBER")}).scalar()
    assert stored.startswith("$argon2id$") and PASSWORDS["MEMBER"] not in stored
    actor = members.authenticate("  Member@CRM.test ", PASSWORDS["MEMBER"])
    assert actor == Actor(email_of("MEMBER"), "MEMBER")
    with pytest.raises(members.LoginFailed, match="invalid email or password"):
        members.authenticate(email_of("MEMBER"), "wrong-password-123")
    with pytest.raises(members.LoginFailed, match="invalid email or password"):
        members.authenticate("nobody@crm.test", "whatever-password")
    outcomes = [row.outcome for row in _audit("member.login", email_of("MEMBER"))]
    assert outcomes[-2:] == ["ok", "refused"]
    assert not any(PASSWORDS["MEMBER"] in str(row) for row in _audit("member.login"))


def test_a_burst_of_failures_locks_the_email_even_for_the_right_password(crm_database, actors):
    email = "locked@crm.test"
    members.invite_member(actors["OWNER"], email, "MEMBER", password="the-right-password")
    for _ in range(members.LOCK_AFTER_FAILURES):
        with pytest.raises(members.LoginFailed):
            members.authenticate(email, "a-wrong-password")
    with pytest.raises(members.LoginFailed, match="too many failed attempts"):
        members.authenticate(email, "the-right-password")
    assert "locked" in _audit("member.login", email)[-1].detail


def test_a_disabled_member_cannot_log_in_and_is_logged_out(crm_database, actors):
    email = "leaver@crm.test"
    members.invite_member(actors["ADMIN"], email, "MEMBER", password="leaver-password")
    assert members.authenticate(email, "leaver-password").role == "MEMBER"
    members.set_disabled(actors["ADMIN"], email, True)
    with pytest.raises(members.LoginFailed):
        members.authenticate(email, "leaver-password")
    assert members.actor_for_email(email) is None  # what the page gate re-reads on every run


def test_first_run_generates_an_owner_password_once(own_database_factory, monkeypatch):
    monkeypatch.delenv("DEVSIGNAL_CRM_OWNER_PASSWORD", raising=False)
    monkeypatch.setenv("DEVSIGNAL_CRM_OWNER_EMAIL", "first@crm.test")
    with own_database_factory("devsignal_crm_first_run_test"):
        password = members.ensure_owner()
        assert password and len(password) >= members.MIN_PASSWORD_LENGTH
        assert members.ensure_owner() is None  # never again
        assert members.authenticate("first@crm.test", password).role == "OWNER"
        assert [row.detail for row in _audit("member.create_owner")] == ["first run: owner with a generated password"]
        assert password not in str(_audit("member.create_owner"))


def test_first_run_from_a_too_short_environment_password_is_refused(own_database_factory, monkeypatch):
    monkeypatch.setenv("DEVSIGNAL_CRM_OWNER_EMAIL", "first@crm.test")
    monkeypatch.setenv("DEVSIGNAL_CRM_OWNER_PASSWORD", "short")
    with own_database_factory("devsignal_crm_first_run_test"):
        with pytest.raises(ValueError, match="at least 10 characters"):
            members.ensure_owner()


# -- member rules ------------------------------------------------------------------------------------

def test_role_rules_from_the_seed_hold(crm_database, actors):
    admin, owner = actors["ADMIN"], actors["OWNER"]
    with pytest.raises(ValueError, match="OWNER only by transfer"):
        members.invite_member(admin, "would-be-owner@crm.test", "OWNER")
    with pytest.raises(ValueError, match="OWNER only by transfer"):
        members.change_role(owner, email_of("MEMBER"), "OWNER")
    with pytest.raises(ValueError, match="your own role"):
        members.change_role(admin, admin.email, "MEMBER")
    with pytest.raises(ValueError, match="transferring ownership"):
        members.change_role(admin, owner.email, "VIEWER")
    with pytest.raises(ValueError, match="cannot be disabled"):
        members.set_disabled(admin, owner.email)
    with pytest.raises(ValueError, match="already a member"):
        members.invite_member(admin, email_of("VIEWER"), "VIEWER")
    with pytest.raises(ValueError, match="only the OWNER sets"):
        members.set_password(admin, owner.email, "another-password-1")
    promoted = "promoted@crm.test"
    members.invite_member(admin, promoted, "VIEWER")
    assert members.change_role(admin, promoted, "ADMIN")["role"] == "ADMIN"
    before_after = _audit("member.role_change", admin.email)[-1]
    assert (before_after.before, before_after.after) == ({"role": "VIEWER"}, {"role": "ADMIN"})


# -- saved views ---------------------------------------------------------------------------------------

def test_private_views_stay_private_and_defaults_do_not_leak(crm_database, actors):
    member, viewer, admin = actors["MEMBER"], actors["VIEWER"], actors["ADMIN"]
    private = views.create_view(member, "account", "my hot ones", {"tiers": ["HOT"]})
    shared = views.create_view(member, "account", "team rising", {"trends": ["RISING"]}, shared=True)
    seen_by_viewer = {view["view_id"] for view in views.list_views(viewer.email, "account")}
    assert shared["view_id"] in seen_by_viewer and private["view_id"] not in seen_by_viewer
    with pytest.raises(PermissionDenied):
        views.create_view(viewer, "account", "sharing needs member", {}, shared=True)

    views.set_default_view(viewer, "account", shared["view_id"])
    assert [v["view_id"] for v in views.list_views(viewer.email, "account") if v["is_default"]] == [shared["view_id"]]
    # the seed leaked one member's default to everyone (other tests may have set defaults of their own)
    assert shared["view_id"] not in {v["view_id"] for v in views.list_views(member.email, "account") if v["is_default"]}
    assert shared["view_id"] not in {v["view_id"] for v in views.list_views(admin.email, "account") if v["is_default"]}
    with pytest.raises(LookupError):
        views.set_default_view(viewer, "account", private["view_id"])  # someone else's private view

    with pytest.raises(PermissionDenied):
        views.delete_view(viewer, shared["view_id"])
    views.delete_view(member, shared["view_id"])
    assert shared["view_id"] not in {v["view_id"] for v in views.list_views(viewer.email, "account")}  # default went with it
    assert not [v for v in views.list_views(viewer.email, "account") if v["is_default"]]


def test_a_view_rejects_what_is_not_a_filter(crm_database, actors):
    with pytest.raises(ValueError, match="mapping"):
        views.create_view(actors["MEMBER"], "account", "bad", ["not", "a", "dict"])
    with pytest.raises(ValueError, match="unknown entity"):
        views.create_view(actors["MEMBER"], "galaxy", "bad", {})
    with pytest.raises(ValueError, match="1 to 100"):
        views.create_view(actors["MEMBER"], "account", " ", {})


# -- accounts --------------------------------------------------------------------------------------------

def test_deleting_an_account_hides_it_everywhere_and_restoring_brings_it_back(crm_database, actors):
    from apps.crm.data import accounts as account_reads, clear_caches

    listed = account_reads.account_list(account_reads.AccountFilter())
    victim = listed.iloc[-1]
    with pytest.raises(PermissionDenied):
        accounts.delete_accounts(actors["MEMBER"], [victim["account_id"]])
    assert accounts.delete_accounts(actors["ADMIN"], [victim["account_id"]], reason="duplicate") == 1
    clear_caches()
    after = account_reads.account_list(account_reads.AccountFilter())
    assert len(after) == len(listed) - 1 and victim["account_id"] not in set(after["account_id"])
    assert account_reads.account(victim["account_id"]) is None
    audit = _audit("account.delete", actors["ADMIN"].email)[-1]
    assert audit.after == {"suppressed": True, "reason": "duplicate"}
    accounts.restore_accounts(actors["ADMIN"], [victim["account_id"]])
    clear_caches()
    assert len(account_reads.account_list(account_reads.AccountFilter())) == len(listed)


def test_bulk_commands_check_their_input(crm_database, actors):
    with pytest.raises(ValueError, match="no accounts selected"):
        accounts.tag_accounts(actors["MEMBER"], [], "x")
    with pytest.raises(ValueError, match=f"at most {accounts.MAX_BULK}"):
        accounts.tag_accounts(actors["MEMBER"], [str(n) for n in range(accounts.MAX_BULK + 1)], "x")
    with pytest.raises(ValueError, match="1 to 50"):
        accounts.tag_accounts(actors["MEMBER"], ["a"], "x" * 51)
    with pytest.raises(ValueError, match="not an active member"):
        accounts.bulk_assign_owner(actors["MEMBER"], ["a"], "stranger@crm.test")


def test_a_bulk_tag_is_one_transaction(crm_database, actors):
    """A refusal half-way (here: a VIEWER) leaves no tag behind, and audit rows only for the refusal."""
    with pytest.raises(PermissionDenied):
        accounts.tag_accounts(actors["VIEWER"], ["acct-1", "acct-2"], "atomic")
    with engine().connect() as connection:
        assert connection.execute(text("select count(*) from app.account_tags where tag = 'atomic'")).scalar() == 0


def test_csv_export_neutralises_formula_cells():
    from apps.crm.data import to_safe_csv

    frame = pd.DataFrame({"name": ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tTab", "\rCR", "Acme"],
                          "score": [1, 2, 3, 4, 5, 6, -7], "tags": [["=x"], [], ["a", "b"], [], [], [], []]})
    rows = list(csv.reader(io.StringIO(to_safe_csv(frame).decode(), newline="")))
    assert [row[0] for row in rows[1:]] == ["'=HYPERLINK(\"http://x\")", "'+1", "'-2", "'@SUM(A1)", "'\tTab", "'\rCR", "Acme"]
    assert rows[-1][1] == "-7"  # numbers stay numbers
    assert rows[1][2] == "'=x" and rows[3][2] == "a, b"


# -- notes --------------------------------------------------------------------------------------------------

def test_notes_belong_to_their_author(crm_database, actors):
    member, admin = actors["MEMBER"], actors["ADMIN"]
    note = notes.add_note(member, "  called them  ", account_id="acct-notes")
    assert note["body"] == "called them"
    with pytest.raises(ValueError, match="some text"):
        notes.add_note(member, "   ", account_id="acct-notes")
    other = Actor("other-member@crm.test", "MEMBER")
    with pytest.raises(PermissionDenied):
        notes.delete_note(other, note["note_id"])
    assert _audit("note.delete", other.email)[-1].outcome == "refused"
    notes.delete_note(admin, note["note_id"])
    assert _audit("note.delete", admin.email)[-1].before["body"] == "called them"
