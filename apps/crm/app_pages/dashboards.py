"""Dashboards: the 10 widget types (SPEC-seed §9), arranged and saved per member; a member's first
visit gets the default layout saved as their own. A VIEWER sees the default layout, unsaved."""

import altair as alt
import pandas as pd
import streamlit as st

from apps.crm import auth
from apps.crm.data import dashboards as data
from apps.state import dashboards as commands

actor = auth.require_actor()
st.title("Dashboards")


def render(widget_type: str) -> None:
    value = data.widget_data(widget_type)
    title = data.TITLES[widget_type]
    if widget_type == "total_deals":
        st.metric(title, f"{int(value['value']):,}", help="Every deal, open and closed.")
        st.caption(f"{int(value['open']):,} open · ${value['total_value']:,.0f} in all")
    elif widget_type == "total_signals_today":
        delta = None if value["trend"] is None else f"{value['trend']}% vs yesterday"
        st.metric(title, f"{value['value']:,}", delta=delta)
    elif commands.WIDGET_TYPES[widget_type] == "stat":
        st.metric(title, f"{int(value['value']):,}", delta=f"+{int(value['trend'])} today" if value["trend"] else None)
    elif value.empty:
        st.markdown(f"**{title}**")
        st.caption("Nothing yet.")
    elif widget_type == "signal_trend":
        st.markdown(f"**{title}**")
        st.area_chart(value, x="day", y="signals", height=220)
    elif widget_type == "deal_pipeline":
        st.markdown(f"**{title}**")
        chart = alt.Chart(value).mark_bar().encode(
            x=alt.X("stage:N", sort=list(value.stage)), y="deals:Q", tooltip=["stage", "deals", "value"])
        st.altair_chart(chart, width="stretch")
    elif widget_type == "signals_by_source":
        st.markdown(f"**{title}**")
        st.bar_chart(value, x="source", y="signals", height=220)
    else:
        st.markdown(f"**{title}**")
        st.dataframe(value, hide_index=True, width="stretch")


def render_layout(widgets: list[dict]) -> None:
    """Rows of three thirds, filled left to right in the saved order (a widget that does not fit
    starts the next row)."""
    rows, current, used = [], [], 0
    for widget in widgets:
        if used + widget["width"] > 3:
            rows.append(current)
            current, used = [], 0
        current.append(widget)
        used += widget["width"]
    if current:
        rows.append(current)
    for row in rows:
        widths = [widget["width"] for widget in row]
        columns = st.columns(widths + ([3 - sum(widths)] if sum(widths) < 3 else []))
        for column, widget in zip(columns, row):
            with column.container(border=True):
                render(widget["type"])


def run(write, success: str) -> None:
    auth.run_write(success, write)


dashboard = commands.ensure_default(actor)
if dashboard is None:
    st.info("The default dashboard. Saving your own needs the MEMBER role.")
    render_layout([{"type": t, "width": w} for t, w in commands.DEFAULT_LAYOUT])
    st.stop()

mine = data.dashboards(actor.email)
ids = mine.dashboard_id.tolist()
names = dict(zip(mine.dashboard_id, mine.name))
default_id = int(mine[mine.is_default].dashboard_id.iloc[0]) if mine.is_default.any() else ids[0]
chosen = st.selectbox("Dashboard", ids, index=ids.index(default_id), key="dashboards_choice",
                      format_func=lambda d: names[d] + (" (default)" if d == default_id else ""))
dashboard = commands.get_dashboard(int(chosen))
auth.show_flash()
render_layout(dashboard["widgets"])

with st.expander("Arrange this dashboard"):
    add, width, button = st.columns([3, 1, 1], vertical_alignment="bottom")
    new_type = add.selectbox("Widget", list(commands.WIDGET_TYPES), format_func=data.TITLES.get,
                             key="dashboards_add_type")
    new_width = width.number_input("Width (thirds)", 1, 3, 1, key="dashboards_add_width")
    if button.button("Add widget", key="dashboards_add"):
        run(lambda: commands.add_widget(actor, dashboard["dashboard_id"], new_type, new_width),
            f"Added {data.TITLES[new_type]}.")
    st.caption("Reorder with the position column, change widths, delete rows; then save.")
    layout = pd.DataFrame({"position": range(1, len(dashboard["widgets"]) + 1),
                           "widget": [w["type"] for w in dashboard["widgets"]],
                           "width": [w["width"] for w in dashboard["widgets"]]})
    edited = st.data_editor(layout, num_rows="dynamic", hide_index=True, key="dashboards_layout", column_config={
        "position": st.column_config.NumberColumn(min_value=1, step=1),
        "widget": st.column_config.SelectboxColumn(options=list(commands.WIDGET_TYPES), required=True),
        "width": st.column_config.NumberColumn(min_value=1, max_value=3, step=1, required=True)})
    name = st.text_input("Name", value=dashboard["name"], max_chars=100, key="dashboards_name")
    if st.button("Save layout", key="dashboards_save"):
        rows = edited.dropna(subset=["widget"]).sort_values("position", kind="stable")
        run(lambda: commands.save_layout(actor, dashboard["dashboard_id"],
                                         list(zip(rows.widget, rows.width.fillna(1).astype(int))), name=name),
            "Layout saved.")

with st.expander("Your dashboards"):
    new_name = st.text_input("New dashboard", max_chars=100, key="dashboards_new_name")
    left, middle, right = st.columns(3)
    if left.button("Create (default layout)", key="dashboards_create", disabled=not new_name.strip()):
        run(lambda: commands.create_dashboard(actor, new_name), "Dashboard created.")
    if middle.button("Make this my default", key="dashboards_default", disabled=dashboard["is_default"]):
        run(lambda: commands.set_default(actor, dashboard["dashboard_id"]), "Default changed.")
    if right.button("Delete this dashboard", key="dashboards_delete", disabled=len(ids) < 2):
        run(lambda: commands.delete_dashboard(actor, dashboard["dashboard_id"]), "Dashboard deleted.")
