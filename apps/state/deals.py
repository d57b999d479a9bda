"""Deals in the PLG pipeline, their stage history, and account owners.

Every stage a deal enters is a row in `app.deal_stage_history` (its first one too); Dagster's
`deal_stage_changed` trigger reads that table, so moving a deal here is all it takes to fire it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import text

from . import Actor, NotFound, command, row_dict

STAGES = ("ANONYMOUS_USAGE", "IDENTIFIED", "ACTIVATED", "TEAM_ADOPTION", "EXPANSION_SIGNAL",
          "SALES_QUALIFIED", "NEGOTIATION", "CLOSED_WON", "CLOSED_LOST")
CLOSED = ("CLOSED_WON", "CLOSED_LOST")
EDITABLE = ("title", "amount", "currency", "owner", "expected_close_date", "description", "account_id", "person_id")


def check_stage(stage: str) -> str:
    normalised = (stage or "").strip().upper().replace(" ", "_")
    if normalised not in STAGES:
        raise ValueError(f"unknown deal stage {stage!r}; expected one of {', '.join(STAGES)}")
    return normalised


def _deal(connection, deal_id: int, *, lock: bool = False) -> dict:
    row = connection.execute(
        text("select * from app.deals where deal_id = :id and deleted_at is null" + (" for update" if lock else "")),
        {"id": deal_id}).first()
    if row is None:
        raise NotFound(f"deal {deal_id} does not exist")
    return row_dict(row)


def get_deal(deal_id: int) -> dict:
    from . import engine

    with engine().connect() as connection:
        return _deal(connection, deal_id)


def create_deal(actor: Actor, *, title: str, account_id: str | None = None, person_id: str | None = None,
                stage: str = "ANONYMOUS_USAGE", amount: Decimal | float | None = None, owner: str | None = None,
                description: str | None = None, source: str = "app", via: str = "app", connection=None) -> dict:
    stage = check_stage(stage)
    if not (title or "").strip():
        raise ValueError("a deal needs a title")
    with command(actor, "MEMBER", "deal.create", "deal", connection=connection) as (conn, audit):
        row = conn.execute(
            text("""insert into app.deals (account_id, person_id, title, stage, amount, owner, description, source,
                                           created_by, closed_at)
                    values (:account_id, :person_id, :title, :stage, :amount, :owner, :description, :source,
                            :actor, case when :stage in ('CLOSED_WON', 'CLOSED_LOST') then now() end)
                    returning *"""),
            {"account_id": account_id, "person_id": person_id, "title": title.strip(), "stage": stage,
             "amount": amount, "owner": owner, "description": description, "source": source,
             "actor": actor.email}).first()
        deal = row_dict(row)
        conn.execute(text("""insert into app.deal_stage_history (deal_id, from_stage, to_stage, changed_by, via)
                             values (:deal_id, null, :stage, :actor, :via)"""),
                     {"deal_id": deal["deal_id"], "stage": stage, "actor": actor.email, "via": via})
        audit.entity_id, audit.after = deal["deal_id"], deal
    return deal


def move_deal(actor: Actor, deal_id: int, stage: str, *, via: str = "app", connection=None) -> dict:
    """Move a deal to `stage` (a no-op, and no history row, when it is already there)."""
    stage = check_stage(stage)
    with command(actor, "MEMBER", "deal.move", "deal", deal_id, connection=connection) as (conn, audit):
        before = _deal(conn, deal_id, lock=True)
        audit.before = {"stage": before["stage"]}
        if before["stage"] == stage:
            audit.after, audit.detail = {"stage": stage}, "already in this stage"
            return before
        row = conn.execute(
            text("""update app.deals set stage = :stage, updated_at = now(),
                           closed_at = case when :stage in ('CLOSED_WON', 'CLOSED_LOST') then coalesce(closed_at, now()) end
                    where deal_id = :id returning *"""), {"stage": stage, "id": deal_id}).first()
        conn.execute(text("""insert into app.deal_stage_history (deal_id, from_stage, to_stage, changed_by, via)
                             values (:deal_id, :from_stage, :to_stage, :actor, :via)"""),
                     {"deal_id": deal_id, "from_stage": before["stage"], "to_stage": stage, "actor": actor.email,
                      "via": via})
        audit.after = {"stage": stage}
        return row_dict(row)


def update_deal(actor: Actor, deal_id: int, changes: dict[str, Any], *, connection=None) -> dict:
    """Edit a deal's fields (not its stage: `move_deal` keeps the history)."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"cannot edit {', '.join(sorted(unknown))} on a deal; editable: {', '.join(EDITABLE)}")
    with command(actor, "MEMBER", "deal.update", "deal", deal_id, connection=connection) as (conn, audit):
        before = _deal(conn, deal_id, lock=True)
        changed = {key: value for key, value in changes.items() if before[key] != value}
        audit.before = {key: before[key] for key in changed}
        audit.after = changed
        if not changed:
            return before
        assignments = ", ".join(f"{key} = :{key}" for key in changed)  # keys checked against EDITABLE above
        row = conn.execute(text(f"update app.deals set {assignments}, updated_at = now() where deal_id = :deal_id returning *"),
                           {**changed, "deal_id": deal_id}).first()
        return row_dict(row)


def delete_deal(actor: Actor, deal_id: int, *, connection=None) -> None:
    with command(actor, "ADMIN", "deal.delete", "deal", deal_id, connection=connection) as (conn, audit):
        audit.before = _deal(conn, deal_id, lock=True)
        conn.execute(text("update app.deals set deleted_at = now() where deal_id = :id"), {"id": deal_id})


def assign_owner(actor: Actor, account_id: str, owner: str | None, *, connection=None) -> None:
    """Make `owner` (a member's email) the account's owner; None clears it."""
    with command(actor, "MEMBER", "account.assign_owner", "account", account_id, connection=connection) as (conn, audit):
        previous = conn.execute(text("select owner from app.account_owners where account_id = :id for update"),
                                {"id": account_id}).scalar()
        audit.before, audit.after = {"owner": previous}, {"owner": owner}
        if owner is None:
            conn.execute(text("delete from app.account_owners where account_id = :id"), {"id": account_id})
        else:
            conn.execute(text("""insert into app.account_owners (account_id, owner, assigned_by) values (:id, :owner, :actor)
                                 on conflict (account_id) do update
                                 set owner = excluded.owner, assigned_by = excluded.assigned_by, assigned_at = now()"""),
                         {"id": account_id, "owner": owner, "actor": actor.email})


def claim_account(actor: Actor, account_id: str, account_name: str, *, via: str = "slack") -> dict:
    """Slack's "Claim": the actor owns the account and has an open deal on it (created at IDENTIFIED if none)."""
    from . import engine

    with engine().begin() as conn:
        # two claims of one account at once: the second waits, then finds the first one's deal
        conn.execute(text("select pg_advisory_xact_lock(hashtext('claim:' || :id))"), {"id": account_id})
        assign_owner(actor, account_id, actor.email, connection=conn)
        open_deal = conn.execute(
            text("""select * from app.deals where account_id = :id and deleted_at is null
                    and stage not in ('CLOSED_WON', 'CLOSED_LOST') order by created_at limit 1 for update"""),
            {"id": account_id}).first()
        if open_deal is None:
            return create_deal(actor, title=f"{account_name} - Inbound", account_id=account_id, stage="IDENTIFIED",
                               owner=actor.email, source="slack_claim", via=via, connection=conn)
        return update_deal(actor, open_deal.deal_id, {"owner": actor.email}, connection=conn)
