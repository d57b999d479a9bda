"""RELIABILITY 16: the run process killed mid-action, and one run_key twice in one tick.

The killed run is real: a `dagster api grpc` code server serving the project's activation job, a
`DagsterInstance` on PostgreSQL with the default run launcher (each run in its own process), the
real outbox and Slack handler. The fake Slack records the alert and then stalls, so the run dies
*between* Slack's acceptance and our commit, the worst place. The code server notices the dead
process and fails the run; Dagster's run-retry logic (`dagster.yaml: run_retries`, run here by
calling the daemon's own `consume_new_runs_for_automatic_reexecution`) starts a retry that finishes
the work, and the outbox retries the row left `sending`: the alert is still in Slack exactly once.
"""

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from devsignal import db

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


def _wait(predicate, timeout: float, what: str, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture(scope="module")
def code_server(world, tmp_path_factory):
    import orchestration_world as ow

    port = ow.free_port()
    log_path = tmp_path_factory.mktemp("code-server") / "grpc.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "dagster"), "api", "grpc", "-h", "127.0.0.1", "-p", str(port),
             "--python-file", str(HERE / "activation_location.py"), "--attribute", "defs",
             "--working-directory", str(REPO), "--location-name", "activation_test"],
            cwd=REPO, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT)
    from dagster._grpc.client import DagsterGrpcClient

    client = DagsterGrpcClient(port=port, host="127.0.0.1")
    _wait(lambda: process.poll() is not None or _pings(client), 120, "the code server")
    assert process.poll() is None, log_path.read_text()[-3000:]
    yield port
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:  # a busy machine: a stuck shutdown must not fail the tests
        process.kill()
        process.wait(timeout=30)


def _pings(client) -> bool:
    try:
        client.ping("x")
        return True
    except Exception:  # noqa: BLE001 - not up yet
        return False


@pytest.fixture(scope="module")
def workspace(world, code_server):
    from dagster._core.test_utils import create_test_daemon_workspace_context
    from dagster._core.workspace.load_target import GrpcServerTarget

    instance = world["instance"]
    target = GrpcServerTarget(host="127.0.0.1", port=code_server, socket=None, location_name="activation_test")
    with create_test_daemon_workspace_context(target, instance) as context:
        yield context


def _move(title: str) -> int:
    from apps.state import Actor, deals

    actor = Actor.system("run-crash-test")
    with db.engine().connect() as connection:
        account = connection.execute(text("select account_id from marts.dim_accounts order by account_id limit 1")).scalar()
    deal = deals.create_deal(actor, title=title, account_id=account, stage="ACTIVATED")
    deals.move_deal(actor, deal["deal_id"], "TEAM_ADOPTION")
    with db.engine().connect() as connection:
        return connection.execute(text("select max(change_id) from app.deal_stage_history where deal_id = :d"),
                                  {"d": deal["deal_id"]}).scalar()


def _posts(fake_slack, title: str) -> int:
    return sum(title in (m.get("text") or "") + str(m.get("blocks") or "") for m in fake_slack.messages())


def _launch_activation(workspace, trigger: str):
    context = workspace.create_request_context()
    location = context.get_code_location("activation_test")
    repo = next(iter(location.get_repositories().values()))
    remote_job = repo.get_full_job("activation")
    instance = workspace.instance
    run_config = {"ops": {"act": {"config": {"trigger": trigger}}}}
    from orchestration.defs.activation import activation_job

    run = instance.create_run_for_job(
        job_def=activation_job, run_config=run_config, tags={"devsignal/test": "run-crash"},
        remote_job_origin=remote_job.get_remote_origin(), job_code_origin=remote_job.get_python_origin())
    instance.launch_run(run.run_id, context)
    return run.run_id


def _run_pid(instance, run_id: str) -> int | None:
    from dagster import DagsterEventType

    for record in instance.all_logs(run_id):
        if record.dagster_event and record.dagster_event.event_type == DagsterEventType.STEP_START:
            return record.dagster_event.pid
    return None


def test_run_killed_mid_action_is_retried_and_acts_once(world, workspace, fake_slack):
    from dagster import DagsterRunStatus
    from dagster._daemon.auto_run_reexecution.auto_run_reexecution import consume_new_runs_for_automatic_reexecution

    from orchestration.activation import outbox

    instance = world["instance"]
    while outbox.drain()["claimed"]:   # settle: the stalled post below must be this test's alert
        pass
    title = "Run crash test deal"
    change_id = _move(title)
    fake_slack.add_fault("chat.postMessage", stall=60, times=1)   # recorded, then no answer
    run_id = _launch_activation(workspace, "deal_stage")
    _wait(lambda: _posts(fake_slack, title) == 1, 120, "the alert to reach Slack")
    pid = _wait(lambda: _run_pid(instance, run_id), 30, "the run's process id")
    assert not instance.get_run_by_id(run_id).is_finished, "the run must still be waiting on Slack"
    os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic()

    failed = _wait(lambda: instance.get_run_by_id(run_id).status == DagsterRunStatus.FAILURE, 120,
                   "the dead run to be marked failed")
    detection = time.monotonic() - killed_at
    assert failed and detection <= 120, f"detected after {detection:.1f}s"
    with db.engine().connect() as connection:
        left = connection.execute(text("select status from app.outbox where idempotency_key = :k"),
                                  {"k": f"slack:deal_stage_changed:{change_id}"}).scalar()
    assert left == "sending", "the kill came between the post and the commit"

    # the run-retry daemon's own step: it starts a retry of the failed run (run_retries in dagster.yaml)
    records = instance.get_run_records()
    list(consume_new_runs_for_automatic_reexecution(workspace, records, logging.getLogger("retries")))
    retry = _wait(lambda: [r for r in instance.get_runs() if r.tags.get("dagster/parent_run_id") == run_id], 60,
                  "a retry run")[0]
    _wait(lambda: instance.get_run_by_id(retry.run_id).is_finished, 180, "the retry to finish")
    assert instance.get_run_by_id(retry.run_id).status == DagsterRunStatus.SUCCESS
    assert retry.tags.get("dagster/retry_number") == "1"

    # the row the dead run claimed is due again once its lease ends; the handler finds the post in Slack
    import datetime as dt

    later = dt.datetime.now(dt.timezone.utc) + outbox.SEND_LEASE + dt.timedelta(seconds=5)
    outbox.drain(now=later)
    with db.engine().connect() as connection:
        row = connection.execute(text("select status, attempts from app.outbox where idempotency_key = :k"),
                                 {"k": f"slack:deal_stage_changed:{change_id}"}).one()
    assert row.status == "done" and row.attempts >= 2
    assert _posts(fake_slack, title) == 1, "the alert is in Slack once, not twice"
    print(f"\nrun crash: detected in {detection:.1f}s, retries used: 1, duplicate alerts: 0")


def test_same_run_key_twice_in_one_tick_makes_one_run(world, dagster_storage, fake_slack, tmp_path_factory):
    import orchestration_world as ow

    home = ow.write_instance_home(tmp_path_factory.mktemp("dagster-dup"), dagster_storage, launcher="sync")
    title = "Duplicate key deal"
    change_id = _move(title)
    done = subprocess.run([sys.executable, str(HERE / "sensor_tick.py"), str(home), "duplicate_key_sensor",
                           str(time.time())], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    instance = ow.instance(home)
    from dagster import RunsFilter

    runs = instance.get_runs(RunsFilter(tags={"dagster/run_key": f"duplicate:{change_id}"}))
    assert len(runs) == 1, f"one run for the key, got {len(runs)}"
    assert _posts(fake_slack, title) == 1
    instance.dispose()
