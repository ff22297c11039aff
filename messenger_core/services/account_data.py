"""One's own data: exporting it as a ZIP, and deleting the account.

An export is built off the request (``BackgroundJobs``) and streamed into the blob store
a chat page at a time, never held whole in memory; ``export.ready`` tells the user. A
deleted account becomes a tombstone: the row its messages point at, with nothing of the
person left (clients show "Удалённый аккаунт" from ``deleted``) and the email freed.
"""

from __future__ import annotations

import json
import math
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, BinaryIO

from ..errors import Forbidden, NotFound, Throttled
from ..limits import EXPORT_INTERVAL_HOURS, EXPORT_RETENTION_DAYS, HISTORY_LIMIT_MAX
from ..message_views import message_views
from ..model import Actor, Attachment, EventType, Export, ExportState, MessageKind, User
from ..payloads import message_data, unix, user_data
from ..ports import UnitOfWork
from ..read_models import export_view
from ..views import ExportView, user_view
from .accounts import fresh_alternative_id
from .context import Context, log
from .groups import Groups
from .lookups import contact_ids, current_user
from .messages import Messages

EXPORT_FORMAT = 1
_PAGE = HISTORY_LIMIT_MAX
_FILE_CHUNK = 64 * 1024


class AccountData:
    def __init__(self, ctx: Context, groups: Groups, messages: Messages) -> None:
        self._ctx = ctx
        self._groups = groups
        self._messages = messages

    # --- export -----------------------------------------------------------------------

    def start_export(self, actor: Actor) -> ExportView:
        """Start building a ZIP of your data (at most one per EXPORT_INTERVAL_HOURS);
        ``export.ready`` tells you when it is there."""
        now = self._ctx.now()
        with self._ctx.uow() as uow:
            current_user(uow, actor.id)
            earlier = uow.exports.get(actor.id)
            interval = timedelta(hours=EXPORT_INTERVAL_HOURS)
            if earlier is not None and now - earlier.created_date < interval:
                wait = (earlier.created_date + interval - now).total_seconds()
                raise Throttled("export_daily", retry_after=max(1, math.ceil(wait)))
            export = Export(user_id=actor.id, state=ExportState.PENDING, created_date=now)
            uow.exports.put(export)
            uow.commit()
        if earlier is not None and earlier.blob_key:
            self._ctx.discard_blob(earlier.blob_key)
        self._ctx.jobs.submit(lambda: self.build_export(actor.id))
        return self.export_status(actor)

    def export_status(self, actor: Actor) -> ExportView:
        """Your latest export: pending or ready; NotFound when you have none."""
        with self._ctx.uow(read_only=True) as uow:
            export = uow.exports.get(actor.id)
        if export is None:
            raise NotFound("export")
        return export_view(export)

    def open_export(self, actor: Actor) -> tuple[ExportView, BinaryIO]:
        """Your ready export's ZIP as a stream; NotFound while there is none ready."""
        with self._ctx.uow(read_only=True) as uow:
            export = uow.exports.get(actor.id)
        if export is None or export.state is not ExportState.READY or export.blob_key is None:
            raise NotFound("export")
        return export_view(export), self._ctx.blobs.open(export.blob_key)

    def build_export(self, user_id: int) -> None:
        """Build a pending export (the job ``start_export`` submits; the maintenance loop
        also runs it for exports a restart left pending)."""
        with self._ctx.uow(read_only=True) as uow:
            export = uow.exports.get(user_id)
            user = uow.users.get(user_id)
        if export is None or export.state is not ExportState.PENDING or user is None:
            return
        try:
            stored = self._ctx.blobs.write(self._zip(user), max_size=self._ctx.settings.export_max_size)
        except Exception:
            log.exception("the export of user %s failed", user_id)
            with self._ctx.uow() as uow:
                uow.exports.remove(user_id)  # so that it can be asked for again
                uow.commit()
            return
        with self._ctx.uow() as uow:
            current = uow.exports.get(user_id)
            if current is None or current.created_date != export.created_date:
                uow.commit()
                self._ctx.discard_blob(stored.key)  # replaced or forgotten meanwhile
                return
            ready = Export(
                user_id=user_id,
                state=ExportState.READY,
                created_date=export.created_date,
                blob_key=stored.key,
                size=stored.size,
                ready_date=self._ctx.now(),
            )
            uow.exports.put(ready)
            data = {"size": stored.size, "ready_date": unix(ready.ready_date)}
            self._ctx.append_events(uow, [user_id], EventType.EXPORT_READY, data)
            uow.commit()
        self._ctx.notifier.notify([user_id])

    def build_pending_exports(self) -> int:
        """Build every export still pending (after a restart); how many."""
        with self._ctx.uow(read_only=True) as uow:
            pending = uow.exports.pending()
        for export in pending:
            self.build_export(export.user_id)
        return len(pending)

    def prune_exports(self) -> int:
        """Delete exports built longer than EXPORT_RETENTION_DAYS ago."""
        before = self._ctx.now() - timedelta(days=EXPORT_RETENTION_DAYS)
        with self._ctx.uow() as uow:
            old = uow.exports.ready_before(before)
            for export in old:
                uow.exports.remove(export.user_id)
            uow.commit()
        for export in old:
            if export.blob_key:
                self._ctx.discard_blob(export.blob_key)
        return len(old)

    def _zip(self, user: User) -> Iterator[bytes]:
        """The ZIP of the user's data, a piece at a time (see docs/api_docs.md for the
        layout): zipfile writes into a spool each piece is taken from."""
        spool = _Spool()
        with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            with self._ctx.uow(read_only=True) as uow:
                parts = self._profile_parts(uow, user)
                chats = uow.chats.list_for_user(user.id)
            for name, value in parts.items():
                archive.writestr(name, _json(value))
                yield spool.take()
            for chat in chats:
                with archive.open(f"chats/{chat.id}.json", "w", force_zip64=True) as entry:
                    for piece in self._chat_pieces(user, chat.id):
                        entry.write(piece)
                        yield spool.take()
                yield spool.take()
            index: list[dict[str, Any]] = []
            for attachment in self._uploads(user.id):
                path = f"files/{attachment.id}-{attachment.name}"
                index.append(_file_entry(attachment, path))
                with (
                    archive.open(path, "w", force_zip64=True) as entry,
                    self._ctx.blobs.open(attachment.storage_key) as source,
                ):
                    while chunk := source.read(_FILE_CHUNK):
                        entry.write(chunk)
                        yield spool.take()
            archive.writestr("files.json", _json(index))
        yield spool.take()

    def _profile_parts(self, uow: UnitOfWork, user: User) -> dict[str, Any]:
        view = user_view(user)
        rows = uow.friendships.list_for(user.id)
        others = uow.users.get_many(r.other(user.id) for r in rows)
        friends = [
            {
                "user": user_data(user_view(others[r.other(user.id)])),
                "is_accepted": r.is_accepted,
                "requested_by_me": r.requester_id == user.id,
                "since": unix(r.created_date),
            }
            for r in rows
            if r.other(user.id) in others
        ]
        sessions = [
            {
                "id": s.id,
                "device": s.device,
                "ip": s.ip,
                "created_date": unix(s.created_date),
                "last_used_date": unix(s.last_used_date),
            }
            for s in uow.sessions.active_for(user.id)
        ]
        blocked = uow.users.get_many(b.blocked_id for b in uow.blocks.list_by(user.id))
        profile = user_data(view) | {
            "email": view.email,
            "phone_number": view.phone_number,
            "age": view.age,
            "city": view.city,
            "additional_inf": view.additional_inf,
            "created_date": unix(view.created_date),
            "is_confirmed": view.is_confirmed,
            "last_seen": unix(user.last_seen),
        }
        return {
            "manifest.json": {
                "format": EXPORT_FORMAT,
                "user_id": user.alternative_id,
                "at": unix(self._ctx.now()),
            },
            "profile.json": profile,
            "friends.json": friends,
            "sessions.json": sessions,
            "blocked.json": [user_data(user_view(u)) for u in blocked.values()],
        }

    def _chat_pieces(self, user: User, chat_id: int) -> Iterator[bytes]:
        """A chat's JSON: the chat, then the messages the user can see, a page at a time."""
        with self._ctx.uow(read_only=True) as uow:
            chat = uow.chats.get(chat_id)
            mine = uow.chats.member(chat_id, user.id)
            members = uow.users.get_many(uow.chats.member_ids(chat_id))
        if chat is None or mine is None:
            yield b'{"chat": null, "messages": []}'
            return
        head = {
            "id": chat.id,
            "kind": chat.kind.value,
            "title": chat.title,
            "members": [user_data(user_view(u)) for u in members.values()],
        }
        yield b'{"chat": ' + _json(head) + b', "messages": ['
        after, first = mine.visible_after_message_id, True
        while True:
            with self._ctx.uow(read_only=True) as uow:
                page = uow.messages.page_after(chat_id, after, _PAGE)
                views = message_views(uow, user.id, chat_id, page)
            for view in views:
                yield (b"" if first else b", ") + _json(message_data(view))
                first = False
            if len(page) < _PAGE:
                break
            after = page[-1].id
        yield b"]}"

    def _uploads(self, user_id: int) -> Iterator[Attachment]:
        after = 0
        while True:
            with self._ctx.uow(read_only=True) as uow:
                page = uow.attachments.uploaded_by(user_id, after, _PAGE)
            yield from page
            if len(page) < _PAGE:
                return
            after = page[-1].id

    # --- deletion ---------------------------------------------------------------------

    def delete_account(self, actor: Actor, *, password: str, delete_messages: bool = False) -> None:
        """Delete your account: every session ends; profile, avatar, friendships,
        requests, blocks, sessions and export go; the email is free again. Your messages
        stay in others' chats under a tombstone (with your files), unless
        ``delete_messages``: then they become tombstones for everyone, files deleted."""
        with self._ctx.uow(read_only=True) as uow:
            user = current_user(uow, actor.id)
        if not self._ctx.hasher.verify(user.password_hash, password):
            raise Forbidden("wrong_password")
        doomed: list[str] = []  # blob keys to delete after the commit
        with self._ctx.uow() as uow:
            user = current_user(uow, actor.id)
            woken = set(contact_ids(uow, user.id))
            for row in uow.friendships.list_for(user.id):
                uow.friendships.remove(user.id, row.other(user.id))
                data = {"user_id": user.alternative_id}
                self._ctx.append_events(uow, [row.other(user.id)], row.ending(by=user.id), data)
            uow.blocks.remove_all_for(user.id)
            uow.sessions.remove_all_for(user.id)
            export = uow.exports.get(user.id)
            if export is not None:
                uow.exports.remove(user.id)
                if export.blob_key:
                    doomed.append(export.blob_key)
            left, files = self._groups.leave_every_group(uow, actor)
            woken.update(left)
            doomed += files
            if delete_messages:
                woken.update(self._tombstone_messages(uow, user, doomed))
            doomed += self._ctx.unshared_keys(uow, self._unsent_uploads(uow, user.id))
            for chat in uow.chats.list_for_user(user.id):
                woken.update(uow.chats.member_ids(chat.id))
            if user.avatar:
                doomed.append(user.avatar)
            tombstone = user.tombstoned(
                alternative_id=fresh_alternative_id(self._ctx, uow),
                email=f"deleted-{user.id}@deleted.invalid",
            )
            uow.users.update(tombstone)
            woken.discard(user.id)
            payload = {"user": user_data(user_view(tombstone))}
            self._ctx.append_events(uow, sorted(woken), EventType.USER_UPDATED, payload)
            uow.commit()
        self._ctx.delete_blobs(doomed)
        self._ctx.notifier.notify([user.id, *woken])

    def _tombstone_messages(self, uow: UnitOfWork, user: User, doomed: list[str]) -> set[int]:
        """Every message of the user becomes a tombstone for everyone; returns whom to wake."""
        woken: set[int] = set()
        after = 0
        while page := uow.messages.sent_by(user.id, after, _PAGE):
            after = page[-1].id
            for message in page:
                if message.is_deleted or message.kind is not MessageKind.USER:
                    continue
                _, members, files = self._messages.erase(uow, message, Actor(user.id, user.alternative_id))
                doomed += files
                woken.update(members)
        return woken

    @staticmethod
    def _unsent_uploads(uow: UnitOfWork, user_id: int) -> list[Attachment]:
        unsent: list[Attachment] = []
        after = 0
        while page := uow.attachments.uploaded_by(user_id, after, _PAGE):
            after = page[-1].id
            for attachment in page:
                if attachment.message_id is None:
                    uow.attachments.remove(attachment.id)
                    unsent.append(attachment)
        return unsent


class _Spool:
    """A write-only file for zipfile that hands on what was written: unseekable, so
    zipfile streams (data descriptors after each entry) instead of seeking back."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._written = 0

    def write(self, data: bytes) -> int:
        self._buffer += data
        self._written += len(data)
        return len(data)

    def tell(self) -> int:
        return self._written

    def seekable(self) -> bool:
        return False

    def flush(self) -> None:
        """Nothing is held that a flush could write."""

    def close(self) -> None:
        """Nothing to release."""

    def take(self) -> bytes:
        data, self._buffer = bytes(self._buffer), bytearray()
        return data


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _file_entry(attachment: Attachment, path: str) -> dict[str, Any]:
    return {
        "id": attachment.id,
        "name": attachment.name,
        "size": attachment.size,
        "mime": attachment.mime,
        "message_id": attachment.message_id,
        "created_date": unix(attachment.created_date),
        "path": path,
    }
