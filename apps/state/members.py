"""Members of the CRM: logins (argon2id), roles, the first OWNER.

Roles follow the seed with its gaps fixed: inviting, changing a role and disabling need ADMIN; nobody
makes an OWNER except by `transfer_ownership` (OWNER only, old owner becomes ADMIN, one transaction);
nobody changes their own role, disables themself or touches the OWNER. Logins are audited (the seed
did not), and an email is locked for a while after a burst of failed attempts.

    owner_password = members.ensure_owner()          # first run: prints nothing, returns the password once
    actor = members.authenticate("ana@acme.dev", "correct horse battery")
"""

from __future__ import annotations

import json
import logging
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import text

from devsignal import settings

from . import ROLE_RANK, Actor, Audit, NotFound, _insert_audit, command, engine, row_dict

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 10
LOCK_AFTER_FAILURES = 5
LOCK_MINUTES = 15
INVITABLE_ROLES = ("ADMIN", "MEMBER", "VIEWER")

# argon2-cffi's defaults are argon2id (RFC 9106 low-memory profile)
_hasher = PasswordHasher()
# verified against when the email is unknown, so a miss costs as long as a wrong password
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class LoginFailed(PermissionError):
    """Wrong email or password, a disabled member, or a locked email (the message says which only when safe)."""


def normalise_email(email: str) -> str:
    cleaned = (email or "").strip().lower()
    if "@" not in cleaned or cleaned.startswith("@") or cleaned.endswith("@") or len(cleaned) > 254:
        raise ValueError(f"{email!r} is not an email address")
    return cleaned


def check_password(password: str, email: str = "") -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if email and password.strip().lower() == email:
        raise ValueError("a password must not be the email address")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _member(connection, email: str, *, lock: bool = False) -> dict:
    row = connection.execute(text("select * from app.members where email = :email" + (" for update" if lock else "")),
                             {"email": email}).first()
    if row is None:
        raise NotFound(f"{email} is not a member")
    return row_dict(row)


def _public(member: dict) -> dict:
    """A member's row without its password hash (what audit rows and pages get)."""
    return {key: value for key, value in member.items() if key != "password_hash"}


def list_members() -> list[dict]:
    with engine().connect() as connection:
        rows = connection.execute(text("""select member_id, email, display_name, role, slack_user_id, slack_channel,
                                                 created_at, last_login_at, disabled_at, password_hash is not null as has_password
                                          from app.members order by disabled_at nulls first, email""")).all()
    return [row_dict(row) for row in rows]


def get_member(email: str) -> dict:
    with engine().connect() as connection:
        return _public(_member(connection, normalise_email(email)))


def ensure_owner() -> str | None:
    """Create the OWNER on first run. Returns a generated password exactly once (else None).

    From DEVSIGNAL_CRM_OWNER_EMAIL / DEVSIGNAL_CRM_OWNER_PASSWORD when set; otherwise the email
    defaults to owner@devsignal.local and a random password is generated for the caller to show once.
    """
    email = normalise_email(settings.get("DEVSIGNAL_CRM_OWNER_EMAIL") or "owner@devsignal.local")
    configured = settings.get("DEVSIGNAL_CRM_OWNER_PASSWORD") or ""
    with engine().begin() as connection:
        connection.execute(text("select pg_advisory_xact_lock(hashtext('app.members:first-owner'))"))
        if connection.execute(text("select 1 from app.members where role = 'OWNER' and disabled_at is null")).first():
            return None
        password = check_password(configured, email) if configured else secrets.token_urlsafe(18)
        row = connection.execute(
            text("""insert into app.members (email, display_name, role, password_hash) values (:email, :name, 'OWNER', :hash)
                    on conflict (email) do update set role = 'OWNER', password_hash = excluded.password_hash, disabled_at = null
                    returning *"""),
            {"email": email, "name": email.split("@")[0], "hash": hash_password(password)}).first()
        audit = Audit(email)
        audit.after = _public(row_dict(row))
        audit.detail = "first run: owner from the environment" if configured else "first run: owner with a generated password"
        _insert_audit(connection, Actor.system("crm-first-run"), "member.create_owner", "member", audit, "ok")
    return None if configured else password


def authenticate(email: str, password: str) -> Actor:
    """The member behind a login form, or `LoginFailed`. Every attempt is recorded and audited."""
    try:
        email = normalise_email(email)
    except ValueError:
        raise LoginFailed("invalid email or password") from None
    with engine().begin() as connection:
        failures = connection.execute(
            text("""select count(*) from app.login_attempts
                    where email = :email and not succeeded and at > now() - make_interval(mins => :minutes)
                      and at > coalesce((select max(at) from app.login_attempts where email = :email and succeeded), '-infinity')"""),
            {"email": email, "minutes": LOCK_MINUTES}).scalar()
        row = connection.execute(text("select * from app.members where email = :email"), {"email": email}).first()
        member = row_dict(row)
        ok = _verify(member["password_hash"] if member and member["password_hash"] else _DUMMY_HASH, password)
        reason = None
        if failures >= LOCK_AFTER_FAILURES:
            reason = f"locked: {failures} failed attempts in {LOCK_MINUTES} minutes"
        elif member is None or not member["password_hash"] or not ok:
            reason = "invalid email or password"
        elif member["disabled_at"] is not None:
            reason = "member is disabled"
        connection.execute(text("insert into app.login_attempts (email, succeeded) values (:email, :ok)"),
                           {"email": email, "ok": reason is None})
        actor = Actor(email, member["role"] if member else "VIEWER")
        audit = Audit(email)
        audit.detail = reason
        _insert_audit(connection, actor, "member.login", "member", audit, "ok" if reason is None else "refused")
        if reason is None:
            connection.execute(text("update app.members set last_login_at = now() where email = :email"), {"email": email})
            if _hasher.check_needs_rehash(member["password_hash"]):
                connection.execute(text("update app.members set password_hash = :hash where email = :email"),
                                   {"hash": hash_password(password), "email": email})
    if reason is None:
        return actor
    if reason.startswith("locked"):
        raise LoginFailed(f"too many failed attempts for this email; try again in {LOCK_MINUTES} minutes")
    raise LoginFailed("invalid email or password")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False


def actor_for_email(email: str) -> Actor | None:
    """The member an OIDC login (`st.login`) maps to; None for unknown or disabled emails."""
    with engine().connect() as connection:
        row = connection.execute(text("select role from app.members where email = :email and disabled_at is null"),
                                 {"email": normalise_email(email)}).first()
    return None if row is None else Actor(normalise_email(email), row.role)


def invite_member(actor: Actor, email: str, role: str = "MEMBER", *, display_name: str | None = None,
                  password: str | None = None) -> dict:
    """Add a member (ADMIN+). Without a password they log in through OIDC until one is set."""
    email = normalise_email(email)
    role = (role or "").upper()
    if role not in INVITABLE_ROLES:
        raise ValueError(f"a new member's role must be one of {', '.join(INVITABLE_ROLES)} (OWNER only by transfer)")
    password_hash = hash_password(check_password(password, email)) if password else None
    with command(actor, "ADMIN", "member.invite", "member", email) as (conn, audit):
        if conn.execute(text("select 1 from app.members where email = :email"), {"email": email}).first():
            raise ValueError(f"{email} is already a member")
        row = conn.execute(
            text("""insert into app.members (email, display_name, role, password_hash)
                    values (:email, :name, :role, :hash) returning *"""),
            {"email": email, "name": (display_name or "").strip() or email.split("@")[0], "role": role,
             "hash": password_hash}).first()
        member = _public(row_dict(row))
        audit.after = member
    return member


def change_role(actor: Actor, email: str, role: str) -> dict:
    """ADMIN+: not to OWNER, not the OWNER's role, not your own; an ADMIN cannot raise anyone above themself."""
    email, role = normalise_email(email), (role or "").upper()
    with command(actor, "ADMIN", "member.role_change", "member", email) as (conn, audit):
        if role not in INVITABLE_ROLES:
            raise ValueError(f"role must be one of {', '.join(INVITABLE_ROLES)} (OWNER only by transfer)")
        if email == actor.email:
            raise ValueError("you cannot change your own role")
        before = _member(conn, email, lock=True)
        if before["role"] == "OWNER":
            raise ValueError("the OWNER's role changes only by transferring ownership")
        if ROLE_RANK[role] > ROLE_RANK[actor.role]:
            raise ValueError(f"a {actor.role} cannot grant {role}")
        audit.before, audit.after = {"role": before["role"]}, {"role": role}
        row = conn.execute(text("update app.members set role = :role where email = :email returning *"),
                           {"role": role, "email": email}).first()
    return _public(row_dict(row))


def set_disabled(actor: Actor, email: str, disabled: bool = True) -> dict:
    """ADMIN+: disable (or re-enable) a member; never the OWNER, never yourself."""
    email = normalise_email(email)
    action = "member.disable" if disabled else "member.enable"
    with command(actor, "ADMIN", action, "member", email) as (conn, audit):
        if email == actor.email:
            raise ValueError("you cannot disable or enable yourself")
        before = _member(conn, email, lock=True)
        if before["role"] == "OWNER":
            raise ValueError("the OWNER cannot be disabled (transfer ownership first)")
        audit.before = {"disabled_at": before["disabled_at"]}
        row = conn.execute(
            text("""update app.members set disabled_at = case when :disabled then coalesce(disabled_at, now()) end
                    where email = :email returning *"""), {"disabled": disabled, "email": email}).first()
        audit.after = {"disabled_at": row.disabled_at}
    return _public(row_dict(row))


def set_password(actor: Actor, email: str, new_password: str) -> None:
    """Your own password (any role), or someone else's (ADMIN+, never the OWNER's unless you are the OWNER)."""
    email = normalise_email(email)
    own = email == actor.email
    with command(actor, "VIEWER" if own else "ADMIN", "member.set_password", "member", email) as (conn, audit):
        before = _member(conn, email, lock=True)
        if before["role"] == "OWNER" and not own:
            raise ValueError("only the OWNER sets the OWNER's password")
        check_password(new_password, email)
        conn.execute(text("update app.members set password_hash = :hash where email = :email"),
                     {"hash": hash_password(new_password), "email": email})
        audit.after = {"password": "changed"}  # never the hash


def set_slack(actor: Actor, email: str, *, slack_user_id: str | None, slack_channel: str | None) -> dict:
    """ADMIN+: map a member to their Slack user (for buttons) and the channel their accounts' alerts go to."""
    email = normalise_email(email)
    with command(actor, "ADMIN", "member.slack", "member", email) as (conn, audit):
        before = _member(conn, email, lock=True)
        after = {"slack_user_id": (slack_user_id or "").strip() or None,
                 "slack_channel": (slack_channel or "").strip() or None}
        audit.before = {key: before[key] for key in after}
        audit.after = after
        row = conn.execute(text("""update app.members set slack_user_id = :slack_user_id, slack_channel = :slack_channel
                                   where email = :email returning *"""), {**after, "email": email}).first()
    return _public(row_dict(row))


def transfer_ownership(actor: Actor, email: str) -> None:
    """OWNER only: `email` becomes OWNER and the old owner ADMIN, in one transaction."""
    email = normalise_email(email)
    with command(actor, "OWNER", "member.transfer_ownership", "member", email) as (conn, audit):
        if email == actor.email:
            raise ValueError("you already own this workspace")
        target = _member(conn, email, lock=True)
        if target["disabled_at"] is not None:
            raise ValueError(f"{email} is disabled; enable them first")
        previous = conn.execute(text("select email from app.members where role = 'OWNER' and disabled_at is null for update")).scalar()
        if previous is not None:
            conn.execute(text("update app.members set role = 'ADMIN' where email = :email"), {"email": previous})
        conn.execute(text("update app.members set role = 'OWNER' where email = :email"), {"email": email})
        audit.before, audit.after = {"owner": previous, "role": target["role"]}, {"owner": email}


# -- workspace settings edited in the CRM (app.crm_settings) ---------------------------------------

SETTINGS = {"slack.default_channel": "the Slack channel for alerts of accounts whose owner has no channel"}


def get_setting(key: str, default=None):
    with engine().connect() as connection:
        value = connection.execute(text("select value from app.crm_settings where key = :key"), {"key": key}).scalar()
    return default if value is None else value


def set_setting(actor: Actor, key: str, value) -> None:
    """ADMIN+: set (or, with None, clear) one of `SETTINGS`."""
    if key not in SETTINGS:
        raise ValueError(f"unknown setting {key!r}; known: {', '.join(SETTINGS)}")
    if isinstance(value, str):
        value = value.strip() or None
    with command(actor, "ADMIN", "settings.update", "setting", key) as (conn, audit):
        audit.before = {key: conn.execute(text("select value from app.crm_settings where key = :key for update"),
                                          {"key": key}).scalar()}
        audit.after = {key: value}
        if value is None:
            conn.execute(text("delete from app.crm_settings where key = :key"), {"key": key})
        else:
            conn.execute(text("""insert into app.crm_settings (key, value, updated_by) values (:key, cast(:value as jsonb), :actor)
                                 on conflict (key) do update set value = excluded.value, updated_by = excluded.updated_by,
                                                                 updated_at = now()"""),
                         {"key": key, "value": json.dumps(value), "actor": actor.email})
