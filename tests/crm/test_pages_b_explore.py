"""Signals explorer and Package adoption: the demo world's numbers, and one filter each."""

from test_pages_b_setup import demo_scalar, page, pages_b_database, pages_b_session  # noqa: F401 (fixtures)


def _metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_signals_counts_match_the_demo_world_and_filter_by_type(pages_b_database):
    at = page("signals", role="VIEWER").run()
    assert not at.exception
    last = demo_scalar("select max(occurred_on) from marts.fct_signals")
    expected = demo_scalar("select count(*) from marts.fct_signals where occurred_on between %s - 29 and %s",
                           (last, last))
    assert _metric(at, "Signals") == f"{expected:,}"

    at.multiselect(key="signals_types").set_value(["repo_star"]).run()
    assert not at.exception
    stars = demo_scalar("""select count(*) from marts.fct_signals where signal_type = 'repo_star'
                           and occurred_on between %s - 29 and %s""", (last, last))
    assert _metric(at, "Signals") == f"{stars:,}"
    newest = at.dataframe[0].value
    assert set(newest.signal_type) == {"repo_star"} and len(newest) == min(stars, 500)


def test_packages_show_downloads_by_day_and_version(pages_b_database):
    at = page("packages", role="VIEWER").run()
    assert not at.exception
    first = at.selectbox(key="packages_package").value
    at.slider(key="packages_days").set_value(30).run()
    assert not at.exception
    registry, package = first
    expected = (demo_scalar("""select sum(count_downloads) from staging.stg_npm__downloads where package_name = %s
                               and download_day > (select max(download_day) from staging.stg_npm__downloads
                                                   where package_name = %s) - 30""", (package, package))
                if registry == "npm" else
                demo_scalar("""select sum(count_downloads) from staging.stg_pypi__downloads where package_name = %s
                               and breakdown_kind = 'overall' and breakdown_category = 'without_mirrors'
                               and download_day > (select max(download_day) from staging.stg_pypi__downloads
                                                   where package_name = %s) - 30""", (package, package)))
    assert _metric(at, "Downloads, last 30 days") == f"{int(expected):,}"
    assert any("Downloads are not people" in c.value for c in at.caption)
    at.selectbox(key="packages_package").set_value(("npm", "@forgeflow/sdk")).run()
    assert not at.exception
    assert any("By version" in s.value for s in at.subheader)
