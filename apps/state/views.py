"""Saved views: a named filter of a list page, private to its owner or shared with everyone.

Anyone (VIEWER too) saves private views: they are their own preferences. Sharing needs MEMBER. The
owner edits and deletes a view, an ADMIN any view. A member's default view per entity is stored with
the member (`app.saved_view_defaults`), so choosing a shared view as your default changes nobody
else's (the seed stored it on the shared row and leaked it to everyone).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text

from . import Actor, NotFound, command, engine, row_dict

ENTITIES = ("account", "person", "deal", "signal")
MAX_FILTERS_BYTES = 10_000
EDITABLE = ("name", "filters", "sort_field", "sort_direction", "is_shared")


def _check(changes: dict[str, Any]) -> dict[str, Any]:
    checked = dict(changes)
    if "name" in checked:
        checked["name"] = " ".join(str(checked["name"] or "").split())
        if not 1 <= len(checked["name"]) <= 100:
            raise ValueError("a view's name needs 1 to 100 characters")
    if "filters" in checked:
        if not isinstance(checked["filters"], dict):
            raise ValueError("a view's filters must be a mapping of filter name to value")
        encoded = json.dumps(checked["filters"], default=str, sort_keys=True)
        if len(encoded) > MAX_FILTERS_BYTES:
            raise ValueError(f"a view's filters take at most {MAX_FILTERS_BYTES} bytes")
        checked["filters"] = encoded
    if checked.get("sort_direction") is not None and checked["sort_direction"] not in ("asc", "desc"):
        raise ValueError("sort_direction must be asc or desc")
    if checked.get("sort_field") is not None and len(checked["sort_field"]) > 50:
        raise ValueError("sort_field takes at most 50 characters")
    return checked


def _entity(entity_type: str) -> str:
    if entity_type not in ENTITIES:
        raise ValueError(f"unknown entity {entity_type!r}; expected one of {', '.join(ENTITIES)}")
    return entity_type


def _view(connection, view_id: int, *, lock: bool = False) -> dict:
    row = connection.execute(text("select * from app.saved_views where view_id = :id" + (" for update" if lock else "")),
                             {"id": view_id}).first()
    if row is None:
        raise NotFound(f"saved view {view_id} does not exist")
    return row_dict(row)


def list_views(member: str, entity_type: str) -> list[dict]:
    """What `member` may use: their own views and shared ones; `is_default` is theirs alone. Default first."""
    with engine().connect() as connection:
        rows = connection.execute(text("""
            select v.*, d.view_id is not null as is_default
            from app.saved_views v
            left join app.saved_view_defaults d
              on d.view_id = v.view_id and d.member = :member and d.entity_type = v.entity_type
            where v.entity_type = :entity and (v.owner = :member or v.is_shared)
            order by d.view_id is null, v.created_at, v.view_id"""), {"member": member, "entity": _entity(entity_type)}).all()
    return [row_dict(row) for row in rows]


def create_view(actor: Actor, entity_type: str, name: str, filters: dict, *, sort_field: str | None = None,
                sort_direction: str = "desc", shared: bool = False) -> dict:
    fields = _check({"name": name, "filters": filters, "sort_field": sort_field, "sort_direction": sort_direction})
    with command(actor, "MEMBER" if shared else "VIEWER", "view.create", "saved_view") as (conn, audit):
        if conn.execute(text("select 1 from app.saved_views where owner = :owner and entity_type = :entity and name = :name"),
                        {"owner": actor.email, "entity": _entity(entity_type), "name": fields["name"]}).first():
            raise ValueError(f"you already have a {entity_type} view named {fields['name']!r}")
        row = conn.execute(text("""insert into app.saved_views (owner, entity_type, name, filters, sort_field, sort_direction, is_shared)
                                   values (:owner, :entity, :name, cast(:filters as jsonb), :sort_field, :sort_direction, :shared)
                                   returning *"""),
                           {**fields, "owner": actor.email, "entity": entity_type, "shared": bool(shared)}).first()
        view = row_dict(row)
        audit.entity_id, audit.after = view["view_id"], view
    return view


def _owner_or_admin(view_id: int, actor: Actor, base: str) -> str:
    with engine().connect() as connection:
        owner = connection.execute(text("select owner from app.saved_views where view_id = :id"), {"id": view_id}).scalar()
    return base if owner == actor.email else "ADMIN"


def update_view(actor: Actor, view_id: int, changes: dict[str, Any]) -> dict:
    """The owner (sharing needs MEMBER) or an ADMIN."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"cannot edit {', '.join(sorted(unknown))} on a view; editable: {', '.join(EDITABLE)}")
    fields = _check(changes)
    base = "MEMBER" if fields.get("is_shared") else "VIEWER"
    with command(actor, _owner_or_admin(view_id, actor, base), "view.update", "saved_view", view_id) as (conn, audit):
        before = _view(conn, view_id, lock=True)
        audit.before = {key: before[key] for key in fields}
        audit.after = changes
        params = {"id": view_id, **{key: fields.get(key) for key in EDITABLE}}
        params.update({f"set_{key}": key in fields for key in EDITABLE})
        row = conn.execute(text("""
            update app.saved_views set
                name = case when :set_name then :name else name end,
                filters = case when :set_filters then cast(:filters as jsonb) else filters end,
                sort_field = case when :set_sort_field then :sort_field else sort_field end,
                sort_direction = case when :set_sort_direction then :sort_direction else sort_direction end,
                is_shared = case when :set_is_shared then cast(:is_shared as boolean) else is_shared end,
                updated_at = now()
            where view_id = :id returning *"""), params).first()
    return row_dict(row)


def delete_view(actor: Actor, view_id: int) -> None:
    with command(actor, _owner_or_admin(view_id, actor, "VIEWER"), "view.delete", "saved_view", view_id) as (conn, audit):
        audit.before = _view(conn, view_id, lock=True)
        conn.execute(text("delete from app.saved_views where view_id = :id"), {"id": view_id})


def set_default_view(actor: Actor, entity_type: str, view_id: int | None) -> None:
    """Your own default for `entity_type`: one of your views or a shared one; None clears it."""
    entity_type = _entity(entity_type)
    with command(actor, "VIEWER", "view.set_default", "saved_view", view_id) as (conn, audit):
        previous = conn.execute(text("select view_id from app.saved_view_defaults where member = :member and entity_type = :entity"),
                                {"member": actor.email, "entity": entity_type}).scalar()
        audit.before, audit.after = {"default": previous}, {"default": view_id}
        if view_id is None:
            conn.execute(text("delete from app.saved_view_defaults where member = :member and entity_type = :entity"),
                         {"member": actor.email, "entity": entity_type})
            return
        view = _view(conn, view_id)
        if view["entity_type"] != entity_type:
            raise ValueError(f"view {view_id} is a {view['entity_type']} view, not a {entity_type} view")
        if view["owner"] != actor.email and not view["is_shared"]:
            raise NotFound(f"saved view {view_id} does not exist")  # someone else's private view: not yours to see
        conn.execute(text("""insert into app.saved_view_defaults (member, entity_type, view_id) values (:member, :entity, :id)
                             on conflict (member, entity_type) do update set view_id = excluded.view_id"""),
                     {"member": actor.email, "entity": entity_type, "id": view_id})
