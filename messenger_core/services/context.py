"""What every capability works with: the ports, the settings, and the steps they share."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import attrs

from ..limits import EDIT_WINDOW_HOURS_DEFAULT, GROUP_MAX_MEMBERS_DEFAULT, ONLINE_SECONDS
from ..model import Attachment, EventType, MemberRole, NewMember
from ..ports import (
    BackgroundJobs,
    BlobStore,
    Clock,
    EmojiCatalog,
    EphemeralSignals,
    EventNotifier,
    ImageProcessor,
    Mailer,
    PasswordHasher,
    RandomSource,
    UnitOfWork,
    UnitOfWorkFactory,
)
from ..read_models import Audience
from ..tokens import TokenPolicy

log = logging.getLogger("messenger.core")


@attrs.frozen(kw_only=True)
class MessengerSettings:
    access_token_lifetime: int = 3600
    access_token_max_lifetime: int = 30 * 24 * 3600
    max_upload_size: int = 16 * 1024 * 1024
    # Bytes of one user's uploads not yet sent in a message (they are kept for
    # orphan_upload_lifetime): what one account can pile up on the server's disk.
    max_unsent_upload_bytes: int = 200 * 1024 * 1024
    orphan_upload_lifetime: timedelta = timedelta(hours=24)
    # How old a stored file no row names must be before the sweep deletes it: its row may
    # still be on the way (bytes are stored first, the row commits after).
    stray_file_grace: timedelta = timedelta(hours=1)
    event_retention: timedelta = timedelta(days=7)
    thumbnail_side: int = 320
    avatar_side: int = 256
    max_sticker_size: int = 512 * 1024
    group_max_members: int = GROUP_MAX_MEMBERS_DEFAULT
    session_idle: timedelta | None = None  # a session unused this long ends; None: never
    export_max_size: int = 8 * 1024**3
    # How long after sending its author may edit a message (None: always).
    edit_window: timedelta | None = timedelta(hours=EDIT_WINDOW_HOURS_DEFAULT)


@attrs.frozen(kw_only=True)
class Upload:
    """An uploaded file: its display name and its bytes as chunks."""

    name: str | None
    chunks: Iterable[bytes]


@attrs.frozen(kw_only=True)
class Context:
    """The ports and settings of one Messenger, shared by its capabilities."""

    uow: UnitOfWorkFactory
    clock: Clock
    random: RandomSource
    hasher: PasswordHasher
    tokens: TokenPolicy
    blobs: BlobStore
    images: ImageProcessor
    notifier: EventNotifier
    mailer: Mailer
    emoji: EmojiCatalog
    settings: MessengerSettings
    signals: EphemeralSignals
    jobs: BackgroundJobs

    def now(self) -> datetime:
        return self.clock.now()

    def audience(self, uow: UnitOfWork, viewer_id: int) -> Audience:
        """How the viewer sees other people, presence included (online: a long-poll
        waiting now or answered within ONLINE_SECONDS)."""
        now = self.clock.now()
        since = now - timedelta(seconds=ONLINE_SECONDS)
        return Audience.of(
            uow, viewer_id, online=lambda user_id: bool(self.signals.online([user_id], since)), now=now
        )

    def append_events(
        self, uow: UnitOfWork, user_ids: Iterable[int], type: EventType, data: dict[str, Any]
    ) -> None:
        """Write one event per user in the unit of work (waking them is the caller's
        step after commit)."""
        now = self.clock.now()
        for user_id in user_ids:
            uow.events.append(user_id, type, data, now)

    def append_chat_event(
        self,
        uow: UnitOfWork,
        chat_id: int,
        type: EventType,
        data: dict[str, Any],
        *,
        message_id: int | None = None,
    ) -> None:
        """Write one event for every member of the chat (one row, however many they are);
        ``message_id`` names the message it is about, so that members who may not see
        that message don't get it."""
        uow.events.append_to_chat(chat_id, type, data, self.clock.now(), message_id=message_id)

    def new_member(
        self, uow: UnitOfWork, user_id: int, role: MemberRole, *, visible_after_message_id: int = 0
    ) -> NewMember:
        """A membership beginning now: the chat's events from here on reach the user."""
        return NewMember(
            user_id=user_id,
            role=role,
            joined_date=self.clock.now(),
            joined_event_id=uow.events.latest_id(),
            visible_after_message_id=visible_after_message_id,
        )

    def store_square_image(self, upload: Upload) -> str:
        """Store an avatar or a group photo: the image re-encoded as a square of
        ``avatar_side`` px without metadata; the blob key (Invalid if not an image)."""
        limit = self.settings.max_upload_size
        raw = self.blobs.write(upload.chunks, max_size=limit)
        try:
            with self.blobs.open(raw.key) as source:
                return self.blobs.write(
                    self.images.avatar(source, self.settings.avatar_side), max_size=limit
                ).key
        finally:
            self.blobs.delete(raw.key)

    def unshared_keys(self, uow: UnitOfWork, attachments: Iterable[Attachment]) -> list[str]:
        """The blob keys of attachment rows just removed that no other row names (a
        forward shares its files): the bytes to delete once the unit has committed."""
        keys = [k for a in attachments for k in (a.storage_key, a.thumbnail_key) if k]
        if not keys:
            return []
        shared = uow.attachments.keys_in_use(keys)
        return [k for k in dict.fromkeys(keys) if k not in shared]

    def delete_blobs(self, keys: Iterable[str]) -> None:
        """Remove stored bytes that rows no longer name (``unshared_keys``)."""
        for key in keys:
            self.discard_blob(key)

    def discard_blob(self, key: str) -> bool:
        """Delete bytes no row points at any more; whether that worked. It runs after the
        commit, so a failure must not turn a committed change into an error: it is
        logged, and the sweep of stray files removes the bytes later."""
        try:
            self.blobs.delete(key)
        except Exception:
            log.warning("could not delete stored file %s now; the sweep will", key, exc_info=True)
            return False
        return True
