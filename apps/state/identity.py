"""Manual identity decisions: merge two people, split an identifier off its person, set (or clear)
a person's account, revoke a decision. Each is one `app.identity_overrides` row (and its audit
row, in the same transaction); dbt reads the table back (`int_identity__overrides`), so the next
build carries the decision and every rebuild keeps it. Nothing here edits a mart.

Roles: `set_account` needs MEMBER (a rep correcting where one contact works: one person's
attribution changes). `merge`, `split` and `revoke` need ADMIN: they rewire the identity graph
(person ids, aliases, every signal of both people and the scores built on them).

Targets are checked against the marts when they exist (an unknown person id, identifier or account
is a clear error, not a row dbt silently ignores); an alias id of a merged-away person is fine.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import text

from . import Actor, NotFound, command, row_dict

IDENTIFIER_TYPES = ("email", "github_login", "segment_user_id", "segment_anonymous_id", "hubspot_contact_id",
                    "salesforce_contact_id")
MAX_REASON = 500


def _relation_exists(conn, name: str) -> bool:
    return conn.execute(text("select to_regclass(:name) is not null"), {"name": name}).scalar()


def _check_person(conn, person_id: str) -> str:
    person_id = (person_id or "").strip()
    if not person_id:
        raise ValueError("a person id is required")
    if _relation_exists(conn, "marts.dim_people"):
        found = conn.execute(text("""select 1 from marts.dim_people where person_id = :id
                                     union all select 1 from marts.dim_person_aliases where alias_person_id = :id
                                     limit 1"""), {"id": person_id}).first()
        if found is None:
            raise NotFound(f"person {person_id!r} is not in marts.dim_people (nor an alias of one)")
    return person_id


def _reason(reason: str | None) -> str | None:
    reason = (reason or "").strip() or None
    if reason and len(reason) > MAX_REASON:
        raise ValueError(f"a reason is at most {MAX_REASON} characters")
    return reason


def _insert(conn, actor: Actor, audit, **values) -> dict:
    columns = ("action", "person_id", "other_person_id", "identifier_type", "identifier_value", "account_id",
               "account_domain", "effective_from", "reason")
    params = {column: values.get(column) for column in columns}
    row = row_dict(conn.execute(
        text("""insert into app.identity_overrides (action, person_id, other_person_id, identifier_type,
                       identifier_value, account_id, account_domain, effective_from, reason, created_by)
                values (:action, :person_id, :other_person_id, :identifier_type, :identifier_value, :account_id,
                        :account_domain, :effective_from, :reason, :actor)
                returning *"""), {**params, "actor": actor.email}).first())
    audit.entity_id, audit.after = row["override_id"], row
    return row


def merge_people(actor: Actor, person_id: str, other_person_id: str, *, reason: str | None = None,
                 connection=None) -> dict:
    """These two people are one (the next build keeps the older id; the other becomes its alias)."""
    with command(actor, "ADMIN", "identity.merge", "identity_override", connection=connection) as (conn, audit):
        person_id, other_person_id = _check_person(conn, person_id), _check_person(conn, other_person_id)
        if person_id == other_person_id:
            raise ValueError("cannot merge a person with themselves")
        return _insert(conn, actor, audit, action="merge", person_id=person_id, other_person_id=other_person_id,
                       reason=_reason(reason))


def merge_group(actor: Actor, person_ids: list[str], *, reason: str | None = None) -> list[dict]:
    """Several people are one: each of the others merged with the first, all or none (one transaction)."""
    ids = list(dict.fromkeys(p.strip() for p in person_ids if p and p.strip()))
    if len(ids) < 2:
        raise ValueError("a merge needs at least two different people")
    from . import engine

    with engine().begin() as connection:
        return [merge_people(actor, ids[0], other, reason=reason, connection=connection) for other in ids[1:]]


def split_identifier(actor: Actor, identifier_type: str, identifier_value: str, *, reason: str | None = None) -> dict:
    """Detach an identifier from its person (it becomes a person of its own at the next build)."""
    identifier_type = (identifier_type or "").strip().lower()
    if identifier_type not in IDENTIFIER_TYPES:
        raise ValueError(f"unknown identifier type {identifier_type!r}; expected one of {', '.join(IDENTIFIER_TYPES)}")
    if not (identifier_value or "").strip():
        raise ValueError("an identifier value is required")
    with command(actor, "ADMIN", "identity.split", "identity_override") as (conn, audit):
        if _relation_exists(conn, "marts.dim_identifiers"):
            # dbt normalises values the same way (lower-cased emails, logins, anonymous ids)
            found = conn.execute(text("""select 1 from marts.dim_identifiers where identifier_type = :type
                                         and (identifier_value = :value or identifier_value = lower(btrim(:value)))
                                         limit 1"""), {"type": identifier_type, "value": identifier_value}).first()
            if found is None:
                raise NotFound(f"no {identifier_type} {identifier_value!r} in marts.dim_identifiers")
        return _insert(conn, actor, audit, action="split", identifier_type=identifier_type,
                       identifier_value=identifier_value.strip(), reason=_reason(reason))


def set_account(actor: Actor, person_id: str, *, account_id: str | None = None, account_domain: str | None = None,
                effective_from: date | None = None, reason: str | None = None) -> dict:
    """The person works at this account (from `effective_from`, else always); both None = at no account."""
    account_id = (account_id or "").strip() or None
    account_domain = (account_domain or "").strip().lower() or None
    if account_id and account_domain:
        raise ValueError("give an account id or a domain, not both")
    with command(actor, "MEMBER", "identity.set_account", "identity_override") as (conn, audit):
        person_id = _check_person(conn, person_id)
        if account_id and _relation_exists(conn, "marts.dim_accounts"):
            if conn.execute(text("select 1 from marts.dim_accounts where account_id = :id"),
                            {"id": account_id}).first() is None:
                raise NotFound(f"account {account_id!r} is not in marts.dim_accounts")
        return _insert(conn, actor, audit, action="set_account", person_id=person_id, account_id=account_id,
                       account_domain=account_domain, effective_from=effective_from, reason=_reason(reason))


def revoke(actor: Actor, override_id: int) -> dict:
    """Undo a decision: the next build ignores it (a revoked merge gives the merged-away id back)."""
    with command(actor, "ADMIN", "identity.revoke", "identity_override", override_id) as (conn, audit):
        before = row_dict(conn.execute(text("select * from app.identity_overrides where override_id = :id for update"),
                                       {"id": override_id}).first())
        if before is None:
            raise NotFound(f"identity decision {override_id} does not exist")
        if before["revoked_at"] is not None:
            raise ValueError(f"identity decision {override_id} was already revoked")
        row = row_dict(conn.execute(text("""update app.identity_overrides set revoked_at = now()
                                            where override_id = :id returning *"""), {"id": override_id}).first())
        audit.before, audit.after = {"revoked_at": None}, {"revoked_at": row["revoked_at"]}
        return row
