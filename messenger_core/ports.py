"""Ports: what the core needs from the outside world, specified as typing.Protocols.

Every adapter of a port must pass the same contract suite (tests/contract).
Times are timezone-aware UTC datetimes. "Missing" is ``None``, never an exception,
unless a method says otherwise. Repositories never commit: the unit of work does.

A write that a repository refuses (a ``Conflict``) changes nothing and leaves the unit of
work open and usable with its earlier changes: whether to roll them back is the caller's
choice. A refused ``add`` uses up no id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, BinaryIO, Protocol, Self

from .model import (
    Attachment,
    BlobInfo,
    Block,
    Chat,
    ChatMember,
    Event,
    EventType,
    Export,
    Friendship,
    ImageInfo,
    MemberRole,
    Message,
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
    Signal,
    Sticker,
    StickerPack,
    StoredBlob,
    User,
)
from .search import Filter


class UserRepository(Protocol):
    def add(self, new: NewUser) -> User:
        """Store a new user and return it with its permanent ``id`` (ids grow).

        One account per email and per public id: raises ``Conflict("email_taken")`` when
        another user has the same ``normalize.email_key`` (checked first), else
        ``Conflict("alternative_id_taken")`` when one has this exact ``alternative_id``."""

    def get(self, user_id: int) -> User | None:
        """The user with this permanent id."""

    def get_many(self, user_ids: Iterable[int]) -> dict[int, User]:
        """The users with these ids that exist, keyed by id."""

    def get_by_alternative_id(self, alternative_id: str) -> User | None:
        """The user whose public id this is (exact match)."""

    def get_by_email(self, email: str) -> User | None:
        """The user with this email, compared case-insensitively (``normalize.email_key``)."""

    def get_by_username(self, username: str) -> User | None:
        """The user with this username (stored lower-case; the argument is folded)."""

    def set_last_seen(self, user_id: int, at: datetime) -> None:
        """Record when the user was last seen (nothing else of the row changes)."""

    def update(self, user: User) -> None:
        """Replace the stored user that has ``user.id`` (search keys follow the names).

        Raises ``Conflict("email_taken" | "alternative_id_taken")`` as ``add`` does when
        the new email or public id belongs to another user (keeping one's own is fine),
        and ``Conflict("username_taken")`` for another user's username."""

    def search(
        self,
        *,
        text: str | None,
        first_name: str | None,
        second_name: str | None,
        start: int,
        limit: int,
    ) -> list[User]:
        """Users matching every given criterion, ordered by id, ``limit`` from ``start``.

        ``text`` holds whitespace-separated terms; each must be a case-folded substring of
        the first name, second name, alternative_id or username ("иван петров" finds Иван
        Петров); ``first_name``/``second_name`` a case-folded substring of that name.
        Criteria are already folded with ``normalize.search_key``; None is "any". Deleted
        accounts are never found.
        """

    def count(self) -> int:
        """How many users there are."""


class FriendshipRepository(Protocol):
    def get(self, a: int, b: int) -> Friendship | None:
        """The row between two users, whichever of them asked."""

    def add(self, friendship: Friendship) -> None:
        """Store a new row. Raises ``Conflict("friendship_exists")`` when the pair already
        has one, whichever way round."""

    def update(self, friendship: Friendship) -> None:
        """Replace the row of that pair."""

    def remove(self, a: int, b: int) -> bool:
        """Remove the row of the pair; False when there was none."""

    def list_for(self, user_id: int) -> list[Friendship]:
        """Every row involving the user, oldest first."""


class ChatRepository(Protocol):
    def add(self, new: NewChat, members: Sequence[NewMember]) -> Chat:
        """Create a chat with these members (read marks at 0); ids grow. A user listed
        twice is a member once (the first entry counts)."""

    def get(self, chat_id: int) -> Chat | None:
        """The chat with this id."""

    def update(self, chat: Chat) -> None:
        """Replace the stored title, photo and history setting of ``chat.id`` (activity
        and last message change through ``touch``)."""

    def find_direct(self, a: int, b: int) -> Chat | None:
        """The direct chat of ``a`` and ``b`` (never a group, whoever is in it)."""

    def members(self, chat_id: int) -> list[ChatMember]:
        """Members of the chat ordered by user id; empty for a missing chat."""

    def member_ids(self, chat_id: int) -> list[int]:
        """The user ids of the chat's members, ascending (the cheap form of ``members``,
        for waking them: a big group's send needs no more)."""

    def member(self, chat_id: int, user_id: int) -> ChatMember | None:
        """The user's membership of the chat, None when they are not in it."""

    def add_member(self, chat_id: int, member: NewMember) -> None:
        """Add a member (read mark at 0); Conflict("already_member") when they are one."""

    def remove_member(self, chat_id: int, user_id: int) -> None:
        """Remove the membership (missing is fine); the member's messages stay."""

    def set_role(self, chat_id: int, user_id: int, role: MemberRole) -> None:
        """Change a member's role."""

    def list_for_user(self, user_id: int) -> list[Chat]:
        """Chats the user is a member of, latest activity first (ties: higher id first)."""

    def set_last_read(self, chat_id: int, user_id: int, message_id: int) -> None:
        """Set the member's read mark (callers never move it backwards)."""

    def set_visible_after(self, chat_id: int, user_id: int, message_id: int) -> None:
        """Move where the member's part of the chat begins (callers never move it back):
        messages up to ``message_id`` are no longer theirs."""

    def set_muted_until(self, chat_id: int, user_id: int, until: datetime | None) -> None:
        """Set (None: clear) when the member's mute of the chat ends."""

    def touch(self, chat_id: int, *, last_message_id: int | None, at: datetime) -> None:
        """Record the latest message and activity time of the chat."""

    def remove(self, chat_id: int) -> None:
        """Remove the chat, its members, its messages and their attachment rows."""


class MessageRepository(Protocol):
    """Messages of chats. Pages take ``hidden_for``: the user whose hidden messages
    (``hide``) the page leaves out, as if they were not there (None: leave none out)."""

    def add(self, new: NewMessage) -> Message:
        """Store a message and return it with its id; ids grow across all chats."""

    def get(self, message_id: int) -> Message | None:
        """The message with this id (tombstones included)."""

    def get_many(self, message_ids: Iterable[int]) -> dict[int, Message]:
        """The messages with these ids that exist, keyed by id."""

    def update(self, message: Message) -> None:
        """Replace the stored message that has ``message.id``."""

    def page_before(
        self, chat_id: int, before_id: int | None, limit: int, *, hidden_for: int | None = None
    ) -> list[Message]:
        """Up to ``limit`` messages of the chat with id < before_id (or the newest),
        newest first. Tombstones are included."""

    def page_after(
        self, chat_id: int, after_id: int, limit: int, *, hidden_for: int | None = None
    ) -> list[Message]:
        """Up to ``limit`` messages of the chat with id > after_id, oldest first."""

    def page_since(
        self, chat_id: int, since: datetime, limit: int, *, hidden_for: int | None = None
    ) -> list[Message]:
        """Up to ``limit`` messages sent strictly after ``since``, oldest first."""

    def count_unread(self, chat_id: int, user_id: int, after_id: int) -> int:
        """Live user messages (not system ones, not tombstones) of the chat with
        id > after_id not sent by ``user_id`` and not hidden by them."""

    def count_unread_mentions(self, chat_id: int, user_id: int, after_id: int) -> int:
        """Live messages of the chat with id > after_id that mention ``user_id`` and
        that they have not hidden."""

    def hide(self, user_id: int, message_id: int) -> None:
        """Hide a message from one user ("delete for me"); hiding twice is harmless.
        The hiding goes with the message."""

    def hidden_among(self, user_id: int, message_ids: Iterable[int]) -> set[int]:
        """Which of these messages the user has hidden."""

    def search(self, user_id: int, wanted: Filter, limit: int) -> list[Message]:
        """Up to ``limit`` messages the user may read that match, newest first (id
        descending, below ``wanted.before_id``): live user messages of chats they are a
        member of, in their part of each chat, not hidden by them, whose text and file
        names match ``wanted.query`` as ``search.matches`` says, whose tags
        (``search.tags``) hold ``wanted.has``, and that the other criteria admit (sent
        strictly before/after the given times). An empty query matches everything."""

    def add_version(self, message_id: int, version: MessageVersion) -> None:
        """Keep a text the message had before an edit."""

    def versions(self, message_id: int) -> list[MessageVersion]:
        """The earlier texts of the message, oldest first."""

    def remove_versions(self, message_id: int) -> None:
        """Forget the message's earlier texts (missing is fine)."""

    def sent_by(self, user_id: int, after_id: int, limit: int) -> list[Message]:
        """Up to ``limit`` messages of any chat sent by the user with id > after_id,
        oldest first (tombstones and system messages included)."""


class AttachmentRepository(Protocol):
    def add(self, new: NewAttachment) -> Attachment:
        """Store metadata of an uploaded file, not yet attached; ids grow."""

    def get(self, attachment_id: int) -> Attachment | None:
        """The attachment with this id."""

    def attach(self, attachment_ids: Sequence[int], message_id: int) -> None:
        """Bind the attachments to the message, keeping the given order as position."""

    def for_messages(self, message_ids: Iterable[int]) -> dict[int, list[Attachment]]:
        """Attachments of each message that has any, by position."""

    def for_chat(self, chat_id: int) -> list[Attachment]:
        """Every attachment bound to a message of the chat."""

    def detach_all(self, message_id: int) -> list[Attachment]:
        """Remove the rows bound to the message and return what they were."""

    def uploaded_by(self, user_id: int, after_id: int, limit: int) -> list[Attachment]:
        """Up to ``limit`` attachments the user uploaded with id > after_id, sent or not,
        by id."""

    def add_copies(
        self, sources: Sequence[Attachment], message_id: int, uploader_id: int
    ) -> list[Attachment]:
        """New rows bound to the message, in order, sharing each source's stored bytes
        (the same keys): a forward shares files instead of copying them."""

    def keys_in_use(self, keys: Iterable[str]) -> set[str]:
        """Which of these blob keys some attachment row still names (as its file or its
        thumbnail): bytes shared by forwards stay while any row names them."""

    def orphans_before(self, before: datetime, limit: int) -> list[Attachment]:
        """Attachments never bound to a message and created before ``before``."""

    def unsent_bytes(self, uploader_id: int) -> int:
        """The total ``size`` of the user's attachments not bound to a message (0 when none)."""

    def remove(self, attachment_id: int) -> None:
        """Remove the row (missing is fine)."""


class ReactionRepository(Protocol):
    """One emoji of one user on one message, at most once."""

    def add(self, reaction: Reaction) -> bool:
        """Store the reaction; False (and no change) when the user already gave it."""

    def remove(self, message_id: int, user_id: int, emoji: str) -> bool:
        """Remove the reaction; False when there was none."""

    def emojis(self, message_id: int) -> set[str]:
        """The distinct emoji on the message."""

    def summaries(self, message_ids: Iterable[int], viewer_id: int) -> dict[int, list[ReactionSummary]]:
        """Each message's reactions by emoji, in the order each emoji first came: the
        count, up to ``limits.REACTION_USERS_SHOWN`` reactors (earliest first) and
        whether ``viewer_id`` is one of them. Messages without reactions are left out."""

    def remove_all(self, message_id: int) -> None:
        """Remove every reaction on the message."""


class PinRepository(Protocol):
    """Pinned messages of chats, at most once each."""

    def add(self, pin: Pin) -> bool:
        """Pin the message; False (and no change) when it already is."""

    def remove(self, chat_id: int, message_id: int) -> bool:
        """Unpin; False when it was not pinned."""

    def list_for_chat(self, chat_id: int) -> list[Pin]:
        """The chat's pins, latest pinned first (ties: higher message id first)."""

    def latest_for(self, chat_id: int, user_id: int, after_message_id: int) -> Pin | None:
        """The latest pin (as ``list_for_chat`` orders them) of a message with id > after_message_id
        that ``user_id`` has not hidden."""


class StickerRepository(Protocol):
    def add_pack(self, title: str, images: Sequence[tuple[str, str]]) -> StickerPack:
        """Create a pack from (image_key, mime) pairs in order; ids grow."""

    def list_packs(self) -> list[StickerPack]:
        """Every pack with its stickers, packs and stickers in id/position order."""

    def get_sticker(self, sticker_id: int) -> Sticker | None:
        """The sticker with this id."""

    def get_stickers(self, sticker_ids: Iterable[int]) -> dict[int, Sticker]:
        """The stickers with these ids, by id; ids of no sticker are left out."""


class EventRepository(Protocol):
    """Events are the user's own (``append``) or a chat's (``append_to_chat``), one id
    sequence for both: a chat's event is written once, however many members it has,
    and reaches every member through their membership."""

    def append(self, user_id: int, type: EventType, data: dict[str, Any], at: datetime) -> Event:
        """Add an event to the user's stream; its id is greater than every earlier one."""

    def append_to_chat(
        self,
        chat_id: int,
        type: EventType,
        data: dict[str, Any],
        at: datetime,
        *,
        message_id: int | None = None,
    ) -> Event:
        """Add an event for whoever is a member of the chat; ids as for ``append``.
        ``message_id`` names the message the event is about, if any."""

    def after(self, user_id: int, cursor: int, limit: int) -> list[Event]:
        """The user's events with id > cursor, oldest first: their own, and those of
        each chat they are a member of now, written after they joined it
        (``ChatMember.joined_event_id``); nothing of a chat they have left, and nothing
        about a message that is not theirs to see — one they have hidden, or one at or
        below their ``visible_after_message_id``."""

    def latest_id(self) -> int:
        """The greatest event id ever given (0 when none); survives pruning."""

    def latest_of_chat(self, chat_id: int) -> int:
        """The greatest id of the chat's own events (written by ``append_to_chat``) still
        stored, 0 when none: it grows with every change a chat announces to all its
        members (a pin, a reaction, an edit…), so it stamps a version of the chat."""

    def oldest_retained_id(self) -> int:
        """The smallest id still stored minus one, or ``latest_id()`` when none is stored:
        a cursor below it may have missed pruned events."""

    def prune_before(self, before: datetime) -> int:
        """Delete events created before ``before``; return how many."""


class StoredFileRepository(Protocol):
    """The blob keys rows hold: an attachment's file and thumbnail, a user's avatar, a
    group's photo, a sticker's image. A table that gains a column holding blob keys must
    be asked here too, or the sweep of stray files deletes what it names."""

    def referenced(self, keys: Sequence[str]) -> set[str]:
        """Those of ``keys`` that some row names; any number of keys may be asked at once."""


class SessionRepository(Protocol):
    """Signed-in devices. An ended session stays (with why it ended) until pruned, so a
    signed-out device can be told why."""

    def add(self, new: NewSession) -> Session:
        """Store a new session (generation 1, last used when created); ids grow."""

    def get(self, session_id: int) -> Session | None:
        """The session with this id, ended or not."""

    def update(self, session: Session) -> None:
        """Replace the stored session that has ``session.id``."""

    def active_for(self, user_id: int) -> list[Session]:
        """The user's sessions that have not ended, by id."""

    def end_all(
        self, user_id: int, reason: SessionEnd, at: datetime, *, keep: int | None = None
    ) -> list[int]:
        """End every session of the user that has not ended, but ``keep``; return their ids
        ascending."""

    def prune_ended_before(self, before: datetime) -> int:
        """Delete sessions that ended before ``before``; return how many."""

    def remove_all_for(self, user_id: int) -> None:
        """Delete every session of the user, ended or not."""


class BlockRepository(Protocol):
    def add(self, block: Block) -> bool:
        """Store the block; False (and nothing changes) when it is there already."""

    def remove(self, blocker_id: int, blocked_id: int) -> bool:
        """Remove that one direction; False when there was none."""

    def exists(self, blocker_id: int, blocked_id: int) -> bool:
        """Whether ``blocker_id`` blocked ``blocked_id`` (one direction)."""

    def between(self, first_id: int, second_id: int) -> bool:
        """Whether either of the two blocked the other (one read for both directions)."""

    def list_by(self, blocker_id: int) -> list[Block]:
        """The user's blocks, oldest first (ties by blocked id)."""

    def involving(self, user_id: int) -> list[Block]:
        """Every block the user made or is the target of, in no particular order."""

    def remove_all_for(self, user_id: int) -> None:
        """Remove every block the user made or is the target of."""


class ExportRepository(Protocol):
    def get(self, user_id: int) -> Export | None:
        """The user's latest export."""

    def put(self, export: Export) -> None:
        """Store the user's export, replacing any earlier one."""

    def remove(self, user_id: int) -> None:
        """Forget the user's export (missing is fine)."""

    def pending(self) -> list[Export]:
        """Exports not built yet, oldest first."""

    def ready_before(self, before: datetime) -> list[Export]:
        """Built exports that became ready before ``before``, oldest first."""


class UnitOfWork(Protocol):
    """One transaction. Leaving the block without ``commit()`` rolls everything back."""

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

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None:
        """Make every change of this unit durable."""

    def rollback(self) -> None:
        """Discard every change since the unit began or last committed."""


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        """A fresh unit of work. A thread with a unit open may open no other (entering one
        raises, and the open unit goes on).

        A writing unit takes the write lock on enter and holds it until exit: writing
        units run one at a time, and each sees every commit before it.

        A ``read_only`` unit must not write: every repository write raises, before it
        changes anything, an error that is not a MessengerError (a bug in the caller, not
        the user's), and the thread's next unit writes as usual. It holds no lock for its
        duration that a writing unit waits for, nor waits for a writing unit to end.
        Its reads see only committed units, never another unit's uncommitted changes,
        and at least every unit committed before it began. Whether a read also sees a
        unit committed while it is open differs, so use cases must not rely on either:
        SQLite reads one snapshot from the unit's first read on; the memory adapter
        shows each read the latest commit."""


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""


class RandomSource(Protocol):
    def choice_string(self, alphabet: str, length: int) -> str:
        """``length`` characters drawn uniformly from ``alphabet``, unpredictable."""


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str:
        """A self-describing hash of the password."""

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether the password matches; False, never an exception, on mismatch."""

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with other parameters than the current ones."""


class TokenCodec(Protocol):
    """Signs claims under one server secret and checks signatures; judges no times.

    Claims are JSON values under string keys. Of the names JWT registers, the core uses
    ``sub``, ``iat``, ``exp`` and ``nbf`` only (a codec may refuse others, such as ``aud``).
    """

    def encode(self, claims: dict[str, Any]) -> str:
        """Sign the claims into a token: ASCII text that ``decode`` turns back into them."""

    def decode(self, token: str) -> dict[str, Any]:
        """Verify the signature (and the algorithm) and return the claims, equal to those
        encoded and the caller's to change. Times are not judged: an ``exp`` in the past
        or an ``nbf`` in the future decodes (the core judges them against the Clock).

        Raises ``Unauthorized("token_invalid")``, never another error, for any text that
        is not a token signed with this secret (tampered, of another secret, garbage),
        and for claims without a string ``sub`` and ``type`` and an integer ``iat``
        (``tokens.has_required_claims``)."""


class BlobStore(Protocol):
    """Uploaded bytes under keys the store makes. A string the store never gave (or a
    deleted key) names no blob."""

    def write(self, chunks: Iterable[bytes], *, max_size: int) -> BlobInfo:
        """Store the bytes under a fresh random key (one per write, even for the same
        bytes); no chunks make an empty blob. Past ``max_size`` bytes raise
        ``TooLarge(max=max_size)`` without reading further chunks and leave nothing
        behind, as does an error from ``chunks``; a reader never sees a partial blob.
        ``Unavailable("storage_full")`` when the store cannot take more now (a full disk,
        or less free space than the store keeps in reserve), also leaving nothing."""

    def open(self, key: str) -> BinaryIO:
        """A new binary file object of the blob, at its start; ``NotFound("stored_file")``
        when missing."""

    def path(self, key: str) -> str | None:
        """A filesystem path of the blob's bytes when the store keeps files (for image
        tools); None when it does not, or when the blob is missing."""

    def size(self, key: str) -> int | None:
        """The blob's size, None when missing."""

    def delete(self, key: str) -> None:
        """Remove the blob; missing is fine."""

    def scan(self) -> Iterator[StoredBlob]:
        """Every finished blob with when it was written, in no particular order (never a
        write in progress, which has no key yet). A blob written or deleted while the
        scan runs may or may not be listed; a listed key may be gone by the time it is
        read. For the sweep of stray files: walks the whole store."""

    def remove_unfinished(self, before: datetime) -> int:
        """Remove what writes begun before ``before`` left unfinished (a process killed in
        the middle of one) and return how many; a store whose writes leave nothing
        behind returns 0. A write begun since is never touched."""


class ImageProcessor(Protocol):
    def inspect(self, source: BinaryIO) -> ImageInfo | None:
        """Size and type of an image, None when it is not one the processor reads."""

    def thumbnail(self, source: BinaryIO, max_side: int) -> Iterator[bytes]:
        """A JPEG/PNG thumbnail no larger than ``max_side``, as chunks. Raises
        ``Invalid({"file": …})`` when the pixels cannot be decoded (a cut-off file)."""

    def avatar(self, source: BinaryIO, side: int) -> Iterator[bytes]:
        """A square PNG of ``side`` px, centre-cropped, metadata stripped.
        Raises ``Invalid({"file": …})`` when the source is not an image."""


class EventNotifier(Protocol):
    def version(self, user_id: int) -> int:
        """A number that changes whenever ``notify`` names the user. It may change at
        other times too (a waiter woken for nothing reads its events and waits again),
        so an adapter can keep its memory bounded however many users it has seen."""

    def notify(self, user_ids: Iterable[int]) -> None:
        """Wake everyone waiting on these users."""

    def wait(self, user_id: int, seen_version: int, timeout: float) -> bool:
        """Block until the user's version differs from ``seen_version`` (True) or the
        timeout passes (False). Returns at once if it already differs."""


class EphemeralSignals(Protocol):
    """What lives seconds and is never stored: signals (typing) for long-polling users,
    and who is polling now (online). One process keeps it in memory; an adapter shared
    across processes must keep the same promises. Times come from the caller's clock.
    Waking the waiters is the EventNotifier's job."""

    def publish(self, user_ids: Iterable[int], signal: Signal) -> None:
        """Hold the signal for these users until ``signal.expires``."""

    def after(self, user_id: int, cursor: int | None, now: datetime) -> tuple[list[Signal], int]:
        """The user's unexpired signals published after ``cursor`` (none when it is None),
        oldest first, and the cursor that follows them (or the current one)."""

    def claim(self, key: str, now: datetime, interval: float) -> bool:
        """True at most once per ``interval`` seconds for a key: a gate for throttled
        signals (typing), judged by ``now``."""

    def polling(self, user_id: int, now: datetime, *, waiting: bool) -> None:
        """A long-poll of the user starts (``waiting``) or ends at ``now``."""

    def online(self, user_ids: Iterable[int], since: datetime) -> set[int]:
        """Those of the users with a long-poll waiting now, or one that started or ended
        at ``since`` or later."""


class BackgroundJobs(Protocol):
    def submit(self, job: Callable[[], None]) -> None:
        """Run ``job`` later, off the caller's thread (or at once, for tests). A job's
        failure is logged by the runner, never raised to the caller."""


class RateLimitStore(Protocol):
    """Token buckets by key, kept where every server process sharing the store sees them,
    so a limit holds however many processes serve (the web edge's throttles).

    A key's bucket holds up to ``burst`` tokens and refills at ``rate`` tokens a second; a
    key never taken from (or forgotten, or pruned) holds a full bucket. The store keeps
    one number per key, the moment its bucket will be full again (the generic cell rate
    algorithm), so a take is one atomic write. Times are seconds on the caller's clock
    (``now``, a Unix time at the web edge): the store reads no clock of its own. Callers
    use one ``rate`` and ``burst`` per key.
    """

    def take(self, key: str, cost: float, *, rate: float, burst: float, now: float) -> float:
        """Take ``cost`` tokens (> 0; above ``burst`` counts as ``burst``) from the key's
        bucket. Returns 0.0 when they were taken; otherwise takes nothing and returns the
        seconds until they will be there (> 0). Atomic, across processes too: of takes
        racing on one key, no more pass than the bucket holds."""

    def wait_time(self, key: str, cost: float, *, rate: float, burst: float, now: float) -> float:
        """What ``take`` would return at ``now``, taking nothing."""

    def forget(self, key: str) -> None:
        """Fill the key's bucket again, as if it had never been taken from."""

    def prune(self, now: float) -> int:
        """Drop the keys whose buckets are full at ``now`` (they hold what an unseen key
        holds), so the store stays as small as the keys being limited; returns how many."""


class EmojiCatalog(Protocol):
    def canonical(self, text: str) -> str | None:
        """The fully qualified form of ``text`` when it is exactly one emoji (so that
        "❤" and "❤️" are one reaction), None when it is anything else."""


class Mailer(Protocol):
    def send_confirmation(self, email: str, token: str) -> None:
        """Deliver an email-confirmation token to the address."""
