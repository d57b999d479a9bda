"""A code location of the project's real activation sensors and job, without the dlt and dbt assets
(loading those takes seconds; the crash tests load this location in every process they start),
plus `duplicate_key_sensor`, which asks for the same run_key twice in one tick (RELIABILITY 16)."""

import os

from dagster import DefaultSensorStatus, Definitions, RunRequest, SkipReason, sensor

from orchestration.activation import triggers
from orchestration.defs import activation


@sensor(name="duplicate_key_sensor", job=activation.activation_job, minimum_interval_seconds=1,
        default_status=DefaultSensorStatus.RUNNING)
def duplicate_key_sensor(context):
    from devsignal import db

    with db.engine().begin() as connection:
        events = triggers.pending(connection, "deal_stage", limit=1000)
    if not events:
        return SkipReason("no pending deal moves")
    newest = max(int(e["event_id"]) for e in events)
    request = RunRequest(run_key=f"duplicate:{newest}", run_config={"ops": {"act": {"config": {"trigger": "deal_stage"}}}})
    return [request, request]


def _sensors() -> list:
    """DEVSIGNAL_TEST_SENSORS (comma-separated names) picks the sensors a test ticks: the daemon
    evaluates every running sensor of a location, and the others would act on the test's events."""
    every = [*(activation.trigger_sensor(trigger) for trigger in triggers.TRIGGERS), duplicate_key_sensor]
    wanted = [name for name in os.environ.get("DEVSIGNAL_TEST_SENSORS", "").split(",") if name]
    return [s for s in every if not wanted or s.name in wanted]


defs = Definitions(jobs=[activation.activation_job], sensors=_sensors())
