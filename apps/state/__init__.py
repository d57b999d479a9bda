"""The app's own state (`app.*`): every write is a command here, and only here.

A command checks the actor's role itself (hiding a button is not a permission check), runs in one
transaction and writes its audit row (who, what, before -> after) in that same transaction, so a
write and its audit land together or not at all. A refused write raises `PermissionDenied` and is
audited too (`outcome = 'refused'`), in its own transaction.

Callers: the Streamlit CRM, the intake API's Slack buttons, Dagster's workflow actions. Reads of
marts live with their callers; this package only owns `app.*` writes (and the reads a write needs).

    actor = Actor("ana@acme.dev", "ADMIN")
    deal = deals.create_deal(actor, title="Acme - Inbound", account_id="acme.com")
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

import sqlalchemy
from sqlalchemy import text

ROLES = ("VIEWER", "MEMBER", "ADMIN", "OWNER")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES, start=1)}


@dataclass(frozen=True)
class Actor:
    """Who is writing: a member (email + role) or a system component (`system:<name>`, role OWNER)."""

    email: str
    role: str

    def __post_init__(self):
        if self.role not in ROLE_RANK:
            raise ValueError(f"unknown role {self.role!r}; expected one of {', '.join(ROLES)}")

    @classmethod
    def system(cls, component: str) -> "Actor":
        return cls(f"system:{component}", "OWNER")

    def at_least(self, role: str) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


class PermissionDenied(PermissionError):
    """The actor's role is below what the command needs (the refusal is in the audit log)."""


class NotFound(LookupError):
    """The command's target does not exist (or was deleted)."""


def engine() -> sqlalchemy.Engine:
    from devsignal import db

    return db.engine()


class Audit:
    """The audit row a command fills in while it runs; written when its transaction commits."""

    def __init__(self, entity_id: Any = None):
        self.entity_id = entity_id
        self.before: Any = None
        self.after: Any = None
        self.detail: str | None = None


def _insert_audit(connection, actor: Actor, action: str, entity_type: str, audit: Audit, outcome: str) -> None:
    connection.execute(
        text("""insert into app.audit_log (actor, actor_role, action, entity_type, entity_id, before, after, outcome, detail)
                values (:actor, :role, :action, :entity_type, :entity_id,
                        cast(:before as jsonb), cast(:after as jsonb), :outcome, :detail)"""),
        {"actor": actor.email, "role": actor.role, "action": action, "entity_type": entity_type,
         "entity_id": None if audit.entity_id is None else str(audit.entity_id),
         "before": _json(audit.before), "after": _json(audit.after), "outcome": outcome, "detail": audit.detail})


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, default=str, sort_keys=True)


@contextmanager
def command(actor: Actor, min_role: str, action: str, entity_type: str, entity_id: Any = None,
            *, connection=None) -> Iterator[tuple[Any, Audit]]:
    """Run one audited write: `with command(actor, "MEMBER", "deal.move", "deal", 42) as (conn, audit):`.

    Pass `connection` to join a caller's transaction (several commands that must land together).
    """
    audit = Audit(entity_id)
    if not actor.at_least(min_role):
        audit.detail = f"needs {min_role}, actor is {actor.role}"
        with engine().begin() as refused:
            _insert_audit(refused, actor, action, entity_type, audit, "refused")
        raise PermissionDenied(f"{action} needs role {min_role} or above; {actor.email} is {actor.role}")
    if connection is not None:
        yield connection, audit
        _insert_audit(connection, actor, action, entity_type, audit, "ok")
        return
    with engine().begin() as own:
        yield own, audit
        _insert_audit(own, actor, action, entity_type, audit, "ok")


# derived columns a command never reports (a full-text vector is not a fact about the record)
_DERIVED_COLUMNS = ("search_vector",)


def row_dict(row) -> dict | None:
    return None if row is None else {key: value for key, value in row._mapping.items() if key not in _DERIVED_COLUMNS}
