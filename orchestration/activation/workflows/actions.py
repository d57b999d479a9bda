"""Doing: the outbox handler of kind `workflow_action` and the six actions.

`execute_action({"run_id", "action_index"}, key)` runs one action of one run in one transaction:

1. lock the run row; if `outputs` already holds this action's index (a redelivery after a crash
   between our commit and the outbox marking the row done), return what it recorded: no effect twice;
2. perform the action inside a savepoint, through `apps.state` commands on the same connection
   (deal writes, tags; audited as `system:workflow:<name>`) or as new outbox rows (`slack`,
   `webhook`, keyed by this action's key): its effect commits with step 3 or not at all;
3. record the result under the index and queue the next action, or finish the run SUCCESS.

An action that fails (bad deal id, no deal to move, ...) rolls back its savepoint, the run is
FAILED with the error, the later actions do not run (as in the seed), and one `workflow_failed`
Slack alert is queued (key `workflow_failed:<run_id>`). A database that is unreachable is not a
workflow failure: the error goes back to the outbox, which retries the row.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any, Callable

from sqlalchemy import exc, text

from .definition import render
from .planner import action_key

log = logging.getLogger(__name__)

DEFAULT_DEAL_TITLE = "Auto-created deal"
DEFAULT_SLACK_MESSAGE = "Workflow notification from DevSignal"
TRANSIENT = (exc.OperationalError, exc.InterfaceError)


class WorkflowActionError(Exception):
    """An action cannot do what it was asked (the run is FAILED with this message)."""


def _engine():
    from devsignal import db

    return db.engine()


def execute_action(payload: dict, idempotency_key: str) -> dict:
    """Run action `action_index` of run `run_id` exactly once (see the module doc)."""
    from orchestration.activation import outbox

    try:
        run_id, index = int(payload["run_id"]), int(payload["action_index"])
    except (KeyError, TypeError, ValueError) as error:
        raise outbox.PermanentError(f"a workflow_action payload needs run_id and action_index, got {payload!r}") from error
    started = time.monotonic()
    with _engine().begin() as connection:
        run = connection.execute(
            text("""select r.*, w.name from app.workflow_runs r join app.workflows w using (workflow_id)
                    where r.run_id = :id for update of r"""), {"id": run_id}).first()
        if run is None:  # the workflow was deleted (with its runs) after planning
            return {"status": "gone", "run_id": run_id}
        if str(index) in run.outputs or run.status != "PENDING":
            return {"status": "already done", "run_id": run_id, "run_status": run.status,
                    "output": run.outputs.get(str(index))}
        if index >= len(run.actions):
            raise outbox.PermanentError(f"run {run_id} has no action {index}")
        action = run.actions[index]
        context = {"run_id": run_id, "workflow": run.name, "workflow_id": run.workflow_id, "trigger": run.trigger,
                   "event_key": run.event_key, "event": run.inputs, "key": idempotency_key}
        error = None
        try:
            with connection.begin_nested():
                result = ACTIONS[action["type"]](connection, context, action.get("params") or {})
        except TRANSIENT:
            raise
        except Exception as failure:  # noqa: BLE001 - any other action error fails the run, with its message
            error = f"actions[{index}] ({action['type']}): {failure}"[:2000]
        elapsed_ms = round((time.monotonic() - started) * 1000)
        if error is not None:
            _finish(connection, run, "FAILED", run.outputs, elapsed_ms, error)
            outbox.enqueue(connection, "slack", f"workflow_failed:{run_id}",
                           {"type": "workflow_failed", "workflow": run.name, "workflow_name": run.name,
                            "workflow_id": run.workflow_id, "action": action["type"], "error": error,
                            "run_id": run_id, "event_key": run.event_key},
                           source_event=run.event_key)
            log.warning("workflow %r run %s failed: %s", run.name, run_id, error)
            return {"status": "FAILED", "run_id": run_id, "error": error}
        outputs = {**run.outputs, str(index): {"type": action["type"], "result": result, "duration_ms": elapsed_ms}}
        if index + 1 < len(run.actions):
            connection.execute(
                text("""update app.workflow_runs set outputs = cast(:outputs as jsonb),
                               duration_ms = coalesce(duration_ms, 0) + :elapsed where run_id = :id"""),
                {"outputs": json.dumps(outputs, default=str), "elapsed": elapsed_ms, "id": run_id})
            outbox.enqueue(connection, "workflow_action", action_key(run.workflow_id, run.event_key, index + 1),
                           {"run_id": run_id, "action_index": index + 1}, source_event=run.event_key)
        else:
            _finish(connection, run, "SUCCESS", outputs, elapsed_ms, None)
        return {"status": "done", "run_id": run_id, "action_index": index, "result": result}


def _finish(connection, run, status: str, outputs: dict, elapsed_ms: int, error: str | None) -> None:
    connection.execute(
        text("""update app.workflow_runs set status = :status, outputs = cast(:outputs as jsonb), error = :error,
                       finished_at = now(), duration_ms = coalesce(duration_ms, 0) + :elapsed
                where run_id = :id"""),
        {"status": status, "outputs": json.dumps(outputs, default=str), "error": error, "elapsed": elapsed_ms,
         "id": run.run_id})


def _actor(context: dict):
    from apps.state import Actor

    return Actor.system(f"workflow:{context['workflow']}")


def _open_deal_of(connection, account_id: str | None) -> dict | None:
    if not account_id:
        return None
    row = connection.execute(
        text("""select deal_id, title, stage from app.deals where account_id = :id and deleted_at is null
                and stage not in ('CLOSED_WON', 'CLOSED_LOST') order by created_at desc, deal_id desc limit 1"""),
        {"id": account_id}).first()
    return None if row is None else dict(row._mapping)


# ----------------------------------------------------------------------------- the six actions
# Each takes (connection, context, params) and returns a JSON-able result; raising fails the run.

def create_deal(connection, context: dict, params: dict) -> dict:
    """A deal on the event's account (params.companyId wins), unless it has an open one already
    (skipIfOpenDeal, default true: an account that turns HOT twice gets one deal, not two)."""
    from apps.state import deals

    event = context["event"]
    account_id = params.get("companyId") or event.get("accountId")
    if params.get("skipIfOpenDeal", True):
        # serialise two workflows creating a deal for one account at once
        connection.execute(text("select pg_advisory_xact_lock(hashtext('workflow-deal:' || :id))"),
                           {"id": account_id or ""})
        existing = _open_deal_of(connection, account_id)
        if existing:
            return {"dealId": existing["deal_id"], "title": existing["title"], "stage": existing["stage"],
                    "created": False, "reason": "the account already has an open deal"}
    deal = deals.create_deal(
        _actor(context), title=render(params.get("title") or DEFAULT_DEAL_TITLE, event).strip() or DEFAULT_DEAL_TITLE,
        account_id=account_id, person_id=params.get("contactId") or event.get("contactId") or event.get("actorId"),
        stage=params.get("stage") or "ANONYMOUS_USAGE", amount=params.get("amount"),
        description=f"Created by workflow {context['workflow']!r} on {context['event_key']}",
        source="workflow", via="workflow", connection=connection)
    return {"dealId": deal["deal_id"], "title": deal["title"], "stage": deal["stage"], "created": True}


def update_deal_stage(connection, context: dict, params: dict) -> dict:
    """Move params.dealId, else the event's deal, else the event account's newest open deal."""
    from apps.state import NotFound, deals

    event = context["event"]
    deal_id = params.get("dealId") or event.get("dealId")
    if deal_id is None:
        open_deal = _open_deal_of(connection, event.get("accountId"))
        if open_deal is None:
            raise WorkflowActionError(
                f"no deal to move: params.dealId is not set, the event has no dealId, and account "
                f"{event.get('accountId')!r} has no open deal" if event.get("accountId") else
                "no deal to move: params.dealId is not set and the event has neither a dealId nor an accountId")
        deal_id = open_deal["deal_id"]
    previous = connection.execute(text("select stage from app.deals where deal_id = :id and deleted_at is null"),
                                  {"id": int(deal_id)}).scalar()
    try:
        moved = deals.move_deal(_actor(context), int(deal_id), params["stage"], via="workflow", connection=connection)
    except NotFound as missing:
        raise WorkflowActionError(str(missing)) from missing
    return {"dealId": moved["deal_id"], "stage": moved["stage"], "previousStage": previous}


def default_event_type(workflow_name: str) -> str:
    """`workflow.<name as a lower-case word>`, a type the webhooks module accepts."""
    slug = re.sub(r"[^a-z0-9]+", "_", workflow_name.lower()).strip("_") or "unnamed"
    return "workflow." + (slug if slug[0].isalpha() else "w" + slug)


def send_webhook(connection, context: dict, params: dict) -> dict:
    """Queue a signed webhook (kind `webhook`) to the endpoints subscribed to its event type."""
    from orchestration.activation import outbox

    event_type = params.get("eventType") or default_event_type(context["workflow"])
    payload = params.get("payload") or {"workflow": context["workflow"], "trigger": context["trigger"],
                                        "event": context["event"]}
    queued = outbox.enqueue(connection, "webhook", f"{context['key']}:webhook",
                            {"event_type": event_type, "payload": payload}, source_event=context["event_key"])
    return {"eventType": event_type, "queued": queued}


def send_slack(connection, context: dict, params: dict) -> dict:
    """Queue a Slack message (kind `slack`); the channel defaults to DEVSIGNAL_SLACK_DEFAULT_CHANNEL."""
    from devsignal import settings
    from orchestration.activation import outbox

    message = render(params.get("message") or DEFAULT_SLACK_MESSAGE, context["event"])
    channel = params.get("channel") or settings.get("DEVSIGNAL_SLACK_DEFAULT_CHANNEL")
    queued = outbox.enqueue(connection, "slack", f"{context['key']}:slack",
                            {"type": "message", "channel": channel, "text": message}, source_event=context["event_key"])
    return {"channel": channel, "text": message, "queued": queued}


def add_tag(connection, context: dict, params: dict) -> dict:
    """Tag the event's account (`app.account_tags`); an event without an account has nothing to tag."""
    from apps.state import workflows as workflow_state

    account_id = context["event"].get("accountId")
    if not account_id:
        return {"tag": params["tag"], "attached": [], "reason": "the event has no account"}
    tagged = workflow_state.tag_account(_actor(context), account_id, params["tag"], connection=connection)
    return {"tag": tagged["tag"], "attached": [account_id], "new": tagged["added"]}


def log_event(connection, context: dict, params: dict) -> dict:
    """Write the message (or the event) to the log."""
    level = params.get("level") or "info"
    message = render(params["message"], context["event"]) if params.get("message") else json.dumps(context["event"], default=str)
    log.log(logging.getLevelName(level.upper()), "workflow %r (%s): %s", context["workflow"], context["event_key"], message)
    return {"level": level, "message": message}


ACTIONS: dict[str, Callable[[Any, dict, dict], dict]] = {
    "create_deal": create_deal, "update_deal_stage": update_deal_stage, "send_webhook": send_webhook,
    "send_slack": send_slack, "add_tag": add_tag, "log": log_event,
}
