"""Accounts and tokens: registration, sign-in, token checks and renewal, email confirmation."""

from __future__ import annotations

import attrs

from .. import policies
from ..errors import Conflict, FieldErrors, Unauthorized, field
from ..limits import ALTERNATIVE_ID_ALPHABET, ALTERNATIVE_ID_LENGTH
from ..model import Actor, NewUser, TokenPair, TokenType, User
from ..ports import UnitOfWork
from ..read_models import UserView, user_view
from .context import Context
from .lookups import current_user

# Verified against when the email is unknown, so both failures cost the same time.
_NO_SUCH_USER = "no-such-user"


class Accounts:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._dummy_hash = ctx.hasher.hash(_NO_SUCH_USER)

    def register(self, *, first_name: str, second_name: str, email: str, password: str) -> UserView:
        """Create an account; Invalid per field, Conflict when the email is taken."""
        errors = FieldErrors()
        first = policies.check_name(errors, "first_name", first_name)
        second = policies.check_name(errors, "second_name", second_name)
        email = policies.check_email(errors, "email", email)
        policies.check_password(errors, "password", password)
        errors.raise_if_any()
        password_hash = self._ctx.hasher.hash(password)
        with self._ctx.uow() as uow:
            if uow.users.get_by_email(email) is not None:
                raise Conflict("email_taken", fields={"email": field("email_taken")})
            user = uow.users.add(
                NewUser(
                    alternative_id=fresh_alternative_id(self._ctx, uow),
                    email=email,
                    password_hash=password_hash,
                    first_name=first,
                    second_name=second,
                    created_date=self._ctx.now(),
                )
            )
            uow.commit()
        return user_view(user)

    def login(self, *, email: str, password: str, expires_in: int | None = None) -> TokenPair:
        """Tokens for a correct email and password; one message for either being wrong."""
        self._ctx.tokens.lifetime(TokenType.ACCESS, expires_in)  # bad expires_in fails first
        user = self._check_password(email, password)
        if self._ctx.hasher.needs_rehash(user.password_hash):
            self._rehash(user, password)
        return issue_tokens(self._ctx, user, expires_in)

    def authenticate(self, token: str | None, *, type: TokenType = TokenType.ACCESS) -> Actor:
        """The user a token speaks for, or Unauthorized with the reason it is refused."""
        claims = self._ctx.tokens.read(token, type)
        with self._ctx.uow(read_only=True) as uow:
            user = uow.users.get_by_alternative_id(claims.subject)
        if user is None:
            raise Unauthorized("token_revoked")
        return Actor(user.id, user.alternative_id)

    def refresh(self, refresh_token: str | None, *, expires_in: int | None = None) -> str:
        """A new access token for a valid refresh token."""
        actor = self.authenticate(refresh_token, type=TokenType.REFRESH)
        return self._ctx.tokens.issue(actor.alternative_id, TokenType.ACCESS, expires_in=expires_in)

    def request_confirmation(self, *, email: str, password: str) -> str:
        """Mail (and return) a token that confirms the account's email address."""
        user = self._check_password(email, password)
        token = self._ctx.tokens.issue(user.alternative_id, TokenType.CONFIRM)
        self._ctx.mailer.send_confirmation(user.email, token)
        return token

    def confirm_email(self, token: str | None) -> UserView:
        """Mark the email confirmed; a token from before an email change is revoked."""
        actor = self.authenticate(token, type=TokenType.CONFIRM)
        with self._ctx.uow() as uow:
            user = current_user(uow, actor.id)
            if not user.is_confirmed:
                user = attrs.evolve(user, is_confirmed=True)
                uow.users.update(user)
                uow.commit()
        return user_view(user)

    def _check_password(self, email: str, password: str) -> User:
        with self._ctx.uow(read_only=True) as uow:
            user = uow.users.get_by_email(email)
        hashed = user.password_hash if user else self._dummy_hash
        if not self._ctx.hasher.verify(hashed, password) or not user:
            raise Unauthorized("bad_credentials")
        return user

    def _rehash(self, user: User, password: str) -> None:
        with self._ctx.uow() as uow:
            current = uow.users.get(user.id)
            if current is not None and current.password_hash == user.password_hash:
                uow.users.update(attrs.evolve(current, password_hash=self._ctx.hasher.hash(password)))
                uow.commit()


def issue_tokens(ctx: Context, user: User, expires_in: int | None) -> TokenPair:
    """An access and a refresh token for the user's current identity."""
    return TokenPair(
        access_token=ctx.tokens.issue(user.alternative_id, TokenType.ACCESS, expires_in=expires_in),
        refresh_token=ctx.tokens.issue(user.alternative_id, TokenType.REFRESH),
    )


def fresh_alternative_id(ctx: Context, uow: UnitOfWork) -> str:
    """A public id nobody has (the random source is trusted not to repeat itself)."""
    for _ in range(100):
        candidate = ctx.random.choice_string(ALTERNATIVE_ID_ALPHABET, ALTERNATIVE_ID_LENGTH)
        if uow.users.get_by_alternative_id(candidate) is None:
            return candidate
    raise RuntimeError("the random source keeps repeating itself")
