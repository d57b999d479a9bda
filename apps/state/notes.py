"""Notes on accounts, people and deals: MEMBER+ writes, the author (or an ADMIN) deletes."""

from __future__ import annotations

from sqlalchemy import text

from . import Actor, NotFound, command, engine, row_dict

MAX_NOTE_LENGTH = 10_000


def add_note(actor: Actor, body: str, *, account_id: str | None = None, person_id: str | None = None,
             deal_id: int | None = None) -> dict:
    body = (body or "").strip()
    if not body:
        raise ValueError("a note needs some text")
    if len(body) > MAX_NOTE_LENGTH:
        raise ValueError(f"a note holds at most {MAX_NOTE_LENGTH} characters; got {len(body)}")
    if not (account_id or person_id or deal_id):
        raise ValueError("a note belongs to an account, a person or a deal")
    with command(actor, "MEMBER", "note.create", "note") as (conn, audit):
        row = conn.execute(text("""insert into app.notes (account_id, person_id, deal_id, body, author)
                                   values (:account_id, :person_id, :deal_id, :body, :author) returning *"""),
                           {"account_id": account_id, "person_id": person_id, "deal_id": deal_id, "body": body,
                            "author": actor.email}).first()
        note = row_dict(row)
        audit.entity_id, audit.after = note["note_id"], note
    return note


def delete_note(actor: Actor, note_id: int) -> None:
    """The author deletes their own note (MEMBER+); anyone else's needs ADMIN (refusals are audited)."""
    with engine().connect() as connection:
        author = connection.execute(text("select author from app.notes where note_id = :id"), {"id": note_id}).scalar()
    min_role = "MEMBER" if author == actor.email else "ADMIN"
    with command(actor, min_role, "note.delete", "note", note_id) as (conn, audit):
        row = conn.execute(text("select * from app.notes where note_id = :id for update"), {"id": note_id}).first()
        if row is None:
            raise NotFound(f"note {note_id} does not exist")
        if row.author != author:
            raise ValueError(f"note {note_id} changed while deleting it; try again")
        audit.before = row_dict(row)
        conn.execute(text("delete from app.notes where note_id = :id"), {"id": note_id})
