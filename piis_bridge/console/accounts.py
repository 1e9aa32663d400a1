"""Accounts, roles scoped to CPAS, argon2 passwords, revocable server-side sessions, login rate limit.

Why server-side sessions: a signed cookie cannot be revoked before it expires; here the cookie holds a
random token, the database holds its SHA-256, and revoking (logout, ``users disable``, an admin's
revoke) is one timestamp that every console process sees on the next request.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from piis_bridge.console.audit import record
from piis_bridge.console.models import ALL_CPAS, ROLES, ConsoleSession, ConsoleUser, LoginAttempt
from piis_bridge.pipeline.models import utcnow

__all__ = [
    "LANGUAGES",
    "MAX_FAILURES_PER_CLIENT",
    "MAX_FAILURES_PER_USER",
    "RATE_WINDOW",
    "AccountError",
    "Principal",
    "add_user",
    "authenticate",
    "disable_user",
    "hash_password",
    "list_users",
    "load_session",
    "oidc_login",
    "open_session",
    "rate_limited",
    "revoke_all",
    "revoke_session",
    "revoke_user_sessions",
    "set_role",
]

LANGUAGES = ("fr", "nl", "de", "en")
SESSION_LIFETIME = timedelta(hours=8)
IDLE_TIMEOUT = timedelta(minutes=30)
RATE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_CLIENT = 20
MIN_PASSWORD_LENGTH = 12

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY_HASH = _hasher.hash("timing-equaliser-not-a-password")


class AccountError(ValueError):
    """A user-management request that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class Principal:
    """The logged-in person as every page sees it: who, which role, which CPAS, which language."""

    user_id: int
    username: str
    role: str
    cpas_ids: tuple[str, ...]
    language: str
    session_id: str
    csrf_token: str
    worker_id: str | None = None  # the social worker this account is (the agenda's "mine")

    @property
    def can_act(self) -> bool:
        """Replay, dismiss, record consent: operators and admins; a viewer only reads."""
        return self.role in ("admin", "operator")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    return _hasher.hash(password)


def _check_role(role: str, cpas_ids: list[str]) -> None:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}: choose one of {', '.join(ROLES)}")
    if not cpas_ids:
        raise AccountError(
            f"a user needs at least one CPAS (--cpas ID, or --cpas '{ALL_CPAS}' for every CPAS)"
        )


def add_user(
    s: Session,
    username: str,
    password: str | None,
    role: str,
    cpas_ids: list[str],
    *,
    actor: str,
    display_name: str = "",
    language: str = "fr",
) -> ConsoleUser:
    _check_role(role, cpas_ids)
    if language not in LANGUAGES:
        raise AccountError(f"unknown language {language!r}: choose one of {', '.join(LANGUAGES)}")
    if s.scalar(select(ConsoleUser.id).where(ConsoleUser.username == username)) is not None:
        raise AccountError(
            f"the user {username!r} exists already (use users set-role to change it)"
        )
    user = ConsoleUser(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password) if password is not None else None,
        role=role,
        cpas_ids=sorted(set(cpas_ids)),
        language=language,
        disabled=False,
    )
    s.add(user)
    record(
        s,
        actor=actor,
        action="user_add",
        target=username,
        detail={"role": role, "cpas": user.cpas_ids},
    )
    return user


def _user(s: Session, username: str) -> ConsoleUser:
    user = s.scalar(select(ConsoleUser).where(ConsoleUser.username == username))
    if user is None:
        raise AccountError(f"no user {username!r} (piis-bridge users list shows them)")
    return user


def set_worker(
    s: Session, username: str, worker_id: str | None, *, actor: str, reason: str = ""
) -> None:
    """Link an account to its social worker id in the case system (None unlinks it), for the
    agenda's "mine".  Audited: it decides whose deadlines the account is shown as its own."""
    user = _user(s, username)
    worker_id = (worker_id or "").strip() or None
    if worker_id is not None and len(worker_id) > 120:
        raise AccountError("the worker id has at most 120 characters")
    record(
        s,
        actor=actor,
        action="set_worker",
        target=username,
        reason=reason,
        detail={"from": user.worker_id, "to": worker_id},
    )
    user.worker_id, user.updated_at = worker_id, utcnow()


def set_role(
    s: Session,
    username: str,
    role: str,
    cpas_ids: list[str] | None,
    *,
    actor: str,
    reason: str = "",
) -> None:
    """Change a user's role (and CPAS when given); their open sessions are revoked so it applies at once."""
    user = _user(s, username)
    new_cpas = sorted(set(cpas_ids)) if cpas_ids else list(user.cpas_ids)
    _check_role(role, new_cpas)
    record(
        s,
        actor=actor,
        action="role_change",
        target=username,
        reason=reason,
        detail={
            "from": {"role": user.role, "cpas": list(user.cpas_ids)},
            "to": {"role": role, "cpas": new_cpas},
        },
    )
    user.role, user.cpas_ids, user.updated_at = role, new_cpas, utcnow()
    revoke_user_sessions(s, user.id)


def disable_user(s: Session, username: str, *, actor: str, reason: str = "") -> None:
    user = _user(s, username)
    user.disabled, user.updated_at = True, utcnow()
    revoke_user_sessions(s, user.id)
    record(s, actor=actor, action="user_disable", target=username, reason=reason)


def revoke_all(s: Session, username: str, *, actor: str, reason: str = "") -> int:
    """Revoke every open session of *username*; returns how many."""
    user = _user(s, username)
    n = revoke_user_sessions(s, user.id)
    record(
        s,
        actor=actor,
        action="session_revoke",
        target=username,
        reason=reason,
        detail={"sessions": n},
    )
    return n


def list_users(s: Session) -> list[ConsoleUser]:
    return list(s.scalars(select(ConsoleUser).order_by(ConsoleUser.username)))


def rate_limited(s: Session, username: str, client: str, now: datetime | None = None) -> bool:
    """Too many failed logins for this user name or from this client within :data:`RATE_WINDOW`."""
    since = (now or utcnow()) - RATE_WINDOW
    per_user = s.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(
            LoginAttempt.username == username.lower(),
            LoginAttempt.success.is_(False),
            LoginAttempt.at >= since,
        )
    )
    per_client = s.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(
            LoginAttempt.client == client, LoginAttempt.success.is_(False), LoginAttempt.at >= since
        )
    )
    return (per_user or 0) >= MAX_FAILURES_PER_USER or (per_client or 0) >= MAX_FAILURES_PER_CLIENT


def authenticate(s: Session, username: str, password: str, client: str) -> ConsoleUser | None:
    """The user when the password is right and the account enabled; every attempt is recorded."""
    user = s.scalar(select(ConsoleUser).where(ConsoleUser.username == username))
    ok = False
    if user is None or user.password_hash is None:
        # same work whether or not the user exists: no user enumeration by timing
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
    else:
        try:
            ok = _hasher.verify(user.password_hash, password) and not user.disabled
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if ok and _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
    s.add(LoginAttempt(username=username.lower()[:120], client=client[:64], success=ok))
    record(
        s,
        actor=username[:120],
        action="login" if ok else "login_failed",
        detail={"client": client[:64]},
    )
    return user if ok else None


def oidc_login(
    s: Session,
    *,
    sub: str,
    display_name: str,
    role: str | None,
    cpas_ids: list[str],
    client: str,
    language: str = "fr",
) -> ConsoleUser | None:
    """The account of a person the identity provider vouched for, or None (no access).

    *role* None: the provider's claim matched no mapping entry.  The account is ``oidc:<sub>`` (the
    provider's stable subject; no password, so no local login); it is created at the first login and
    its role and CPAS follow the mapping at every login (a change is audited as a role change).  A
    disabled account stays refused whatever the provider says.  *language*: the first login's (the
    browser's); the user's later choice is kept."""
    username = f"oidc:{sub}"[:120]
    user = s.scalar(select(ConsoleUser).where(ConsoleUser.username == username))
    ok = role is not None and not (user is not None and user.disabled)
    if ok and role is not None:
        if user is None:
            user = add_user(
                s,
                username,
                None,
                role,
                cpas_ids,
                actor="oidc",
                display_name=display_name[:200],
                language=language if language in LANGUAGES else "fr",
            )
            s.flush()
        elif (user.role, list(user.cpas_ids)) != (role, sorted(set(cpas_ids))):
            set_role(s, username, role, cpas_ids, actor="oidc", reason="identity provider claim")
    s.add(LoginAttempt(username=username.lower(), client=client[:64], success=ok))
    record(
        s,
        actor=username,
        action="login" if ok else "login_failed",
        detail={
            "client": client[:64],
            "via": "oidc",
            **({} if ok else {"why": "disabled" if role else "no role mapping"}),
        },
    )
    return user if ok else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(s: Session, user: ConsoleUser, client: str) -> str:
    """Create a session; return the cookie's token (only its digest is stored)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    s.add(
        ConsoleSession(
            id=_digest(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            client=client[:64],
            created_at=now,
            last_seen_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    return token


def load_session(s: Session, token: str, configured_cpas: list[str]) -> Principal | None:
    """The principal of a live session (not revoked, not expired, not idle, user enabled), else None."""
    row = s.get(ConsoleSession, _digest(token))
    now = utcnow()
    if (
        row is None
        or row.revoked_at is not None
        or row.expires_at <= now
        or row.last_seen_at + IDLE_TIMEOUT <= now
    ):
        return None
    user = s.get(ConsoleUser, row.user_id)
    if user is None or user.disabled:
        return None
    if now - row.last_seen_at > timedelta(seconds=60):  # one write a minute, not one per request
        row.last_seen_at = now
    cpas = tuple(configured_cpas) if ALL_CPAS in user.cpas_ids else tuple(user.cpas_ids)
    return Principal(
        user_id=user.id,
        username=user.username,
        role=user.role,
        cpas_ids=cpas,
        language=user.language,
        session_id=row.id,
        csrf_token=row.csrf_token,
        worker_id=user.worker_id or None,
    )


def revoke_session(s: Session, session_id: str) -> None:
    s.execute(
        update(ConsoleSession)
        .where(ConsoleSession.id == session_id, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke_user_sessions(s: Session, user_id: int) -> int:
    result: Any = s.execute(
        update(ConsoleSession)
        .where(ConsoleSession.user_id == user_id, ConsoleSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount)
