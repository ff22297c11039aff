"""The repository methods of notifications, on every adapter: a member's mute of a chat
(a time, the latest time there is, cleared) and a user's notification settings."""

from __future__ import annotations

import attrs

from messenger_core.model import MUTED_FOREVER
from messenger_core.ports import UnitOfWorkFactory
from tests.contract.test_repositories import add_user, at
from tests.records import add_chat


def test_a_mute_is_one_members_and_round_trips(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        chat = add_chat(uow, [alena.id, boris.id], at(1))
        uow.chats.set_muted_until(chat.id, alena.id, at(3600))
        uow.commit()
    with uow_factory() as uow:
        mine, theirs = uow.chats.member(chat.id, alena.id), uow.chats.member(chat.id, boris.id)
        assert mine is not None and theirs is not None
        assert mine.muted_until == at(3600) and theirs.muted_until is None
        uow.chats.set_muted_until(chat.id, boris.id, MUTED_FOREVER)
        uow.chats.set_muted_until(chat.id, alena.id, None)
        uow.commit()
    with uow_factory() as uow:
        assert [m.muted_until for m in uow.chats.members(chat.id)] == [None, MUTED_FOREVER]


def test_a_users_notification_settings_round_trip(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena = add_user(uow)
        assert (alena.notify_preview, alena.notify_muted_mentions) == (True, True)
        uow.users.update(attrs.evolve(alena, notify_preview=False))
        uow.commit()
    with uow_factory() as uow:
        found = uow.users.get(alena.id)
        assert found is not None and (found.notify_preview, found.notify_muted_mentions) == (False, True)
