"""Copy the demo world's marts from the `devsignal` database (read-only) into a test database.

dblink is not available, so each table goes through psycopg2's COPY: its columns are re-created from
`information_schema` and its rows streamed as CSV. The demo database is only read.
"""

from __future__ import annotations

import io

from devsignal import db

MARTS = tuple(f"marts.{table}" for table in (
    "dim_accounts", "dim_people", "dim_identifiers", "dim_person_aliases", "fct_signals",
    "fct_account_scores_daily", "fct_account_tier_changes", "account_scores_current"))
# dlt's load records: Home's "sources' freshness"
LOADS = tuple(f"raw_{source}._dlt_loads" for source in ("npm", "pypi", "github", "segment", "crm"))
SOURCE_DATABASE = "devsignal"


def copy_marts(tables=MARTS + LOADS) -> dict[str, int]:
    """Into the database DEVSIGNAL_DATABASE_URL names; returns the row count per table."""
    counts = {}
    source = db.connect(SOURCE_DATABASE)
    source.set_session(readonly=True)
    target = db.connect()
    try:
        with source.cursor() as read, target.cursor() as write:
            for name in tables:  # fixed names above, never input
                schema = name.split(".")[0]
                read.execute("""select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a
                                where a.attrelid = to_regclass(%s) and a.attnum > 0 and not a.attisdropped
                                order by a.attnum""", (name,))
                columns = ", ".join(f'"{column}" {type_}' for column, type_ in read.fetchall())
                assert columns, f"{name} is missing from the {SOURCE_DATABASE} database: build the demo world first"
                write.execute(f"create schema if not exists {schema}")
                write.execute(f"drop table if exists {name}")
                write.execute(f"create table {name} ({columns})")
                buffer = io.BytesIO()
                read.copy_expert(f"copy {name} to stdout with (format binary)", buffer)
                buffer.seek(0)
                write.copy_expert(f"copy {name} from stdin with (format binary)", buffer)
                # the same indexes as the demo (query plans, and so test times, match it)
                read.execute("select indexdef from pg_indexes where schemaname || '.' || tablename = %s", (name,))
                for (definition,) in read.fetchall():
                    write.execute(definition)
                write.execute(f"select count(*) from {name}")
                counts[name] = write.fetchone()[0]
            write.execute("analyze")
        target.commit()
    finally:
        source.close()
        target.close()
    return counts
