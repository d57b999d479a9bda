"""The CRM tests' database: a database of their own (`devsignal_crm_test`, migrated), holding copies
of the demo world's marts and dlt load records taken read-only from the `devsignal` database, plus
one member per role. Every write in these tests lands in the copy, never in the demo.
"""

from __future__ import annotations

import pytest

from demo_marts import copy_marts

PASSWORDS = {"OWNER": "owner-pass-1234", "ADMIN": "admin-pass-1234", "MEMBER": "member-pass-1234",
             "VIEWER": "viewer-pass-1234"}


def email_of(role: str) -> str:
    return f"{role.lower()}@crm.test"


@pytest.fixture(scope="session")
def crm_database(demo_database, own_database_factory):
    """(database url, rows copied per table); members: one per role, passwords in PASSWORDS."""
    with own_database_factory("devsignal_crm_test") as url:
        counts = copy_marts()
        from apps.state import Actor, members

        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("DEVSIGNAL_CRM_OWNER_EMAIL", email_of("OWNER"))
            patch.setenv("DEVSIGNAL_CRM_OWNER_PASSWORD", PASSWORDS["OWNER"])
            assert members.ensure_owner() is None  # from the environment: nothing generated to show
        owner = Actor(email_of("OWNER"), "OWNER")
        for role in ("ADMIN", "MEMBER", "VIEWER"):
            members.invite_member(owner, email_of(role), role, password=PASSWORDS[role])
        yield url, counts


@pytest.fixture
def actors(crm_database):
    from apps.state import Actor

    return {role: Actor(email_of(role), role) for role in PASSWORDS}
