"""Accounts in the CRM: tags, owners in bulk, and "delete" (a suppression).

Accounts are derived from the sources (marts.dim_accounts), so deleting one cannot remove it: the next
pipeline run would bring it back. A delete is a row in `app.account_suppressions` that the CRM's reads
(and dbt, reading it as a source) honour; `restore_accounts` removes it. Bulk commands take at most
`MAX_BULK` ids and write one audit row per account, all in one transaction.
"""

from __future__ import annotations

from sqlalchemy import text

from . import Actor, command, engine
from .deals import assign_owner

MAX_BULK = 500
MAX_TAG_LENGTH = 50


def _ids(account_ids) -> list[str]:
    ids = sorted({str(account_id).strip() for account_id in account_ids or [] if str(account_id).strip()})
    if not ids:
        raise ValueError("no accounts selected")
    if len(ids) > MAX_BULK:
        raise ValueError(f"at most {MAX_BULK} accounts at once; got {len(ids)}")
    return ids


def check_tag(tag: str) -> str:
    cleaned = " ".join((tag or "").split()).lower()
    if not 1 <= len(cleaned) <= MAX_TAG_LENGTH:
        raise ValueError(f"a tag needs 1 to {MAX_TAG_LENGTH} characters; got {len(cleaned)}")
    return cleaned


def tag_accounts(actor: Actor, account_ids, tag: str) -> int:
    """MEMBER+: add `tag` to each account (already-tagged ones are left alone). Returns how many were added."""
    ids, tag = _ids(account_ids), check_tag(tag)
    added = 0
    with engine().begin() as connection:
        for account_id in ids:
            with command(actor, "MEMBER", "account.tag", "account", account_id, connection=connection) as (conn, audit):
                row = conn.execute(text("""insert into app.account_tags (account_id, tag, added_by) values (:id, :tag, :actor)
                                           on conflict do nothing returning tag"""),
                                   {"id": account_id, "tag": tag, "actor": actor.email}).first()
                audit.after = {"tag": tag}
                audit.detail = None if row else "already tagged"
                added += row is not None
    return added


def untag_accounts(actor: Actor, account_ids, tag: str) -> int:
    """MEMBER+: remove `tag` from each account. Returns how many were removed."""
    ids, tag = _ids(account_ids), check_tag(tag)
    removed = 0
    with engine().begin() as connection:
        for account_id in ids:
            with command(actor, "MEMBER", "account.untag", "account", account_id, connection=connection) as (conn, audit):
                row = conn.execute(text("delete from app.account_tags where account_id = :id and tag = :tag returning tag"),
                                   {"id": account_id, "tag": tag}).first()
                audit.before = {"tag": tag} if row else None
                audit.detail = None if row else "was not tagged"
                removed += row is not None
    return removed


def bulk_assign_owner(actor: Actor, account_ids, owner: str | None) -> int:
    """MEMBER+: `owner` (an active member's email, or None to clear) owns every account given."""
    ids = _ids(account_ids)
    owner = (owner or "").strip().lower() or None
    with engine().begin() as connection:
        if owner is not None and not connection.execute(
                text("select 1 from app.members where email = :email and disabled_at is null"), {"email": owner}).first():
            raise ValueError(f"{owner} is not an active member")
        for account_id in ids:
            assign_owner(actor, account_id, owner, connection=connection)
    return len(ids)


def delete_accounts(actor: Actor, account_ids, *, reason: str | None = None) -> int:
    """ADMIN+: suppress the accounts (hidden from the CRM and its lists; restorable). Returns how many were new."""
    ids = _ids(account_ids)
    deleted = 0
    with engine().begin() as connection:
        for account_id in ids:
            with command(actor, "ADMIN", "account.delete", "account", account_id, connection=connection) as (conn, audit):
                row = conn.execute(text("""insert into app.account_suppressions (account_id, reason, suppressed_by)
                                           values (:id, :reason, :actor) on conflict do nothing returning account_id"""),
                                   {"id": account_id, "reason": (reason or "").strip() or None, "actor": actor.email}).first()
                audit.after = {"suppressed": True, "reason": reason}
                audit.detail = None if row else "already deleted"
                deleted += row is not None
    return deleted


def restore_accounts(actor: Actor, account_ids) -> int:
    """ADMIN+: undo a delete."""
    ids = _ids(account_ids)
    restored = 0
    with engine().begin() as connection:
        for account_id in ids:
            with command(actor, "ADMIN", "account.restore", "account", account_id, connection=connection) as (conn, audit):
                row = conn.execute(text("delete from app.account_suppressions where account_id = :id returning *"),
                                   {"id": account_id}).first()
                audit.before = None if row is None else {"suppressed": True, "reason": row.reason}
                audit.after = {"suppressed": False}
                restored += row is not None
    return restored


def record_export(actor: Actor, entity_type: str, row_count: int, filters: dict) -> None:
    """MEMBER+: an export leaves the CRM with data, so it needs a role and leaves an audit row (the seed did neither)."""
    with command(actor, "MEMBER", f"{entity_type}.export", entity_type) as (conn, audit):
        audit.after = {"rows": row_count, "filters": filters}
