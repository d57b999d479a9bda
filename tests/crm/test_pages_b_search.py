"""Search: ranked, highlighted results from the demo world and the app's own deals and notes, and
every hostile input answered safely (no error, nothing dropped)."""

import time

import pytest
from sqlalchemy import text

from apps.crm.data import search
from apps.state import deals, notes
from devsignal import db

from test_pages_b_setup import (actor, demo_scalar, page, pages_b_database, pages_b_session,  # noqa: F401
                                pointed_at)

HOSTILE = ["'; drop table app.deals; --", "<script>alert(1)</script>", "\"unbalanced", "it's", ":*&|!", "(((",
           "a & b | !c", "\\", "-", "or", "\x00nul", "日本語", "%_", "x" * 5000, "acme:* & !", "<->", "'"]


@pytest.fixture(scope="module")
def searchable_rows(pages_b_session):
    with pointed_at(pages_b_session[0]):
        member = actor("MEMBER")
        deal = deals.create_deal(member, title="Kubernetes rollout for platform team", stage="ACTIVATED",
                                 amount=4200, description="expansion after the pilot")
        note = notes.add_note(member, "Spoke with their platform lead about SSO and <b>audit logs</b>",
                              deal_id=deal["deal_id"])
    return deal, note


@pytest.fixture()
def searchable(searchable_rows, pages_b_database):
    return searchable_rows


def test_page_finds_an_account_from_the_demo_world(searchable):
    name = demo_scalar("select name from marts.dim_accounts order by count_signals desc limit 1")
    at = page("search", role="VIEWER").run()
    at.text_input(key="search_text").input(name).run()
    assert not at.exception
    rendered = " ".join(m.value for m in at.markdown)
    first_word = name.split()[0]
    assert f"**{first_word}**" in rendered  # the match is highlighted
    assert "account_360?account=" in rendered


def test_deals_and_notes_rank_and_highlight(searchable):
    deal, note = searchable
    results = search.search("platform")
    kinds = set(results.type)
    assert {"deal", "note", "person"} <= kinds, results
    deal_row = results[results.type == "deal"].iloc[0]
    assert deal_row.id == str(deal["deal_id"])
    assert search.START + "platform" in deal_row.snippet.lower()
    # the note's HTML is data: ts_headline drops tags, and any markup left is escaped, never a tag
    note_md = search.highlight_markdown(results[results.type == "note"].iloc[0].snippet)
    assert "<b>" not in note_md and "audit logs" in note_md
    assert search.highlight_markdown("a <img src=x> [link](http://x) *b*") == \
        "a \\<img src\\=x\\> \\[link\\]\\(http\\://x\\) \\*b\\*"
    # weight A (deal title) outranks weight B (note body) for the same word
    assert deal_row["rank"] > results[results.type == "note"].iloc[0]["rank"]
    # prefixes match, phrases and exclusions work
    assert str(deal["deal_id"]) in set(search.search("kube", ("deal",)).id)
    assert search.search("kubernetes -pilot", ("deal",)).empty
    assert not search.search('"platform team"', ("deal",)).empty


@pytest.mark.parametrize("hostile", HOSTILE)
def test_any_input_is_safe(searchable, hostile):
    search.search(hostile)  # no exception
    with db.engine().connect() as connection:
        assert connection.execute(text("select count(*) from app.deals")).scalar() >= 1


def test_hostile_input_on_the_page(searchable):
    at = page("search", role="VIEWER").run()
    for hostile in HOSTILE[:6]:
        at.text_input(key="search_text").input(hostile[:200]).run()
        assert not at.exception


def test_query_time_vectors_are_fast_enough(searchable):
    """Accounts and people get their tsvector at query time: measure it on the demo marts."""
    search.search("data")
    started = time.perf_counter()
    for _ in range(5):
        search.search("data platform")
    per_query = (time.perf_counter() - started) / 5
    print(f"search over {demo_scalar('select count(*) from marts.dim_people')} people: {per_query * 1000:.1f} ms")
    assert per_query < 0.5


def test_the_search_mart_gives_the_same_results(searchable):
    """dbt's marts.mart_search_documents (stored, GIN-indexed vectors) answers like the query-time
    vectors: the model's own SQL is run here against the copied marts, then removed again."""
    from pathlib import Path

    model = (Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "marts" / "app"
             / "mart_search_documents.sql").read_text()
    body = model[model.index("with\n"):].replace("{{ ref('dim_accounts') }}", "marts.dim_accounts") \
        .replace("{{ ref('dim_people') }}", "marts.dim_people")
    queries = ["data platform", "ana@", "platform", "orbit"]
    live = {q: search.search(q) for q in queries}
    with db.engine().begin() as connection:
        connection.execute(text("create table marts.mart_search_documents as " + body))
        connection.execute(text("create index on marts.mart_search_documents using gin (search_vector)"))
    try:
        for q in queries:
            indexed = search.search(q)
            assert indexed.drop(columns="rank").equals(live[q].drop(columns="rank")), q
    finally:
        with db.engine().begin() as connection:
            connection.execute(text("drop table marts.mart_search_documents"))
