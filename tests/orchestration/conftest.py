"""One database for the orchestration tests (outbox, sensors, fast path), never the demo's.

Fixtures are module-scoped, not package-scoped: this folder is not a Python package (its name
would shadow the project's `orchestration`), so a "package" fixture would live for the whole
session and its environment (DEVSIGNAL_DATABASE_URL, DEVSIGNAL_HOME, DBT_TARGET_PATH) would leak
into every later test."""

import pytest
from sqlalchemy import text


@pytest.fixture(scope="module")
def activation_db(own_database_factory):
    with own_database_factory("devsignal_orchestration_test") as url:
        yield url


@pytest.fixture
def clean_outbox(activation_db):
    """An empty outbox and no registered test handlers before each test."""
    from devsignal import db
    from orchestration.activation import outbox

    with db.engine().begin() as connection:
        connection.execute(text("truncate app.outbox, app.source_health"))
    saved = dict(outbox.HANDLERS)
    outbox.HANDLERS.clear()
    yield
    outbox.HANDLERS.clear()
    outbox.HANDLERS.update(saved)


@pytest.fixture(scope="module")
def fake_slack():
    """The fake Slack Web API; alerts go there (DEVSIGNAL_SLACK_API_URL + a bot token)."""
    from ingestion.sandbox.slack import serve_fake_slack

    import orchestration_world as ow

    with serve_fake_slack(channels=[ow.SLACK_CHANNEL]) as fake, pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEVSIGNAL_SLACK_API_URL", fake.api_url)
        patch.setenv("DEVSIGNAL_SLACK_BOT_TOKEN", ow.SLACK_TOKEN)
        patch.setenv("DEVSIGNAL_SLACK_DEFAULT_CHANNEL", f"#{ow.SLACK_CHANNEL}")
        yield fake


@pytest.fixture(scope="module")
def dagster_storage(activation_db):
    """A PostgreSQL database of our own for Dagster's run/event/schedule storage."""
    import orchestration_world as ow

    url = ow.recreate_database(ow.DAGSTER_DBNAME)
    yield url
    ow.drop_database(ow.DAGSTER_DBNAME)


@pytest.fixture(scope="module")
def world(activation_db, dagster_storage, fake_slack, tmp_path_factory):
    """A small world (ending today) loaded and built by Dagster into this package's database.

    DEVSIGNAL_HOME is a temporary folder, so dlt's pipeline state and the local sinks are ours;
    dbt writes its target and logs under it too (DBT_TARGET_PATH / DBT_LOG_PATH)."""
    import datetime as dt
    import time

    import orchestration_world as ow

    from devsignal import pipeline

    home = tmp_path_factory.mktemp("devsignal-home")
    started = time.monotonic()
    pipeline.prepare_dbt()  # the manifest Dagster reads, in the project's target (before DBT_TARGET_PATH is ours)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DEVSIGNAL_HOME", str(home))
        patch.setenv("DBT_TARGET_PATH", str(home / "dbt-target"))
        patch.setenv("DBT_LOG_PATH", str(home / "dbt-logs"))
        patch.setenv("DEVSIGNAL_SEGMENT_WRITE_KEYS", ow.WRITE_KEY)
        for name in ("DEVSIGNAL_NPM_API_URL", "DEVSIGNAL_NPM_REGISTRY_URL", "DEVSIGNAL_PYPISTATS_URL",
                     "DEVSIGNAL_PYPI_URL", "DEVSIGNAL_GITHUB_API_URL", "DEVSIGNAL_NPM_PACKAGES",
                     "DEVSIGNAL_PYPI_PACKAGES", "DEVSIGNAL_GITHUB_REPOS", "DEVSIGNAL_CRM_DIR",
                     "DEVSIGNAL_SEGMENT_ARCHIVE_DIR", "DEVSIGNAL_INTERNAL_DOMAINS", "DEVSIGNAL_START_DATE",
                     "DEVSIGNAL_SCORE_AS_OF"):
            patch.delenv(name, raising=False)  # sandbox_env sets them; restored afterwards
        today = dt.datetime.now(dt.timezone.utc).date()
        world_dir = ow.generate_world(home / "world", end_date=today)
        # not <DEVSIGNAL_HOME>/dagster: `db.connection()` copies the committed dagster.yaml there
        dagster_home = ow.write_instance_home(home / "test-instance", dagster_storage)
        instance = ow.instance(dagster_home)
        ow.build(instance, world_dir)
        print(f"\norchestration world built in {time.monotonic() - started:.0f}s")
        yield {"home": home, "world_dir": world_dir, "dagster_home": dagster_home, "instance": instance,
               "meta": ow.world_meta(world_dir)}
        instance.dispose()
