"""What keeps every asset fresh: schedules, the CRM drop-folder sensor, the fast path, freshness checks.

| name                      | when                         | what                                                   |
|---------------------------|------------------------------|--------------------------------------------------------|
| `npm_daily`, `pypi_daily` | 02:15 / 02:30 UTC            | yesterday's partition of raw/npm, raw/pypi (backfills: the UI) |
| `github_hourly`           | minute 7 of every hour       | raw/github, the dbt models after it, activation        |
| `crm_drop_folder_sensor`  | a file in DEVSIGNAL_CRM_DIR changed | raw/crm, the dbt models after it, activation    |
| `daily_scoring`           | 03:30 UTC                    | every dbt model (scores as of today: silent accounts decay), activation |
| `intake_inbox_sensor`     | new rows in intake.inbox     | the fast path: raw/segment, only the dbt models after it (incremental), activation |
| `freshness_checks`        | every 15 min                 | one check per source (app.source_health)               |

Runs that build dbt models carry the tag `devsignal/dbt=build`; dagster.yaml lets one such run go
at a time (two dbt builds on the same tables would trip over each other), the others queue.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetSelection,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    Definitions,
    RunRequest,
    RunsFilter,
    ScheduleDefinition,
    SensorEvaluationContext,
    SkipReason,
    asset_check,
    build_schedule_from_partitioned_job,
    define_asset_job,
    in_process_executor,
    sensor,
)

from orchestration.defs.activation import IN_FLIGHT

DBT_TAGS = {"devsignal/dbt": "build"}
FAST_PATH_JOB = "fast_path"


def raw(source: str) -> AssetSelection:
    return AssetSelection.key_prefixes(["raw", source])


def after(source: str) -> AssetSelection:
    """The source's raw assets and everything downstream of them (dbt models, activation)."""
    return raw(source).downstream()


fast_path_job = define_asset_job(
    # without the dbt tests (checks): they run in the full builds; dbt then runs no test either
    FAST_PATH_JOB, selection=after("segment") - AssetSelection.all_asset_checks(),
    tags={**DBT_TAGS, "devsignal/kind": "fast_path"},
    executor_def=in_process_executor,  # three steps in one process: no process start per step
    description="Segment load from the intake inbox, only the dbt models downstream of it (incremental), "
                "then the actions")
github_job = define_asset_job("github_hourly_job", selection=after("github"), tags=DBT_TAGS)
crm_job = define_asset_job("crm_load", selection=after("crm"), tags=DBT_TAGS)
scoring_job = define_asset_job(
    "daily_scoring", selection=AssetSelection.all() - AssetSelection.groups("ingestion"), tags=DBT_TAGS,
    description="Every dbt model as of today (accounts without new signals decay), then the actions")
npm_daily_job = define_asset_job("npm_daily", selection=raw("npm"))
pypi_daily_job = define_asset_job("pypi_daily", selection=raw("pypi"))


def schedules(freshness_job) -> list:
    return [
        build_schedule_from_partitioned_job(npm_daily_job, hour_of_day=2, minute_of_hour=15,
                                            default_status=DefaultScheduleStatus.RUNNING),
        build_schedule_from_partitioned_job(pypi_daily_job, hour_of_day=2, minute_of_hour=30,
                                            default_status=DefaultScheduleStatus.RUNNING),
        ScheduleDefinition(name="github_hourly", job=github_job, cron_schedule="7 * * * *",
                           execution_timezone="UTC", default_status=DefaultScheduleStatus.RUNNING),
        ScheduleDefinition(name="daily_scoring_schedule", job=scoring_job, cron_schedule="30 3 * * *",
                           execution_timezone="UTC", default_status=DefaultScheduleStatus.RUNNING),
        ScheduleDefinition(name="freshness_checks_schedule", job=freshness_job, cron_schedule="*/15 * * * *",
                           execution_timezone="UTC", default_status=DefaultScheduleStatus.RUNNING),
    ]


# ----------------------------------------------------------------------------- the fast path

def _engine():
    from devsignal import db

    return db.engine()


@sensor(name="intake_inbox_sensor", job=fast_path_job, minimum_interval_seconds=5,
        default_status=DefaultSensorStatus.RUNNING,
        description="New intake.inbox rows -> the fast path (cursor = the newest inbox id asked for)")
def intake_inbox_sensor(context: SensorEvaluationContext):
    from sqlalchemy import text

    last = int(context.cursor or 0)
    with _engine().connect() as connection:
        if connection.execute(text("select to_regclass('intake.inbox')")).scalar() is None:
            return SkipReason("intake.inbox does not exist yet (run the migrations)")
        newest = connection.execute(text("select coalesce(max(id), 0) from intake.inbox")).scalar()
    if newest <= last:
        return SkipReason(f"no inbox rows after id {last}")
    # a queued fast-path run will read everything in the inbox when it starts: no second one
    queued = context.instance.get_run_records(
        RunsFilter(job_name=FAST_PATH_JOB, statuses=[s for s in IN_FLIGHT if s.value != "STARTED"]), limit=1)
    if queued:
        return SkipReason(f"inbox rows {last + 1}..{newest} wait for fast-path run {queued[0].dagster_run.run_id[:8]}, "
                          "already queued")
    context.update_cursor(str(newest))
    return RunRequest(run_key=f"inbox:{newest}", tags={"devsignal/inbox_ids": f"{last + 1}-{newest}"})


# ----------------------------------------------------------------------------- CRM drop folder

def crm_folder_signature(folder: Path) -> tuple[str, int]:
    """A hash of every export's name, size and mtime (a re-exported file changes it), and the file count."""
    from ingestion.sources.crm import settings as crm_settings

    files = sorted(p for p in folder.glob(crm_settings.FILE_GLOB) if p.is_file())
    text_ = "\n".join(f"{p.name}\t{p.stat().st_size}\t{p.stat().st_mtime_ns}" for p in files)
    return hashlib.sha256(text_.encode()).hexdigest()[:24], len(files)


@sensor(name="crm_drop_folder_sensor", job=crm_job, minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.RUNNING,
        description="A new or changed export in DEVSIGNAL_CRM_DIR -> load raw/crm and rebuild after it")
def crm_drop_folder_sensor(context: SensorEvaluationContext):
    from devsignal import settings

    setting = settings.get("DEVSIGNAL_CRM_DIR")
    if not setting:
        return SkipReason("DEVSIGNAL_CRM_DIR is not set: no drop folder to watch")
    folder = Path(setting)
    if not folder.is_dir():
        return SkipReason(f"DEVSIGNAL_CRM_DIR={setting} is not a folder")
    signature, count = crm_folder_signature(folder)
    if count == 0:
        return SkipReason(f"no export files in {folder}")
    if signature == context.cursor:
        return SkipReason(f"{count} exports in {folder}, none changed")
    context.update_cursor(signature)
    return RunRequest(run_key=f"crm:{signature}", tags={"devsignal/crm_files": str(count)})


# ----------------------------------------------------------------------------- freshness checks

def freshness_check(source: str, key):
    @asset_check(asset=key, name=f"{source}_fresh", blocking=False,
                 description=f"{source} loaded recently enough and its last load did not fail (app.source_health)")
    def _check() -> AssetCheckResult:
        from orchestration.activation import freshness

        with _engine().connect() as connection:
            state = freshness.source_states(connection)[source]
        return AssetCheckResult(
            passed=not state.stale, severity=AssetCheckSeverity.WARN,
            description=state.stale_reason or f"{source} is fresh",
            metadata={"last_success_at": str(state.last_success_at), "last_failure_at": str(state.last_failure_at),
                      "limit": str(freshness.MAX_AGE[source])})

    return _check


def freshness_checks(source_assets: dict) -> list:
    # one check per source, on its first raw table (the loads of a source succeed or fail together)
    return [freshness_check(source, sorted(assets_def.keys, key=lambda k: k.to_user_string())[0])
            for source, assets_def in source_assets.items()]


def defs(source_assets: dict) -> Definitions:
    checks = freshness_checks(source_assets)
    freshness_job = define_asset_job("freshness_checks", selection=AssetSelection.checks(*checks),
                                     description="Runs each source's freshness check")
    return Definitions(
        asset_checks=checks,
        jobs=[fast_path_job, github_job, crm_job, scoring_job, npm_daily_job, pypi_daily_job, freshness_job],
        schedules=schedules(freshness_job),
        sensors=[intake_inbox_sensor, crm_drop_folder_sensor],
    )
