"""Accounts: registration and email confirmation (signing in is ``sessions``)."""

from __future__ import annotations

import attrs

from .. import policies
from ..errors import Conflict, FieldErrors, field
from ..limits import ALTERNATIVE_ID_ALPHABET, ALTERNATIVE_ID_LENGTH
from ..model import NewUser, TokenType
from ..ports import UnitOfWork
from ..views import UserView, user_view
from .context import Context
from .lookups import current_user
from .sessions import Sessions


class Accounts:
    def __init__(self, ctx: Context, sessions: Sessions) -> None:
        self._ctx = ctx
        self._sessions = sessions

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

    def request_confirmation(self, *, email: str, password: str) -> str:
        """Mail (and return) a token that confirms the account's email address."""
        user = self._sessions.check_password(email, password)
        token = self._ctx.tokens.issue(user.alternative_id, TokenType.CONFIRM)
        self._ctx.mailer.send_confirmation(user.email, token)
        return token

    def confirm_email(self, token: str | None) -> UserView:
        """Mark the email confirmed; a token from before an email change is revoked."""
        actor = self._sessions.authenticate(token, type=TokenType.CONFIRM)
        with self._ctx.uow() as uow:
            user = current_user(uow, actor.id)
            if not user.is_confirmed:
                user = attrs.evolve(user, is_confirmed=True)
                uow.users.update(user)
                uow.commit()
        return user_view(user)


def fresh_alternative_id(ctx: Context, uow: UnitOfWork) -> str:
    """A public id nobody has (the random source is trusted not to repeat itself)."""
    for _ in range(100):
        candidate = ctx.random.choice_string(ALTERNATIVE_ID_ALPHABET, ALTERNATIVE_ID_LENGTH)
        if uow.users.get_by_alternative_id(candidate) is None:
            return candidate
    raise RuntimeError("the random source keeps repeating itself")
