"""API keys for custom events (`POST /v1/signals`) and, optionally, as Segment write keys.

A key looks like `ds_live_<prefix>_<secret><checksum>`:
- `prefix`: 8 hex characters, public, unique; it is how a key is found, listed and revoked;
- `secret`: 32 random base62 characters (190 bits);
- `checksum`: 6 base62 characters of CRC32 over the rest, so a typo or a scanner's false
  positive is told apart without a database lookup (GitHub's token design).

Only the SHA-256 of the whole key is stored. Keys are random and long, so a fast hash is enough
(a slow password hash buys nothing against 190 bits); comparison is constant-time. The full key
is shown once, by `create_key`. Scopes: `read` (GET /v1/signals), `write` (send events).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
import zlib
from dataclasses import dataclass
from typing import Optional

import click

KEY_PREFIX = "ds_live_"
SCOPES = ("read", "write")
_BASE62 = string.digits + string.ascii_letters
_KEY_PATTERN = re.compile(r"^ds_live_([0-9a-f]{8})_([0-9A-Za-z]{32})([0-9A-Za-z]{6})$")


class BadInput(click.ClickException, ValueError):
    """A bad name, scope or prefix given to a command: `devsignal keys …` prints it as an error
    (no traceback); other callers catch it as a ValueError."""


class InvalidKey(Exception):
    """401: no such key, revoked, expired, or not a key at all."""


class MissingScope(Exception):
    """403: a valid key without the scope the endpoint needs."""


@dataclass(frozen=True)
class ApiKey:
    id: int
    prefix: str
    name: str
    scopes: tuple[str, ...]

    @property
    def key_id(self) -> str:
        """How the inbox records who sent a call (never the key itself)."""
        return f"key:{self.prefix}"


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        digits.append(_BASE62[digit])
    return "".join(reversed(digits))


def _checksum(text: str) -> str:
    return _base62(zlib.crc32(text.encode()), 6)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_key(key: str) -> Optional[str]:
    """The prefix of a well-formed key (checksum included), else None."""
    match = _KEY_PATTERN.match(key or "")
    if not match:
        return None
    prefix, secret, checksum = match.groups()
    if not hmac.compare_digest(_checksum(f"{KEY_PREFIX}{prefix}_{secret}"), checksum):
        return None
    return prefix


def looks_like_key(value: str) -> bool:
    return (value or "").startswith(KEY_PREFIX)


def _check_scopes(scopes: list[str]) -> list[str]:
    scopes = sorted({s.strip().lower() for s in scopes if s and s.strip()})
    unknown = [s for s in scopes if s not in SCOPES]
    if not scopes or unknown:
        raise BadInput(f"scopes must be some of {', '.join(SCOPES)}; got {', '.join(unknown) or 'none'}")
    return scopes


# -- commands -------------------------------------------------------------------------------------


def create_key(name: str, scopes: list[str]) -> str:
    """Create a key and return it; this is the only time the whole key exists outside its owner."""
    from apps import migrations
    from devsignal import db

    scopes = _check_scopes(scopes)
    if not name or not name.strip():
        raise BadInput("a key needs a name")
    migrations.upgrade()
    with db.connect() as conn, conn.cursor() as cur:
        while True:
            prefix = secrets.token_hex(4)
            secret = "".join(secrets.choice(_BASE62) for _ in range(32))
            body = f"{KEY_PREFIX}{prefix}_{secret}"
            key = body + _checksum(body)
            cur.execute("""
                insert into app.api_keys (prefix, name, key_hash, scopes) values (%s, %s, %s, %s)
                on conflict (prefix) do nothing returning id
            """, (prefix, name.strip(), hash_key(key), scopes))
            if cur.fetchone():  # a prefix collision (1 in 4 billion) just draws again
                return key


def revoke_key(prefix: str) -> None:
    """Revoke a key by its prefix (`1a2b3c4d`, `ds_live_1a2b3c4d` or the whole key). It stops
    working at once; the row stays, for the record."""
    from apps import migrations
    from devsignal import db
    from devsignal.console import console

    prefix = prefix.strip()
    if prefix.startswith(KEY_PREFIX):
        prefix = prefix[len(KEY_PREFIX):].split("_", 1)[0]
    migrations.upgrade()
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("""
            update app.api_keys set revoked_at = coalesce(revoked_at, now()) where prefix = %s
            returning name, revoked_at
        """, (prefix,))
        row = cur.fetchone()
    if row is None:
        raise BadInput(f"no API key with prefix {prefix!r} (see `devsignal keys list`)")
    console.print(f"revoked {KEY_PREFIX}{prefix}… ({row[0]}) at {row[1]:%Y-%m-%d %H:%M:%S %Z}")


def list_keys() -> list[dict]:
    from apps import migrations
    from devsignal import db

    migrations.upgrade()
    with db.connect() as conn, conn.cursor() as cur:
        cur.execute("""
            select prefix, name, scopes, created_at, last_used_at, expires_at, revoked_at
            from app.api_keys order by created_at, id
        """)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]


def print_keys() -> None:
    """A table of the keys: prefix, name, scopes, dates. Never a secret (none is stored)."""
    from devsignal.console import console, table

    keys = list_keys()
    if not keys:
        console.print("no API keys yet: devsignal keys create --name NAME --scopes write")
        return

    def when(moment):
        return f"{moment:%Y-%m-%d %H:%M}" if moment else "—"

    table("API keys", ["prefix", "name", "scopes", "created", "last used", "expires", "revoked"],
          [[f"{KEY_PREFIX}{k['prefix']}…", k["name"], ",".join(k["scopes"]), when(k["created_at"]),
            when(k["last_used_at"]), when(k["expires_at"]), when(k["revoked_at"])] for k in keys])


# -- verification (the API's request path) --------------------------------------------------------


def verify_key(cursor, key: str, scope: str) -> ApiKey:
    """The key's record if it is live and has `scope`; InvalidKey (401) or MissingScope (403).
    One indexed lookup by prefix, then a constant-time comparison of the hashes."""
    prefix = parse_key(key)
    if prefix is None:
        raise InvalidKey("not a DevSignal API key")
    cursor.execute("""
        select id, name, key_hash, scopes, revoked_at is not null, coalesce(expires_at < now(), false)
        from app.api_keys where prefix = %s
    """, (prefix,))
    row = cursor.fetchone()
    if row is None or not hmac.compare_digest(row[2], hash_key(key)):
        raise InvalidKey("unknown API key")
    key_id, name, _, scopes, revoked, expired = row
    if revoked:
        raise InvalidKey("this API key was revoked")
    if expired:
        raise InvalidKey("this API key has expired")
    if scope not in scopes:
        raise MissingScope(f"this API key lacks the {scope!r} scope (it has: {', '.join(scopes)})")
    # at most one write a minute per key, not one per request
    cursor.execute("""
        update app.api_keys set last_used_at = now()
        where id = %s and (last_used_at is null or last_used_at < now() - interval '1 minute')
    """, (key_id,))
    return ApiKey(key_id, prefix, name, tuple(scopes))
