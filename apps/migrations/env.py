"""Alembic's entry point, run by `apps.migrations.upgrade()` with an open connection."""

from alembic import context

from apps.migrations import MIGRATION_LOCK, VERSION_TABLE_SCHEMA

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through apps.migrations.upgrade(), which passes a connection")

# one migrator at a time; the lock is released when upgrade()'s transaction ends
connection.exec_driver_sql(f"select pg_advisory_xact_lock({MIGRATION_LOCK})")
connection.exec_driver_sql(f"create schema if not exists {VERSION_TABLE_SCHEMA}")
context.configure(connection=connection, version_table_schema=VERSION_TABLE_SCHEMA)
with context.begin_transaction():
    context.run_migrations()
