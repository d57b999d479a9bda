"""RELIABILITY §12 test 3: duplicate delivery and clock skew, at full size.

10,000 calls x3 from 8 concurrent senders, 500 from a device whose clock runs 2 h fast, 500 with
an event time in 2019, 200 with missing or unparseable timestamps, 100 without a messageId.
Expect exactly 11,100 rows (inbox and raw) + 200 quarantined, 0 duplicate messageIds, and the
corrected timestamp within 5 s of the true event time."""

from __future__ import annotations

import datetime as dt
import queue
import random
import threading
import time
import uuid

import pytest
import requests

from ingestion.pipelines import load, make_pipeline

from .conftest import WRITE_KEY, scalar, sql

NORMAL, SKEWED, OLD, BAD, NO_MESSAGE_ID = 10_000, 500, 500, 200, 100
COPIES, SENDERS, BATCH = 3, 8, 100
SKEW = dt.timedelta(hours=2)


def iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def make_calls(rng: random.Random, now: dt.datetime) -> dict[str, list[dict]]:
    """Calls by kind; `properties.true` is when each event really happened (for the check)."""
    def call(kind: str, true: dt.datetime, **fields) -> dict:
        return {"type": "track", "messageId": f"{kind}-{uuid.uuid4().hex}", "userId": f"usr_{rng.randrange(5000)}",
                "event": "API Call", "properties": {"kind": kind, "true": iso(true)}, "timestamp": iso(true), **fields}

    normal = [call("normal", now - dt.timedelta(seconds=rng.uniform(0, 3600))) for _ in range(NORMAL)]
    skewed = []
    for _ in range(SKEWED):  # the device's clock is 2 h fast: its timestamps (and its sentAt) are too
        true = now - dt.timedelta(seconds=rng.uniform(0, 600))
        skewed.append(call("skewed", true, timestamp=iso(true + SKEW)))
    old = [call("old", dt.datetime(2019, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(days=rng.uniform(0, 365)))
           for _ in range(OLD)]
    bad = []
    for index in range(BAD):
        broken = call("bad", now)
        if index % 2:
            broken["timestamp"] = rng.choice(["yesterday", "2019-13-45T00:00:00Z", "", 1546300800])
        else:
            del broken["timestamp"]
        bad.append(broken)
    no_id = []
    for _ in range(NO_MESSAGE_ID):
        anonymous = call("no_id", now - dt.timedelta(seconds=rng.uniform(0, 600)))
        del anonymous["messageId"]
        no_id.append(anonymous)
    return {"normal": normal, "skewed": skewed, "old": old, "bad": bad, "no_id": no_id}


def test_duplicates_and_clock_skew(api, clean_intake, tmp_path):
    rng = random.Random(3)
    calls = make_calls(rng, dt.datetime.now(dt.timezone.utc))
    sends: list[tuple[str, list[dict]]] = []
    for kind, items in calls.items():
        batches = [items[i:i + BATCH] for i in range(0, len(items), BATCH)]
        sends += [(kind, batch) for batch in batches for _ in range(COPIES)]
    rng.shuffle(sends)
    work: queue.Queue = queue.Queue()
    for item in sends:
        work.put(item)
    answers: list[dict] = []
    failures: list[str] = []

    def sender() -> None:
        http = requests.Session()
        while True:
            try:
                kind, batch = work.get_nowait()
            except queue.Empty:
                return
            sent_at = dt.datetime.now(dt.timezone.utc) + (SKEW if kind == "skewed" else dt.timedelta())
            response = http.post(f"{api.url}/v1/batch", json={"batch": batch, "sentAt": iso(sent_at)},
                                 auth=(WRITE_KEY, ""), timeout=60)
            if response.status_code != 200:
                failures.append(f"{response.status_code} {response.text[:200]}")
            else:
                answers.append(response.json())

    started = time.perf_counter()
    threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    assert failures == []

    kept = NORMAL + SKEWED + OLD + NO_MESSAGE_ID
    assert sum(a["stored"] for a in answers) == kept
    assert sum(a["duplicates"] for a in answers) == kept * (COPIES - 1)
    assert sum(len(a["rejected"]) for a in answers) == BAD * COPIES  # each copy is told why
    assert scalar("select count(*) from intake.inbox") == kept
    assert scalar("select count(distinct message_id) from intake.inbox") == kept
    assert scalar("select count(*) from intake.quarantine") == BAD  # a re-sent bad call is kept once
    reasons = {r for (r,) in sql("select distinct reason from intake.quarantine")}
    assert reasons <= {"missing timestamp (send timestamp or originalTimestamp)"} | {
        r for r in reasons if r.startswith("timestamp is not an ISO-8601")}
    assert scalar("select count(*) from intake.inbox where message_id like 'ds-%%'") == NO_MESSAGE_ID

    errors = dict(sql("""
        select payload->'properties'->>'kind',
               percentile_cont(0.99) within group (
                   order by abs(extract(epoch from "timestamp" - (payload->'properties'->>'true')::timestamptz)))
        from intake.inbox group by 1
    """))
    skewed_uncorrected = scalar("""select min(abs(extract(epoch from original_timestamp - (payload->'properties'->>'true')::timestamptz)))
                                   from intake.inbox where payload->'properties'->>'kind' = 'skewed'""")
    print(f"\nduplicates & skew: {len(sends)} requests ({len(sends) * BATCH:,} calls) from {SENDERS} senders in "
          f"{seconds:.1f}s; stored {kept:,}, quarantined {BAD}; |corrected - true| p99 by kind (s): "
          + ", ".join(f"{k} {float(v):.2f}" for k, v in sorted(errors.items()))
          + f"; skewed before correction: {float(skewed_uncorrected):.0f}s")
    assert all(float(error) <= 5 for error in errors.values())
    assert float(skewed_uncorrected) > 7000  # the correction did the work

    pipeline = make_pipeline("segment", pipeline_name=f"test_skew_{uuid.uuid4().hex[:8]}",
                             dataset_name=f"raw_segment_{uuid.uuid4().hex[:8]}", pipelines_dir=tmp_path / "dlt")
    summary = load("segment", pipeline=pipeline)
    assert summary["tracks"]["total"] == kept
    dataset = pipeline.dataset_name
    assert scalar(f'select count(distinct message_id) from "{dataset}".tracks') == kept
    # raw keeps the corrected time as `timestamp` and the sender's as `original_timestamp`
    mismatched = scalar(f'''select count(*) from "{dataset}".tracks t join intake.inbox i using (message_id)
                            where t.timestamp <> i."timestamp" or t.original_timestamp <> i.original_timestamp''')
    assert mismatched == 0


@pytest.mark.parametrize("sent_at, expected", [
    (None, "2026-01-01T00:00:00+00:00"),  # no sentAt: nothing to correct with
    ("2026-01-01T00:00:10Z", "received-10s"),  # sent 10 s after it happened, by the sender's clock
])
def test_timestamp_fields_follow_segment(api, clean_intake, sent_at, expected):
    call = {"type": "identify", "userId": "u", "timestamp": "2026-01-01T00:00:00Z", "traits": {"email": "a@b.io"}}
    document = {"batch": [call], **({"sentAt": sent_at} if sent_at else {})}
    response = requests.post(f"{api.url}/v1/batch", json=document, auth=(WRITE_KEY, ""), timeout=10)
    assert response.status_code == 200 and response.json()["stored"] == 1
    timestamp, original, sent, received = sql(
        'select "timestamp", original_timestamp, sent_at, received_at from intake.inbox')[0]
    assert original == dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    if expected == "received-10s":
        assert sent == dt.datetime(2026, 1, 1, 0, 0, 10, tzinfo=dt.timezone.utc)
        assert timestamp == received - dt.timedelta(seconds=10)
    else:
        assert sent is None and timestamp.isoformat() == expected
    # the same call again (no messageId: a derived one) is not stored twice
    again = requests.post(f"{api.url}/v1/batch", json=document, auth=(WRITE_KEY, ""), timeout=10).json()
    assert (again["stored"], again["duplicates"]) == (0, 1)
