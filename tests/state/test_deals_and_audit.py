"""`apps.state`: every write lands with its audit row, roles are checked in the command itself,
and the deal pipeline keeps its stage history."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text

from apps import state
from apps.state import Actor, PermissionDenied, deals


@pytest.fixture(scope="module", autouse=True)
def database(own_database_factory):
    with own_database_factory("devsignal_state_test") as url:
        yield url


def audit_rows(**where):
    clause = " and ".join(f"{key} = :{key}" for key in where) or "true"
    with state.engine().connect() as conn:
        return [dict(row._mapping) for row in conn.execute(text(f"select * from app.audit_log where {clause} order by audit_id"), where)]


MEMBER = Actor("mia@vendor.dev", "MEMBER")
VIEWER = Actor("vic@vendor.dev", "VIEWER")


def test_create_and_move_deal_keep_history_and_audit():
    deal = deals.create_deal(MEMBER, title="Acme - Inbound", account_id="acme.com", amount=1200)
    assert deal["stage"] == "ANONYMOUS_USAGE"
    deals.move_deal(MEMBER, deal["deal_id"], "team adoption")
    moved = deals.move_deal(MEMBER, deal["deal_id"], "CLOSED_WON")
    assert moved["closed_at"] is not None
    deals.move_deal(MEMBER, deal["deal_id"], "CLOSED_WON")  # already there: no new history row
    with state.engine().connect() as conn:
        history = conn.execute(text("select from_stage, to_stage from app.deal_stage_history where deal_id = :id order by change_id"),
                               {"id": deal["deal_id"]}).all()
    assert [tuple(row) for row in history] == [(None, "ANONYMOUS_USAGE"), ("ANONYMOUS_USAGE", "TEAM_ADOPTION"),
                                               ("TEAM_ADOPTION", "CLOSED_WON")]
    moves = audit_rows(action="deal.move", entity_id=str(deal["deal_id"]))
    assert [(row["before"]["stage"], row["after"]["stage"]) for row in moves] == [
        ("ANONYMOUS_USAGE", "TEAM_ADOPTION"), ("TEAM_ADOPTION", "CLOSED_WON"), ("CLOSED_WON", "CLOSED_WON")]


def test_unknown_stage_is_refused_with_the_stages_listed():
    deal = deals.create_deal(MEMBER, title="Stage check")
    with pytest.raises(ValueError, match="unknown deal stage 'WON'.*CLOSED_WON"):
        deals.move_deal(MEMBER, deal["deal_id"], "WON")


def test_viewer_is_refused_in_the_command_and_the_refusal_is_audited():
    deal = deals.create_deal(MEMBER, title="Viewer check")
    with pytest.raises(PermissionDenied):
        deals.move_deal(VIEWER, deal["deal_id"], "IDENTIFIED")
    assert deals.get_deal(deal["deal_id"])["stage"] == "ANONYMOUS_USAGE"
    refused = audit_rows(actor=VIEWER.email, outcome="refused")
    assert refused and refused[-1]["action"] == "deal.move" and "needs MEMBER" in refused[-1]["detail"]


def test_a_failed_write_leaves_neither_the_change_nor_its_audit():
    before = len(audit_rows(action="deal.update"))
    deal = deals.create_deal(MEMBER, title="Atomic")
    with pytest.raises(Exception):
        deals.update_deal(MEMBER, deal["deal_id"], {"amount": -5})  # the check constraint refuses it
    assert deals.get_deal(deal["deal_id"])["amount"] is None
    assert len(audit_rows(action="deal.update")) == before


def test_editing_an_unknown_field_is_a_clear_error():
    deal = deals.create_deal(MEMBER, title="Fields")
    with pytest.raises(ValueError, match="cannot edit stage"):
        deals.update_deal(MEMBER, deal["deal_id"], {"stage": "IDENTIFIED"})


def test_concurrent_claims_make_one_deal_and_one_owner():
    claimers = [Actor(f"rep{i}@vendor.dev", "MEMBER") for i in range(4)]
    threads = [threading.Thread(target=deals.claim_account, args=(actor, "globex.com", "Globex")) for actor in claimers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with state.engine().connect() as conn:
        open_deals = conn.execute(text("select title, stage, owner from app.deals where account_id = 'globex.com'")).all()
        owner = conn.execute(text("select owner from app.account_owners where account_id = 'globex.com'")).scalar()
    assert len(open_deals) == 1
    assert open_deals[0].title == "Globex - Inbound" and open_deals[0].stage == "IDENTIFIED"
    assert owner in {actor.email for actor in claimers} and open_deals[0].owner == owner
