"""Messenger: one method per use case.

Every use case runs in one unit of work (one transaction), takes the acting user and
plain values, and returns frozen read models. Events for other users are written in the
same unit; sleepers are woken only after it commits, and blobs are deleted only after
the rows that pointed at them are gone.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, BinaryIO

import attrs

from . import policies
from .errors import Conflict, Forbidden, Gone, Invalid, NotFound, Unauthorized
from .model import (
    Actor,
    Attachment,
    AttachmentKind,
    AttachmentView,
    Chat,
    ChatView,
    EventBatch,
    EventType,
    FriendListKind,
    Friendship,
    FriendshipStatus,
    FriendView,
    Message,
    MessageView,
    NewAttachment,
    NewMessage,
    NewUser,
    ProfileChanges,
    Sticker,
    StickerPackView,
    StickerView,
    TokenPair,
    TokenType,
    User,
    UserView,
)
from .normalize import clean_text, email_key, search_key
from .policies import FieldErrors
from .ports import (
    BlobStore,
    Clock,
    EventNotifier,
    ImageProcessor,
    Mailer,
    PasswordHasher,
    RandomSource,
    TokenCodec,
    UnitOfWork,
    UnitOfWorkFactory,
)
from .tokens import TokenPolicy
from .views import message_data, user_data

# Verified against when the email is unknown, so both failures cost the same time.
_NO_SUCH_USER = "no-such-user"


@attrs.frozen(kw_only=True)
class MessengerSettings:
    access_token_lifetime: int = 3600
    access_token_max_lifetime: int = 30 * 24 * 3600
    max_upload_size: int = 16 * 1024 * 1024
    orphan_upload_lifetime: timedelta = timedelta(hours=24)
    event_retention: timedelta = timedelta(days=7)
    thumbnail_side: int = 320
    avatar_side: int = 256
    max_sticker_size: int = 512 * 1024


@attrs.frozen(kw_only=True)
class Upload:
    """An uploaded file: its display name and its bytes as chunks."""

    name: str | None
    chunks: Iterable[bytes]


class Messenger:
    """The messenger's use cases over its ports."""

    def __init__(
        self,
        *,
        uow: UnitOfWorkFactory,
        clock: Clock,
        random: RandomSource,
        hasher: PasswordHasher,
        codec: TokenCodec,
        blobs: BlobStore,
        images: ImageProcessor,
        notifier: EventNotifier,
        mailer: Mailer,
        settings: MessengerSettings | None = None,
    ) -> None:
        self.settings = settings or MessengerSettings()
        self._uow = uow
        self._clock = clock
        self._random = random
        self._hasher = hasher
        self._blobs = blobs
        self._images = images
        self._notifier = notifier
        self._mailer = mailer
        self.tokens = TokenPolicy(
            codec=codec,
            clock=clock,
            access_lifetime=self.settings.access_token_lifetime,
            access_max_lifetime=self.settings.access_token_max_lifetime,
        )
        self._dummy_hash = hasher.hash(_NO_SUCH_USER)

    # --- accounts and authentication -------------------------------------------------

    def register(self, *, first_name: str, second_name: str, email: str, password: str) -> UserView:
        """Create an account; Invalid per field, Conflict when the email is taken."""
        errors = FieldErrors()
        first = policies.check_name(errors, "first_name", first_name)
        second = policies.check_name(errors, "second_name", second_name)
        email = policies.check_email(errors, "email", email)
        policies.check_password(errors, "password", password)
        errors.raise_if_any()
        password_hash = self._hasher.hash(password)
        with self._uow() as uow:
            if uow.users.get_by_email(email) is not None:
                raise Conflict(
                    "This email is already registered", code="email_taken", fields={"email": "Taken"}
                )
            user = uow.users.add(
                NewUser(
                    alternative_id=self._fresh_alternative_id(uow),
                    email=email,
                    password_hash=password_hash,
                    first_name=first,
                    second_name=second,
                    created_date=self._clock.now(),
                )
            )
            uow.commit()
        return _user_view(user)

    def login(self, *, email: str, password: str, expires_in: int | None = None) -> TokenPair:
        """Tokens for a correct email and password; one message for either being wrong."""
        self.tokens.lifetime(TokenType.ACCESS, expires_in)  # bad expires_in fails first
        with self._uow(read_only=True) as uow:
            user = uow.users.get_by_email(email)
        if not self._hasher.verify(user.password_hash if user else self._dummy_hash, password) or not user:
            raise Unauthorized("bad_credentials", "Wrong email or password")
        if self._hasher.needs_rehash(user.password_hash):
            with self._uow() as uow:
                current = uow.users.get(user.id)
                if current is not None and current.password_hash == user.password_hash:
                    uow.users.update(attrs.evolve(current, password_hash=self._hasher.hash(password)))
                    uow.commit()
        return self._token_pair(user, expires_in)

    def authenticate(self, token: str | None, *, type: TokenType = TokenType.ACCESS) -> Actor:
        """The user a token speaks for, or Unauthorized with the reason it is refused."""
        claims = self.tokens.read(token, type)
        with self._uow(read_only=True) as uow:
            user = uow.users.get_by_alternative_id(claims.subject)
        if user is None:
            raise Unauthorized("token_revoked", "The token was revoked: sign in again")
        return Actor(user.id, user.alternative_id)

    def refresh(self, refresh_token: str | None, *, expires_in: int | None = None) -> str:
        """A new access token for a valid refresh token."""
        actor = self.authenticate(refresh_token, type=TokenType.REFRESH)
        return self.tokens.issue(actor.alternative_id, TokenType.ACCESS, expires_in=expires_in)

    def request_confirmation(self, *, email: str, password: str) -> str:
        """Mail (and return) a token that confirms the account's email address."""
        with self._uow(read_only=True) as uow:
            user = uow.users.get_by_email(email)
        if not self._hasher.verify(user.password_hash if user else self._dummy_hash, password) or not user:
            raise Unauthorized("bad_credentials", "Wrong email or password")
        token = self.tokens.issue(user.alternative_id, TokenType.CONFIRM)
        self._mailer.send_confirmation(user.email, token)
        return token

    def confirm_email(self, token: str | None) -> UserView:
        """Mark the email confirmed; a token from before an email change is revoked."""
        actor = self.authenticate(token, type=TokenType.CONFIRM)
        with self._uow() as uow:
            user = self._user(uow, actor.id)
            if not user.is_confirmed:
                user = attrs.evolve(user, is_confirmed=True)
                uow.users.update(user)
                uow.commit()
        return _user_view(user)

    # --- users and profiles -----------------------------------------------------------

    def get_user(self, actor: Actor, user_id: str | None = None) -> UserView:
        """A user by public id (yourself when None); NotFound for unknown ids."""
        with self._uow(read_only=True) as uow:
            if user_id is None:
                return _user_view(self._user(uow, actor.id))
            user = uow.users.get_by_alternative_id(user_id)
            if user is None:
                raise NotFound("No user with this id")
            return _user_view(user)

    def update_profile(self, actor: Actor, changes: ProfileChanges) -> tuple[UserView, TokenPair | None]:
        """Edit the profile. Changing email or password needs the current password and
        rotates the public id, which revokes every token issued before; the new tokens
        are returned then."""
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
            updates["city"] = policies.check_length(errors, "city", changes.city, policies.CITY_MAX) or None
        if changes.additional_inf is not None:
            about = policies.check_length(
                errors, "additional_inf", changes.additional_inf, policies.ABOUT_MAX
            )
            updates["additional_inf"] = about or None
        for name in changes.clear & {"phone_number", "age", "city", "additional_inf"}:
            updates[name] = None
        new_email = (
            policies.check_email(errors, "email", changes.email) if changes.email is not None else None
        )
        if changes.password is not None:
            policies.check_password(errors, "password", changes.password)
        if (new_email is not None or changes.password is not None) and not changes.old_password:
            errors.add("old_password", "Enter your current password to change email or password")
        errors.raise_if_any()

        with self._uow() as uow:
            user = self._user(uow, actor.id)
            rotate = False
            if new_email is not None and email_key(new_email) != email_key(user.email):
                if uow.users.get_by_email(new_email) is not None:
                    raise Conflict(
                        "This email is already registered", code="email_taken", fields={"email": "Taken"}
                    )
                updates.update(email=new_email, is_confirmed=False)
                rotate = True
            elif new_email is not None:
                updates["email"] = new_email
            if changes.password is not None:
                updates["password_hash"] = self._hasher.hash(changes.password)
                rotate = True
            security_change = rotate or new_email is not None
            if security_change and not self._hasher.verify(user.password_hash, changes.old_password or ""):
                raise Forbidden("The current password is wrong", code="wrong_password")
            if rotate:
                updates["alternative_id"] = self._fresh_alternative_id(uow)
            updated = attrs.evolve(user, **updates)
            uow.users.update(updated)
            if _public_changed(user, updated):
                self._tell_friends(uow, updated, EventType.USER_UPDATED)
            uow.commit()
        self._wake_friends_of(updated.id)
        return _user_view(updated), (self._token_pair(updated, None) if rotate else None)

    def set_avatar(self, actor: Actor, upload: Upload) -> UserView:
        """Replace the avatar with a 256 px square re-encoding of the image."""
        raw = self._blobs.write(upload.chunks, max_size=self.settings.max_upload_size)
        try:
            with self._blobs.open(raw.key) as source:
                encoded = self._images.avatar(source, self.settings.avatar_side)
                avatar = self._blobs.write(encoded, max_size=self.settings.max_upload_size)
        finally:
            self._blobs.delete(raw.key)
        try:
            with self._uow() as uow:
                user = self._user(uow, actor.id)
                old_key = user.avatar
                user = attrs.evolve(user, avatar=avatar.key)
                uow.users.update(user)
                self._tell_friends(uow, user, EventType.USER_UPDATED)
                uow.commit()
        except BaseException:
            self._blobs.delete(avatar.key)
            raise
        if old_key:
            self._blobs.delete(old_key)
        self._wake_friends_of(user.id)
        return _user_view(user)

    def open_avatar(self, actor: Actor, user_id: str) -> tuple[UserView, BinaryIO | None]:
        """The user and a stream of their avatar (None when they use the default)."""
        user = self.get_user(actor, user_id)
        return user, (self._blobs.open(user.avatar) if user.avatar else None)

    def search_users(
        self,
        actor: Actor,
        *,
        text: str | None = None,
        first_name: str | None = None,
        second_name: str | None = None,
        start: int = 0,
        limit: int = policies.SEARCH_LIMIT_MAX,
    ) -> list[UserView]:
        """Users whose names or ID contain the given parts, case-insensitively."""
        policies.check_paging(start, limit, policies.SEARCH_LIMIT_MAX)

        def key(value: str | None) -> str | None:
            folded = search_key(value.strip()) if value else ""
            return folded or None

        with self._uow(read_only=True) as uow:
            found = uow.users.search(
                text=key(text),
                first_name=key(first_name),
                second_name=key(second_name),
                start=start,
                limit=limit,
            )
        return [_user_view(u) for u in found]

    # --- friends ---------------------------------------------------------------------

    def send_friend_request(self, actor: Actor, user_id: str) -> FriendView:
        """Ask a user to be friends; if they already asked you, you become friends."""
        with self._uow() as uow:
            other = self._other_user(uow, actor, user_id)
            row = uow.friendships.get(actor.id, other.id)
            now = self._clock.now()
            if row is None:
                row = Friendship(
                    requester_id=actor.id,
                    addressee_id=other.id,
                    status=FriendshipStatus.PENDING,
                    created_date=now,
                )
                uow.friendships.add(row)
                event = EventType.FRIEND_REQUEST
            elif row.status is FriendshipStatus.ACCEPTED:
                raise Conflict("You are already friends", code="already_friends")
            elif row.requester_id == actor.id:
                raise Conflict("You have already sent a request", code="already_requested")
            else:
                row = attrs.evolve(row, status=FriendshipStatus.ACCEPTED, created_date=now)
                uow.friendships.update(row)
                event = EventType.FRIEND_ACCEPTED
            me = self._user(uow, actor.id)
            self._append(uow, [other.id], event, {"user": user_data(_user_view(me))})
            uow.commit()
        self._notifier.notify([other.id])
        return FriendView(
            user=_user_view(other), is_accepted=row.status is FriendshipStatus.ACCEPTED, since=now
        )

    def accept_friend_request(self, actor: Actor, user_id: str) -> FriendView:
        """Accept a pending request the user sent you."""
        with self._uow() as uow:
            other = self._other_user(uow, actor, user_id)
            row = uow.friendships.get(actor.id, other.id)
            if row is not None and row.status is FriendshipStatus.ACCEPTED:
                raise Conflict("You are already friends", code="already_friends")
            if row is None or row.requester_id != other.id:
                raise NotFound("This user has not sent you a request")
            row = attrs.evolve(row, status=FriendshipStatus.ACCEPTED, created_date=self._clock.now())
            uow.friendships.update(row)
            me = self._user(uow, actor.id)
            self._append(uow, [other.id], EventType.FRIEND_ACCEPTED, {"user": user_data(_user_view(me))})
            uow.commit()
        self._notifier.notify([other.id])
        return FriendView(user=_user_view(other), is_accepted=True, since=row.created_date)

    def deny_friend_request(self, actor: Actor, user_id: str) -> None:
        """Refuse a pending request; the user may ask again later."""
        with self._uow() as uow:
            other = self._other_user(uow, actor, user_id)
            row = uow.friendships.get(actor.id, other.id)
            if row is None or row.status is not FriendshipStatus.PENDING or row.requester_id != other.id:
                raise NotFound("This user has no pending request to you")
            uow.friendships.remove(actor.id, other.id)
            self._append(uow, [other.id], EventType.FRIEND_DENIED, {"user_id": actor.alternative_id})
            uow.commit()
        self._notifier.notify([other.id])

    def remove_friend(self, actor: Actor, user_id: str) -> None:
        """Cancel your request to the user, refuse theirs, or end the friendship."""
        with self._uow() as uow:
            other = self._other_user(uow, actor, user_id)
            row = uow.friendships.get(actor.id, other.id)
            if row is None:
                raise NotFound("There is no friendship or request with this user")
            if row.status is FriendshipStatus.ACCEPTED:
                event = EventType.FRIEND_REMOVED
            elif row.requester_id == actor.id:
                event = EventType.FRIEND_CANCELLED
            else:
                event = EventType.FRIEND_DENIED
            uow.friendships.remove(actor.id, other.id)
            self._append(uow, [other.id], event, {"user_id": actor.alternative_id})
            uow.commit()
        self._notifier.notify([other.id])

    def list_friends(self, actor: Actor, kind: FriendListKind = FriendListKind.FRIENDS) -> list[FriendView]:
        """Friends, requests to you (incoming) or from you (outgoing), oldest first."""
        with self._uow(read_only=True) as uow:
            rows = [r for r in uow.friendships.list_for(actor.id) if _in_list(r, actor.id, kind)]
            users = uow.users.get_many(r.other(actor.id) for r in rows)
        return [
            FriendView(
                user=_user_view(users[r.other(actor.id)]),
                is_accepted=r.status is FriendshipStatus.ACCEPTED,
                since=r.created_date,
            )
            for r in rows
        ]

    # --- chats -----------------------------------------------------------------------

    def open_chat(self, actor: Actor, user_id: str) -> tuple[ChatView, bool]:
        """The 1:1 chat with a friend, created if missing; the flag says it was created."""
        with self._uow() as uow:
            other = self._other_user(uow, actor, user_id)
            chat = uow.chats.find_direct(actor.id, other.id)
            created = chat is None
            if chat is None:
                chat = self._start_chat(uow, actor, other)
                uow.commit()
            return self._chat_view(uow, actor, chat), created

    def get_chat(self, actor: Actor, chat_id: int) -> ChatView:
        """A chat you are a member of; NotFound otherwise."""
        with self._uow(read_only=True) as uow:
            return self._chat_view(uow, actor, self._member_chat(uow, actor, chat_id))

    def find_chat_with(self, actor: Actor, user_id: str) -> ChatView:
        """Your existing 1:1 chat with the user; NotFound if there is none."""
        with self._uow(read_only=True) as uow:
            other = self._other_user(uow, actor, user_id)
            chat = uow.chats.find_direct(actor.id, other.id)
            if chat is None:
                raise NotFound("You have no chat with this user")
            return self._chat_view(uow, actor, chat)

    def list_chats(self, actor: Actor) -> list[ChatView]:
        """Your chats, latest activity first, each with its last message and unread count."""
        with self._uow(read_only=True) as uow:
            return [self._chat_view(uow, actor, c) for c in uow.chats.list_for_user(actor.id)]

    def delete_chat(self, actor: Actor, chat_id: int) -> None:
        """Delete the chat and every message in it, for every member."""
        with self._uow() as uow:
            chat = self._member_chat(uow, actor, chat_id)
            member_ids = [m.user_id for m in uow.chats.members(chat.id)]
            doomed = uow.attachments.for_chat(chat.id)
            uow.chats.remove(chat.id)
            self._append(uow, member_ids, EventType.CHAT_DELETED, {"chat_id": chat.id})
            uow.commit()
        self._delete_blobs(doomed)
        self._notifier.notify(member_ids)

    # --- messages --------------------------------------------------------------------

    def send_message(
        self,
        actor: Actor,
        *,
        chat_id: int | None = None,
        receiver_id: str | None = None,
        text: str | None = None,
        sticker_id: int | None = None,
        attachment_ids: Sequence[int] = (),
    ) -> MessageView:
        """Send text, a sticker and/or attachments to a chat or to a friend."""
        text = clean_text(text or "") or None
        errors = FieldErrors()
        if text is None and sticker_id is None and not attachment_ids:
            errors.add("text", "Nothing to send: write text, pick a sticker or attach a file")
        if text is not None and len(text) > policies.MESSAGE_MAX:
            errors.add("text", f"At most {policies.MESSAGE_MAX} characters")
        if len(attachment_ids) > policies.ATTACHMENTS_MAX:
            errors.add("attachment_ids", f"At most {policies.ATTACHMENTS_MAX} attachments")
        elif len(set(attachment_ids)) != len(attachment_ids):
            errors.add("attachment_ids", "An attachment is listed twice")
        if chat_id is None and receiver_id is None:
            errors.add("chat_id", "Name the chat (chat_id) or the receiver (receiver_id)")
        errors.raise_if_any()

        with self._uow() as uow:
            if chat_id is not None:
                chat = self._member_chat(uow, actor, chat_id)
            else:
                other = self._other_user(uow, actor, receiver_id or "")
                found = uow.chats.find_direct(actor.id, other.id)
                chat = found or self._start_chat(uow, actor, other)
            sticker = uow.stickers.get_sticker(sticker_id) if sticker_id is not None else None
            if sticker_id is not None and sticker is None:
                raise Invalid({"sticker_id": "There is no such sticker"})
            files = []
            for attachment_id in attachment_ids:
                attachment = uow.attachments.get(attachment_id)
                if (
                    attachment is None
                    or attachment.uploader_id != actor.id
                    or attachment.message_id is not None
                ):
                    raise Invalid(
                        {"attachment_ids": f"Attachment {attachment_id} is not an unsent upload of yours"}
                    )
                files.append(attachment)
            now = self._clock.now()
            message = uow.messages.add(
                NewMessage(
                    chat_id=chat.id, sender_id=actor.id, text=text, sticker_id=sticker_id, sending_date=now
                )
            )
            if attachment_ids:
                uow.attachments.attach(attachment_ids, message.id)
            uow.chats.touch(chat.id, last_message_id=message.id, at=now)
            uow.chats.set_last_read(chat.id, actor.id, message.id)
            # Everything the new message's view needs is at hand: no read-back. Nobody else
            # can have read it yet, since read marks only point at existing messages.
            view = MessageView(
                id=message.id,
                chat_id=chat.id,
                sender_id=actor.alternative_id,
                text=text,
                sticker=_sticker_view(sticker) if sticker else None,
                attachments=tuple(_attachment_view(a) for a in files),
                sending_date=now,
                edited_date=None,
                is_deleted=False,
                is_read=False,
            )
            member_ids = [m.user_id for m in uow.chats.members(chat.id)]
            self._append(uow, member_ids, EventType.MESSAGE_NEW, {"message": message_data(view)})
            uow.commit()
        self._notifier.notify(member_ids)
        return view

    def history(
        self,
        actor: Actor,
        chat_id: int,
        *,
        before: int | None = None,
        after: int | None = None,
        since: datetime | None = None,
        limit: int = policies.HISTORY_LIMIT_DEFAULT,
    ) -> list[MessageView]:
        """A page of the chat, oldest first: the newest by default, or the messages just
        before/after a message id, or sent after a moment. Keyset paging, never offsets."""
        if not 1 <= limit <= policies.HISTORY_LIMIT_MAX:
            raise Invalid({"limit": f"Must be from 1 to {policies.HISTORY_LIMIT_MAX}"})
        if before is not None and after is not None:
            raise Invalid({"before": "Use before or after, not both"})
        with self._uow(read_only=True) as uow:
            chat = self._member_chat(uow, actor, chat_id)
            if after is not None:
                page = uow.messages.page_after(chat.id, after, limit)
            elif since is not None and before is None:
                page = uow.messages.page_since(chat.id, since, limit)
            else:
                page = uow.messages.page_before(chat.id, before, limit)[::-1]
                if since is not None:
                    page = [m for m in page if m.sending_date > since]
            return self._message_views(uow, chat.id, page)

    def history_with(self, actor: Actor, user_id: str, **paging: Any) -> list[MessageView]:
        """``history`` of your 1:1 chat with the user (empty when there is none yet)."""
        with self._uow(read_only=True) as uow:
            other = self._other_user(uow, actor, user_id)
            chat = uow.chats.find_direct(actor.id, other.id)
        return [] if chat is None else self.history(actor, chat.id, **paging)

    def edit_message(self, actor: Actor, message_id: int, *, text: str) -> MessageView:
        """Replace the text of your own message and mark it edited."""
        cleaned = clean_text(text or "")
        if not cleaned:
            raise Invalid({"text": "Must not be empty"})
        if len(cleaned) > policies.MESSAGE_MAX:
            raise Invalid({"text": f"At most {policies.MESSAGE_MAX} characters"})
        with self._uow() as uow:
            message = self._own_message(uow, actor, message_id)
            if message.is_deleted:
                raise Conflict("The message was deleted", code="message_deleted")
            message = attrs.evolve(message, text=cleaned, edited_date=self._clock.now())
            uow.messages.update(message)
            view = self._message_views(uow, message.chat_id, [message])[0]
            member_ids = self._announce(uow, message.chat_id, EventType.MESSAGE_EDITED, view)
            uow.commit()
        self._notifier.notify(member_ids)
        return view

    def delete_message(self, actor: Actor, message_id: int) -> MessageView:
        """Delete your own message for everyone, leaving a tombstone; repeating is harmless."""
        with self._uow() as uow:
            message = self._own_message(uow, actor, message_id)
            if message.is_deleted:
                return self._message_views(uow, message.chat_id, [message])[0]
            message = attrs.evolve(message, text=None, sticker_id=None, is_deleted=True)
            uow.messages.update(message)
            doomed = uow.attachments.detach_all(message.id)
            view = self._message_views(uow, message.chat_id, [message])[0]
            member_ids = self._announce(uow, message.chat_id, EventType.MESSAGE_DELETED, view)
            uow.commit()
        self._delete_blobs(doomed)
        self._notifier.notify(member_ids)
        return view

    def mark_read(self, actor: Actor, chat_id: int, message_id: int) -> ChatView:
        """Mark the chat read up to a message of it; a read mark never moves back."""
        with self._uow() as uow:
            chat = self._member_chat(uow, actor, chat_id)
            message = uow.messages.get(message_id)
            if message is None or message.chat_id != chat.id:
                raise NotFound("No such message in this chat")
            members = uow.chats.members(chat.id)
            mine = next(m for m in members if m.user_id == actor.id)
            member_ids = [m.user_id for m in members]
            if message_id > mine.last_read_message_id:
                uow.chats.set_last_read(chat.id, actor.id, message_id)
                data = {"chat_id": chat.id, "user_id": actor.alternative_id, "message_id": message_id}
                self._append(uow, member_ids, EventType.CHAT_READ, data)
                uow.commit()
            view = self._chat_view(uow, actor, uow.chats.get(chat.id) or chat)
        self._notifier.notify(member_ids)
        return view

    # --- stickers and attachments -----------------------------------------------------

    def list_sticker_packs(self) -> list[StickerPackView]:
        """Every sticker pack with its stickers, in order."""
        with self._uow(read_only=True) as uow:
            packs = uow.stickers.list_packs()
        return [
            StickerPackView(id=p.id, title=p.title, stickers=tuple(_sticker_view(s) for s in p.stickers))
            for p in packs
        ]

    def add_sticker_pack(self, title: str, uploads: Sequence[Upload]) -> StickerPackView:
        """Create a pack from images (PNG, JPEG, WebP, GIF), each size-limited."""
        errors = FieldErrors()
        title = policies.check_name(errors, "title", title)
        if not uploads:
            errors.add("files", "A pack needs at least one image")
        errors.raise_if_any()
        stored: list[tuple[str, str]] = []
        try:
            for upload in uploads:
                blob = self._blobs.write(upload.chunks, max_size=self.settings.max_sticker_size)
                stored.append((blob.key, ""))
                with self._blobs.open(blob.key) as source:
                    info = self._images.inspect(source)
                if info is None:
                    raise Invalid({"files": f"{policies.clean_file_name(upload.name)} is not an image"})
                stored[-1] = (blob.key, info.mime)
            with self._uow() as uow:
                pack = uow.stickers.add_pack(title, stored)
                uow.commit()
        except BaseException:
            for key, _ in stored:
                self._blobs.delete(key)
            raise
        return StickerPackView(
            id=pack.id, title=pack.title, stickers=tuple(_sticker_view(s) for s in pack.stickers)
        )

    def open_sticker(self, sticker_id: int) -> tuple[StickerView, BinaryIO]:
        """A sticker and a stream of its image."""
        with self._uow(read_only=True) as uow:
            sticker = uow.stickers.get_sticker(sticker_id)
        if sticker is None:
            raise NotFound("No such sticker")
        return _sticker_view(sticker), self._blobs.open(sticker.image_key)

    def upload_attachment(self, actor: Actor, upload: Upload) -> AttachmentView:
        """Store a file for a later message. Its kind comes from its content."""
        blob = self._blobs.write(upload.chunks, max_size=self.settings.max_upload_size)
        thumbnail_key: str | None = None
        try:
            with self._blobs.open(blob.key) as source:
                kind, mime = policies.sniff_media(source.read(64))
                width = height = None
                if kind is AttachmentKind.PHOTO:
                    source.seek(0)
                    info = self._images.inspect(source)
                    thumbnail = None
                    if info is not None:
                        source.seek(0)
                        try:
                            thumbnail = self._images.thumbnail(source, self.settings.thumbnail_side)
                        except Invalid:  # a sound header over broken pixels (a cut-off upload)
                            info = None
                    if info is None or thumbnail is None:  # a broken image is still a file the user may send
                        kind, mime = AttachmentKind.FILE, "application/octet-stream"
                    else:
                        width, height = info.width, info.height
                        thumbnail_key = self._blobs.write(
                            thumbnail, max_size=self.settings.max_upload_size
                        ).key
            with self._uow() as uow:
                attachment = uow.attachments.add(
                    NewAttachment(
                        uploader_id=actor.id,
                        kind=kind,
                        name=policies.clean_file_name(upload.name),
                        size=blob.size,
                        mime=mime,
                        storage_key=blob.key,
                        created_date=self._clock.now(),
                        width=width,
                        height=height,
                        thumbnail_key=thumbnail_key,
                    )
                )
                uow.commit()
        except BaseException:
            self._blobs.delete(blob.key)
            if thumbnail_key:
                self._blobs.delete(thumbnail_key)
            raise
        return _attachment_view(attachment)

    def open_attachment(
        self, actor: Actor, attachment_id: int, *, thumbnail: bool = False
    ) -> tuple[AttachmentView, BinaryIO]:
        """An attachment's bytes, for its uploader and the members of its chat only:
        everyone else gets NotFound, so ids reveal nothing."""
        with self._uow(read_only=True) as uow:
            attachment = uow.attachments.get(attachment_id)
            visible = attachment is not None and (
                attachment.uploader_id == actor.id or self._can_see_message(uow, actor, attachment.message_id)
            )
        if attachment is None or not visible:
            raise NotFound("No such attachment")
        key = attachment.thumbnail_key if thumbnail else attachment.storage_key
        if key is None:
            raise NotFound("This attachment has no thumbnail")
        return _attachment_view(attachment), self._blobs.open(key)

    def remove_orphan_uploads(self, limit: int = 1000) -> int:
        """Delete uploads never attached to a message within the allowed time."""
        before = self._clock.now() - self.settings.orphan_upload_lifetime
        with self._uow() as uow:
            orphans = uow.attachments.orphans_before(before, limit)
            for attachment in orphans:
                uow.attachments.remove(attachment.id)
            uow.commit()
        self._delete_blobs(orphans)
        return len(orphans)

    # --- events ----------------------------------------------------------------------

    def events(
        self, actor: Actor, *, since: int | None = None, timeout: float = 0.0, limit: int = 100
    ) -> EventBatch:
        """Your events after the cursor ``since``, waiting up to ``timeout`` seconds for
        the first. Without ``since``: no events and the current cursor. Gone when the
        cursor is unknown or older than what is retained."""
        if since is None:
            with self._uow(read_only=True) as uow:
                return EventBatch(events=(), cursor=uow.events.latest_id())
        if since < 0:
            raise Invalid({"since": "Must not be negative"})
        deadline = self._clock.now() + timedelta(seconds=max(0.0, timeout))
        timed_out = timeout <= 0
        while True:
            version = self._notifier.version(actor.id)
            with self._uow(read_only=True) as uow:
                if since > uow.events.latest_id() or since < uow.events.oldest_retained_id():
                    raise Gone("The cursor is unknown or too old: reload and start again")
                found = uow.events.after(actor.id, since, limit)
            # The notifier's own timeout ends the wait, so a clock that stands still (or
            # steps back) can never make a long-poll wait for longer than asked.
            remaining = min(timeout, (deadline - self._clock.now()).total_seconds())
            if found or timed_out or remaining <= 0:
                cursor = found[-1].id if found else since
                return EventBatch(events=tuple(found), cursor=cursor)
            timed_out = not self._notifier.wait(actor.id, version, remaining)

    def prune_events(self) -> int:
        """Delete events older than the retention period."""
        with self._uow() as uow:
            removed = uow.events.prune_before(self._clock.now() - self.settings.event_retention)
            uow.commit()
        return removed

    # --- helpers ---------------------------------------------------------------------

    def _token_pair(self, user: User, expires_in: int | None) -> TokenPair:
        return TokenPair(
            access_token=self.tokens.issue(user.alternative_id, TokenType.ACCESS, expires_in=expires_in),
            refresh_token=self.tokens.issue(user.alternative_id, TokenType.REFRESH),
        )

    def _fresh_alternative_id(self, uow: UnitOfWork) -> str:
        for _ in range(100):
            candidate = self._random.choice_string(
                policies.ALTERNATIVE_ID_ALPHABET, policies.ALTERNATIVE_ID_LENGTH
            )
            if uow.users.get_by_alternative_id(candidate) is None:
                return candidate
        raise RuntimeError("the random source keeps repeating itself")

    @staticmethod
    def _user(uow: UnitOfWork, user_id: int) -> User:
        user = uow.users.get(user_id)
        if user is None:
            raise Unauthorized("token_revoked", "Your account no longer exists")
        return user

    @staticmethod
    def _other_user(uow: UnitOfWork, actor: Actor, user_id: str) -> User:
        if user_id == actor.alternative_id:
            raise Invalid({"user_id": "This is your own id"})
        other = uow.users.get_by_alternative_id(user_id) if user_id else None
        if other is None:
            raise NotFound("No user with this id")
        return other

    def _start_chat(self, uow: UnitOfWork, actor: Actor, other: User) -> Chat:
        row = uow.friendships.get(actor.id, other.id)
        if row is None or row.status is not FriendshipStatus.ACCEPTED:
            raise Forbidden("You can only start a chat with a friend", code="not_friends")
        return uow.chats.add([actor.id, other.id], self._clock.now())

    @staticmethod
    def _member_chat(uow: UnitOfWork, actor: Actor, chat_id: int) -> Chat:
        chat = uow.chats.get(chat_id)
        if chat is None or actor.id not in {m.user_id for m in uow.chats.members(chat_id)}:
            raise NotFound("No such chat")
        return chat

    @staticmethod
    def _can_see_message(uow: UnitOfWork, actor: Actor, message_id: int | None) -> bool:
        message = uow.messages.get(message_id) if message_id is not None else None
        return message is not None and any(m.user_id == actor.id for m in uow.chats.members(message.chat_id))

    def _own_message(self, uow: UnitOfWork, actor: Actor, message_id: int) -> Message:
        message = uow.messages.get(message_id)
        if message is None or not self._can_see_message(uow, actor, message_id):
            raise NotFound("No such message")
        if message.sender_id != actor.id:
            raise Forbidden("Only the author may change a message", code="not_author")
        return message

    def _chat_view(self, uow: UnitOfWork, actor: Actor, chat: Chat) -> ChatView:
        members = uow.chats.members(chat.id)
        users = uow.users.get_many(m.user_id for m in members)
        mine = next((m for m in members if m.user_id == actor.id), None)
        last_read = mine.last_read_message_id if mine else 0
        last = uow.messages.get(chat.last_message_id) if chat.last_message_id else None
        member_views = tuple(_user_view(users[m.user_id]) for m in members if m.user_id in users)
        others = [v for v in member_views if v.id != actor.id]
        return ChatView(
            id=chat.id,
            title=", ".join(f"{u.first_name} {u.second_name}" for u in others) or "—",
            members=member_views,
            last_message=self._message_views(uow, chat.id, [last])[0] if last else None,
            unread_count=uow.messages.count_unread(chat.id, actor.id, last_read),
            last_read_message_id=last_read,
            last_activity=chat.last_activity,
        )

    def _message_views(self, uow: UnitOfWork, chat_id: int, messages: list[Message]) -> list[MessageView]:
        if not messages:
            return []
        members = uow.chats.members(chat_id)
        senders = uow.users.get_many({m.sender_id for m in messages})
        attachments = uow.attachments.for_messages(m.id for m in messages)
        stickers: dict[int, Sticker | None] = {}
        for message in messages:
            if message.sticker_id is not None and message.sticker_id not in stickers:
                stickers[message.sticker_id] = uow.stickers.get_sticker(message.sticker_id)
        # Per sender, computed once: its public id, and how far every other member has
        # read (a message is read when all of them have read past it).
        sender_ids = {m.sender_id for m in messages}
        public_ids = {i: senders[i].alternative_id if i in senders else "" for i in sender_ids}
        read_up_to = {
            i: min((m.last_read_message_id for m in members if m.user_id != i), default=-1)
            for i in sender_ids
        }
        views = []
        for message in messages:
            sticker = stickers.get(message.sticker_id) if message.sticker_id is not None else None
            files = attachments.get(message.id)
            views.append(
                MessageView(
                    id=message.id,
                    chat_id=message.chat_id,
                    sender_id=public_ids[message.sender_id],
                    text=message.text,
                    sticker=_sticker_view(sticker) if sticker else None,
                    attachments=tuple(_attachment_view(a) for a in files) if files else (),
                    sending_date=message.sending_date,
                    edited_date=message.edited_date,
                    is_deleted=message.is_deleted,
                    is_read=read_up_to[message.sender_id] >= message.id,
                )
            )
        return views

    def _announce(self, uow: UnitOfWork, chat_id: int, type: EventType, view: MessageView) -> list[int]:
        """Append a message event for every member (the author's other tabs too)."""
        member_ids = [m.user_id for m in uow.chats.members(chat_id)]
        self._append(uow, member_ids, type, {"message": message_data(view)})
        return member_ids

    def _append(
        self, uow: UnitOfWork, user_ids: Iterable[int], type: EventType, data: dict[str, Any]
    ) -> None:
        now = self._clock.now()
        for user_id in user_ids:
            uow.events.append(user_id, type, data, now)

    def _tell_friends(self, uow: UnitOfWork, user: User, type: EventType) -> None:
        friends = [r.other(user.id) for r in uow.friendships.list_for(user.id)]
        self._append(uow, itertools.chain([user.id], friends), type, {"user": user_data(_user_view(user))})

    def _wake_friends_of(self, user_id: int) -> None:
        with self._uow(read_only=True) as uow:
            friends = [r.other(user_id) for r in uow.friendships.list_for(user_id)]
        self._notifier.notify([user_id, *friends])

    def _delete_blobs(self, attachments: Iterable[Attachment]) -> None:
        for attachment in attachments:
            self._blobs.delete(attachment.storage_key)
            if attachment.thumbnail_key:
                self._blobs.delete(attachment.thumbnail_key)


def _in_list(row: Friendship, me: int, kind: FriendListKind) -> bool:
    if kind is FriendListKind.FRIENDS:
        return row.status is FriendshipStatus.ACCEPTED
    if row.status is not FriendshipStatus.PENDING:
        return False
    return (row.addressee_id == me) == (kind is FriendListKind.INCOMING)


def _public_changed(before: User, after: User) -> bool:
    public = ("first_name", "second_name", "avatar", "alternative_id")
    return any(getattr(before, f) != getattr(after, f) for f in public)


def _user_view(user: User) -> UserView:
    return UserView(
        id=user.id,
        user_id=user.alternative_id,
        first_name=user.first_name,
        second_name=user.second_name,
        avatar=user.avatar,
        email=user.email,
        phone_number=user.phone_number,
        age=user.age,
        city=user.city,
        additional_inf=user.additional_inf,
        created_date=user.created_date,
        is_confirmed=user.is_confirmed,
    )


def _sticker_view(sticker: Sticker) -> StickerView:
    return StickerView(id=sticker.id, pack_id=sticker.pack_id, mime=sticker.mime)


def _attachment_view(attachment: Attachment) -> AttachmentView:
    return AttachmentView(
        id=attachment.id,
        kind=attachment.kind,
        name=attachment.name,
        size=attachment.size,
        mime=attachment.mime,
        width=attachment.width,
        height=attachment.height,
        has_thumbnail=attachment.thumbnail_key is not None,
    )
