"""Accounts: users, passwords, login sessions, API tokens, lockout and deal teams.

Services flush; the caller's transaction commits. Every check that can leak whether an
account exists answers the same way for a known and an unknown name.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.models import ApiToken, DealMember, LoginAttempt, LoginSession, Role, User
from app.errors import ConflictError, DomainError, NotFoundError, UnprocessableError
from app.types import utcnow

MIN_PASSWORD = 12
LOCKOUT_FAILURES = 5
"""Failed logins for one name within LOCKOUT_WINDOW that lock it for the rest of the window."""
ADDRESS_FAILURES = 30
"""Failed logins from one address within LOCKOUT_WINDOW that slow it down (any names)."""
LOCKOUT_WINDOW = timedelta(minutes=15)
TOKEN_PREFIX = "dbk_"


class LoginRefused(DomainError):
    """Wrong name or password, or locked out: one message for all, so none leaks."""

    status_code = 401


@lru_cache(maxsize=2)
def hasher(fast: bool = False) -> PasswordHash:
    """argon2id: the recommended profile, or a cheap one for the test suite only."""
    if fast:
        return PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
    return PasswordHash.recommended()


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_password(password: str, username: str = "") -> str:
    """The password, or an error saying why it will not do."""
    if len(password) < MIN_PASSWORD:
        raise UnprocessableError(
            f"Use at least {MIN_PASSWORD} characters (a few words work well).", field="password"
        )
    if username and username.lower() in password.lower():
        raise UnprocessableError("The password must not contain the user name.", field="password")
    return password


def normalise(username: str) -> str:
    return username.strip().lower()


def create_user(
    session: Session,
    username: str,
    password: str,
    role: Role = Role.VIEWER,
    *,
    display_name: str = "",
    must_change_password: bool = False,
    fast_hash: bool = False,
) -> User:
    name = normalise(username)
    if not name or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise UnprocessableError(
            "Use letters, digits, '.', '-' or '_' for the user name.", field="username"
        )
    user = User(
        username=name[:60],
        display_name=display_name.strip()[:120],
        password_hash=hasher(fast_hash).hash(check_password(password, name)),
        role=Role(role).value,
        must_change_password=must_change_password,
    )
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError as exc:
        raise ConflictError(f"There is already a user called {name!r}.", field="username") from exc
    return user


def get_user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == normalise(username))).first()
    if user is None:
        raise NotFoundError(f"No user called {normalise(username)!r}.", field="username")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


def set_password(
    session: Session, user: User, password: str, *, must_change: bool = False, fast: bool = False
) -> None:
    """A new password ends every other login of the user (their sessions are revoked)."""
    user.password_hash = hasher(fast).hash(check_password(password, user.username))
    user.must_change_password = must_change
    user.password_changed_at = utcnow()
    revoke_sessions(session, user.id)
    session.flush()


def set_role(session: Session, user: User, role: Role) -> None:
    user.role = Role(role).value
    session.flush()


def _recent_failures(session: Session, since: datetime, **where: str) -> int:
    stmt = select(func.count()).where(
        LoginAttempt.succeeded.is_(False),
        LoginAttempt.at >= since,
        *(getattr(LoginAttempt, k) == v for k, v in where.items()),
    )
    return session.scalar(stmt) or 0


def authenticate(
    session: Session, username: str, password: str, address: str, *, fast: bool = False
) -> User:
    """The user, if the name and password match and neither the name nor the address is
    locked out. Every refusal says the same thing and costs the same hashing time."""
    name = normalise(username)[:60]
    since = utcnow() - LOCKOUT_WINDOW
    locked = (
        _recent_failures(session, since, username=name) >= LOCKOUT_FAILURES
        or _recent_failures(session, since, address=address) >= ADDRESS_FAILURES
    )
    user = session.scalars(select(User).where(User.username == name)).first()
    hashes = hasher(fast)
    if user is None:
        hashes.hash(password)  # the same work as a real check, so timing tells nothing
        ok = False
    else:
        ok, new_hash = hashes.verify_and_update(password, user.password_hash)
        if ok and new_hash:
            user.password_hash = new_hash
    ok = ok and not locked and user is not None and user.is_active
    session.add(LoginAttempt(username=name, address=address[:64], succeeded=ok))
    session.flush()
    if not ok:
        minutes = int(LOCKOUT_WINDOW.total_seconds() // 60)
        raise LoginRefused(
            "That name and password did not work. After several failed tries an account "
            f"is paused for {minutes} minutes; wait, or ask an admin to reset the password.",
            field="password",
        )
    assert user is not None
    return user


@dataclass(frozen=True)
class NewSession:
    token: str
    row: LoginSession


def start_session(session: Session, user: User, address: str, lifetime: timedelta) -> NewSession:
    token = secrets.token_urlsafe(32)
    row = LoginSession(
        token_hash=digest(token),
        user_id=user.id,
        expires_at=utcnow() + lifetime,
        address=address[:64],
    )
    session.add(row)
    session.flush()
    return NewSession(token, row)


_SESSION_USER = (
    select(LoginSession, User)
    .join(User, User.id == LoginSession.user_id)
    .where(LoginSession.token_hash == bindparam("token"))
)


def session_user(session: Session, token: str, idle: timedelta) -> tuple[LoginSession, User] | None:
    """The live session of a cookie's token and its user, or None (expired, idle, revoked).

    One query for both (every page request asks)."""
    found = session.execute(_SESSION_USER, {"token": digest(token)}).first()
    now = utcnow()
    if found is None:
        return None
    row, user = found
    if row.revoked_at is not None:
        return None
    if _aware(row.expires_at) <= now or _aware(row.last_seen_at) + idle <= now:
        return None
    if not user.is_active:
        return None
    if now - _aware(row.last_seen_at) > timedelta(minutes=1) and _claim(
        session, LoginSession, row.id
    ):
        row.last_seen_at = now  # one write a minute, at most
    return row, user


def _claim(session: Session, model: type[LoginSession] | type[ApiToken], row_id: int) -> bool:
    """Lock the row for this request's touch, unless another request holds it (then that one
    is touching it, and this one skips: SKIP LOCKED on PostgreSQL, a no-op on SQLite).

    Every request of a login may try the once-a-minute touch at the same moment; waiting
    for another's lock until it commits stalled whole workers (the event loop among the
    waiters), so a request never waits for it."""
    stmt = select(model.id).where(model.id == row_id).with_for_update(skip_locked=True)
    return session.execute(stmt).first() is not None


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def end_session(session: Session, token: str) -> None:
    row = session.scalars(
        select(LoginSession).where(LoginSession.token_hash == digest(token))
    ).first()
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()


def revoke_sessions(session: Session, user_id: int) -> None:
    for row in session.scalars(
        select(LoginSession).where(
            LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None)
        )
    ):
        row.revoked_at = utcnow()


@dataclass(frozen=True)
class NewToken:
    token: str
    row: ApiToken


def create_token(session: Session, user: User, name: str) -> NewToken:
    """A bearer token; only its digest is kept, so it is shown this once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        name=(name.strip() or "token")[:80],
        prefix=token[:12],
        token_hash=digest(token),
    )
    session.add(row)
    session.flush()
    return NewToken(token, row)


def token_user(session: Session, token: str) -> tuple[ApiToken, User] | None:
    """The live token and its user, in one query (every API request asks)."""
    found = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == digest(token))
    ).first()
    if found is None:
        return None
    row, user = found
    if row.revoked_at is not None or not user.is_active:
        return None
    now = utcnow()
    stale = row.last_used_at is None or now - _aware(row.last_used_at) > timedelta(minutes=1)
    if stale and _claim(session, ApiToken, row.id):
        row.last_used_at = now
    return row, user


def user_tokens(session: Session, user_id: int) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())
        )
    )


def revoke_token(session: Session, user_id: int, token_id: int) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user_id:
        raise NotFoundError("No such token.", field="token")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return row


def team(session: Session, deal_id: int) -> list[User]:
    stmt = (
        select(User)
        .join(DealMember, DealMember.user_id == User.id)
        .where(DealMember.deal_id == deal_id)
        .order_by(User.username)
    )
    return list(session.scalars(stmt))


def is_member(session: Session, deal_id: int, user_id: int) -> bool:
    stmt = select(DealMember).where(DealMember.deal_id == deal_id, DealMember.user_id == user_id)
    return session.scalars(stmt).first() is not None


def add_member(session: Session, deal_id: int, user: User) -> None:
    if not is_member(session, deal_id, user.id):
        session.add(DealMember(deal_id=deal_id, user_id=user.id))
        session.flush()


def remove_member(session: Session, deal_id: int, user: User) -> None:
    session.execute(
        delete(DealMember).where(DealMember.deal_id == deal_id, DealMember.user_id == user.id)
    )
    session.flush()
