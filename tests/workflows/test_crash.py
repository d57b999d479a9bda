"""kill -9 of a process in the middle of a workflow action, then a rerun: every side effect once.

The process is a real `outbox.drain()` in a subprocess. The test stops it at a chosen point without
any hook in the code: it holds a lock the process will need (an uncommitted outbox row with the
key the action is about to enqueue, or the row lock `drain` needs to mark its row done), waits
until PostgreSQL shows the process waiting on it, and SIGKILLs it there.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import text

from apps import state
from apps.state import workflows as workflow_state
from orchestration.activation import outbox
from orchestration.activation.workflows import action_key, events_since, plan

from .conftest import ADMIN, add_account, add_signal, outbox_rows, runs, sql

DRAIN = "from orchestration.activation import outbox; outbox.drain(kinds=('workflow_action',))"


def start_drain() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", DRAIN], cwd=os.getcwd(), env=dict(os.environ),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_until_blocked_on(statement_start: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = sql("""select count(*) as n from pg_stat_activity
                         where datname = current_database() and pid <> pg_backend_pid()
                           and wait_event_type = 'Lock' and query ilike :q""", q=f"%{statement_start}%")
        if waiting[0]["n"]:
            return
        if process.poll() is not None:
            raise AssertionError(f"the process ended before blocking: {process.communicate()[1].decode()[-2000:]}")
        time.sleep(0.05)
    raise AssertionError(f"the process never blocked on {statement_start!r}")


def kill(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


def wait_for_backends_to_leave(timeout: float = 60) -> None:
    """The killed process's server backend finishes its (rolled back) work once our locks are gone."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sql("""select count(*) as n from pg_stat_activity where datname = current_database()
                  and pid <> pg_backend_pid() and state <> 'idle'""")[0]["n"] == 0:
            return
        time.sleep(0.05)
    raise AssertionError("the killed drain's backend is still busy")


def plan_deal_then_webhook() -> tuple[dict, str]:
    add_account()
    add_signal()
    workflow = workflow_state.create_workflow(ADMIN, {
        "name": "deal then webhook", "trigger": "signal_received",
        "actions": [{"type": "create_deal", "params": {"title": "Crash test deal", "skipIfOpenDeal": False}},
                    {"type": "send_webhook", "params": {"eventType": "deal.created"}}]})
    with state.engine().begin() as connection:
        events, _ = events_since(connection, "signal_received", None)
        assert plan(connection, "signal_received", events) == 1
    return workflow, "signal_received:s1"


def rerun_and_check_once(workflow: dict, event_key: str) -> None:
    for _ in range(3):
        # past the killed claim's lease (taken from now, not import time: the suite may run for long)
        outbox.drain(now=datetime.now(timezone.utc) + timedelta(minutes=5), kinds=("workflow_action",))
    assert [row["title"] for row in sql("select title from app.deals")] == ["Crash test deal"]
    webhooks = outbox_rows("webhook")
    assert len(webhooks) == 1 and webhooks[0]["payload"]["event_type"] == "deal.created"
    [run] = runs()
    assert run["status"] == "SUCCESS" and sorted(run["outputs"]) == ["0", "1"]
    assert sql("select count(*) as n from app.audit_log where action = 'deal.create'")[0]["n"] == 1
    assert {row["status"] for row in outbox_rows("workflow_action")} == {"done"}


def test_kill_in_the_middle_of_an_action_before_it_commits():
    workflow, event_key = plan_deal_then_webhook()
    next_key = action_key(workflow["workflow_id"], event_key, 1)
    blocker = state.engine().connect()
    blocker.begin()
    # the action will enqueue its next step under this key: it waits on our uncommitted row
    outbox.enqueue(blocker, "workflow_action", next_key, {"run_id": 0, "action_index": 1})
    process = start_drain()
    try:
        wait_until_blocked_on("insert into app.outbox", process)
        # the deal is inserted in the killed process's transaction, never committed
        kill(process)
    finally:
        blocker.rollback()
        blocker.close()
    wait_for_backends_to_leave()
    assert sql("select count(*) as n from app.deals")[0]["n"] == 0
    assert [row["status"] for row in outbox_rows("workflow_action")] == ["sending"]   # claimed, then the kill
    rerun_and_check_once(workflow, event_key)


def test_kill_after_the_action_committed_before_the_outbox_marked_it_done():
    workflow, event_key = plan_deal_then_webhook()
    first_key, next_key = action_key(workflow["workflow_id"], event_key, 0), action_key(workflow["workflow_id"], event_key, 1)
    blocker = state.engine().connect()
    blocker.begin()
    outbox.enqueue(blocker, "workflow_action", next_key, {"run_id": 0, "action_index": 1})
    process = start_drain()
    row_lock = state.engine().connect()
    try:
        wait_until_blocked_on("insert into app.outbox", process)
        # hold the first row, so `drain` cannot mark it done once the action commits
        row_lock.begin()
        row_lock.execute(text("select 1 from app.outbox where idempotency_key = :k for update"), {"k": first_key})
        blocker.rollback()
        wait_until_blocked_on("update app.outbox set status = 'done'", process)
        kill(process)
    finally:
        blocker.close()
        row_lock.rollback()
        row_lock.close()
    wait_for_backends_to_leave()
    # the action's effect is committed; the outbox still thinks it is being sent
    assert sql("select count(*) as n from app.deals")[0]["n"] == 1
    assert {row["idempotency_key"]: row["status"] for row in outbox_rows("workflow_action")} == {
        first_key: "sending", next_key: "pending"}
    rerun_and_check_once(workflow, event_key)
    assert sql("select result from app.outbox where idempotency_key = :k", k=first_key)[0]["result"]["status"] == \
        "already done"


PLAN = ("from devsignal import db; from orchestration.activation.workflows import events_since, plan\n"
        "with db.engine().begin() as connection:\n"
        "    events, _ = events_since(connection, 'signal_received')\n"
        "    plan(connection, 'signal_received', events)\n")


def test_kill_while_planning_then_plan_again():
    add_account()
    add_signal()
    workflow = workflow_state.create_workflow(ADMIN, {
        "name": "planned once", "trigger": "signal_received",
        "actions": [{"type": "create_deal", "params": {"title": "Planned deal", "skipIfOpenDeal": False}}]})
    blocker = state.engine().connect()
    blocker.begin()
    # an uncommitted run for the same (workflow, event): the planner's insert waits on it
    blocker.execute(text("""insert into app.workflow_runs (workflow_id, event_key, trigger, status, inputs, actions)
                            values (:id, 'signal_received:s1', 'signal_received', 'SKIPPED', '{}', '[]')"""),
                    {"id": workflow["workflow_id"]})
    process = subprocess.Popen([sys.executable, "-c", PLAN], cwd=os.getcwd(), env=dict(os.environ),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # (pg_stat_activity keeps the first 1 kB of a query: the decision starts with its events CTE)
        wait_until_blocked_on("with event as", process)
        kill(process)
    finally:
        blocker.rollback()
        blocker.close()
    wait_for_backends_to_leave()
    assert runs() == [] and outbox_rows() == []
    with state.engine().begin() as connection:
        events, _ = events_since(connection, "signal_received")
        assert plan(connection, "signal_received", events) == 1
    for _ in range(2):
        outbox.drain(kinds=("workflow_action",))
    assert [row["title"] for row in sql("select title from app.deals")] == ["Planned deal"]
    assert [row["status"] for row in runs()] == ["SUCCESS"] and len(outbox_rows("workflow_action")) == 1
