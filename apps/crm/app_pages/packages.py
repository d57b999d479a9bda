"""Package adoption: npm and PyPI downloads by day and by version. Downloads are a market signal
about the packages, not about any account: nothing here is credited to an account or scored."""

from datetime import timedelta

import streamlit as st

from apps.crm import auth
from apps.crm.data import signals as data

auth.require_actor()
st.title("Package adoption")

packages = data.packages()
if packages.empty:
    st.info("No download data yet: the npm and PyPI sources have not run (`make demo`, or `devsignal load npm`).")
    st.stop()

st.dataframe(packages, hide_index=True, width="stretch",
             column_config={"downloads": st.column_config.NumberColumn("downloads (all days)", format="%d")})
choices = list(zip(packages.registry, packages.package_name))
registry, package = st.selectbox("Package", choices, format_func=lambda c: f"{c[1]} ({c[0]})", key="packages_package")
row = packages[(packages.registry == registry) & (packages.package_name == package)].iloc[0]
days = st.slider("Days", min_value=7, max_value=max(7, (row.last_day - row.first_day).days + 1),
                 value=min(90, max(7, (row.last_day - row.first_day).days + 1)), key="packages_days")
start, end = row.last_day - timedelta(days=days - 1), row.last_day

daily = data.daily_downloads(registry, package, start, end)
total = int(daily[daily.series.isin(["downloads", "without_mirrors"])].downloads.sum()) if not daily.empty else 0
left, right = st.columns(2)
left.metric(f"Downloads, last {days} days", f"{total:,}")
right.metric("Latest day", str(end))
st.line_chart(daily, x="day", y="downloads", color="series")

if registry == "npm":
    versions = data.version_downloads(package)
    if not versions.empty:
        latest = versions[versions.week_end_day == versions.week_end_day.max()]
        st.subheader(f"By version: the 7 days to {latest.week_end_day.iloc[0]}")
        st.bar_chart(latest.head(15), x="version", y="downloads", horizontal=True)
else:
    kind = st.radio("PyPI breakdown", ["python_major", "python_minor", "system"], horizontal=True,
                    key="packages_pypi_kind")
    st.bar_chart(data.pypi_breakdown(package, kind, start, end), x="category", y="downloads")

st.caption(
    "How to read these numbers. Downloads are not people: CI pipelines, Docker builds, dependency bots "
    "and registry mirrors download on every run, and one developer can account for thousands. npm counts "
    "every tarball fetch (mirrors and caches included); its per-version figures are a rolling last-7-days "
    "count as of the day they were read, so they are not summed across days. PyPI's overall series comes "
    "with and without mirrors (the total above is without); pypistats lags about a day. The daily series "
    "are one row per day, so sums over days are real totals (the seed stored rolling weekly totals daily "
    "and overcounted about 7x). A spike is worth a look, not an alert; trends over weeks are what matter.")
