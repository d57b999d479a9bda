"""Deals board: renders the 9 stages, and a move through the form lands in the stage history."""

from sqlalchemy import text

from apps.state import deals
from devsignal import db

from test_pages_b_setup import actor, page, pages_b_database, pages_b_session  # noqa: F401 (fixtures)


def test_board_shows_stages_and_a_move_writes_history(pages_b_database):
    with db.engine().connect() as connection:
        account = connection.execute(text("""select account_id, name from marts.account_scores_current
                                             order by score desc limit 1""")).first()
    deal = deals.create_deal(actor("MEMBER"), title="Board test deal", account_id=account.account_id,
                             stage="IDENTIFIED", amount=1200)
    with db.engine().connect() as connection:
        count, amount = connection.execute(text("""select count(*), coalesce(sum(amount), 0) from app.deals
                                                   where stage = 'IDENTIFIED' and deleted_at is null""")).one()
    at = page("deals").run()
    assert not at.exception
    captions = [caption.value for caption in at.caption]
    assert f"{count} · ${amount:,.0f}" in captions, captions  # the Identified column's count and amount
    labels = [m.value for m in at.markdown]
    assert "**Sales Qualified**" in labels and "**Closed Lost**" in labels

    at.selectbox(key="deal_move_deal").set_value(deal["deal_id"])
    at.selectbox(key="deal_move_stage").set_value("SALES_QUALIFIED")
    at.button[0].click().run()  # the form's submit button ("Move deal")
    assert not at.exception
    with db.engine().connect() as connection:
        history = connection.execute(text("""select from_stage, to_stage, changed_by from app.deal_stage_history
                                             where deal_id = :id order by change_id"""),
                                     {"id": deal["deal_id"]}).all()
    assert [tuple(row) for row in history][-1] == ("IDENTIFIED", "SALES_QUALIFIED", "member@pages-b.test")
    assert any("moved to Sales Qualified" in s.value for s in at.success)


def test_viewer_cannot_move(pages_b_database):
    at = page("deals", role="VIEWER").run()
    assert not at.exception
    assert any("needs the MEMBER role" in info.value for info in at.info)


def test_create_and_edit_from_the_page(pages_b_database):
    at = page("deals", role="MEMBER").run()
    at.text_input(key="deal_new_title").input("Created on the page")
    at.selectbox(key="deal_new_stage").set_value("ACTIVATED")
    at.number_input(key="deal_new_amount").set_value(900.0)
    next(b for b in at.button if b.label == "Create deal").click().run()
    assert not at.exception
    with db.engine().connect() as connection:
        created = connection.execute(text("""select deal_id, stage, amount, owner, created_by from app.deals
                                             where title = 'Created on the page'""")).one()
        first = connection.execute(text("select from_stage, to_stage from app.deal_stage_history where deal_id = :id"),
                                   {"id": created.deal_id}).one()
    assert (created.stage, float(created.amount), created.owner) == ("ACTIVATED", 900.0, "member@pages-b.test")
    assert tuple(first) == (None, "ACTIVATED")

    at.selectbox(key="deal_edit_deal").set_value(created.deal_id).run()
    at.text_area[0].input("Expansion: [click](http://evil.test) <b>bold</b>")
    next(b for b in at.button if b.label == "Save changes").click().run()
    assert not at.exception
    assert deals.get_deal(created.deal_id)["description"] == "Expansion: [click](http://evil.test) <b>bold</b>"
