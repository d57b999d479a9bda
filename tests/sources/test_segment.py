"""Segment archive: every call once per messageId, bad lines quarantined with their line numbers,
files read once, column types frozen. (The inbox is off here; test_segment_inbox.py covers it.)"""

from __future__ import annotations

import gzip
import json
import os
from collections import defaultdict
from pathlib import Path

from ingestion.pipelines import load
from ingestion.sources.segment.helpers import archive_files

from .conftest import count, query

TABLES = {"identify": "identifies", "track": "tracks", "group": "groups", "page": "pages", "screen": "screens"}


def archive_truth(root: Path) -> tuple[dict[str, set], dict[str, int]]:
    ids: dict[str, set] = defaultdict(set)
    lines: dict[str, int] = defaultdict(int)
    for path in archive_files(root):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                call = json.loads(line)
                ids[TABLES[call["type"]]].add(call["messageId"])
                lines[TABLES[call["type"]]] += 1
    return ids, lines


def test_segment_loads_each_message_once(sandbox_env, new_pipeline, world_dir):
    pipeline = new_pipeline("segment")
    ids, lines = archive_truth(world_dir / "segment" / "archive")
    first = load("segment", pipeline=pipeline, inbox=False)
    for table, message_ids in ids.items():
        assert first[table]["loaded"] == lines[table], table
        assert first[table]["total"] == len(message_ids), table
        assert count(pipeline, table, "message_id") == len(message_ids), table
    assert sum(lines.values()) > sum(len(v) for v in ids.values()), "the world should redeliver some calls"
    columns = {r[0] for r in query(pipeline, "select column_name from information_schema.columns "
                                             "where table_schema = %s and table_name = 'identifies'",
                                   pipeline.dataset_name)}
    assert {"message_id", "user_id", "anonymous_id", "timestamp", "traits__email"} <= columns
    types = dict(query(pipeline, "select column_name, data_type from information_schema.columns "
                                 "where table_schema = %s and table_name = 'tracks'", pipeline.dataset_name))
    assert types["timestamp"] == "timestamp with time zone" and types["event"] == "character varying"

    second = load("segment", pipeline=pipeline, inbox=False)  # nothing new: no file is read again
    assert all(s["loaded"] == 0 for s in second.values())
    assert {t: s["total"] for t, s in second.items()} == {t: s["total"] for t, s in first.items()}


def write_archive(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def call(message_id: str | None, kind: str | None, **fields) -> str:
    body = {"timestamp": "2025-03-01T10:00:00.000Z", "userId": "u1", **fields}
    if message_id is not None:
        body["messageId"] = message_id
    if kind is not None:
        body["type"] = kind
    return json.dumps(body)


def test_segment_quarantines_bad_lines_and_collapses_redeliveries(tmp_path, new_pipeline):
    root = tmp_path / "archive"
    day1 = root / "2025" / "03" / "01" / "1.json.gz"
    write_archive(day1, [
        call("m1", "identify", traits={"email": "a@x.io", "name": "A"}),    # 1
        "{not json",                                                        # 2
        call(None, "track", event="API Call"),                              # 3
        call("m2", "track", event="API Call", properties={"n": 1}),         # 4
        call("m3", "bogus"),                                                # 5
        call("m2", "track", event="API Call", properties={"n": 1}),         # 6 redelivered
        "",                                                                 # 7 blank: skipped
        call("m4", "page", name="Docs", properties={"path": "/docs"}),      # 8
    ])
    write_archive(root / "2025" / "03" / "02" / "1.json.gz", [
        call("m1", "identify", traits={"email": "a@x.io", "name": "A"}),    # redelivered a day later
        call("m5", "group", groupId="g1", traits={"name": "Co", "employees": 12}),
    ])
    broken = root / "2025" / "03" / "02" / "2.json.gz"
    broken.write_bytes(gzip.compress((call("m6", "track", event="X") + "\n").encode())[:-12])  # cut short

    pipeline = new_pipeline("segment")
    first = load("segment", pipeline=pipeline, archive_dir=str(root), inbox=False)
    assert first["identifies"]["total"] == 1 and first["tracks"]["total"] == 1
    assert first["pages"]["total"] == 1 and first["groups"]["total"] == 1
    quarantined = query(pipeline, 'select file, line, reason, raw from {ds}."_quarantine" order by file, line')
    assert [(f, n) for f, n, _, _ in quarantined] == [
        ("2025/03/01/1.json.gz", 2), ("2025/03/01/1.json.gz", 3), ("2025/03/01/1.json.gz", 5),
        ("2025/03/02/2.json.gz", 1)]
    reasons = [r for _, _, r, _ in quarantined]
    assert reasons[0].startswith("invalid JSON") and reasons[1] == "missing messageId"
    assert "bogus" in reasons[2] and "unreadable" in reasons[3]
    assert quarantined[0][3] == "{not json"

    # a value that no longer fits its frozen column type is quarantined, not loaded, not fatal
    write_archive(root / "2025" / "03" / "03" / "1.json.gz", [
        call("m7", "track", event="API Call", properties={"n": "lots"}),
        call("m8", "track", event="API Call", properties={"n": 2.5}),
    ])
    second = load("segment", pipeline=pipeline, archive_dir=str(root), inbox=False)
    assert second["tracks"]["loaded"] == 1 and second["tracks"]["total"] == 2
    last = query(pipeline, 'select file, line, reason from {ds}."_quarantine" where file like %s', "2025/03/03/%")
    assert last == [("2025/03/03/1.json.gz", 1, "column properties__n (double): not a number: 'lots'")]

    # a file rewritten (new mtime) is read again; merge keeps one row per messageId
    os.utime(day1, (day1.stat().st_atime, day1.stat().st_mtime + 10))
    third = load("segment", pipeline=pipeline, archive_dir=str(root), inbox=False)
    assert third["tracks"]["loaded"] == 2 and third["tracks"]["total"] == 2
    assert third["_quarantine"]["total"] == 5
    assert count(pipeline, "tracks") == count(pipeline, "tracks", "message_id")
