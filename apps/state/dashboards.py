"""Per-user dashboards (SPEC-seed §9, fixed): a user's own dashboards, one default, widgets kept.

A dashboard belongs to the member who made it: only they change it (anyone else is refused, and
the refusal is audited like a role refusal). Writing needs MEMBER; a VIEWER sees the built-in
default layout without saving one. A member's first visit gets a saved copy of the default
layout (`ensure_default`). The arrangement is a list of (widget type, width in thirds of a row),
in reading order; `save_layout` replaces it in one transaction, so a half-saved layout never exists
(the seed's autosave was silently rejected by its own schema, so nothing ever persisted).
"""

from __future__ import annotations

from typing import Iterable, Sequence

from sqlalchemy import text

from . import Actor, Audit, NotFound, PermissionDenied, _insert_audit, command, engine, row_dict

# SPEC-seed §9: the 10 widget types the seed's UI offered (stat / list / chart)
WIDGET_TYPES = {
    "total_contacts": "stat", "total_companies": "stat", "total_deals": "stat", "total_signals_today": "stat",
    "hot_accounts": "list", "recent_signals": "list", "top_companies_by_signals": "list",
    "signal_trend": "chart", "deal_pipeline": "chart", "signals_by_source": "chart",
}
# the seed UI's default layout, with widths so it fills rows of three
DEFAULT_LAYOUT = (("total_contacts", 1), ("total_companies", 1), ("total_deals", 1),
                  ("signal_trend", 2), ("hot_accounts", 1), ("deal_pipeline", 3))
DEFAULT_NAME = "My Dashboard"
MAX_WIDGETS = 24


def check_layout(widgets: Iterable[Sequence]) -> list[tuple[str, int]]:
    """[(widget_type, width)] validated: a known type, a width of 1-3 thirds, at most MAX_WIDGETS."""
    checked = []
    for number, widget in enumerate(widgets, start=1):
        widget_type, width = (widget[0], widget[1]) if len(widget) > 1 else (widget[0], 1)
        if widget_type not in WIDGET_TYPES:
            raise ValueError(f"widget {number}: unknown type {widget_type!r}; "
                             f"expected one of {', '.join(WIDGET_TYPES)}")
        try:
            width = int(width)
        except (TypeError, ValueError):
            raise ValueError(f"widget {number} ({widget_type}): width {width!r} is not a number of thirds (1-3)")
        if not 1 <= width <= 3:
            raise ValueError(f"widget {number} ({widget_type}): width {width} is not between 1 and 3 thirds")
        checked.append((widget_type, width))
    if len(checked) > MAX_WIDGETS:
        raise ValueError(f"a dashboard holds at most {MAX_WIDGETS} widgets; this one has {len(checked)}")
    return checked


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise ValueError("a dashboard name is 1 to 100 characters")
    return name


def _widgets(connection, dashboard_id: int) -> list[dict]:
    rows = connection.execute(text("""select widget_type, width from app.dashboard_widgets
                                      where dashboard_id = :id order by position"""), {"id": dashboard_id})
    return [{"type": row.widget_type, "width": row.width} for row in rows]


def _write_widgets(connection, dashboard_id: int, layout: list[tuple[str, int]]) -> None:
    connection.execute(text("delete from app.dashboard_widgets where dashboard_id = :id"), {"id": dashboard_id})
    for position, (widget_type, width) in enumerate(layout):
        connection.execute(text("""insert into app.dashboard_widgets (dashboard_id, widget_type, position, width)
                                   values (:id, :type, :position, :width)"""),
                           {"id": dashboard_id, "type": widget_type, "position": position, "width": width})


def _own_dashboard(actor: Actor, action: str, dashboard_id: int) -> dict:
    """The dashboard if `actor` made it; NotFound, or PermissionDenied (audited) for someone else's."""
    with engine().connect() as connection:
        row = row_dict(connection.execute(text("select * from app.dashboards where dashboard_id = :id"),
                                          {"id": dashboard_id}).first())
    if row is None:
        raise NotFound(f"dashboard {dashboard_id} does not exist")
    if row["owner"] != actor.email:
        audit = Audit(dashboard_id)
        audit.detail = f"dashboard belongs to {row['owner']}"
        with engine().begin() as refused:
            _insert_audit(refused, actor, action, "dashboard", audit, "refused")
        raise PermissionDenied(f"{action}: dashboard {dashboard_id} belongs to another member; "
                               "only its creator changes it")
    return row


def create_dashboard(actor: Actor, name: str = DEFAULT_NAME, layout: Iterable[Sequence] = DEFAULT_LAYOUT,
                     *, default: bool = False) -> dict:
    name, checked = _check_name(name), check_layout(layout)
    with command(actor, "MEMBER", "dashboard.create", "dashboard") as (conn, audit):
        if default:
            conn.execute(text("update app.dashboards set is_default = false where owner = :owner and is_default"),
                         {"owner": actor.email})
        dashboard = row_dict(conn.execute(
            text("""insert into app.dashboards (owner, name, is_default) values (:owner, :name, :default)
                    returning *"""), {"owner": actor.email, "name": name, "default": default}).first())
        _write_widgets(conn, dashboard["dashboard_id"], checked)
        dashboard["widgets"] = _widgets(conn, dashboard["dashboard_id"])
        audit.entity_id, audit.after = dashboard["dashboard_id"], dashboard
    return dashboard


def ensure_default(actor: Actor) -> dict | None:
    """The member's default dashboard, made from DEFAULT_LAYOUT on their first visit.
    None for a VIEWER with none (they see the built-in layout, unsaved)."""
    with engine().connect() as connection:
        row = connection.execute(text("""select dashboard_id from app.dashboards where owner = :owner
                                         order by is_default desc, dashboard_id limit 1"""),
                                 {"owner": actor.email}).first()
    if row is not None:
        return get_dashboard(row.dashboard_id)
    if not actor.at_least("MEMBER"):
        return None
    with engine().begin() as connection:
        # two first visits at once (two tabs) make one dashboard: the second waits, then finds it
        connection.execute(text("select pg_advisory_xact_lock(hashtext('dashboard-default:' || :owner))"),
                           {"owner": actor.email})
        existing = connection.execute(text("select dashboard_id from app.dashboards where owner = :owner limit 1"),
                                      {"owner": actor.email}).first()
        if existing is not None:
            return get_dashboard(existing.dashboard_id)
        with command(actor, "MEMBER", "dashboard.create", "dashboard", connection=connection) as (conn, audit):
            dashboard = row_dict(conn.execute(
                text("""insert into app.dashboards (owner, name, is_default) values (:owner, :name, true)
                        returning *"""), {"owner": actor.email, "name": DEFAULT_NAME}).first())
            _write_widgets(conn, dashboard["dashboard_id"], list(DEFAULT_LAYOUT))
            audit.entity_id, audit.after, audit.detail = dashboard["dashboard_id"], dashboard, "default for a new member"
    return get_dashboard(dashboard["dashboard_id"])


def get_dashboard(dashboard_id: int) -> dict:
    with engine().connect() as connection:
        dashboard = row_dict(connection.execute(text("select * from app.dashboards where dashboard_id = :id"),
                                                {"id": dashboard_id}).first())
        if dashboard is None:
            raise NotFound(f"dashboard {dashboard_id} does not exist")
        dashboard["widgets"] = _widgets(connection, dashboard_id)
    return dashboard


def save_layout(actor: Actor, dashboard_id: int, layout: Iterable[Sequence], *, name: str | None = None) -> dict:
    """Replace the dashboard's widgets (and its name, if given) with `layout`, in reading order."""
    checked = check_layout(layout)
    name = _check_name(name) if name is not None else None
    _own_dashboard(actor, "dashboard.save", dashboard_id)
    with command(actor, "MEMBER", "dashboard.save", "dashboard", dashboard_id) as (conn, audit):
        before = row_dict(conn.execute(text("select * from app.dashboards where dashboard_id = :id for update"),
                                       {"id": dashboard_id}).first())
        if before is None:
            raise NotFound(f"dashboard {dashboard_id} does not exist")
        audit.before = {"name": before["name"], "widgets": _widgets(conn, dashboard_id)}
        _write_widgets(conn, dashboard_id, checked)
        conn.execute(text("update app.dashboards set name = coalesce(:name, name), updated_at = now() where dashboard_id = :id"),
                     {"name": name, "id": dashboard_id})
        audit.after = {"name": name or before["name"], "widgets": _widgets(conn, dashboard_id)}
    return get_dashboard(dashboard_id)


def add_widget(actor: Actor, dashboard_id: int, widget_type: str, width: int = 1) -> dict:
    """Append one widget at the end of the dashboard."""
    current = [(w["type"], w["width"]) for w in get_dashboard(dashboard_id)["widgets"]]
    return save_layout(actor, dashboard_id, current + [(widget_type, width)])


def set_default(actor: Actor, dashboard_id: int) -> dict:
    """Make this the member's default (their other dashboards stop being one)."""
    _own_dashboard(actor, "dashboard.set_default", dashboard_id)
    with command(actor, "MEMBER", "dashboard.set_default", "dashboard", dashboard_id) as (conn, audit):
        previous = conn.execute(text("""select dashboard_id from app.dashboards where owner = :owner and is_default"""),
                                {"owner": actor.email}).scalar()
        conn.execute(text("update app.dashboards set is_default = false where owner = :owner and is_default"),
                     {"owner": actor.email})
        conn.execute(text("update app.dashboards set is_default = true, updated_at = now() where dashboard_id = :id"),
                     {"id": dashboard_id})
        audit.before, audit.after = {"default": previous}, {"default": dashboard_id}
    return get_dashboard(dashboard_id)


def delete_dashboard(actor: Actor, dashboard_id: int) -> None:
    _own_dashboard(actor, "dashboard.delete", dashboard_id)
    with command(actor, "MEMBER", "dashboard.delete", "dashboard", dashboard_id) as (conn, audit):
        audit.before = {"name": conn.execute(text("select name from app.dashboards where dashboard_id = :id"),
                                             {"id": dashboard_id}).scalar(),
                        "widgets": _widgets(conn, dashboard_id)}
        conn.execute(text("delete from app.dashboards where dashboard_id = :id"), {"id": dashboard_id})
