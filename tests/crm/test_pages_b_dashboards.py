"""Dashboards: a new member gets the default layout saved, the widgets show the demo world's
numbers, adding a widget persists it, and nobody changes another member's dashboard."""

import pytest
from sqlalchemy import text

from apps.state import PermissionDenied
from apps.state import dashboards
from devsignal import db

from test_pages_b_setup import actor, demo_scalar, page, pages_b_database, pages_b_session  # noqa: F401 (fixtures)


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_first_visit_saves_the_default_and_adding_a_widget_persists(pages_b_database):
    at = page("dashboards", role="ADMIN").run()
    assert not at.exception
    saved = dashboards.ensure_default(actor("ADMIN"))
    assert [(w["type"], w["width"]) for w in saved["widgets"]] == list(dashboards.DEFAULT_LAYOUT)
    assert saved["is_default"]
    accounts = demo_scalar("select count(*) from marts.dim_accounts")
    assert _metric(at, "Accounts") == f"{accounts:,}"
    people = demo_scalar("select count(*) from marts.dim_people where not is_anonymous and noise_reason is null")
    assert _metric(at, "People") == f"{people:,}"
    hot = at.dataframe[0].value
    expected = demo_scalar("select name from marts.account_scores_current where tier = 'HOT' order by score desc, domain limit 1")
    assert hot.name.iloc[0] == expected

    at.selectbox(key="dashboards_add_type").set_value("signals_by_source")
    at.button(key="dashboards_add").click().run()
    assert not at.exception
    assert dashboards.get_dashboard(saved["dashboard_id"])["widgets"][-1] == {"type": "signals_by_source", "width": 1}
    with db.engine().connect() as connection:
        audit = connection.execute(text("""select action, outcome from app.audit_log where entity_type = 'dashboard'
                                           and entity_id = :id order by audit_id"""),
                                   {"id": str(saved["dashboard_id"])}).all()
    assert [tuple(a) for a in audit] == [("dashboard.create", "ok"), ("dashboard.save", "ok")]


def test_all_ten_widget_types_render(pages_b_database):
    member = actor("MEMBER")
    board = dashboards.create_dashboard(member, "Everything", [(t, 1) for t in dashboards.WIDGET_TYPES])
    dashboards.set_default(member, board["dashboard_id"])
    at = page("dashboards", role="MEMBER").run()
    assert not at.exception
    assert at.selectbox(key="dashboards_choice").value == board["dashboard_id"]
    today = demo_scalar("select count(*) from marts.fct_signals where occurred_on = current_date")
    assert _metric(at, "Signals today (UTC)") == f"{today:,}"
    assert len(at.metric) == 4


def test_layouts_are_checked_and_private(pages_b_database):
    member, admin = actor("MEMBER"), actor("ADMIN")
    mine = dashboards.ensure_default(member)
    with pytest.raises(ValueError, match="unknown type 'pie'"):
        dashboards.save_layout(member, mine["dashboard_id"], [("pie", 1)])
    with pytest.raises(ValueError, match="between 1 and 3"):
        dashboards.save_layout(member, mine["dashboard_id"], [("hot_accounts", 4)])
    with pytest.raises(PermissionDenied):
        dashboards.save_layout(admin, mine["dashboard_id"], [("hot_accounts", 1)])
    with pytest.raises(PermissionDenied):
        dashboards.create_dashboard(actor("VIEWER"), "Nope")
    assert dashboards.ensure_default(actor("VIEWER")) is None
    at = page("dashboards", role="VIEWER").run()
    assert not at.exception and any("default dashboard" in i.value for i in at.info)
