"""The official Segment and RudderStack Python libraries, unchanged and pointed at our API with
their `host` option, are a DevSignal SDK: every call they send ends up in raw_segment once."""

from __future__ import annotations

import uuid

import pytest

from ingestion.pipelines import load, make_pipeline

from .conftest import WRITE_KEY, scalar, sql

TABLES = {"identify": "identifies", "track": "tracks", "group": "groups", "page": "pages",
          "screen": "screens", "alias": "aliases"}


def send_every_call_type(client, tag: str) -> dict[str, str]:
    """identify/track/group/page/screen/alias with known messageIds (each sent twice, as a
    retrying client would); returns {type: messageId}."""
    ids = {kind: f"{tag}-{kind}-{uuid.uuid4().hex[:8]}" for kind in TABLES}
    user = f"usr_{tag}"
    for _ in range(2):
        client.identify(user, {"email": f"{tag}@acme.io", "name": "Ada"}, message_id=ids["identify"])
        client.track(user, "API Call", {"endpoint": "/v1/pipelines", "status": 200}, message_id=ids["track"])
        client.group(user, f"grp_{tag}", {"name": "Acme", "website": "https://acme.io"}, message_id=ids["group"])
        client.page(user, "Docs", "Quickstart", {"path": "/docs/quickstart"}, message_id=ids["page"])
        client.screen(user, "App", "Dashboard", {"build": 42}, message_id=ids["screen"])
        client.alias(f"anon_{tag}", user, message_id=ids["alias"])
    client.flush()
    return ids


@pytest.mark.parametrize("gzip", [False, True], ids=["plain", "gzip"])
def test_official_clients_reach_raw_segment_exactly_once(api, clean_intake, tmp_path, gzip):
    from rudderstack.analytics import Client as RudderClient
    from segment.analytics import Client as SegmentClient

    errors: list = []
    segment = SegmentClient(WRITE_KEY, host=api.url, gzip=gzip, max_retries=2,
                            on_error=lambda error, batch: errors.append(error))
    rudder = RudderClient(WRITE_KEY, host=api.url, gzip=gzip, max_retries=2,
                          on_error=lambda error, batch: errors.append(error))
    sent = {"segment": send_every_call_type(segment, "seg"), "rudder": send_every_call_type(rudder, "rud")}
    segment.shutdown()
    rudder.shutdown()
    assert errors == []
    assert scalar("select count(*) from intake.inbox") == 12  # 24 calls sent, each twice

    pipeline = make_pipeline("segment", pipeline_name=f"test_intake_{uuid.uuid4().hex[:8]}",
                             dataset_name=f"raw_segment_{uuid.uuid4().hex[:8]}", pipelines_dir=tmp_path / "dlt")
    summary = load("segment", pipeline=pipeline)
    dataset = pipeline.dataset_name
    for library, ids in sent.items():
        for kind, message_id in ids.items():
            rows = sql(f'select count(*) from "{dataset}"."{TABLES[kind]}" where message_id = %s', message_id)
            assert rows == [(1,)], (library, kind)
        email = sql(f'select traits__email, user_id from "{dataset}".identifies where message_id = %s', ids["identify"])
        assert email == [(f"{library[:3]}@acme.io", f"usr_{library[:3]}")]
        track = sql(f'select event, properties__endpoint, timestamp is not null, received_at is not null '
                    f'from "{dataset}".tracks where message_id = %s', ids["track"])
        assert track == [("API Call", "/v1/pipelines", True, True)]
        group = sql(f'select group_id, traits__website from "{dataset}".groups where message_id = %s', ids["group"])
        assert group == [(f"grp_{library[:3]}", "https://acme.io")]
    assert {table: counts["total"] for table, counts in summary.items() if table in TABLES.values()} == {
        table: 2 for table in TABLES.values()}

    again = load("segment", pipeline=pipeline)  # nothing new in the inbox: nothing loaded
    assert all(counts["loaded"] == 0 for counts in again.values())
