"""Entities, values and read models of the messenger.

Everything here is a frozen attrs record: a change makes a new object
(``attrs.evolve``). Entities hold no repositories and read no clock.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import attrs

from .errors import Conflict, NotFound
from .limits import REPLY_PREVIEW_MAX


class FriendshipStatus(enum.Enum):
    PENDING = "pending"
    ACCEPTED = "accepted"


class FriendListKind(enum.Enum):
    FRIENDS = "friends"
    INCOMING = "incoming"
    OUTGOING = "outgoing"


class AttachmentKind(enum.Enum):
    PHOTO = "photo"
    VIDEO = "video"
    AUDIO = "audio"
    FILE = "file"


class ChatKind(enum.Enum):
    DIRECT = "direct"  # two people; only friends start one
    GROUP = "group"  # a title, members with roles


class MemberRole(enum.Enum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class MessageKind(enum.Enum):
    USER = "user"  # written by a member
    SYSTEM = "system"  # what happened to the group (``Message.system`` says what)


class SystemAction(enum.Enum):
    GROUP_CREATED = "group_created"
    MEMBER_ADDED = "member_added"
    MEMBER_REMOVED = "member_removed"
    MEMBER_LEFT = "member_left"
    TITLE_CHANGED = "title_changed"
    PHOTO_CHANGED = "photo_changed"
    ROLE_CHANGED = "role_changed"
    HISTORY_VISIBILITY_CHANGED = "history_visibility_changed"


class TokenType(enum.Enum):
    ACCESS = "access"
    REFRESH = "refresh"
    CONFIRM = "confirm"


class Visibility(enum.Enum):
    """Who sees a user's last-seen time and online status."""

    EVERYBODY = "everybody"
    FRIENDS = "friends"
    NOBODY = "nobody"


class SessionEnd(enum.Enum):
    """Why a session ended (what a signed-out device is told)."""

    LOGOUT = "logout"  # signed out on that device
    ENDED_ELSEWHERE = "ended_elsewhere"  # ended from another session
    PASSWORD_CHANGED = "password_changed"  # the password or email changed
    REFRESH_REUSED = "refresh_reused"  # a retired refresh token came back: it may be stolen
    IDLE = "idle"  # unused for longer than the idle limit


class ExportState(enum.Enum):
    PENDING = "pending"
    READY = "ready"


class EventType(enum.Enum):
    MESSAGE_NEW = "message.new"
    MESSAGE_EDITED = "message.edited"
    MESSAGE_DELETED = "message.deleted"
    CHAT_READ = "chat.read"
    CHAT_DELETED = "chat.deleted"
    CHAT_CREATED = "chat.created"
    CHAT_UPDATED = "chat.updated"
    CHAT_MEMBER_ADDED = "chat.member_added"
    CHAT_MEMBER_REMOVED = "chat.member_removed"
    CHAT_ROLE_CHANGED = "chat.role_changed"
    CHAT_PINNED = "chat.pinned"
    CHAT_CLEARED = "chat.cleared"
    MESSAGE_REACTION = "message.reaction"
    MESSAGE_HIDDEN = "message.hidden"
    FRIEND_REQUEST = "friend.request"
    FRIEND_ACCEPTED = "friend.accepted"
    FRIEND_DENIED = "friend.denied"
    FRIEND_CANCELLED = "friend.cancelled"
    FRIEND_REMOVED = "friend.removed"
    USER_UPDATED = "user.updated"
    CHAT_MUTED = "chat.muted"
    SETTINGS_UPDATED = "settings.updated"
    EXPORT_READY = "export.ready"


# A mute without an end: the latest time every adapter stores (the API says "forever").
MUTED_FOREVER = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)


# --- entities -------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class User:
    id: int
    alternative_id: str
    email: str
    password_hash: str
    first_name: str
    second_name: str
    phone_number: str | None = None
    age: int | None = None
    city: str | None = None
    additional_inf: str | None = None
    avatar: str | None = None  # blob key of the 256 px image, None for the default
    created_date: datetime
    is_confirmed: bool = False
    # Notification settings, the user's own (never shown to anyone else).
    notify_preview: bool = True  # notifications show the message's text
    notify_muted_mentions: bool = True  # a mention in a muted chat still notifies
    username: str | None = None  # public, lower-case, never rotates; None without one
    last_seen: datetime | None = None  # minute precision
    last_seen_visibility: Visibility = Visibility.EVERYBODY
    read_receipts: bool = True
    typing_indicator: bool = True
    forward_link: bool = True
    is_deleted: bool = False  # a tombstone: "Удалённый аккаунт" to clients

    def tombstoned(self, *, alternative_id: str, email: str) -> User:
        """What stays of a deleted account: a row its messages can point at, nothing of
        the person (the email becomes a placeholder, freeing the real one)."""
        return User(
            id=self.id,
            alternative_id=alternative_id,
            email=email,
            password_hash="",
            first_name="",
            second_name="",
            created_date=self.created_date,
            is_deleted=True,
        )


@attrs.frozen(kw_only=True)
class NewUser:
    """A user before the repository has given it an ``id``."""

    alternative_id: str
    email: str
    password_hash: str
    first_name: str
    second_name: str
    created_date: datetime


@attrs.frozen(kw_only=True)
class Friendship:
    """A friend request (pending) or a friendship (accepted); one row per pair."""

    requester_id: int
    addressee_id: int
    status: FriendshipStatus
    created_date: datetime

    @classmethod
    def request(cls, *, requester_id: int, addressee_id: int, at: datetime) -> Friendship:
        """A new pending request."""
        return cls(
            requester_id=requester_id,
            addressee_id=addressee_id,
            status=FriendshipStatus.PENDING,
            created_date=at,
        )

    @property
    def is_accepted(self) -> bool:
        return self.status is FriendshipStatus.ACCEPTED

    def is_request_to(self, user_id: int) -> bool:
        """A pending request that ``user_id`` received."""
        return self.status is FriendshipStatus.PENDING and self.addressee_id == user_id

    def requested_again(self, *, by: int, at: datetime) -> Friendship:
        """What a request from ``by`` makes of this row: asking someone who already
        asked you accepts their request; anything else is a Conflict."""
        if self.is_accepted:
            raise Conflict("already_friends")
        if self.requester_id == by:
            raise Conflict("already_requested")
        return self.accepted(by=by, at=at)

    def accepted(self, *, by: int, at: datetime) -> Friendship:
        """The request accepted by its addressee ``by``."""
        if self.is_accepted:
            raise Conflict("already_friends")
        if self.addressee_id != by:
            raise NotFound("request")
        return attrs.evolve(self, status=FriendshipStatus.ACCEPTED, created_date=at)

    def check_deniable(self, *, by: int) -> None:
        """Only a pending request to ``by`` may be denied."""
        if not self.is_request_to(by):
            raise NotFound("pending_request")

    def ending(self, *, by: int) -> EventType:
        """What ending this row by ``by`` tells the other user: the friendship was
        removed, the request cancelled (by its sender) or denied (by its addressee)."""
        if self.is_accepted:
            return EventType.FRIEND_REMOVED
        return EventType.FRIEND_CANCELLED if self.requester_id == by else EventType.FRIEND_DENIED

    def in_list(self, user_id: int, kind: FriendListKind) -> bool:
        """Whether the row belongs in the user's list of friends, incoming or outgoing requests."""
        if kind is FriendListKind.FRIENDS:
            return self.is_accepted
        if self.is_accepted:
            return False
        return (self.addressee_id == user_id) == (kind is FriendListKind.INCOMING)

    def involves(self, user_id: int) -> bool:
        return user_id in (self.requester_id, self.addressee_id)

    def other(self, user_id: int) -> int:
        return self.addressee_id if user_id == self.requester_id else self.requester_id


@attrs.frozen(kw_only=True)
class Session:
    """A signed-in device: its tokens carry the id; ending it revokes them at once."""

    id: int
    user_id: int
    device: str
    ip: str | None
    created_date: datetime
    last_used_date: datetime
    generation: int = 1  # of the one refresh token that renews it now
    rotated_date: datetime | None = None  # when the generation last moved on
    ended_date: datetime | None = None
    end_reason: SessionEnd | None = None

    @property
    def is_ended(self) -> bool:
        return self.ended_date is not None

    def ended(self, reason: SessionEnd, at: datetime) -> Session:
        return self if self.is_ended else attrs.evolve(self, ended_date=at, end_reason=reason)

    def rotated(self, at: datetime) -> Session:
        """The session after its refresh token was exchanged for the next generation."""
        return attrs.evolve(self, generation=self.generation + 1, rotated_date=at, last_used_date=at)


@attrs.frozen(kw_only=True)
class NewSession:
    user_id: int
    device: str
    ip: str | None
    created_date: datetime


@attrs.frozen(kw_only=True)
class Block:
    """``blocker_id`` blocked ``blocked_id``: one row per direction."""

    blocker_id: int
    blocked_id: int
    created_date: datetime


@attrs.frozen(kw_only=True)
class Export:
    """A user's latest export of their data (one per user)."""

    user_id: int
    state: ExportState
    created_date: datetime
    blob_key: str | None = None
    size: int | None = None
    ready_date: datetime | None = None


@attrs.frozen(kw_only=True)
class Chat:
    id: int
    created_date: datetime
    last_activity: datetime
    last_message_id: int | None = None
    kind: ChatKind = ChatKind.DIRECT
    title: str | None = None  # groups only
    photo: str | None = None  # blob key of a group's 256 px photo
    creator_id: int | None = None
    history_visible: bool = True  # whether members who join later see what came before

    @property
    def is_group(self) -> bool:
        return self.kind is ChatKind.GROUP


@attrs.frozen(kw_only=True)
class NewChat:
    kind: ChatKind
    created_date: datetime
    title: str | None = None
    creator_id: int | None = None
    history_visible: bool = True


@attrs.frozen(kw_only=True)
class ChatMember:
    chat_id: int
    user_id: int
    last_read_message_id: int = 0
    role: MemberRole = MemberRole.MEMBER
    joined_date: datetime | None = None
    # Where the member's part of the chat begins: events with a greater id reach them,
    # and in a group without visible history, messages with a greater id are theirs.
    joined_event_id: int = 0
    visible_after_message_id: int = 0
    # Notifications of the chat are off until then (MUTED_FOREVER: for good).
    muted_until: datetime | None = None

    @property
    def manages(self) -> bool:
        """Owners and admins run a group: members, title, photo, moderation."""
        return self.role in (MemberRole.OWNER, MemberRole.ADMIN)


@attrs.frozen(kw_only=True)
class NewMember:
    user_id: int
    role: MemberRole
    joined_date: datetime
    joined_event_id: int = 0
    visible_after_message_id: int = 0


@attrs.frozen(kw_only=True)
class Message:
    id: int
    chat_id: int
    sender_id: int
    text: str | None
    sticker_id: int | None
    sending_date: datetime
    edited_date: datetime | None = None
    is_deleted: bool = False
    kind: MessageKind = MessageKind.USER
    # A system message's action and its parameters, with user ids (never prose).
    system: dict[str, Any] | None = None
    mentions: tuple[int, ...] = ()
    deleted_by: int | None = None  # who deleted it for everyone, when not its author
    # What it answers, as it was when sent: {"id", "sender_id", "preview", "kind"}.
    reply_to: dict[str, Any] | None = None
    # Where a forwarded copy came from: {"user_id" (None when unlinked), "name", "date"}.
    forwarded_from: dict[str, Any] | None = None

    def tombstoned(self, by: int | None = None) -> Message:
        """The message deleted for everyone: its content is gone, its place stays.
        ``by`` names a moderator who deleted someone else's message."""
        return attrs.evolve(
            self, text=None, sticker_id=None, mentions=(), reply_to=None, is_deleted=True, deleted_by=by
        )

    def edited(self, text: str, at: datetime) -> Message:
        """The message with new text; a tombstone cannot be edited."""
        if self.is_deleted:
            raise Conflict("message_deleted")
        return attrs.evolve(self, text=text, edited_date=at)

    @property
    def written_date(self) -> datetime:
        """When its current text was written."""
        return self.edited_date or self.sending_date

    def quoted(self, files: Sequence[Attachment]) -> dict[str, Any]:
        """What a reply to this message keeps of it, as it is now: its id, sender, the
        first characters of its text (else the first file's name) and what it holds."""
        kind = "sticker" if self.sticker_id is not None else "text"
        if files:
            kind = files[0].kind.value
        preview = (self.text or (files[0].name if files else ""))[:REPLY_PREVIEW_MAX]
        return {"id": self.id, "sender_id": self.sender_id, "preview": preview, "kind": kind}


@attrs.frozen(kw_only=True)
class NewMessage:
    chat_id: int
    sender_id: int
    text: str | None
    sticker_id: int | None
    sending_date: datetime
    kind: MessageKind = MessageKind.USER
    system: dict[str, Any] | None = None
    mentions: tuple[int, ...] = ()
    reply_to: dict[str, Any] | None = None
    forwarded_from: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class MessageVersion:
    """A text a message had, and when it was written."""

    text: str
    written_date: datetime


@attrs.frozen(kw_only=True)
class Reaction:
    message_id: int
    user_id: int
    emoji: str
    created_date: datetime


@attrs.frozen(kw_only=True)
class ReactionSummary:
    """One emoji's reactions to a message: how many, the first reactors (by time), and
    whether the viewer is among them."""

    emoji: str
    count: int
    user_ids: tuple[int, ...]
    me: bool = False


@attrs.frozen(kw_only=True)
class Pin:
    chat_id: int
    message_id: int
    pinned_by: int
    pinned_date: datetime


@attrs.frozen(kw_only=True)
class Attachment:
    id: int
    uploader_id: int
    kind: AttachmentKind
    name: str
    size: int
    mime: str
    storage_key: str
    created_date: datetime
    message_id: int | None = None
    position: int = 0  # order within its message
    width: int | None = None
    height: int | None = None
    thumbnail_key: str | None = None


@attrs.frozen(kw_only=True)
class NewAttachment:
    uploader_id: int
    kind: AttachmentKind
    name: str
    size: int
    mime: str
    storage_key: str
    created_date: datetime
    width: int | None = None
    height: int | None = None
    thumbnail_key: str | None = None


@attrs.frozen(kw_only=True)
class Sticker:
    id: int
    pack_id: int
    position: int
    image_key: str  # blob key of the image
    mime: str = "image/png"


@attrs.frozen(kw_only=True)
class StickerPack:
    id: int
    title: str
    stickers: tuple[Sticker, ...] = ()


@attrs.frozen(kw_only=True)
class Event:
    id: int  # the cursor: strictly increasing across the whole stream
    user_id: int | None  # a user's own event, or
    type: EventType
    data: dict[str, Any]
    created_date: datetime
    chat_id: int | None = None  # an event of a chat, for whoever is a member
    message_id: int | None = None  # the message a chat's event is about, if any


# --- values -----------------------------------------------------------------------


@attrs.frozen
class Actor:
    """The authenticated user a use case acts for, and the session their token belongs
    to (None for callers without one, such as scripts): which session acts does not
    change who acts, so it takes no part in equality."""

    id: int
    alternative_id: str
    session_id: int | None = attrs.field(default=None, eq=False)


@attrs.frozen(kw_only=True)
class TokenPair:
    access_token: str
    refresh_token: str


@attrs.frozen(kw_only=True)
class ProfileChanges:
    """Fields a user may change; ``attrs.NOTHING``-like ``None`` means "leave as is".

    ``clear`` names optional profile fields to empty (phone_number, age, city,
    additional_inf, username), since None already means "unchanged".
    """

    first_name: str | None = None
    second_name: str | None = None
    phone_number: str | None = None
    age: int | None = None
    city: str | None = None
    additional_inf: str | None = None
    email: str | None = None
    password: str | None = None
    old_password: str | None = None
    username: str | None = None
    clear: frozenset[str] = frozenset()


@attrs.frozen(kw_only=True)
class PrivacySettings:
    last_seen: Visibility = Visibility.EVERYBODY
    read_receipts: bool = True
    typing: bool = True
    forward_link: bool = True

    @classmethod
    def of(cls, user: User) -> PrivacySettings:
        return cls(
            last_seen=user.last_seen_visibility,
            read_receipts=user.read_receipts,
            typing=user.typing_indicator,
            forward_link=user.forward_link,
        )


@attrs.frozen(kw_only=True)
class Signal:
    """An ephemeral event (typing): delivered through the long-poll, never stored."""

    type: str
    data: dict[str, Any]
    expires: datetime


# --- what adapters tell the core ----------------------------------------------------


@attrs.frozen(kw_only=True)
class BlobInfo:
    key: str
    size: int


@attrs.frozen(kw_only=True)
class StoredBlob:
    """A finished blob as a store lists it: its key and when it was written (aware UTC)."""

    key: str
    written: datetime


@attrs.frozen(kw_only=True)
class ImageInfo:
    """What an image processor learned about, or made of, an image."""

    width: int
    height: int
    mime: str
