"""Identity review: the demo world's merge suggestions with evidence; a merge, a split and a
set_account become app.identity_overrides rows (audited), with the roles each needs."""

import pytest
from sqlalchemy import text

from apps.state import NotFound, PermissionDenied
from apps.state import identity
from devsignal import db

from test_pages_b_setup import actor, demo_scalar, page, pages_b_database, pages_b_session  # noqa: F401 (fixtures)


def _overrides():
    with db.engine().connect() as connection:
        return [dict(r._mapping) for r in connection.execute(text(
            "select * from app.identity_overrides order by override_id"))]


def test_suggestions_and_a_merge_from_the_page(pages_b_database):
    groups = demo_scalar("""select count(*) from (select 1 from marts.dim_people
                            where not is_anonymous and noise_reason is null and account_id is not null
                            and display_name <> person_id
                            group by lower(regexp_replace(btrim(display_name), '\\s+', ' ', 'g')), account_id
                            having count(*) > 1) g""")
    assert groups > 0
    at = page("identity_review", role="ADMIN").run()
    assert not at.exception
    assert at.dataframe[0].value.shape[0] == groups
    first = at.dataframe[0].value.iloc[0]
    assert first.evidence.startswith("same name, same account")
    people = at.dataframe[1].value
    assert set(people.display_name.str.lower()) == {first["name"].lower()}

    before = len(_overrides())
    at.button(key="identity_merge").click().run()
    assert not at.exception
    rows = _overrides()[before:]
    assert {r["action"] for r in rows} == {"merge"} and len(rows) == len(people) - 1
    assert {r["person_id"] for r in rows} == {people.person_id.iloc[0]}
    assert {r["other_person_id"] for r in rows} == set(people.person_id.iloc[1:])
    assert all(r["created_by"] == "admin@pages-b.test" for r in rows)
    # a decided group is no longer suggested
    assert at.dataframe[0].value.shape[0] == groups - 1
    with db.engine().connect() as connection:
        audited = connection.execute(text("""select count(*) from app.audit_log where action = 'identity.merge'
                                             and outcome = 'ok'""")).scalar()
    assert audited >= len(rows)


def test_roles_and_checks(pages_b_database):
    person = demo_scalar("""select person_id from marts.dim_people where count_identifiers > 1
                            and not is_anonymous order by person_id limit 1""")
    email = demo_scalar("select identifier_value from marts.dim_identifiers where person_id = %s "
                        "and identifier_type = 'email' limit 1", (person,))
    account = demo_scalar("select account_id from marts.dim_accounts order by account_id limit 1")
    with pytest.raises(PermissionDenied):
        identity.split_identifier(actor("MEMBER"), "email", email)
    with pytest.raises(PermissionDenied):
        identity.set_account(actor("VIEWER"), person, account_id=account)
    with pytest.raises(NotFound):
        identity.set_account(actor("MEMBER"), "p_nobody", account_id=account)
    with pytest.raises(NotFound):
        identity.set_account(actor("MEMBER"), person, account_id="no-such-account")
    with pytest.raises(ValueError, match="unknown identifier type"):
        identity.split_identifier(actor("ADMIN"), "phone", "123")
    split = identity.split_identifier(actor("ADMIN"), "email", email.upper(), reason="shared inbox")
    moved = identity.set_account(actor("MEMBER"), person, account_id=account, reason="changed jobs")
    assert (split["action"], split["identifier_type"]) == ("split", "email")
    assert (moved["action"], moved["account_id"]) == ("set_account", account)
    revoked = identity.revoke(actor("ADMIN"), moved["override_id"])
    assert revoked["revoked_at"] is not None
    with pytest.raises(ValueError, match="already revoked"):
        identity.revoke(actor("ADMIN"), moved["override_id"])


def test_set_account_from_the_page(pages_b_database):
    name = demo_scalar("select display_name from marts.dim_people where primary_email is not null "
                       "and not is_anonymous order by person_id limit 1")
    at = page("identity_review", role="MEMBER").run()
    at.text_input(key="identity_find").input(name).run()
    assert not at.exception
    person = at.selectbox(key="identity_person").value
    at.selectbox(key="identity_account").set_value(None)
    at.button(key="identity_set_account").click().run()
    assert not at.exception
    last = _overrides()[-1]
    assert (last["action"], last["person_id"], last["account_id"], last["created_by"]) == \
        ("set_account", person, None, "member@pages-b.test")
    assert at.button(key="identity_merge").disabled  # a MEMBER sees merge switched off (and is refused anyway)
