"""RELIABILITY 14: the sensor daemon SIGKILLed at each crash point; per run_key, one run and one side effect.

Why Dagster's own pattern (`test_sensor_failure_recovery.py`) rather than killing a `dagster-daemon
run` subprocess at random: the crash points are exactly where the daemon's state changes (tick
created, run created, run launched), and `debug_crash_flags` kills the process *there*, every
time, with SIGKILL. A random kill of a live daemon lands mostly between ticks and proves little.
Each tick runs in a process of its own (`sensor_tick.py`) with the daemon's `execute_sensor_iteration`,
a real `DagsterInstance` on PostgreSQL, the project's real `deal_stage_sensor` and `activation` job,
and the real outbox and Slack handler posting to the fake Slack. Runs launch synchronously inside
the tick (SyncInMemoryRunLauncher), so a kill at RUN_LAUNCHED comes *after* the side effect.

DEVSIGNAL_CRASH_REPEATS sets how many events per crash point (RELIABILITY asks 20; default 2 to
keep the suite short on a shared machine: each tick is a process start).
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from devsignal import db

HERE = Path(__file__).resolve().parent
SENSOR = "deal_stage_sensor"
CRASH_POINTS = ("TICK_CREATED", "RUN_CREATED", "RUN_LAUNCHED")
REPEATS = int(os.environ.get("DEVSIGNAL_CRASH_REPEATS", "2"))
_CLOCK = [0.0]


@pytest.fixture(scope="module")
def crash_home(world, dagster_storage, tmp_path_factory):
    """A second instance on the same storage whose runs execute inside the daemon's tick."""
    import orchestration_world as ow

    return ow.write_instance_home(tmp_path_factory.mktemp("dagster-sync"), dagster_storage, launcher="sync")


def tick(home: Path, at: float, crash_point: str | None = None) -> int:
    command = [sys.executable, str(HERE / "sensor_tick.py"), str(home), SENSOR, str(at)]
    if crash_point:
        command.append(crash_point)
    done = subprocess.run(command, cwd=HERE.parent.parent, capture_output=True, text=True, timeout=300)
    if crash_point is None and done.returncode != 0:
        raise AssertionError(f"tick failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.returncode


def slack_posts_for(fake_slack, deal_title: str) -> int:
    return sum(deal_title in (message.get("text") or "") + str(message.get("blocks") or "")
               for message in fake_slack.messages())


def runs_by_key(instance, key: str) -> list:
    from dagster import RunsFilter

    return instance.get_runs(RunsFilter(tags={"dagster/run_key": key}))


@pytest.mark.parametrize("crash_point", CRASH_POINTS)
def test_daemon_killed_at_crash_point(crash_point, crash_home, fake_slack):
    import orchestration_world as ow

    instance = ow.instance(crash_home)
    # the daemon's clock only moves forward across the parametrized cases (ticks are frozen at it)
    clock = max(time.time(), _CLOCK[0]) + 60
    # settle: whatever is pending from earlier tests is acted on first, so each event below is alone
    tick(crash_home, clock)
    for n in range(REPEATS):
        clock += 60  # past the sensor's minimum interval
        title = f"Crash test deal {crash_point} {n}"
        change_id = _move(title)
        killed = tick(crash_home, clock, crash_point)
        assert killed == -9, f"the tick should have died at {crash_point} (exit {killed})"
        tick(crash_home, clock + 20)      # the daemon comes back: the crashed tick resumes
        tick(crash_home, clock + 40)      # a later tick: nothing new to ask for
        _CLOCK[0] = clock + 40

        key = f"slack:deal_stage_changed:{change_id}"
        with db.engine().connect() as connection:
            row = connection.execute(text("select status, attempts from app.outbox where idempotency_key = :k"),
                                     {"k": key}).one()
            run_keys = connection.execute(text("""select count(*) from app.activation_events
                                                  where trigger = 'deal_stage' and event_id = :e"""),
                                          {"e": str(change_id)}).scalar()
        assert row.status == "done" and run_keys == 1
        assert slack_posts_for(fake_slack, title) == 1, f"{crash_point} #{n}: the alert must be posted once"
        runs = [r for r in instance.get_runs() if r.tags.get("dagster/sensor_name") == SENSOR
                and r.tags.get("devsignal/event_range") == f"{change_id}..{change_id}"]
        assert len(runs) == 1, f"{crash_point} #{n}: one run for the event, got {len(runs)}"
        assert len(runs_by_key(instance, runs[0].tags["dagster/run_key"])) == 1
        ticks = instance.get_ticks(_sensor_origin_id(instance), _sensor_selector_id(instance), limit=3)
        assert ticks[0].status.value == "SKIPPED", "the tick after recovery finds nothing new"
    instance.dispose()


def _move(title: str) -> int:
    from apps.state import Actor, deals

    actor = Actor.system("crash-test")
    with db.engine().connect() as connection:
        account = connection.execute(text("select account_id from marts.dim_accounts order by account_id limit 1")).scalar()
    deal = deals.create_deal(actor, title=title, account_id=account, stage="IDENTIFIED")
    deals.move_deal(actor, deal["deal_id"], "ACTIVATED")
    with db.engine().connect() as connection:
        return connection.execute(text("select max(change_id) from app.deal_stage_history where deal_id = :d"),
                                  {"d": deal["deal_id"]}).scalar()


def _sensor_state(instance):
    states = [s for s in instance.all_instigator_state() if s.instigator_name == SENSOR]
    assert states, "the sensor has no state"
    return states[0]


def _sensor_origin_id(instance):
    return _sensor_state(instance).instigator_origin_id


def _sensor_selector_id(instance):
    return _sensor_state(instance).selector_id
