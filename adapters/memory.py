"""Dict-backed repositories and unit of work: the fast model every other adapter must match.

Writing units work on the live store, one at a time (a lock, like SQLite's ``BEGIN
IMMEDIATE``), and journal every change: how to undo it, so a use case that fails half-way
leaves nothing behind, and how to redo it. ``commit`` replays the redo journal onto a
second store, the committed one, which is all that read-only units see: they take no
unit-long lock, so they never wait for a writer nor make one wait, and they never see a
change that is not committed. Each read holds a short lock that a commit takes to
publish, so every read sees one whole commit; a commit may land between two reads of one
read-only unit (SQLite keeps one snapshot for the unit; giving memory that too would mean
copying the store per unit). Costs stay proportional to what a unit changes.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import hmac
import io
import itertools
import json
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, BinaryIO, NoReturn, Self

import attrs

from messenger_core import search
from messenger_core.errors import Conflict, NotFound, TooLarge, Unauthorized
from messenger_core.limits import REACTION_USERS_SHOWN
from messenger_core.model import (
    Attachment,
    BlobInfo,
    Block,
    Chat,
    ChatKind,
    ChatMember,
    Event,
    EventType,
    Export,
    ExportState,
    Friendship,
    MemberRole,
    Message,
    MessageKind,
    MessageVersion,
    NewAttachment,
    NewChat,
    NewMember,
    NewMessage,
    NewSession,
    NewUser,
    Pin,
    Reaction,
    ReactionSummary,
    Session,
    SessionEnd,
    Sticker,
    StickerPack,
    StoredBlob,
    User,
)
from messenger_core.normalize import bucket_in_seconds, bucket_wait, email_key, search_text
from messenger_core.ports import (
    AttachmentRepository,
    BlockRepository,
    ChatRepository,
    Clock,
    EventRepository,
    ExportRepository,
    FriendshipRepository,
    MessageRepository,
    PinRepository,
    ReactionRepository,
    SessionRepository,
    StickerRepository,
    StoredFileRepository,
    UnitOfWork,
    UserRepository,
)
from messenger_core.search import Filter
from messenger_core.tokens import has_required_claims

_MISSING: Any = object()

# Every journaled table of a store, as replayed onto the committed store.
_TABLES = (
    "users",
    "user_keys",
    "user_by_public_id",
    "user_by_email",
    "user_by_username",
    "friendships",
    "chats",
    "members",
    "chat_member_ids",
    "user_chat_ids",
    "messages",
    "chat_messages",
    "attachments",
    "message_versions",
    "message_reactions",
    "chat_pins",
    "hidden",
    "packs",
    "events",
    "sessions",
    "blocks",
    "exports",
    "next_ids",
)


class ReadOnlyUnitError(RuntimeError):
    """A write in a read-only unit of work: a bug in the caller, never a user's error."""


@attrs.define
class _Store:
    """All tables of the memory adapter, with an undo log for rollback and a redo log
    for publishing commits.

    Every mutation goes through ``put``/``pop``/``append``, which record how to undo and
    how to redo it while a unit of work is open: rollback and commit cost what the unit
    changed, not the size of the store. A ``read_only`` store refuses every mutation
    before it changes anything.
    """

    users: dict[int, User] = attrs.Factory(dict)
    user_keys: dict[int, tuple[str, str, str]] = attrs.Factory(dict)  # (all keys, first, second)
    user_by_public_id: dict[str, int] = attrs.Factory(dict)
    user_by_email: dict[str, int] = attrs.Factory(dict)
    user_by_username: dict[str, int] = attrs.Factory(dict)
    # Derived, not journaled: every user's keys in one string, rebuilt on the first search
    # after a change; (text, where each user's keys start, their ids).
    search_text: tuple[str, list[int], list[int]] | None = None
    friendships: dict[frozenset[int], Friendship] = attrs.Factory(dict)
    chats: dict[int, Chat] = attrs.Factory(dict)
    members: dict[tuple[int, int], ChatMember] = attrs.Factory(dict)  # (chat, user) → member
    # Indexes of members, kept beside them (tuples, replaced whole: the journal replays
    # flat tables): a chat's user ids in order, and a user's chat ids.
    chat_member_ids: dict[int, tuple[int, ...]] = attrs.Factory(dict)
    user_chat_ids: dict[int, tuple[int, ...]] = attrs.Factory(dict)
    messages: dict[int, Message] = attrs.Factory(dict)
    chat_messages: dict[int, list[int]] = attrs.Factory(dict)  # ids ascending
    attachments: dict[int, Attachment] = attrs.Factory(dict)
    # A message's earlier texts and its reactions (in the order they came), a chat's pins:
    # tuples, replaced whole. ``hidden`` maps (user, message) to the message's chat.
    message_versions: dict[int, tuple[MessageVersion, ...]] = attrs.Factory(dict)
    message_reactions: dict[int, tuple[Reaction, ...]] = attrs.Factory(dict)
    chat_pins: dict[int, tuple[Pin, ...]] = attrs.Factory(dict)
    hidden: dict[tuple[int, int], int] = attrs.Factory(dict)
    packs: dict[int, StickerPack] = attrs.Factory(dict)
    events: dict[int, Event] = attrs.Factory(dict)
    sessions: dict[int, Session] = attrs.Factory(dict)
    blocks: dict[tuple[int, int], Block] = attrs.Factory(dict)  # (blocker, blocked) → block
    exports: dict[int, Export] = attrs.Factory(dict)  # user id → their latest export
    next_ids: dict[str, int] = attrs.Factory(dict)
    undo: list[Callable[[], None]] | None = None
    # (operation, table, key, value) since the last commit, oldest first.
    redo: list[tuple[str, dict[Any, Any], Any, Any]] = attrs.Factory(list)
    read_only: bool = False

    def put(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        if self.read_only:
            self.refuse()
        old = table.get(key, _MISSING)
        table[key] = value
        if self.undo is not None:
            self.undo.append(lambda: table.pop(key) if old is _MISSING else table.__setitem__(key, old))
            # A list (a chat's message ids) grows in place later: redo puts a copy of it now.
            self.redo.append(("put", table, key, list(value) if type(value) is list else value))

    def pop(self, table: dict[Any, Any], key: Any) -> Any:
        if self.read_only:
            self.refuse()
        old = table.pop(key, _MISSING)
        if old is _MISSING:
            return None
        if self.undo is not None:
            self.undo.append(lambda: table.__setitem__(key, old))
            self.redo.append(("pop", table, key, None))
        return old

    def append(self, table: dict[Any, list[Any]], key: Any, value: Any) -> None:
        """Append ``value`` to the list ``table[key]``."""
        if self.read_only:
            self.refuse()
        items = table[key]
        items.append(value)
        if self.undo is not None:
            self.undo.append(items.pop)
            self.redo.append(("append", table, key, value))

    def next_id(self, table: str) -> int:
        self.put(self.next_ids, table, self.next_ids.get(table, 0) + 1)
        return self.next_ids[table]

    def twins(self, committed: _Store) -> dict[int, dict[Any, Any]]:
        """Each table of ``committed`` by the id of this store's table of that name."""
        return {id(getattr(self, name)): getattr(committed, name) for name in _TABLES}

    def publish(self, committed: _Store, twins: dict[int, dict[Any, Any]]) -> None:
        """Replay the changes since the last commit onto ``committed`` (whose tables are
        ``twins``), in order, so its tables (and their order) become what this store's
        are; forget them here."""
        for operation, table, key, value in self.redo:
            twin = twins[id(table)]
            if operation == "put":
                twin[key] = value
            elif operation == "pop":
                twin.pop(key, None)
            else:
                twin[key].append(value)
            if table is self.user_keys:
                committed.search_text = None
        self.redo.clear()

    def require_writable(self) -> None:
        """Refuse in a read-only store: for a write that may find nothing to change, so
        that it refuses as SQLite's ``query_only`` does."""
        if self.read_only:
            self.refuse()

    @staticmethod
    def refuse() -> NoReturn:
        raise ReadOnlyUnitError("this unit of work is read-only: it cannot write")


class MemoryUsers:
    def __init__(self, store: _Store) -> None:
        self._s = store

    def add(self, new: NewUser) -> User:
        self._check_unique(None, new.email, new.alternative_id)  # before an id is used up
        user = User(id=self._s.next_id("users"), **attrs.asdict(new, recurse=False))
        self.update(user)
        return user

    def get(self, user_id: int) -> User | None:
        return self._s.users.get(user_id)

    def get_many(self, user_ids: Iterable[int]) -> dict[int, User]:
        return {i: self._s.users[i] for i in set(user_ids) if i in self._s.users}

    def get_by_alternative_id(self, alternative_id: str) -> User | None:
        user_id = self._s.user_by_public_id.get(alternative_id)
        return None if user_id is None else self._s.users[user_id]

    def get_by_email(self, email: str) -> User | None:
        user_id = self._s.user_by_email.get(email_key(email))
        return None if user_id is None else self._s.users[user_id]

    def get_by_username(self, username: str) -> User | None:
        user_id = self._s.user_by_username.get(username.lower())
        return None if user_id is None else self._s.users[user_id]

    def set_last_seen(self, user_id: int, at: datetime) -> None:
        user = self._s.users.get(user_id)
        if user is not None:
            self._s.put(self._s.users, user_id, attrs.evolve(user, last_seen=at))
        else:
            self._s.require_writable()

    def _check_unique(
        self, user_id: int | None, email: str, alternative_id: str, username: str | None = None
    ) -> None:
        """The unique indexes of the SQLite schema: one account per folded email, per
        public id and per username."""
        if self._s.user_by_email.get(email_key(email), user_id) != user_id:
            raise Conflict("email_taken")
        if self._s.user_by_public_id.get(alternative_id, user_id) != user_id:
            raise Conflict("alternative_id_taken")
        if username is not None and self._s.user_by_username.get(username, user_id) != user_id:
            raise Conflict("username_taken")

    def update(self, user: User) -> None:
        self._check_unique(user.id, user.email, user.alternative_id, user.username)
        old = self._s.users.get(user.id)
        if old is not None:
            self._s.pop(self._s.user_by_public_id, old.alternative_id)
            self._s.pop(self._s.user_by_email, email_key(old.email))
            if old.username is not None:
                self._s.pop(self._s.user_by_username, old.username)
        self._s.put(self._s.users, user.id, user)
        self._s.put(self._s.user_by_public_id, user.alternative_id, user.id)
        self._s.put(self._s.user_by_email, email_key(user.email), user.id)
        if user.username is not None:
            self._s.put(self._s.user_by_username, user.username, user.id)
        joined = search_text(user.first_name, user.second_name, user.alternative_id, user.username)
        first, second, *_ = joined.split("\n")  # no key holds a newline
        self._s.put(self._s.user_keys, user.id, (joined, first, second))
        self._s.search_text = None

    def search(
        self,
        *,
        text: str | None,
        first_name: str | None,
        second_name: str | None,
        start: int,
        limit: int,
    ) -> list[User]:
        terms = (text or "").split()
        # A term holds no white space, so it cannot match across the lines of ``joined``.
        # The first term is found with str.find over every user's keys at once; the rest
        # filter those hits with one plain comprehension each (a generator per user costs
        # 10x more).
        hits: Iterable[tuple[int, tuple[str, str, str]]] = (
            self._holding(terms[0]) if terms else self._s.user_keys.items()
        )
        for term in terms[1:]:
            hits = [(i, keys) for i, keys in hits if term in keys[0]]
        if first_name is not None:
            hits = [(i, keys) for i, keys in hits if first_name in keys[1]]
        if second_name is not None:
            hits = [(i, keys) for i, keys in hits if second_name in keys[2]]
        hits = (hit for hit in hits if not self._s.users[hit[0]].is_deleted)
        return [self._s.users[i] for i, _ in itertools.islice(hits, start, start + limit)]

    def count(self) -> int:
        return len(self._s.users)

    def _holding(self, term: str) -> Iterator[tuple[int, tuple[str, str, str]]]:
        """Users whose keys hold ``term``, in id order."""
        if self._s.search_text is None:
            # user_keys is in id order: users come with growing ids and are never removed.
            ids = list(self._s.user_keys)
            lines = [self._s.user_keys[i][0] for i in ids]
            starts = list(itertools.accumulate((len(line) + 1 for line in lines), initial=0))
            self._s.search_text = ("\0".join(lines), starts, ids)
        text, starts, ids = self._s.search_text
        position = text.find(term)
        while position >= 0:
            index = bisect.bisect_right(starts, position) - 1
            keys = self._s.user_keys[ids[index]]
            if term in keys[0]:  # not a match across two users (a term holding "\0")
                yield ids[index], keys
            position = text.find(term, starts[index + 1])


class MemoryFriendships:
    def __init__(self, store: _Store) -> None:
        self._s = store

    def get(self, a: int, b: int) -> Friendship | None:
        return self._s.friendships.get(frozenset((a, b)))

    def add(self, friendship: Friendship) -> None:
        key = frozenset((friendship.requester_id, friendship.addressee_id))
        if key in self._s.friendships:
            raise Conflict("friendship_exists")
        self._s.put(self._s.friendships, key, friendship)

    def update(self, friendship: Friendship) -> None:
        key = frozenset((friendship.requester_id, friendship.addressee_id))
        self._s.put(self._s.friendships, key, friendship)

    def remove(self, a: int, b: int) -> bool:
        return self._s.pop(self._s.friendships, frozenset((a, b))) is not None

    def list_for(self, user_id: int) -> list[Friendship]:
        mine = [f for f in self._s.friendships.values() if f.involves(user_id)]
        return sorted(mine, key=lambda f: f.created_date)


class MemoryChats:
    def __init__(self, store: _Store) -> None:
        self._s = store

    def add(self, new: NewChat, members: Sequence[NewMember]) -> Chat:
        chat = Chat(
            id=self._s.next_id("chats"),
            created_date=new.created_date,
            last_activity=new.created_date,
            kind=new.kind,
            title=new.title,
            creator_id=new.creator_id,
            history_visible=new.history_visible,
        )
        self._s.put(self._s.chats, chat.id, chat)
        self._s.put(self._s.chat_messages, chat.id, [])
        self._s.put(self._s.chat_member_ids, chat.id, ())
        for member in members:
            if self.member(chat.id, member.user_id) is None:
                self.add_member(chat.id, member)
        return chat

    def get(self, chat_id: int) -> Chat | None:
        return self._s.chats.get(chat_id)

    def update(self, chat: Chat) -> None:
        stored = self._s.chats[chat.id]
        kept = attrs.evolve(stored, title=chat.title, photo=chat.photo, history_visible=chat.history_visible)
        self._s.put(self._s.chats, chat.id, kept)

    def find_direct(self, a: int, b: int) -> Chat | None:
        for chat_id in self._s.user_chat_ids.get(a, ()):
            chat = self._s.chats[chat_id]
            if chat.kind is ChatKind.DIRECT and set(self._s.chat_member_ids[chat_id]) == {a, b}:
                return chat
        return None

    def members(self, chat_id: int) -> list[ChatMember]:
        return [self._s.members[(chat_id, u)] for u in self._s.chat_member_ids.get(chat_id, ())]

    def member_ids(self, chat_id: int) -> list[int]:
        return list(self._s.chat_member_ids.get(chat_id, ()))

    def member(self, chat_id: int, user_id: int) -> ChatMember | None:
        return self._s.members.get((chat_id, user_id))

    def add_member(self, chat_id: int, member: NewMember) -> None:
        if self.member(chat_id, member.user_id) is not None:
            raise Conflict("already_member")
        joined = ChatMember(chat_id=chat_id, **attrs.asdict(member))
        self._s.put(self._s.members, (chat_id, member.user_id), joined)
        ids = self._s.chat_member_ids[chat_id]
        self._s.put(self._s.chat_member_ids, chat_id, tuple(sorted((*ids, member.user_id))))
        theirs = self._s.user_chat_ids.get(member.user_id, ())
        self._s.put(self._s.user_chat_ids, member.user_id, (*theirs, chat_id))

    def remove_member(self, chat_id: int, user_id: int) -> None:
        self._s.require_writable()
        if self._s.pop(self._s.members, (chat_id, user_id)) is None:
            return
        ids = self._s.chat_member_ids[chat_id]
        self._s.put(self._s.chat_member_ids, chat_id, tuple(u for u in ids if u != user_id))
        theirs = self._s.user_chat_ids[user_id]
        self._s.put(self._s.user_chat_ids, user_id, tuple(c for c in theirs if c != chat_id))

    def set_role(self, chat_id: int, user_id: int, role: MemberRole) -> None:
        self._replace_member(chat_id, user_id, role=role)

    def list_for_user(self, user_id: int) -> list[Chat]:
        mine = [self._s.chats[c] for c in self._s.user_chat_ids.get(user_id, ())]
        return sorted(mine, key=lambda c: (c.last_activity, c.id), reverse=True)

    def set_last_read(self, chat_id: int, user_id: int, message_id: int) -> None:
        self._replace_member(chat_id, user_id, last_read_message_id=message_id)

    def set_visible_after(self, chat_id: int, user_id: int, message_id: int) -> None:
        self._replace_member(chat_id, user_id, visible_after_message_id=message_id)

    def set_muted_until(self, chat_id: int, user_id: int, until: datetime | None) -> None:
        self._replace_member(chat_id, user_id, muted_until=until)

    def touch(self, chat_id: int, *, last_message_id: int | None, at: datetime) -> None:
        chat = attrs.evolve(self._s.chats[chat_id], last_message_id=last_message_id, last_activity=at)
        self._s.put(self._s.chats, chat_id, chat)

    def remove(self, chat_id: int) -> None:
        self._s.require_writable()
        self._s.pop(self._s.chats, chat_id)
        for user_id in self._s.chat_member_ids.get(chat_id, ()):
            self.remove_member(chat_id, user_id)
        self._s.pop(self._s.chat_member_ids, chat_id)
        self._s.pop(self._s.chat_pins, chat_id)
        doomed = set(self._s.pop(self._s.chat_messages, chat_id) or ())
        for message_id in doomed:
            self._s.pop(self._s.messages, message_id)
            self._s.pop(self._s.message_versions, message_id)
            self._s.pop(self._s.message_reactions, message_id)
        for key in [k for k in self._s.hidden if k[1] in doomed]:
            self._s.pop(self._s.hidden, key)
        for attachment in [a for a in self._s.attachments.values() if a.message_id in doomed]:
            self._s.pop(self._s.attachments, attachment.id)

    def _replace_member(self, chat_id: int, user_id: int, **changes: Any) -> None:
        member = self._s.members[(chat_id, user_id)]
        self._s.put(self._s.members, (chat_id, user_id), attrs.evolve(member, **changes))


class MemoryMessages:
    def __init__(self, store: _Store) -> None:
        self._s = store

    def add(self, new: NewMessage) -> Message:
        message = Message(id=self._s.next_id("messages"), **attrs.asdict(new, recurse=False))
        self._s.put(self._s.messages, message.id, message)
        self._s.append(self._s.chat_messages, message.chat_id, message.id)
        return message

    def get(self, message_id: int) -> Message | None:
        return self._s.messages.get(message_id)

    def update(self, message: Message) -> None:
        self._s.put(self._s.messages, message.id, message)

    def get_many(self, message_ids: Iterable[int]) -> dict[int, Message]:
        return {i: self._s.messages[i] for i in set(message_ids) if i in self._s.messages}

    def _ids(self, chat_id: int) -> list[int]:
        return self._s.chat_messages.get(chat_id, [])

    def _shown(self, ids: Iterable[int], hidden_for: int | None) -> Iterator[Message]:
        hidden = self._s.hidden
        return (self._s.messages[i] for i in ids if hidden_for is None or (hidden_for, i) not in hidden)

    def page_before(
        self, chat_id: int, before_id: int | None, limit: int, *, hidden_for: int | None = None
    ) -> list[Message]:
        ids = self._ids(chat_id)
        end = len(ids) if before_id is None else bisect.bisect_left(ids, before_id)
        return list(
            itertools.islice(self._shown((ids[i] for i in range(end - 1, -1, -1)), hidden_for), limit)
        )

    def page_after(
        self, chat_id: int, after_id: int, limit: int, *, hidden_for: int | None = None
    ) -> list[Message]:
        ids = self._ids(chat_id)
        begin = bisect.bisect_right(ids, after_id)
        return list(
            itertools.islice(self._shown((ids[i] for i in range(begin, len(ids))), hidden_for), limit)
        )

    def page_since(
        self, chat_id: int, since: datetime, limit: int, *, hidden_for: int | None = None
    ) -> list[Message]:
        newer = (m for m in self._shown(self._ids(chat_id), hidden_for) if m.sending_date > since)
        return list(itertools.islice(newer, limit))

    def count_unread(self, chat_id: int, user_id: int, after_id: int) -> int:
        return sum(
            1
            for m in self._after(chat_id, after_id, user_id)
            if m.sender_id != user_id and not m.is_deleted and m.kind is MessageKind.USER
        )

    def count_unread_mentions(self, chat_id: int, user_id: int, after_id: int) -> int:
        return sum(
            1 for m in self._after(chat_id, after_id, user_id) if user_id in m.mentions and not m.is_deleted
        )

    def _after(self, chat_id: int, after_id: int, viewer: int) -> Iterator[Message]:
        ids = self._ids(chat_id)
        return self._shown(ids[bisect.bisect_right(ids, after_id) :], viewer)

    def search(self, user_id: int, wanted: Filter, limit: int) -> list[Message]:
        before = wanted.before_id
        found = []
        for chat_id in self._s.user_chat_ids.get(user_id, ()):
            if wanted.chat_id is not None and chat_id != wanted.chat_id:
                continue
            floor = self._s.members[(chat_id, user_id)].visible_after_message_id
            for message_id in self._ids(chat_id):
                if message_id <= floor or (before is not None and message_id >= before):
                    continue
                message = self._s.messages[message_id]
                if self._found(message, user_id, wanted):
                    found.append(message)
        return sorted(found, key=lambda m: m.id, reverse=True)[:limit]

    def _found(self, message: Message, user_id: int, wanted: Filter) -> bool:
        if (
            message.is_deleted
            or message.kind is not MessageKind.USER
            or (user_id, message.id) in self._s.hidden
        ):
            return False
        if wanted.sender_id is not None and message.sender_id != wanted.sender_id:
            return False
        if wanted.sent_before is not None and not message.sending_date < wanted.sent_before:
            return False
        if wanted.sent_after is not None and not message.sending_date > wanted.sent_after:
            return False
        files = sorted(
            (a for a in self._s.attachments.values() if a.message_id == message.id),
            key=lambda a: (a.position, a.id),
        )
        if wanted.has is not None and wanted.has not in search.tags(message.text, [f.kind for f in files]):
            return False
        return search.matches(
            wanted.query, search.keys(message.text or ""), search.name_keys(f.name for f in files)
        )

    def hide(self, user_id: int, message_id: int) -> None:
        message = self._s.messages.get(message_id)
        if message is None:
            self._s.require_writable()
            return
        self._s.put(self._s.hidden, (user_id, message_id), message.chat_id)

    def hidden_among(self, user_id: int, message_ids: Iterable[int]) -> set[int]:
        return {i for i in message_ids if (user_id, i) in self._s.hidden}

    def add_version(self, message_id: int, version: MessageVersion) -> None:
        earlier = self._s.message_versions.get(message_id, ())
        self._s.put(self._s.message_versions, message_id, (*earlier, version))

    def versions(self, message_id: int) -> list[MessageVersion]:
        return list(self._s.message_versions.get(message_id, ()))

    def remove_versions(self, message_id: int) -> None:
        self._s.require_writable()
        self._s.pop(self._s.message_versions, message_id)

    def sent_by(self, user_id: int, after_id: int, limit: int) -> list[Message]:
        # Message ids only grow, so dict order is id order.
        theirs = (m for i, m in self._s.messages.items() if i > after_id and m.sender_id == user_id)
        return list(itertools.islice(theirs, limit))


class MemoryAttachments:
    def __init__(self, store: _Store) -> None:
        self._s = store

    def add(self, new: NewAttachment) -> Attachment:
        attachment = Attachment(id=self._s.next_id("attachments"), **attrs.asdict(new, recurse=False))
        self._s.put(self._s.attachments, attachment.id, attachment)
        return attachment

    def get(self, attachment_id: int) -> Attachment | None:
        return self._s.attachments.get(attachment_id)

    def attach(self, attachment_ids: Sequence[int], message_id: int) -> None:
        for position, attachment_id in enumerate(attachment_ids):
            bound = attrs.evolve(self._s.attachments[attachment_id], message_id=message_id, position=position)
            self._s.put(self._s.attachments, attachment_id, bound)

    def for_messages(self, message_ids: Iterable[int]) -> dict[int, list[Attachment]]:
        wanted = set(message_ids)
        found: dict[int, list[Attachment]] = {}
        for a in sorted(self._s.attachments.values(), key=lambda a: (a.position, a.id)):
            if a.message_id in wanted:
                found.setdefault(a.message_id, []).append(a)
        return found

    def for_chat(self, chat_id: int) -> list[Attachment]:
        in_chat = set(self._s.chat_messages.get(chat_id, ()))
        return sorted(
            (a for a in self._s.attachments.values() if a.message_id in in_chat), key=lambda a: a.id
        )

    def detach_all(self, message_id: int) -> list[Attachment]:
        self._s.require_writable()
        gone = sorted(
            (a for a in self._s.attachments.values() if a.message_id == message_id), key=lambda a: a.position
        )
        for a in gone:
            self._s.pop(self._s.attachments, a.id)
        return gone

    def uploaded_by(self, user_id: int, after_id: int, limit: int) -> list[Attachment]:
        theirs = (a for a in self._s.attachments.values() if a.uploader_id == user_id and a.id > after_id)
        return sorted(theirs, key=lambda a: a.id)[:limit]

    def add_copies(
        self, sources: Sequence[Attachment], message_id: int, uploader_id: int
    ) -> list[Attachment]:
        copies = []
        for position, source in enumerate(sources):
            copy = attrs.evolve(
                source,
                id=self._s.next_id("attachments"),
                message_id=message_id,
                position=position,
                uploader_id=uploader_id,
            )
            self._s.put(self._s.attachments, copy.id, copy)
            copies.append(copy)
        return copies

    def keys_in_use(self, keys: Iterable[str]) -> set[str]:
        wanted = set(keys)
        named = {k for a in self._s.attachments.values() for k in (a.storage_key, a.thumbnail_key)}
        return wanted & named

    def orphans_before(self, before: datetime, limit: int) -> list[Attachment]:
        old = (a for a in self._s.attachments.values() if a.message_id is None and a.created_date < before)
        return sorted(old, key=lambda a: a.id)[:limit]

    def unsent_bytes(self, uploader_id: int) -> int:
        unsent = (a for a in self._s.attachments.values() if a.message_id is None)
        return sum(a.size for a in unsent if a.uploader_id == uploader_id)

    def remove(self, attachment_id: int) -> None:
        self._s.pop(self._s.attachments, attachment_id)


class MemoryReactions:
    def __init__(self, store: _Store) -> None:
        self._s = store

    def _of(self, message_id: int) -> tuple[Reaction, ...]:
        return self._s.message_reactions.get(message_id, ())

    def add(self, reaction: Reaction) -> bool:
        self._s.require_writable()
        existing = self._of(reaction.message_id)
        if any(r.user_id == reaction.user_id and r.emoji == reaction.emoji for r in existing):
            return False
        self._s.put(self._s.message_reactions, reaction.message_id, (*existing, reaction))
        return True

    def remove(self, message_id: int, user_id: int, emoji: str) -> bool:
        self._s.require_writable()
        existing = self._of(message_id)
        kept = tuple(r for r in existing if not (r.user_id == user_id and r.emoji == emoji))
        if len(kept) == len(existing):
            return False
        if kept:
            self._s.put(self._s.message_reactions, message_id, kept)
        else:
            self._s.pop(self._s.message_reactions, message_id)
        return True

    def emojis(self, message_id: int) -> set[str]:
        return {r.emoji for r in self._of(message_id)}

    def summaries(self, message_ids: Iterable[int], viewer_id: int) -> dict[int, list[ReactionSummary]]:
        shown = REACTION_USERS_SHOWN
        found: dict[int, list[ReactionSummary]] = {}
        for message_id in message_ids:
            by_emoji: dict[str, list[int]] = {}
            for reaction in self._of(message_id):
                by_emoji.setdefault(reaction.emoji, []).append(reaction.user_id)
            if by_emoji:
                found[message_id] = [
                    ReactionSummary(
                        emoji=emoji, count=len(users), user_ids=tuple(users[:shown]), me=viewer_id in users
                    )
                    for emoji, users in by_emoji.items()
                ]
        return found

    def remove_all(self, message_id: int) -> None:
        self._s.require_writable()
        self._s.pop(self._s.message_reactions, message_id)


class MemoryPins:
    def __init__(self, store: _Store) -> None:
        self._s = store

    def _of(self, chat_id: int) -> tuple[Pin, ...]:
        return self._s.chat_pins.get(chat_id, ())

    def add(self, pin: Pin) -> bool:
        self._s.require_writable()
        existing = self._of(pin.chat_id)
        if any(p.message_id == pin.message_id for p in existing):
            return False
        self._s.put(self._s.chat_pins, pin.chat_id, (*existing, pin))
        return True

    def remove(self, chat_id: int, message_id: int) -> bool:
        self._s.require_writable()
        existing = self._of(chat_id)
        kept = tuple(p for p in existing if p.message_id != message_id)
        if len(kept) == len(existing):
            return False
        self._s.put(self._s.chat_pins, chat_id, kept)
        return True

    def list_for_chat(self, chat_id: int) -> list[Pin]:
        return sorted(self._of(chat_id), key=lambda p: (p.pinned_date, p.message_id), reverse=True)

    def latest_for(self, chat_id: int, user_id: int, after_message_id: int) -> Pin | None:
        hidden = self._s.hidden
        return next(
            (
                p
                for p in self.list_for_chat(chat_id)
                if p.message_id > after_message_id and (user_id, p.message_id) not in hidden
            ),
            None,
        )


class MemoryStickers:
    def __init__(self, store: _Store) -> None:
        self._s = store

    def add_pack(self, title: str, images: Sequence[tuple[str, str]]) -> StickerPack:
        pack_id = self._s.next_id("packs")
        stickers = tuple(
            Sticker(id=self._s.next_id("stickers"), pack_id=pack_id, position=i, image_key=key, mime=mime)
            for i, (key, mime) in enumerate(images)
        )
        pack = StickerPack(id=pack_id, title=title, stickers=stickers)
        self._s.put(self._s.packs, pack_id, pack)
        return pack

    def list_packs(self) -> list[StickerPack]:
        return [self._s.packs[i] for i in sorted(self._s.packs)]

    def get_sticker(self, sticker_id: int) -> Sticker | None:
        stickers = (s for pack in self._s.packs.values() for s in pack.stickers)
        return next((s for s in stickers if s.id == sticker_id), None)

    def get_stickers(self, sticker_ids: Iterable[int]) -> dict[int, Sticker]:
        wanted = set(sticker_ids)
        return {s.id: s for pack in self._s.packs.values() for s in pack.stickers if s.id in wanted}


class MemoryEvents:
    def __init__(self, store: _Store) -> None:
        self._s = store

    def append(self, user_id: int, type: EventType, data: dict[str, Any], at: datetime) -> Event:
        event = Event(id=self._s.next_id("events"), user_id=user_id, type=type, data=data, created_date=at)
        self._s.put(self._s.events, event.id, event)
        return event

    def append_to_chat(
        self,
        chat_id: int,
        type: EventType,
        data: dict[str, Any],
        at: datetime,
        *,
        message_id: int | None = None,
    ) -> Event:
        event = Event(
            id=self._s.next_id("events"),
            user_id=None,
            chat_id=chat_id,
            message_id=message_id,
            type=type,
            data=data,
            created_date=at,
        )
        self._s.put(self._s.events, event.id, event)
        return event

    def after(self, user_id: int, cursor: int, limit: int) -> list[Event]:
        # Where each of the user's chats begins for them: events after their joining,
        # about messages past their floor that they have not hidden.
        mine = {
            chat_id: self._s.members[(chat_id, user_id)] for chat_id in self._s.user_chat_ids.get(user_id, ())
        }
        hidden = self._s.hidden

        def theirs(event: Event) -> bool:
            if event.chat_id is None:
                return event.user_id == user_id
            member = mine.get(event.chat_id)
            if member is None or event.id <= member.joined_event_id:
                return False
            about = event.message_id
            return about is None or (
                about > member.visible_after_message_id and (user_id, about) not in hidden
            )

        # Event ids only grow, so dict order is id order.
        newer = (e for i, e in self._s.events.items() if i > cursor and theirs(e))
        return list(itertools.islice(newer, limit))

    def latest_id(self) -> int:
        return self._s.next_ids.get("events", 0)

    def latest_of_chat(self, chat_id: int) -> int:
        newest_first = reversed(self._s.events.items())
        return next((i for i, e in newest_first if e.user_id is None and e.chat_id == chat_id), 0)

    def oldest_retained_id(self) -> int:
        return next(iter(self._s.events), self.latest_id() + 1) - 1

    def prune_before(self, before: datetime) -> int:
        self._s.require_writable()
        old = [i for i, e in self._s.events.items() if e.created_date < before]
        for i in old:
            self._s.pop(self._s.events, i)
        return len(old)


class MemoryStoredFiles:
    def __init__(self, store: _Store) -> None:
        self._s = store

    def referenced(self, keys: Sequence[str]) -> set[str]:
        # A walk over every row: the memory store serves tests, which hold few rows.
        named: set[str | None] = {u.avatar for u in self._s.users.values()}
        named.update(c.photo for c in self._s.chats.values())
        named.update(s.image_key for pack in self._s.packs.values() for s in pack.stickers)
        for a in self._s.attachments.values():
            named.update((a.storage_key, a.thumbnail_key))
        named.update(e.blob_key for e in self._s.exports.values())
        return {key for key in keys if key in named}


class MemorySessions:
    def __init__(self, store: _Store) -> None:
        self._s = store

    def add(self, new: NewSession) -> Session:
        session = Session(
            id=self._s.next_id("sessions"),
            last_used_date=new.created_date,
            **attrs.asdict(new, recurse=False),
        )
        self._s.put(self._s.sessions, session.id, session)
        return session

    def get(self, session_id: int) -> Session | None:
        return self._s.sessions.get(session_id)

    def update(self, session: Session) -> None:
        self._s.put(self._s.sessions, session.id, session)

    def active_for(self, user_id: int) -> list[Session]:
        # Session ids only grow, so dict order is id order.
        return [s for s in self._s.sessions.values() if s.user_id == user_id and not s.is_ended]

    def end_all(
        self, user_id: int, reason: SessionEnd, at: datetime, *, keep: int | None = None
    ) -> list[int]:
        self._s.require_writable()
        ending = [s for s in self.active_for(user_id) if s.id != keep]
        for session in ending:
            self.update(session.ended(reason, at))
        return [s.id for s in ending]

    def prune_ended_before(self, before: datetime) -> int:
        self._s.require_writable()
        old = [i for i, s in self._s.sessions.items() if s.ended_date is not None and s.ended_date < before]
        for session_id in old:
            self._s.pop(self._s.sessions, session_id)
        return len(old)

    def remove_all_for(self, user_id: int) -> None:
        self._s.require_writable()
        for session_id in [i for i, s in self._s.sessions.items() if s.user_id == user_id]:
            self._s.pop(self._s.sessions, session_id)


class MemoryBlocks:
    def __init__(self, store: _Store) -> None:
        self._s = store

    def add(self, block: Block) -> bool:
        self._s.require_writable()
        key = (block.blocker_id, block.blocked_id)
        if key in self._s.blocks:
            return False
        self._s.put(self._s.blocks, key, block)
        return True

    def remove(self, blocker_id: int, blocked_id: int) -> bool:
        self._s.require_writable()
        return self._s.pop(self._s.blocks, (blocker_id, blocked_id)) is not None

    def exists(self, blocker_id: int, blocked_id: int) -> bool:
        return (blocker_id, blocked_id) in self._s.blocks

    def between(self, first_id: int, second_id: int) -> bool:
        return (first_id, second_id) in self._s.blocks or (second_id, first_id) in self._s.blocks

    def list_by(self, blocker_id: int) -> list[Block]:
        mine = [b for b in self._s.blocks.values() if b.blocker_id == blocker_id]
        return sorted(mine, key=lambda b: (b.created_date, b.blocked_id))

    def involving(self, user_id: int) -> list[Block]:
        return [b for b in self._s.blocks.values() if user_id in (b.blocker_id, b.blocked_id)]

    def remove_all_for(self, user_id: int) -> None:
        self._s.require_writable()
        for block in self.involving(user_id):
            self._s.pop(self._s.blocks, (block.blocker_id, block.blocked_id))


class MemoryExports:
    def __init__(self, store: _Store) -> None:
        self._s = store

    def get(self, user_id: int) -> Export | None:
        return self._s.exports.get(user_id)

    def put(self, export: Export) -> None:
        self._s.put(self._s.exports, export.user_id, export)

    def remove(self, user_id: int) -> None:
        self._s.require_writable()
        self._s.pop(self._s.exports, user_id)

    def pending(self) -> list[Export]:
        waiting = [e for e in self._s.exports.values() if e.state is ExportState.PENDING]
        return sorted(waiting, key=lambda e: (e.created_date, e.user_id))

    def ready_before(self, before: datetime) -> list[Export]:
        ready = [
            e
            for e in self._s.exports.values()
            if e.state is ExportState.READY and e.ready_date is not None and e.ready_date < before
        ]
        return sorted(ready, key=lambda e: (e.ready_date or before, e.user_id))


class _Shared:
    """What the units of work of one factory share."""

    def __init__(self) -> None:
        self.live = _Store()  # what writing units read and change
        self.committed = _Store(read_only=True)  # what read-only units read
        # One writing unit at a time. Not re-entrant: a nested unit would share the undo
        # log, so a thread with a unit open may open no other, of either kind (SQLite's
        # units refuse the same).
        self.write_lock = threading.Lock()
        # Held while a commit publishes, and by each read of the committed store.
        self.publish_lock = threading.Lock()
        self.twins = self.live.twins(self.committed)
        self.open_units = threading.local()
        # Repositories hold nothing but their store, so all units share them.
        self.writers = _Repositories.over(self.live)
        self.readers = _Repositories.over(self.committed, self.publish_lock)

    def enter(self) -> None:
        if getattr(self.open_units, "open", False):
            raise RuntimeError("a unit of work is already open on this thread")
        self.open_units.open = True

    def leave(self) -> None:
        self.open_units.open = False


class _Serialized:
    """A repository over the committed store whose every call holds the publish lock, so
    that each read sees one whole commit and never half of one."""

    def __init__(self, repository: object, lock: threading.Lock) -> None:
        self._repository = repository
        self._lock = lock

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._repository, name)
        lock = self._lock

        def call(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return method(*args, **kwargs)

        setattr(self, name, call)  # found once: later calls skip __getattr__
        return call


@attrs.frozen
class _Repositories:
    users: UserRepository
    friendships: FriendshipRepository
    chats: ChatRepository
    messages: MessageRepository
    attachments: AttachmentRepository
    reactions: ReactionRepository
    pins: PinRepository
    stickers: StickerRepository
    events: EventRepository
    stored_files: StoredFileRepository
    sessions: SessionRepository
    blocks: BlockRepository
    exports: ExportRepository

    @classmethod
    def over(cls, store: _Store, lock: threading.Lock | None = None) -> _Repositories:
        """The repositories of a store; with ``lock``, each call holds it."""

        def made(repository: Any) -> Any:
            return repository if lock is None else _Serialized(repository, lock)

        return cls(
            users=made(MemoryUsers(store)),
            friendships=made(MemoryFriendships(store)),
            chats=made(MemoryChats(store)),
            messages=made(MemoryMessages(store)),
            attachments=made(MemoryAttachments(store)),
            reactions=made(MemoryReactions(store)),
            pins=made(MemoryPins(store)),
            stickers=made(MemoryStickers(store)),
            events=made(MemoryEvents(store)),
            stored_files=made(MemoryStoredFiles(store)),
            sessions=made(MemorySessions(store)),
            blocks=made(MemoryBlocks(store)),
            exports=made(MemoryExports(store)),
        )


class _MemoryUnit:
    # Annotated with the ports: UnitOfWork's attributes are invariant.
    users: UserRepository
    friendships: FriendshipRepository
    chats: ChatRepository
    messages: MessageRepository
    attachments: AttachmentRepository
    reactions: ReactionRepository
    pins: PinRepository
    stickers: StickerRepository
    events: EventRepository
    stored_files: StoredFileRepository
    sessions: SessionRepository
    blocks: BlockRepository
    exports: ExportRepository

    def __init__(self, shared: _Shared, repositories: _Repositories) -> None:
        self._shared = shared
        self.users = repositories.users
        self.friendships = repositories.friendships
        self.chats = repositories.chats
        self.messages = repositories.messages
        self.attachments = repositories.attachments
        self.reactions = repositories.reactions
        self.pins = repositories.pins
        self.stickers = repositories.stickers
        self.events = repositories.events
        self.stored_files = repositories.stored_files
        self.sessions = repositories.sessions
        self.blocks = repositories.blocks
        self.exports = repositories.exports


class MemoryUnitOfWork(_MemoryUnit):
    """A writing unit: holds the write lock from enter to exit, works on the live store
    and publishes its changes to read-only units on ``commit``."""

    def __init__(self, shared: _Shared) -> None:
        super().__init__(shared, shared.writers)
        self._store = shared.live

    def __enter__(self) -> Self:
        self._shared.enter()
        self._shared.write_lock.acquire()
        self._store.undo = []
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.rollback()
        finally:
            self._store.undo = None
            self._shared.leave()
            self._shared.write_lock.release()

    def commit(self) -> None:
        if self._store.undo is not None:
            self._store.undo.clear()
            with self._shared.publish_lock:
                self._store.publish(self._shared.committed, self._shared.twins)

    def rollback(self) -> None:
        undo = self._store.undo
        if undo:
            self._store.search_text = None
        while undo:
            undo.pop()()
        self._store.redo.clear()


class MemoryReadOnlyUnitOfWork(_MemoryUnit):
    """A read-only unit: reads the committed store, takes no unit-long lock, and its
    repositories raise ``ReadOnlyUnitError`` on any write, before changing anything."""

    def __init__(self, shared: _Shared) -> None:
        super().__init__(shared, shared.readers)

    def __enter__(self) -> Self:
        self._shared.enter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._shared.leave()

    def commit(self) -> None:
        """Nothing to make durable."""

    def rollback(self) -> None:
        """Nothing to discard."""


class MemoryUnitOfWorkFactory:
    """Hands out units of work over one shared in-memory store: writing units one at a
    time, read-only ones beside them (see the module docstring for what they see)."""

    def __init__(self) -> None:
        self._shared = _Shared()

    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        if read_only:
            return MemoryReadOnlyUnitOfWork(self._shared)
        return MemoryUnitOfWork(self._shared)


class MemoryTokenCodec:
    """A cheap stand-in for the JWT codec: HMAC-signed JSON, for fast property tests.
    Passes the same contract (tests/contract/test_token_codecs.py)."""

    def __init__(self, secret: str = "memory") -> None:
        self._secret = secret.encode()

    def encode(self, claims: dict[str, Any]) -> str:
        body = base64.urlsafe_b64encode(json.dumps(claims, sort_keys=True).encode()).decode()
        return f"{body}.{self._sign(body)}"

    def decode(self, token: str) -> dict[str, Any]:
        body, dot, signature = token.rpartition(".")
        # Tokens of this codec are ASCII; compare_digest raises on other text.
        if not token.isascii() or not dot or not hmac.compare_digest(signature, self._sign(body)):
            raise Unauthorized("token_invalid")
        try:
            claims = json.loads(base64.urlsafe_b64decode(body))
        except ValueError:
            raise Unauthorized("token_invalid") from None
        if not isinstance(claims, dict) or not has_required_claims(claims):
            raise Unauthorized("token_invalid")
        return claims

    def _sign(self, body: str) -> str:
        return hmac.new(self._secret, body.encode(), hashlib.sha256).hexdigest()


class MemoryBlobStore:
    """Blobs in a dict, with the filesystem store's size rule and random keys. Each blob
    is stamped with the ``clock``'s time when written (the system's when there is none),
    as files get their modification time."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.blobs: dict[str, bytes] = {}
        self.written: dict[str, datetime] = {}
        self._clock = clock

    def write(self, chunks: Iterable[bytes], *, max_size: int) -> BlobInfo:
        data = bytearray()
        for chunk in chunks:
            data += chunk
            if len(data) > max_size:
                raise TooLarge(max=max_size)
        key = secrets.token_hex(16)
        self.written[key] = self._clock.now() if self._clock is not None else datetime.now(UTC)
        self.blobs[key] = bytes(data)
        return BlobInfo(key=key, size=len(data))

    def open(self, key: str) -> BinaryIO:
        if key not in self.blobs:
            raise NotFound("stored_file")
        return io.BytesIO(self.blobs[key])

    def path(self, key: str) -> str | None:
        return None

    def size(self, key: str) -> int | None:
        blob = self.blobs.get(key)
        return None if blob is None else len(blob)

    def delete(self, key: str) -> None:
        self.blobs.pop(key, None)
        self.written.pop(key, None)

    def scan(self) -> Iterator[StoredBlob]:
        # A copy: writes and deletes may go on while the caller walks it.
        for key in list(self.blobs):
            written = self.written.get(key)
            if written is not None:
                yield StoredBlob(key=key, written=written)

    def remove_unfinished(self, before: datetime) -> int:
        return 0  # a write stores its blob whole or not at all


class MemoryRateLimitStore:
    """Rate-limit buckets in a dict: shared by the threads of one process only, which is
    all a single server process needs. Past ``max_keys`` keys the full buckets are
    dropped, so the dict is as big as the keys being limited."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._full_at: dict[str, float] = {}  # key → when its bucket is full again
        self._lock = threading.Lock()

    def take(self, key: str, cost: float, *, rate: float, burst: float, now: float) -> float:
        cost_s, burst_s = bucket_in_seconds(cost, rate=rate, burst=burst)
        with self._lock:
            full_at = self._full_at.get(key)
            wait = bucket_wait(full_at, cost_s, burst_s, now)
            if wait == 0.0:
                self._full_at[key] = max(now if full_at is None else full_at, now) + cost_s
                if len(self._full_at) > self.max_keys:
                    self._prune(now)
            return wait

    def wait_time(self, key: str, cost: float, *, rate: float, burst: float, now: float) -> float:
        cost_s, burst_s = bucket_in_seconds(cost, rate=rate, burst=burst)
        with self._lock:
            return bucket_wait(self._full_at.get(key), cost_s, burst_s, now)

    def forget(self, key: str) -> None:
        with self._lock:
            self._full_at.pop(key, None)

    def prune(self, now: float) -> int:
        with self._lock:
            return self._prune(now)

    def _prune(self, now: float) -> int:
        full = [key for key, full_at in self._full_at.items() if full_at <= now]
        for key in full:
            del self._full_at[key]
        return len(full)
