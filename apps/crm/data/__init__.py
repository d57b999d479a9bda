"""The CRM's data access: the only place SQL lives (pages never hold SQL).

Every read goes through `query(sql, **params)`: `sqlalchemy.text` with bound parameters, never
string formatting. A relation that does not exist yet (marts before the first pipeline run, an app
table from a migration not applied here) gives an empty frame instead of an error, so a fresh
install renders. Read functions in the modules here are cached with `cached(ttl=...)`, whose key
includes the database, so tests (and anyone switching DEVSIGNAL_DATABASE_URL) never see another
database's rows.

    from apps.crm.data import cached, query

    @cached(ttl=60)
    def hot_accounts(limit: int) -> pd.DataFrame:
        return query("select ... where tier = 'HOT' limit :limit", limit=limit)
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Callable

import pandas as pd
import sqlalchemy as sa
import streamlit as st

from devsignal import db

TIERS = ("HOT", "WARM", "COLD", "INACTIVE")
TRENDS = ("RISING", "STABLE", "FALLING")

log = logging.getLogger(__name__)


def engine() -> sa.Engine:
    """The devsignal database's engine (one pool per database URL, kept by `devsignal.db`)."""
    return db.engine()


def database_key() -> str:
    """Which database reads come from: part of every cache key (never holds the password)."""
    params = db.connection()
    return f"{params.host}:{params.port}/{params.dbname}"


def _missing_relation(error: sa.exc.DBAPIError) -> bool:
    return getattr(error.orig, "pgcode", None) == "42P01" or "UndefinedTable" in type(error.orig).__name__


def query(sql: str, /, **params: Any) -> pd.DataFrame:
    """Run one read with bound parameters; an empty frame when a relation it reads does not exist."""
    try:
        with engine().connect() as connection:
            result = connection.execute(sa.text(sql), params)
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    except sa.exc.ProgrammingError as error:
        if not _missing_relation(error):
            raise
        log.info("read skipped, relation missing: %s", str(error.orig).splitlines()[0])
        return pd.DataFrame()


def scalar(sql: str, /, **params: Any) -> Any:
    """One value (None when the relation is missing or no row matches)."""
    frame = query(sql, **params)
    return None if frame.empty else frame.iat[0, 0]


def relation_exists(name: str) -> bool:
    """`schema.table` exists in this database (e.g. a table from another feature's migration)."""
    with engine().connect() as connection:
        return connection.execute(sa.text("select to_regclass(:name) is not null"), {"name": name}).scalar()


def cached(ttl: int = 60, max_entries: int = 256) -> Callable:
    """`st.cache_data` keyed by the database too; `fn.clear()` empties it after a write."""

    def wrap(fn: Callable) -> Callable:
        def in_database(database: str, *args, **kwargs):
            return fn(*args, **kwargs)

        # Streamlit keys a cache by module + qualified name: give each wrapped function its own
        in_database.__module__, in_database.__qualname__ = fn.__module__, fn.__qualname__ + ".in_database"
        cached_fn = st.cache_data(ttl=ttl, max_entries=max_entries, show_spinner=False)(in_database)

        @functools.wraps(fn)
        def call(*args, **kwargs):
            return cached_fn(database_key(), *args, **kwargs)

        call.clear = cached_fn.clear
        return call

    return wrap


def clear_caches() -> None:
    """After a write: every cached read shows the new state on the next rerun."""
    st.cache_data.clear()


_MARKDOWN_SPECIALS = "\\`*_{}[]()#+-.!|<>~$:"


def escape_markdown(text: object) -> str:
    """Source or user text shown inside Streamlit markdown (titles, captions) as plain characters."""
    return "".join("\\" + char if char in _MARKDOWN_SPECIALS else char for char in str(text))


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def to_safe_csv(frame: pd.DataFrame) -> bytes:
    """CSV for spreadsheets: a text cell starting with = + - @ tab or CR gets a leading ' (no formula runs)."""
    safe = frame.copy()
    for column in safe.columns:
        safe[column] = safe[column].map(_neutralise)
    # RFC 4180 line ends: a cell holding a bare CR is then quoted, not split into two rows
    return safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def _neutralise(value):
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(item) for item in value)
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
