"""API keys: created once, stored only as a hash, scoped, revocable, never logged."""

from __future__ import annotations

import requests

from apps.api import keys

from .conftest import scalar, sql


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def test_keys_are_scoped_revocable_and_never_stored(api, clean_intake, capsys):
    writer = keys.create_key("ci deploys", ["write"])
    reader = keys.create_key("dashboard", ["read"])
    both = keys.create_key("everything", ["read", "write"])
    assert writer.startswith("ds_live_") and keys.parse_key(writer)
    signal = {"event": "Deployed", "userId": "usr_7", "accountId": "acme.io",
              "properties": {"environment": "production"}, "timestamp": "2026-11-23T10:00:00Z"}

    response = requests.post(f"{api.url}/v1/signals", json=signal, headers=bearer(writer), timeout=10)
    assert response.status_code == 200 and response.json()["stored"] == 1
    # a batch through X-API-Key, one of them without a timestamp or a messageId (sent twice: kept once)
    batch = {"signals": [{"type": "Invited Teammate", "actorId": "usr_7", "metadata": {"seats": 3}},
                         {"event": "", "userId": "usr_7"}]}
    for _ in range(2):
        response = requests.post(f"{api.url}/v1/signals", json=batch, headers={"X-API-Key": both}, timeout=10)
        assert response.status_code == 200
    assert response.json()["duplicates"] == 1
    [rejected] = response.json()["rejected"]
    assert (rejected["index"], rejected["reason"]) == (1, "track needs an event name (event)")
    stored = sql("""select payload->>'event', payload->>'userId', payload->'context'->>'groupId', source, write_key_id
                    from intake.inbox order by id""")
    assert stored == [("Deployed", "usr_7", "acme.io", "signals", f"key:{keys.parse_key(writer)}"),
                      ("Invited Teammate", "usr_7", None, "signals", f"key:{keys.parse_key(both)}")]

    # read scope: GET works, POST is forbidden; write scope cannot read
    response = requests.get(f"{api.url}/v1/signals", headers=bearer(reader), timeout=10)
    assert response.status_code == 200
    assert [s["event"] for s in response.json()["signals"]] == ["Deployed", "Invited Teammate"]
    assert requests.post(f"{api.url}/v1/signals", json=signal, headers=bearer(reader), timeout=10).status_code == 403
    assert requests.get(f"{api.url}/v1/signals", headers=bearer(writer), timeout=10).status_code == 403

    # an API key with the write scope also works as a Segment write key
    call = {"userId": "usr_7", "event": "API Call", "timestamp": "2026-11-23T10:00:00Z"}
    assert requests.post(f"{api.url}/v1/track", json=call, auth=(writer, ""), timeout=10).status_code == 200
    assert requests.post(f"{api.url}/v1/track", json=call, auth=(reader, ""), timeout=10).status_code == 403

    # missing, malformed, tampered (checksum) and unknown keys: 401
    tampered = writer[:-1] + ("A" if writer[-1] != "A" else "B")
    unknown = keys.create_key("to drop", ["write"])
    sql("delete from app.api_keys where prefix = %s", keys.parse_key(unknown))
    for headers in ({}, bearer("ds_live_nope"), bearer(tampered), bearer(unknown)):
        assert requests.post(f"{api.url}/v1/signals", json=signal, headers=headers, timeout=10).status_code == 401

    # revoked: 401 at once
    keys.revoke_key(keys.parse_key(writer))
    response = requests.post(f"{api.url}/v1/signals", json=signal, headers=bearer(writer), timeout=10)
    assert response.status_code == 401 and "revoked" in response.json()["message"]

    # the secret is nowhere: not in the table (only its sha256), not in the listing, not in the logs
    rows = sql("select row_to_json(k)::text from app.api_keys k")
    secrets_ = [key.split("_", 3)[3] for key in (writer, reader, both)]
    assert not any(secret in row for (row,) in rows for secret in secrets_)
    assert scalar("select key_hash from app.api_keys where prefix = %s", keys.parse_key(writer)) == keys.hash_key(writer)
    capsys.readouterr()
    keys.print_keys()
    listing = capsys.readouterr().out
    assert keys.parse_key(reader) in listing and "dashboard" in listing
    assert not any(secret in listing for secret in secrets_)
    log = api.log()
    assert "/v1/signals" in log  # the access log is there, and it holds no key
    assert not any(secret in log for secret in secrets_)


def test_scopes_are_checked():
    import pytest

    with pytest.raises(ValueError, match="scopes must be some of read, write"):
        keys.create_key("x", ["admin"])
    with pytest.raises(ValueError):
        keys.create_key("x", [])
