"""Every write command in `apps.state` x every role: allowed, or `PermissionDenied` with a refused audit row.

The registry below names each command, the least role it needs and how to call it. Our own commands
(members, accounts, notes, views, api_keys, deals) must succeed for every allowed role; other teams'
commands are called with real but possibly missing targets, so an allowed role may meet NotFound or a
validation error, but never a refusal. `test_every_command_is_in_the_registry` fails when a new command
appears without an entry here.
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import pkgutil
from dataclasses import dataclass
from typing import Any, Callable

import pytest
from sqlalchemy import text

import apps.state
from apps.state import ROLES, Actor, PermissionDenied, engine
from apps.state import accounts, api_keys, deals, members, notes, views

_serial = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_serial)}"


class Setup:
    """Targets the calls need, made by the OWNER (or straight in the table, for other teams' rows)."""

    owner = Actor("owner@crm.test", "OWNER")

    def member(self, role: str = "MEMBER") -> str:
        email = f"{unique('rbac')}@crm.test"
        members.invite_member(self.owner, email, role)
        return email

    def account(self) -> str:
        with engine().connect() as connection:
            return connection.execute(text("select account_id from marts.account_scores_current order by score desc limit 1")).scalar()

    def person(self, offset: int = 0) -> str:
        with engine().connect() as connection:
            return connection.execute(text("select person_id from marts.dim_people order by person_id offset :o limit 1"),
                                      {"o": offset}).scalar()

    def deal(self) -> int:
        return deals.create_deal(self.owner, title=unique("rbac deal"), account_id=self.account())["deal_id"]

    def note(self) -> int:
        return notes.add_note(self.owner, unique("owner's note"), account_id=self.account())["note_id"]

    def shared_view(self) -> int:
        return views.create_view(self.owner, "account", unique("shared"), {"tiers": ["HOT"]}, shared=True)["view_id"]

    def key_prefix(self) -> str:
        from apps.api import keys

        return keys.parse_key(api_keys.create_key(self.owner, unique("rbac key"), ["read"]))

    def row(self, sql: str, **params) -> Any:
        with engine().begin() as connection:
            return connection.execute(text(sql), params).scalar()


@dataclass
class Case:
    name: str
    min_role: str
    call: Callable[[Actor, Setup], Any]
    commands: tuple  # the functions this case exercises (for the coverage check)
    ours: bool = True


def _transfer_and_back(actor: Actor, setup: Setup) -> None:
    heir = setup.member("ADMIN")
    members.transfer_ownership(actor, heir)
    members.transfer_ownership(Actor(heir, "OWNER"), actor.email)  # leave the OWNER as the fixtures expect


def _own_dashboard(actor: Actor, setup: Setup) -> int:
    return setup.row("insert into app.dashboards (owner, name) values (:owner, :name) returning dashboard_id",
                     owner=actor.email, name=unique("rbac dashboard"))


def _workflow(name: str) -> dict:
    return {"name": name, "trigger": "signal_received", "actions": [{"type": "log", "params": {"message": "rbac"}}]}


def _case_list() -> list[Case]:
    cases = [
        # members
        Case("members.invite_member", "ADMIN", lambda a, s: members.invite_member(a, f"{unique('new')}@crm.test", "VIEWER"),
             (members.invite_member,)),
        Case("members.change_role", "ADMIN", lambda a, s: members.change_role(a, s.member(), "VIEWER"), (members.change_role,)),
        Case("members.set_disabled", "ADMIN", lambda a, s: members.set_disabled(a, s.member(), True), (members.set_disabled,)),
        Case("members.set_password[someone else's]", "ADMIN",
             lambda a, s: members.set_password(a, s.member(), "a-new-password-1"), (members.set_password,)),
        Case("members.set_password[own]", "VIEWER",
             lambda a, s: members.set_password(a, a.email, f"{a.role.lower()}-pass-1234"), (members.set_password,)),
        Case("members.set_slack", "ADMIN", lambda a, s: members.set_slack(a, s.member(), slack_user_id="U123",
                                                                            slack_channel="#rbac"), (members.set_slack,)),
        Case("members.set_setting", "ADMIN", lambda a, s: members.set_setting(a, "slack.default_channel", unique("#alerts")),
             (members.set_setting,)),
        Case("members.transfer_ownership", "OWNER", _transfer_and_back, (members.transfer_ownership,)),
        # accounts
        Case("accounts.tag_accounts", "MEMBER", lambda a, s: accounts.tag_accounts(a, [s.account()], unique("rbac")),
             (accounts.tag_accounts,)),
        Case("accounts.untag_accounts", "MEMBER", lambda a, s: accounts.untag_accounts(a, [s.account()], "rbac"),
             (accounts.untag_accounts,)),
        Case("accounts.bulk_assign_owner", "MEMBER",
             lambda a, s: accounts.bulk_assign_owner(a, [unique("rbac-account")], "member@crm.test"),
             (accounts.bulk_assign_owner,)),
        Case("accounts.delete_accounts", "ADMIN", lambda a, s: accounts.delete_accounts(a, [unique("rbac-account")]),
             (accounts.delete_accounts,)),
        Case("accounts.restore_accounts", "ADMIN", lambda a, s: accounts.restore_accounts(a, [unique("rbac-account")]),
             (accounts.restore_accounts,)),
        Case("accounts.record_export", "MEMBER", lambda a, s: accounts.record_export(a, "account", 3, {}),
             (accounts.record_export,)),
        # notes
        Case("notes.add_note", "MEMBER", lambda a, s: notes.add_note(a, "rbac note", account_id=s.account()), (notes.add_note,)),
        Case("notes.delete_note[someone else's]", "ADMIN", lambda a, s: notes.delete_note(a, s.note()), (notes.delete_note,)),
        # saved views
        Case("views.create_view[private]", "VIEWER",
             lambda a, s: views.create_view(a, "account", unique("mine"), {"tiers": ["HOT"]}), (views.create_view,)),
        Case("views.create_view[shared]", "MEMBER",
             lambda a, s: views.create_view(a, "account", unique("ours"), {}, shared=True), (views.create_view,)),
        Case("views.update_view[someone else's]", "ADMIN",
             lambda a, s: views.update_view(a, s.shared_view(), {"name": unique("renamed")}), (views.update_view,)),
        Case("views.delete_view[someone else's]", "ADMIN", lambda a, s: views.delete_view(a, s.shared_view()),
             (views.delete_view,)),
        Case("views.set_default_view", "VIEWER", lambda a, s: views.set_default_view(a, "account", s.shared_view()),
             (views.set_default_view,)),
        # API keys
        Case("api_keys.create_key", "ADMIN", lambda a, s: api_keys.create_key(a, unique("key"), ["write"]),
             (api_keys.create_key,)),
        Case("api_keys.revoke_key", "ADMIN", lambda a, s: api_keys.revoke_key(a, s.key_prefix()), (api_keys.revoke_key,)),
        # deals
        Case("deals.create_deal", "MEMBER", lambda a, s: deals.create_deal(a, title=unique("deal"), account_id=s.account()),
             (deals.create_deal,)),
        Case("deals.move_deal", "MEMBER", lambda a, s: deals.move_deal(a, s.deal(), "ACTIVATED"), (deals.move_deal,)),
        Case("deals.update_deal", "MEMBER", lambda a, s: deals.update_deal(a, s.deal(), {"amount": 100}), (deals.update_deal,)),
        Case("deals.delete_deal", "ADMIN", lambda a, s: deals.delete_deal(a, s.deal()), (deals.delete_deal,)),
        Case("deals.assign_owner", "MEMBER", lambda a, s: deals.assign_owner(a, unique("rbac-account"), a.email),
             (deals.assign_owner,)),
        Case("deals.claim_account", "MEMBER", lambda a, s: deals.claim_account(a, unique("rbac-account"), "Rbac Inc"),
             (deals.claim_account,)),
    ]
    cases += _other_teams_cases()
    return cases


def _other_teams_cases() -> list[Case]:
    """Commands written by other engineers, when their modules are present."""
    cases = []
    try:
        from apps.state import dashboards
    except ImportError:
        dashboards = None
    if dashboards is not None:
        cases += [
            Case("dashboards.create_dashboard", "MEMBER", lambda a, s: dashboards.create_dashboard(a, unique("board")),
                 (dashboards.create_dashboard,), ours=False),
            Case("dashboards.save_layout", "MEMBER",
                 lambda a, s: dashboards.save_layout(a, _own_dashboard(a, s), dashboards.DEFAULT_LAYOUT),
                 (dashboards.save_layout,), ours=False),
            Case("dashboards.add_widget", "MEMBER",
                 lambda a, s: dashboards.add_widget(a, _own_dashboard(a, s), dashboards.DEFAULT_LAYOUT[0][0]),
                 (dashboards.add_widget,), ours=False),
            Case("dashboards.set_default", "MEMBER", lambda a, s: dashboards.set_default(a, _own_dashboard(a, s)),
                 (dashboards.set_default,), ours=False),
            Case("dashboards.delete_dashboard", "MEMBER", lambda a, s: dashboards.delete_dashboard(a, _own_dashboard(a, s)),
                 (dashboards.delete_dashboard,), ours=False),
        ]
    try:
        from apps.state import identity
    except ImportError:
        identity = None
    if identity is not None:
        cases += [
            Case("identity.merge_people", "ADMIN", lambda a, s: identity.merge_people(a, s.person(0), s.person(1)),
                 (identity.merge_people,), ours=False),
            Case("identity.merge_group", "ADMIN", lambda a, s: identity.merge_group(a, [s.person(2), s.person(3)]),
                 (identity.merge_group,), ours=False),
            Case("identity.split_identifier", "ADMIN",
                 lambda a, s: identity.split_identifier(a, "email", unique("nobody") + "@nowhere.test"),
                 (identity.split_identifier,), ours=False),
            Case("identity.set_account", "MEMBER", lambda a, s: identity.set_account(a, s.person(4), account_id=s.account()),
                 (identity.set_account,), ours=False),
            Case("identity.revoke", "ADMIN", lambda a, s: identity.revoke(a, 10**12), (identity.revoke,), ours=False),
        ]
    try:
        from apps.state import imports
    except ImportError:
        imports = None
    if imports is not None:
        cases.append(Case("imports.run_import", "ADMIN", lambda a, s: imports.run_import(a, "/nonexistent/export.csv"),
                          (imports.run_import,), ours=False))
    try:
        from apps.state import webhooks
    except ImportError:
        webhooks = None
    if webhooks is not None:
        cases += [
            Case("webhooks.register_endpoint", "ADMIN",
                 lambda a, s: webhooks.register_endpoint(a, "http://127.0.0.1:9/hook", ["account.tier_changed"]),
                 (webhooks.register_endpoint,), ours=False),
            Case("webhooks.update_endpoint", "ADMIN", lambda a, s: webhooks.update_endpoint(a, 10**12, description="x"),
                 (webhooks.update_endpoint,), ours=False),
            Case("webhooks.rotate_secret", "ADMIN", lambda a, s: webhooks.rotate_secret(a, 10**12),
                 (webhooks.rotate_secret,), ours=False),
            Case("webhooks.disable_endpoint", "ADMIN", lambda a, s: webhooks.disable_endpoint(a, 10**12, "rbac"),
                 (webhooks.disable_endpoint,), ours=False),
            Case("webhooks.enable_endpoint", "ADMIN", lambda a, s: webhooks.enable_endpoint(a, 10**12),
                 (webhooks.enable_endpoint,), ours=False),
            Case("webhooks.replay", "ADMIN", lambda a, s: webhooks.replay(a, 10**12), (webhooks.replay,), ours=False),
        ]
    try:
        from apps.state import workflows
    except ImportError:
        workflows = None
    if workflows is not None:
        cases += [
            Case("workflows.create_workflow", "ADMIN", lambda a, s: workflows.create_workflow(a, _workflow(unique("rbac wf"))),
                 (workflows.create_workflow,), ours=False),
            Case("workflows.update_workflow", "ADMIN",
                 lambda a, s: workflows.update_workflow(a, 10**12, _workflow(unique("rbac wf"))),
                 (workflows.update_workflow,), ours=False),
            Case("workflows.set_enabled", "ADMIN", lambda a, s: workflows.set_enabled(a, 10**12, True),
                 (workflows.set_enabled,), ours=False),
            Case("workflows.enable_workflow", "ADMIN", lambda a, s: workflows.enable_workflow(a, 10**12),
                 (workflows.enable_workflow,), ours=False),
            Case("workflows.disable_workflow", "ADMIN", lambda a, s: workflows.disable_workflow(a, 10**12),
                 (workflows.disable_workflow,), ours=False),
            Case("workflows.delete_workflow", "ADMIN", lambda a, s: workflows.delete_workflow(a, 10**12),
                 (workflows.delete_workflow,), ours=False),
            Case("workflows.tag_account", "MEMBER", lambda a, s: workflows.tag_account(a, s.account(), unique("wf")),
                 (workflows.tag_account,), ours=False),
        ]
    return cases


CASES = _case_list()
# dashboards.ensure_default: a VIEWER gets the built-in layout unsaved (None), which is no write to refuse
NOT_REFUSABLE = {"ensure_default"}


def _refusals(actor: Actor) -> int:
    with engine().connect() as connection:
        return connection.execute(text("select count(*) from app.audit_log where actor = :actor and outcome = 'refused'"),
                                  {"actor": actor.email}).scalar()


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_write_by_role(case: Case, role: str, crm_database, actors):
    actor, setup = actors[role], Setup()
    refused_before = _refusals(actor)
    if actor.at_least(case.min_role):
        if case.ours:
            case.call(actor, setup)
        else:
            try:
                case.call(actor, setup)
            except PermissionDenied:
                raise
            except Exception:  # a missing target or bad input: the role itself was let through
                pass
        assert _refusals(actor) == refused_before
    else:
        with pytest.raises(PermissionDenied):
            case.call(actor, setup)
        assert _refusals(actor) == refused_before + 1, (engine().url.database, _refusals(actor))
        with engine().connect() as connection:
            last = connection.execute(text("""select actor_role, outcome, detail from app.audit_log where actor = :actor
                                              order by audit_id desc limit 1"""), {"actor": actor.email}).first()
        assert last.actor_role == role and last.outcome == "refused"


def test_every_command_is_in_the_registry():
    covered = {function for case in CASES for function in case.commands}
    missing = []
    for module_info in pkgutil.iter_modules(apps.state.__path__):
        module = importlib.import_module(f"apps.state.{module_info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or function.__module__ != module.__name__ or name in NOT_REFUSABLE:
                continue
            parameters = list(inspect.signature(function).parameters)
            if parameters[:1] == ["actor"] and function not in covered:
                missing.append(f"{module.__name__}.{name}")
    assert not missing, f"write commands without an RBAC case in {__file__}: {', '.join(missing)}"
