"""RELIABILITY §12 test 5: kill -9 the Segment loader (`python -m ingestion segment`, a real
subprocess) during extract, normalize and load (at 10%, 50% and 90% of its jobs) while it moves
100,000 inbox events; the reruns end with exactly 100,000 rows, none twice, the cursor at the
inbox's last id and no package left pending."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from devsignal import settings

from .conftest import scalar, sql

EVENTS = 100_000
TABLES = ("identifies", "tracks", "groups", "pages", "screens")


def fill_inbox(events: int) -> None:
    """`events` inbox rows, as the API would have stored them (fast: one INSERT … SELECT)."""
    sql("""
        insert into intake.inbox (message_id, type, source, write_key_id, payload, received_at, sent_at,
                                  original_timestamp, "timestamp", request_id)
        select 'crash-' || g, kind, 'segment_api', 'test',
               jsonb_build_object('type', kind, 'userId', 'usr_' || (g %% 5000), 'event', 'API Call',
                                  'groupId', 'grp_' || (g %% 300), 'name', 'Docs',
                                  'properties', jsonb_build_object('n', g, 'path', '/docs/' || (g %% 50)),
                                  'traits', jsonb_build_object('email', 'u' || (g %% 5000) || '@acme.io')),
               now(), now(), now() - g * interval '1 second', now() - g * interval '1 second', 'crash-test'
        from generate_series(1, %s) g,
             lateral (select (array['identify', 'track', 'group', 'page', 'screen'])[1 + g %% 5] as kind) k
    """, events)


class Loader:
    """One `python -m ingestion segment -v` run, watched so it can be killed at a chosen moment."""

    def __init__(self, home: Path):
        self.home = home
        self.lines: list[str] = []
        env = {**os.environ, "DEVSIGNAL_HOME": str(home),
               # many small files and one load worker: the load step has jobs to be killed between
               "DATA_WRITER__FILE_MAX_ITEMS": "4000", "LOAD__WORKERS": "1"}
        self.process = subprocess.Popen([sys.executable, "-m", "ingestion", "segment", "-v"], cwd=settings.REPO_ROOT,
                                        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    @property
    def working_dir(self) -> Path:
        return self.home / "dlt" / "segment"

    def packages(self, stage: str) -> list[Path]:
        folder = self.working_dir / stage
        return [p for p in folder.iterdir() if p.is_dir()] if folder.exists() else []

    def load_progress(self) -> float:
        """Share of the normalized package's jobs completed (0 when none is loading)."""
        for package in self.packages("load/normalized"):
            counts = {state: len(list((package / state).glob("*"))) if (package / state).exists() else 0
                      for state in ("new_jobs", "started_jobs", "completed_jobs", "failed_jobs")}
            total = sum(counts.values())
            return counts["completed_jobs"] / total if total else 0.0
        return 0.0

    def kill_when(self, condition, what: str, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the loader finished before it could be killed {what}:\n{''.join(self.lines)[-2000:]}")
            if condition():
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
                assert self.process.returncode == -signal.SIGKILL
                return what
            time.sleep(0.002)
        raise AssertionError(f"never reached the moment to kill {what}")

    def finish(self) -> str:
        self.process.wait(timeout=300)
        assert self.process.returncode == 0, "".join(self.lines)[-3000:]
        return "".join(self.lines)


@pytest.mark.slow
def test_loader_killed_in_every_step_loads_each_event_once(api_database, clean_intake, tmp_path):
    import dlt

    sql("drop schema if exists raw_segment cascade; drop schema if exists raw_segment_staging cascade")
    fill_inbox(EVENTS)
    home = tmp_path / "home"
    killed: list[str] = []
    started = time.monotonic()

    loader = Loader(home)
    killed.append(loader.kill_when(lambda: any("inbox read 30000 rows" in line for line in loader.lines),
                                   "in extract (30,000 of 100,000 rows read)"))
    assert not loader.packages("normalize/extracted") and not loader.packages("load/normalized")

    loader = Loader(home)
    killed.append(loader.kill_when(lambda: bool(loader.packages("normalize/extracted")), "in normalize"))
    assert loader.packages("normalize/extracted") or loader.packages("load/normalized")

    for share in (0.1, 0.5, 0.9):
        loader = Loader(home)
        killed.append(loader.kill_when(lambda: loader.load_progress() >= share, f"in load ({share:.0%} of jobs done)"))

    recovery_started = time.monotonic()
    Loader(home).finish()  # completes the interrupted package
    recovery = time.monotonic() - recovery_started
    Loader(home).finish()  # nothing left: reads nothing new

    counts = {table: scalar(f"select count(*) from raw_segment.{table}") for table in TABLES}
    distinct = {table: scalar(f"select count(distinct message_id) from raw_segment.{table}") for table in TABLES}
    pipeline = dlt.attach(pipeline_name="segment", pipelines_dir=str(home / "dlt"))
    cursor = pipeline.state["sources"]["segment"]["resources"]["inbox"]["last_id"]
    pending = pipeline.list_extracted_load_packages() + pipeline.list_normalized_load_packages()
    unfinished_loads = scalar("select count(*) from raw_segment._dlt_loads where status <> 0")
    print(f"\nloader crash: killed {', '.join(killed)}; rows {sum(counts.values()):,}, duplicates "
          f"{sum(counts.values()) - sum(distinct.values())}, cursor {cursor} of {scalar('select max(id) from intake.inbox')}, "
          f"pending packages {len(pending)}, recovery run {recovery:.1f}s, all runs {time.monotonic() - started:.0f}s")
    assert sum(counts.values()) == EVENTS
    assert counts == distinct
    assert cursor == scalar("select max(id) from intake.inbox")
    assert pending == [] and not pipeline.has_pending_data
    assert unfinished_loads == 0
