"""Settings: members, API keys (metadata only), the audit log."""

from __future__ import annotations

from datetime import date

import pandas as pd

from . import cached, query

AUDIT_LIMIT = 500


@cached(ttl=10)
def members() -> pd.DataFrame:
    return query("""
        select email, display_name, role, slack_user_id, slack_channel, last_login_at, disabled_at,
               password_hash is not null as has_password, created_at
        from app.members order by disabled_at nulls first, email""")


@cached(ttl=10)
def api_keys() -> pd.DataFrame:
    return query("""select prefix, name, scopes, created_at, last_used_at, expires_at, revoked_at
                    from app.api_keys order by created_at desc, id desc""")


@cached(ttl=10)
def audit_actions() -> list[str]:
    frame = query("select distinct action from app.audit_log order by 1")
    return [] if frame.empty else frame["action"].tolist()


@cached(ttl=10)
def audit_log(actor: str | None = None, entity_type: str | None = None, entity_id: str | None = None,
              action: str | None = None, since: date | None = None, limit: int = AUDIT_LIMIT) -> pd.DataFrame:
    """Newest first, filtered by person, entity and action."""
    return query("""
        select at, actor, actor_role, action, entity_type, entity_id, outcome, before, after, detail
        from app.audit_log
        where (cast(:actor as text) is null or actor = cast(:actor as text))
          and (cast(:entity_type as text) is null or entity_type = cast(:entity_type as text))
          and (cast(:entity_id as text) is null or entity_id = cast(:entity_id as text))
          and (cast(:action as text) is null or action = cast(:action as text))
          and (cast(:since as date) is null or at >= cast(:since as date))
        order by audit_id desc limit :limit""", actor=actor or None, entity_type=entity_type or None,
                 entity_id=entity_id or None, action=action or None, since=since, limit=int(limit))


@cached(ttl=10)
def audit_entity_types() -> list[str]:
    frame = query("select distinct entity_type from app.audit_log order by 1")
    return [] if frame.empty else frame["entity_type"].tolist()
