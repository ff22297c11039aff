"""Profiles and avatars: reading users, editing one's profile, avatars, user search."""

from __future__ import annotations

from typing import Any, BinaryIO

import attrs

from .. import policies
from ..errors import Conflict, FieldErrors, Forbidden, NotFound, field
from ..limits import SEARCH_LIMIT_MAX, SEARCH_WORDS_MAX
from ..model import Actor, EventType, ProfileChanges, TokenPair, User
from ..normalize import email_key, search_key
from ..payloads import user_data
from ..ports import UnitOfWork
from ..views import UserView, user_view
from .accounts import fresh_alternative_id
from .context import Context, Upload
from .lookups import contact_ids, current_user
from .sessions import restart_sessions, session_tokens

_OPTIONAL = frozenset({"phone_number", "age", "city", "additional_inf", "username"})
_PUBLIC = ("first_name", "second_name", "avatar", "alternative_id", "username")


class Profiles:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def get_user(self, actor: Actor, user_id: str | None = None) -> UserView:
        """A user by public id (yourself when None); NotFound for unknown ids."""
        with self._ctx.uow(read_only=True) as uow:
            if user_id is None:
                return user_view(current_user(uow, actor.id))
            user = uow.users.get_by_alternative_id(user_id)
            if user is None:
                raise NotFound("user")
            return self._ctx.audience(uow, actor.id).show(user)

    def get_user_by_username(self, actor: Actor, username: str) -> UserView:
        """The user with this username (any letter case); NotFound when nobody has it."""
        with self._ctx.uow(read_only=True) as uow:
            user = uow.users.get_by_username(username.strip()) if username.strip() else None
            if user is None or user.is_deleted:
                raise NotFound("user")
            return self._ctx.audience(uow, actor.id).show(user)

    def update_profile(self, actor: Actor, changes: ProfileChanges) -> tuple[UserView, TokenPair | None]:
        """Edit the profile. Changing email or password needs the current password and
        rotates the public id, which revokes every token issued before; the new tokens
        are returned then. The current password is checked before anything else is
        looked up, so a wrong one learns nothing (not even whether an email is taken)."""
        updates, new_email = _checked_changes(changes)
        session = None
        with self._ctx.uow() as uow:
            user = current_user(uow, actor.id)
            username = updates.get("username")
            if username is not None and username != user.username:
                holder = uow.users.get_by_username(username)
                if holder is not None and holder.id != user.id:
                    raise Conflict("username_taken", fields={"username": field("username_taken")})
            rotate = False
            if new_email is not None or changes.password is not None:
                if not self._ctx.hasher.verify(user.password_hash, changes.old_password or ""):
                    raise Forbidden("wrong_password")
                rotate = self._security_updates(uow, user, new_email, changes.password, updates)
            if rotate:
                updates["alternative_id"] = fresh_alternative_id(self._ctx, uow)
            updated = attrs.evolve(user, **updates)
            uow.users.update(updated)
            if rotate:  # every session ends; this device goes on in a new one
                session = restart_sessions(self._ctx, uow, updated, actor)
            if any(getattr(user, f) != getattr(updated, f) for f in _PUBLIC):
                self._tell_contacts(uow, updated)
            uow.commit()
        self._wake_contacts_of(updated.id)
        tokens = session_tokens(self._ctx, updated, session, None) if session is not None else None
        return user_view(updated), tokens

    def set_avatar(self, actor: Actor, upload: Upload) -> UserView:
        """Replace the avatar with a 256 px square re-encoding of the image."""
        avatar = self._ctx.store_square_image(upload)
        try:
            with self._ctx.uow() as uow:
                user = current_user(uow, actor.id)
                old_key = user.avatar
                user = attrs.evolve(user, avatar=avatar)
                uow.users.update(user)
                self._tell_contacts(uow, user)
                uow.commit()
        except BaseException:
            self._ctx.blobs.delete(avatar)
            raise
        if old_key:
            self._ctx.discard_blob(old_key)
        self._wake_contacts_of(user.id)
        return user_view(user)

    def open_avatar(self, actor: Actor, user_id: str) -> tuple[UserView, BinaryIO | None]:
        """The user and a stream of their avatar (None when they use the default)."""
        user = self.get_user(actor, user_id)  # no avatar for whom its owner blocked
        return user, (self._ctx.blobs.open(user.avatar) if user.avatar else None)

    def search_users(
        self,
        actor: Actor,
        *,
        text: str | None = None,
        first_name: str | None = None,
        second_name: str | None = None,
        start: int = 0,
        limit: int = SEARCH_LIMIT_MAX,
    ) -> list[UserView]:
        """Users whose names or ID contain every given word, case-insensitively; words
        past SEARCH_WORDS_MAX are ignored."""
        policies.check_paging(start, limit, SEARCH_LIMIT_MAX)

        def key(value: str | None) -> str | None:
            folded = search_key(value.strip()) if value else ""
            return folded or None

        words = " ".join((key(text) or "").split()[:SEARCH_WORDS_MAX])
        with self._ctx.uow(read_only=True) as uow:
            found = uow.users.search(
                text=words or None,
                first_name=key(first_name),
                second_name=key(second_name),
                start=start,
                limit=limit,
            )
            audience = self._ctx.audience(uow, actor.id)
            return [audience.show(u) for u in found]

    def _security_updates(
        self,
        uow: UnitOfWork,
        user: User,
        new_email: str | None,
        password: str | None,
        updates: dict[str, Any],
    ) -> bool:
        """Add an email or password change to ``updates``; True when it rotates the id."""
        rotate = False
        if new_email is not None and email_key(new_email) != email_key(user.email):
            if uow.users.get_by_email(new_email) is not None:
                raise Conflict("email_taken", fields={"email": field("email_taken")})
            updates.update(email=new_email, is_confirmed=False)
            rotate = True
        elif new_email is not None:  # the same address, written differently
            updates["email"] = new_email
        if password is not None:
            updates["password_hash"] = self._ctx.hasher.hash(password)
            rotate = True
        return rotate

    def _tell_contacts(self, uow: UnitOfWork, user: User) -> None:
        payload = {"user": user_data(user_view(user))}
        self._ctx.append_events(uow, [user.id, *contact_ids(uow, user.id)], EventType.USER_UPDATED, payload)

    def _wake_contacts_of(self, user_id: int) -> None:
        with self._ctx.uow(read_only=True) as uow:
            contacts = contact_ids(uow, user_id)
        self._ctx.notifier.notify([user_id, *contacts])


def _checked_changes(changes: ProfileChanges) -> tuple[dict[str, Any], str | None]:
    """The plain field updates of a profile edit and the new email, all validated."""
    errors = FieldErrors()
    updates: dict[str, Any] = {}
    for name in ("first_name", "second_name"):
        value = getattr(changes, name)
        if value is not None:
            updates[name] = policies.check_name(errors, name, value)
    if changes.phone_number is not None:
        updates["phone_number"] = policies.check_phone(errors, "phone_number", changes.phone_number)
    if changes.age is not None:
        updates["age"] = policies.check_age(errors, "age", changes.age)
    if changes.city is not None:
        updates["city"] = policies.check_city(errors, changes.city)
    if changes.additional_inf is not None:
        updates["additional_inf"] = policies.check_about(errors, changes.additional_inf)
    if changes.username is not None:
        updates["username"] = policies.check_username(errors, "username", changes.username)
    updates.update(dict.fromkeys(changes.clear & _OPTIONAL))
    new_email = policies.check_email(errors, "email", changes.email) if changes.email is not None else None
    if changes.password is not None:
        policies.check_password(errors, "password", changes.password)
    if (new_email is not None or changes.password is not None) and not changes.old_password:
        errors.add("old_password", "old_password_required")
    errors.raise_if_any()
    return updates, new_email
