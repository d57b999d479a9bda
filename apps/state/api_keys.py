"""API keys from the CRM: `apps.api.keys` with a role check (ADMIN+) and an audit row.

The key itself is returned once by `create_key` and never stored or audited (only its prefix).
`apps.api.keys` commits on its own connection, so the key row and its audit row are two commits: the
key is created first and the audit row follows immediately; a crash between them leaves a key without
its audit row (never an audit row for a key that does not exist).
"""

from __future__ import annotations

from apps.api import keys

from . import Actor, command


def create_key(actor: Actor, name: str, scopes: list[str]) -> str:
    with command(actor, "ADMIN", "api_key.create", "api_key") as (conn, audit):
        key = keys.create_key(name, scopes)
        prefix = keys.parse_key(key)
        audit.entity_id = prefix
        audit.after = {"prefix": prefix, "name": name.strip(), "scopes": sorted({s.strip().lower() for s in scopes})}
    return key


def revoke_key(actor: Actor, prefix: str) -> None:
    with command(actor, "ADMIN", "api_key.revoke", "api_key", prefix) as (conn, audit):
        keys.revoke_key(prefix)
        audit.after = {"revoked": True}


def list_keys() -> list[dict]:
    """Metadata only (no key is stored); any member may see which keys exist."""
    return keys.list_keys()
