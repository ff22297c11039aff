"""Sessions: signing in, the token checks, refresh-token rotation, signing out, the
list of one's signed-in devices and ending them.

Every sign-in creates a session; its tokens carry the session's id (``sid``), and its
refresh token the session's generation (``gen``). Renewing exchanges the refresh token
for the next generation; a retired one presented again ends the session (reuse
detection, RFC 9700 §4.14.2), except within a few seconds of its retirement, when two
tabs renewed at once. Ending a session revokes its tokens at once: every token check
reads the session (the token codec's cache holds signatures only).
"""

from __future__ import annotations

from datetime import timedelta

import attrs

from .. import policies
from ..errors import NotFound, Unauthorized
from ..limits import DEVICE_MAX, REFRESH_REUSE_GRACE_SECONDS, SESSION_TOUCH_SECONDS
from ..model import Actor, NewSession, Session, SessionEnd, TokenPair, TokenType, User
from ..ports import UnitOfWork
from ..read_models import session_view
from ..views import SessionView
from .context import Context

# Verified against when the email is unknown, so both failures cost the same time.
_NO_SUCH_USER = "no-such-user"


class Sessions:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._dummy_hash = ctx.hasher.hash(_NO_SUCH_USER)

    def login(
        self,
        *,
        email: str,
        password: str,
        expires_in: int | None = None,
        device: str = "",
        ip: str | None = None,
    ) -> TokenPair:
        """A new session and its tokens for a correct email and password; one message
        for either being wrong. ``device`` labels the session (browser and system)."""
        self._ctx.tokens.lifetime(TokenType.ACCESS, expires_in)  # bad expires_in fails first
        user = self.check_password(email, password)
        if self._ctx.hasher.needs_rehash(user.password_hash):
            self._rehash(user, password)
        with self._ctx.uow() as uow:
            session = start_session(self._ctx, uow, user, device=device, ip=ip)
            uow.users.set_last_seen(user.id, policies.minute_of(self._ctx.now()))
            uow.commit()
        return session_tokens(self._ctx, user, session, expires_in)

    def authenticate(self, token: str | None, *, type: TokenType = TokenType.ACCESS) -> Actor:
        """The user a token speaks for, or Unauthorized with the reason it is refused;
        ``token_revoked`` says in ``params.ended`` why its session ended, when it did."""
        claims = self._ctx.tokens.read(token, type)
        with self._ctx.uow(read_only=True) as uow:
            user = uow.users.get_by_alternative_id(claims.subject)
            session = None
            if type is not TokenType.CONFIRM and claims.session_id is not None:
                session = uow.sessions.get(claims.session_id)
        if type is TokenType.CONFIRM:
            if user is None or user.is_deleted:
                raise Unauthorized("token_revoked")
            return Actor(user.id, user.alternative_id)
        session = self._standing(session, user)
        assert user is not None  # _standing refuses a session without its user
        if type is TokenType.REFRESH and claims.generation != session.generation:
            raise Unauthorized("token_revoked")
        self._touch(session)
        return Actor(user.id, user.alternative_id, session.id)

    def refresh(self, refresh_token: str | None, *, expires_in: int | None = None) -> TokenPair:
        """A new access token and the session's next refresh token, which retires this
        one. A retired refresh token ends its session (it may have been stolen)."""
        self._ctx.tokens.lifetime(TokenType.ACCESS, expires_in)
        claims = self._ctx.tokens.read(refresh_token, TokenType.REFRESH)
        if claims.session_id is None or claims.generation is None:
            raise Unauthorized("token_revoked")
        now = self._ctx.now()
        with self._ctx.uow() as uow:
            user = uow.users.get_by_alternative_id(claims.subject)
            session = self._standing(uow.sessions.get(claims.session_id), user, uow)
            assert user is not None
            grace = timedelta(seconds=REFRESH_REUSE_GRACE_SECONDS)
            if claims.generation == session.generation:
                session = session.rotated(now)
            elif not (
                claims.generation == session.generation - 1
                and session.rotated_date is not None
                and now - session.rotated_date <= grace
            ):
                uow.sessions.update(session.ended(SessionEnd.REFRESH_REUSED, now))
                uow.commit()
                self._ctx.notifier.notify([user.id])  # its waiting long-polls end
                raise Unauthorized("token_revoked", ended=SessionEnd.REFRESH_REUSED.value)
            # Within the grace, a second tab gets the current generation too.
            uow.sessions.update(attrs.evolve(session, last_used_date=now))
            uow.users.set_last_seen(user.id, policies.minute_of(now))
            uow.commit()
        return session_tokens(self._ctx, user, session, expires_in)

    def logout(self, token: str | None, *, type: TokenType = TokenType.ACCESS) -> bool:
        """End the session a token belongs to (an expired token will do: it still names
        its session). False when the token names no session that is still open."""
        try:
            claims = self._ctx.tokens.read(token, type, expired_too=True)
        except Unauthorized:
            return False
        if claims.session_id is None:
            return False
        with self._ctx.uow() as uow:
            user = uow.users.get_by_alternative_id(claims.subject)
            session = uow.sessions.get(claims.session_id)
            if session is None or session.is_ended or user is None or user.id != session.user_id:
                return False
            uow.sessions.update(session.ended(SessionEnd.LOGOUT, self._ctx.now()))
            uow.commit()
        self._ctx.notifier.notify([session.user_id])
        return True

    def list_sessions(self, actor: Actor) -> list[SessionView]:
        """Your signed-in devices, oldest first; the one asking is marked current."""
        with self._ctx.uow(read_only=True) as uow:
            found = uow.sessions.active_for(actor.id)
        return [session_view(s, actor.session_id) for s in found if not self._idle(s)]

    def end_session(self, actor: Actor, session_id: int) -> None:
        """End one of your sessions (the current one too: that signs this device out)."""
        with self._ctx.uow() as uow:
            session = uow.sessions.get(session_id)
            if session is None or session.user_id != actor.id or session.is_ended:
                raise NotFound("session")
            reason = SessionEnd.LOGOUT if session.id == actor.session_id else SessionEnd.ENDED_ELSEWHERE
            uow.sessions.update(session.ended(reason, self._ctx.now()))
            uow.commit()
        self._ctx.notifier.notify([actor.id])

    def end_other_sessions(self, actor: Actor) -> int:
        """End every session of yours but the one asking; how many ended."""
        with self._ctx.uow() as uow:
            ended = uow.sessions.end_all(
                actor.id, SessionEnd.ENDED_ELSEWHERE, self._ctx.now(), keep=actor.session_id
            )
            uow.commit()
        self._ctx.notifier.notify([actor.id])
        return len(ended)

    def prune_sessions(self) -> int:
        """Forget sessions that ended longer ago than events are kept (a device signed out
        before then is told only that its token was revoked)."""
        with self._ctx.uow() as uow:
            removed = uow.sessions.prune_ended_before(self._ctx.now() - self._ctx.settings.event_retention)
            uow.commit()
        return removed

    def check_password(self, email: str, password: str) -> User:
        """The user with this email and password; Unauthorized("bad_credentials") else."""
        with self._ctx.uow(read_only=True) as uow:
            user = uow.users.get_by_email(email)
        if user is not None and user.is_deleted:
            user = None
        hashed = user.password_hash if user else self._dummy_hash
        if not self._ctx.hasher.verify(hashed, password) or not user:
            raise Unauthorized("bad_credentials")
        return user

    # --- steps ---------------------------------------------------------------------------

    def _standing(self, session: Session | None, user: User | None, uow: UnitOfWork | None = None) -> Session:
        """The session if it still stands for the user; Unauthorized otherwise, ending a
        session idle past the limit (in ``uow`` when the caller has one open)."""
        if session is None:
            raise Unauthorized("token_revoked")
        if session.end_reason is not None:
            raise Unauthorized("token_revoked", ended=session.end_reason.value)
        if user is None or user.id != session.user_id or user.is_deleted:
            raise Unauthorized("token_revoked")
        if self._idle(session):
            if uow is not None:
                uow.sessions.update(session.ended(SessionEnd.IDLE, self._ctx.now()))
                uow.commit()
            else:
                self._end_idle(session)
            raise Unauthorized("token_revoked", ended=SessionEnd.IDLE.value)
        return session

    def _idle(self, session: Session) -> bool:
        limit = self._ctx.settings.session_idle
        return limit is not None and self._ctx.now() - session.last_used_date > limit

    def _end_idle(self, session: Session) -> None:
        with self._ctx.uow() as uow:
            current = uow.sessions.get(session.id)
            if current is not None and not current.is_ended:
                uow.sessions.update(current.ended(SessionEnd.IDLE, self._ctx.now()))
                uow.commit()

    def _touch(self, session: Session) -> None:
        """Record the session's use, and its user's last seen, at most once a minute (a
        write only then)."""
        now = self._ctx.now()
        if now - session.last_used_date < timedelta(seconds=SESSION_TOUCH_SECONDS):
            return
        with self._ctx.uow() as uow:
            current = uow.sessions.get(session.id)
            if current is None or current.is_ended:
                return
            uow.sessions.update(attrs.evolve(current, last_used_date=now))
            uow.users.set_last_seen(current.user_id, policies.minute_of(now))
            uow.commit()

    def _rehash(self, user: User, password: str) -> None:
        with self._ctx.uow() as uow:
            current = uow.users.get(user.id)
            if current is not None and current.password_hash == user.password_hash:
                uow.users.update(attrs.evolve(current, password_hash=self._ctx.hasher.hash(password)))
                uow.commit()


def start_session(ctx: Context, uow: UnitOfWork, user: User, *, device: str, ip: str | None) -> Session:
    """A new session of the user, in the unit of work."""
    label = " ".join(device.split())[:DEVICE_MAX]
    return uow.sessions.add(NewSession(user_id=user.id, device=label, ip=ip, created_date=ctx.now()))


def session_tokens(ctx: Context, user: User, session: Session, expires_in: int | None) -> TokenPair:
    """An access token and the current refresh token of a session of the user."""
    return TokenPair(
        access_token=ctx.tokens.issue(
            user.alternative_id, TokenType.ACCESS, expires_in=expires_in, session_id=session.id
        ),
        refresh_token=ctx.tokens.issue(
            user.alternative_id, TokenType.REFRESH, session_id=session.id, generation=session.generation
        ),
    )


def restart_sessions(ctx: Context, uow: UnitOfWork, user: User, actor: Actor) -> Session:
    """After a password or email change: every session of the user ends, and the one
    that made the change goes on as a new session on the same device."""
    current = uow.sessions.get(actor.session_id) if actor.session_id is not None else None
    uow.sessions.end_all(user.id, SessionEnd.PASSWORD_CHANGED, ctx.now())
    device, ip = (current.device, current.ip) if current is not None else ("", None)
    return start_session(ctx, uow, user, device=device, ip=ip)
