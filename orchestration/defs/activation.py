"""Dagster's side of activation: sensors that notice events, runs that decide and act, the outbox drain.

- `activation/outbox` (asset, group `activation`, after the marts): decides on every trigger's new
  events (`orchestration.activation.triggers.act_all`) and sends the outbox. It ends the fast path,
  the daily scoring run and the GitHub/CRM runs, so their changes act in the same run.
- one sensor per trigger (`tier_change_sensor`, `deal_stage_sensor`, `contact_created_sensor`,
  `signal_received_sensor`) for events made elsewhere (a deal moved in the CRM, a manual dbt build):
  it reads the pending events, and asks for an `activation` run with a `run_key` naming them, so a
  repeated tick (a daemon killed mid-tick) asks for the same key and Dagster makes one run. Its
  cursor is the newest event position it asked for (shown in the UI; never moves back).
- `outbox_sensor` sends due outbox rows and webhook deliveries inside its tick (bounded to 20 s);
  `slack_interactions_sensor` finishes Slack clicks left pending.
- `weekly_digest` (Mondays 09:00 UTC): one digest per ISO week (the key is the week).

Every side effect, wherever it is decided, goes through the outbox: decisions are idempotent per
(event, action) and the handlers per key, so ticks, runs and retries may repeat safely.
"""


import datetime as dt
import hashlib
import time

from dagster import (
    AssetKey,
    Config,
    DagsterRunStatus,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    Definitions,
    MaterializeResult,
    OpExecutionContext,
    RunRequest,
    RunsFilter,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SkipReason,
    asset,
    in_process_executor,
    job,
    op,
    schedule,
    sensor,
)

ACTIVATION_KEY = AssetKey(["activation", "outbox"])
MARTS_READ = [AssetKey(["marts", "fct_account_tier_changes"]), AssetKey(["marts", "dim_people"]),
              AssetKey(["marts", "fct_signals"])]
IN_FLIGHT = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
             DagsterRunStatus.STARTED]
# how long one tick of the outbox sensor may send for (the tick budget is 60 s; RELIABILITY 15)
DRAIN_BUDGET_SECONDS = 20
# ids hashed into a trigger sensor's run_key: the oldest pending ones (enough to name the batch)
RUN_KEY_EVENTS = 500
# trigger -> seconds between sensor ticks
TRIGGER_INTERVALS = {"tier_change": 15, "deal_stage": 10, "contact_created": 30, "signal_received": 30}
FAST_PATH_JOB = "fast_path"


def _engine():
    from devsignal import db

    return db.engine()


# ----------------------------------------------------------------------------- deciding and sending

def send_outbox(log, budget_seconds: float = DRAIN_BUDGET_SECONDS) -> dict:
    """Drain due outbox rows and webhook deliveries for up to `budget_seconds`; a summary."""
    from orchestration.activation import outbox

    started = time.monotonic()
    totals = {"claimed": 0, "done": 0, "retrying": 0, "failed": 0, "webhook_deliveries": 0}
    while time.monotonic() - started < budget_seconds:
        summary = outbox.drain(limit=50)
        for name in ("claimed", "done", "retrying", "failed"):
            totals[name] += summary[name]
        for error in summary["errors"]:
            log.warning(f"outbox row {error['outbox_id']} ({error['kind']}): {error['error']}")
        if summary["claimed"] == 0:  # a workflow's action queues its next one: keep going until none is due
            break
    totals["webhook_deliveries"] = _deliver_webhooks(log)
    return totals


def _deliver_webhooks(log) -> int:
    from orchestration.activation import webhooks

    return webhooks.deliver_due(limit=100).attempted


def decide_and_send(log, triggers=None) -> dict:
    """Act on every trigger's new events, then send; the text of what happened goes to `log`."""
    from orchestration.activation import freshness, triggers as trigger_module

    engine = _engine()
    with engine.connect() as connection:
        stale = freshness.stale_sources(connection)
    for source, reason in stale.items():
        log.warning(f"stale source (downgrades of its accounts are blocked): {reason}")
    decisions = trigger_module.act_all(engine, tuple(triggers or trigger_module.TRIGGERS))
    for decision in decisions:
        (log.warning if decision.blocked else log.info)(decision.describe())
    sent = send_outbox(log)
    log.info(f"outbox: {sent}")
    return {"acted": sum(d.acted for d in decisions), "outbox_rows": sum(d.outbox_rows for d in decisions),
            "blocked": sum(len(d.blocked) for d in decisions), "stale_sources": ", ".join(sorted(stale)) or "none",
            **{f"sent_{name}": value for name, value in sent.items()}}


@asset(key=ACTIVATION_KEY, deps=MARTS_READ, group_name="activation", kinds={"python"},
       description="Decides on new tier changes, deal moves, contacts and signals; sends the outbox.")
def activation_outbox(context) -> MaterializeResult:
    return MaterializeResult(metadata=decide_and_send(context.log))


class ActConfig(Config):
    trigger: str = "all"   # one of orchestration.activation.triggers.TRIGGERS, or all


@op
def act(context: OpExecutionContext, config: ActConfig) -> None:
    from orchestration.activation import triggers

    chosen = triggers.TRIGGERS if config.trigger == "all" else (config.trigger,)
    for trigger in chosen:
        if trigger not in triggers.TRIGGERS:
            raise ValueError(f"unknown trigger {trigger!r}; expected all or one of {', '.join(triggers.TRIGGERS)}")
    summary = decide_and_send(context.log, chosen)
    context.log.info(f"activation done: {summary}")


# in one process: a step of a few seconds is not worth a process start, and a kill -9 of the run
# process is then a run crash (retried by run_retries), not a step failure
@job(name="activation", tags={"devsignal/kind": "activation"}, executor_def=in_process_executor,
     description="Decide on pending trigger events and send the outbox (asked for by the trigger sensors).")
def activation_job():
    act()


# ----------------------------------------------------------------------------- sensors

def _in_flight(instance, job_name: str) -> list:
    return instance.get_run_records(RunsFilter(job_name=job_name, statuses=IN_FLIGHT), limit=1)


def trigger_sensor(trigger: str):
    @sensor(name=f"{trigger}_sensor", job=activation_job, minimum_interval_seconds=TRIGGER_INTERVALS[trigger],
            default_status=DefaultSensorStatus.RUNNING,
            description=f"New {trigger} events -> an activation run (run_key = the events it names)")
    def _sensor(context: SensorEvaluationContext):
        from orchestration.activation import freshness, triggers

        with _engine().begin() as connection:
            events = triggers.pending(connection, trigger, limit=RUN_KEY_EVENTS)
            if not events:
                return SkipReason(f"no new {trigger} events")
            blocked = {}
            if trigger == "tier_change":
                stale = freshness.stale_sources(connection)
                cooling = [e for e in events if e["direction"] == "DOWNGRADE" and e["to_tier"] in triggers.COOLING_TIERS]
                by_account = triggers.blocked_accounts(connection, sorted({e["account_id"] for e in cooling}), stale)
                blocked = {e["event_id"]: by_account[e["account_id"]] for e in cooling if e["account_id"] in by_account}
        if len(blocked) == len(events):
            return SkipReason(f"{len(events)} {trigger} events blocked by stale sources: "
                              f"{'; '.join(sorted(set(blocked.values())))[:900]}")
        if _in_flight(context.instance, FAST_PATH_JOB) or _in_flight(context.instance, "activation"):
            return SkipReason(f"{len(events)} {trigger} events wait: a fast-path or activation run in flight acts on them")
        ids = sorted(e["event_id"] for e in events)
        digest = hashlib.sha256("\n".join(ids).encode()).hexdigest()[:20]
        context.update_cursor(str(max(_position(trigger, e) for e in events)))
        note = f"; {len(blocked)} blocked: {'; '.join(sorted(set(blocked.values())))[:500]}" if blocked else ""
        context.log.info(f"{len(events)} pending {trigger} events{note}")
        return RunRequest(run_key=f"{trigger}:{digest}",
                          run_config={"ops": {"act": {"config": {"trigger": trigger}}}},
                          tags={"devsignal/trigger": trigger, "devsignal/events": str(len(events)),
                                "devsignal/event_range": f"{ids[0]}..{ids[-1]}"[:200]})

    return _sensor


def _position(trigger: str, event: dict) -> str:
    return {"tier_change": lambda e: e["score_date"], "deal_stage": lambda e: f"{int(e['change_id']):012d}",
            "contact_created": lambda e: e["first_seen_at"], "signal_received": lambda e: e["occurred_at"]}[trigger](event)


@sensor(name="outbox_sensor", minimum_interval_seconds=10, default_status=DefaultSensorStatus.RUNNING,
        description="Sends due outbox rows and webhook deliveries (retries with backoff) inside its tick")
def outbox_sensor(context: SensorEvaluationContext):
    summary = send_outbox(context.log)
    return SkipReason(f"sent in tick: {summary}")


@sensor(name="slack_interactions_sensor", minimum_interval_seconds=15, default_status=DefaultSensorStatus.RUNNING,
        description="Finishes Slack button clicks the intake API left pending")
def slack_interactions_sensor(context: SensorEvaluationContext):
    from orchestration.activation.slack import interactions

    done = interactions.process_pending(limit=50)
    return SkipReason(f"{done} pending Slack clicks processed")


# ----------------------------------------------------------------------------- weekly digest

def enqueue_weekly_digest(day: dt.date) -> bool:
    """The digest of the ISO week ending before `day`, once per week (the key is the week)."""
    from orchestration.activation import outbox

    end = day - dt.timedelta(days=1)
    year, week, _ = end.isocalendar()
    with _engine().begin() as connection:
        return outbox.enqueue(connection, "slack", f"slack:weekly_digest:{year}-W{week:02d}",
                              {"type": "weekly_digest", "period_end": end.isoformat()},
                              source_event=f"weekly_digest:{year}-W{week:02d}")


class DigestConfig(Config):
    day: str = ""   # YYYY-MM-DD the digest is sent on; empty = today (UTC)


@op
def weekly_digest_op(context: OpExecutionContext, config: DigestConfig) -> None:
    day = dt.date.fromisoformat(config.day) if config.day else dt.datetime.now(dt.timezone.utc).date()
    new = enqueue_weekly_digest(day)
    context.log.info(f"weekly digest for the week before {day}: {'enqueued' if new else 'already enqueued'}")
    context.log.info(f"outbox: {send_outbox(context.log)}")


@job(name="weekly_digest", tags={"devsignal/kind": "activation"}, executor_def=in_process_executor)
def weekly_digest_job():
    weekly_digest_op()


@schedule(name="weekly_digest_schedule", cron_schedule="0 9 * * 1", job=weekly_digest_job,
          execution_timezone="UTC", default_status=DefaultScheduleStatus.RUNNING)
def weekly_digest_schedule(context: ScheduleEvaluationContext):
    day = context.scheduled_execution_time.date()
    return RunRequest(run_key=f"weekly_digest:{day}",
                      run_config={"ops": {"weekly_digest_op": {"config": {"day": day.isoformat()}}}})


def defs() -> Definitions:
    from orchestration.activation import triggers

    return Definitions(
        assets=[activation_outbox],
        jobs=[activation_job, weekly_digest_job],
        sensors=[*(trigger_sensor(t) for t in triggers.TRIGGERS), outbox_sensor, slack_interactions_sensor],
        schedules=[weekly_digest_schedule],
    )
