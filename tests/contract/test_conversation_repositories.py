"""The repository methods of the conversation, on every adapter: quotes and forward
sources kept with a message, earlier texts, hidden messages left out of pages, counts and
events, reactions summarised per emoji, pins, shared files."""

from __future__ import annotations

import attrs

from messenger_core.limits import REACTION_USERS_SHOWN
from messenger_core.model import (
    ChatKind,
    EventType,
    MessageVersion,
    NewMessage,
    Pin,
    Reaction,
    ReactionSummary,
)
from messenger_core.ports import UnitOfWorkFactory
from tests.contract.test_repositories import T0, add_message, add_user, at, new_attachment
from tests.records import add_chat


def test_a_message_keeps_its_quote_and_forward_source(uow_factory: UnitOfWorkFactory) -> None:
    quote = {"id": 7, "sender_id": 1, "preview": "Привет 🙂", "kind": "text"}
    source = {"user_id": None, "name": "Алёна", "date": T0.isoformat()}
    with uow_factory() as uow:
        alena = add_user(uow)
        chat = add_chat(uow, [alena.id], at(1))
        new = NewMessage(
            chat_id=chat.id,
            sender_id=alena.id,
            text="ответ",
            sticker_id=None,
            sending_date=at(2),
            reply_to=quote,
            forwarded_from=source,
        )
        added = uow.messages.add(new)
        uow.commit()
    with uow_factory(read_only=True) as uow:
        stored = uow.messages.get(added.id)
        assert stored == added
        assert stored is not None and (stored.reply_to, stored.forwarded_from) == (quote, source)
        assert uow.messages.get_many([added.id, 999]) == {added.id: added}


def test_versions_are_kept_in_order_and_forgotten_together(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena = add_user(uow)
        chat = add_chat(uow, [alena.id], at(1))
        message, other = add_message(uow, chat, alena), add_message(uow, chat, alena)
        uow.messages.add_version(message.id, MessageVersion(text="один", written_date=at(1)))
        uow.messages.add_version(message.id, MessageVersion(text="два", written_date=at(2)))
        uow.messages.add_version(other.id, MessageVersion(text="другое", written_date=at(3)))
        uow.commit()
    with uow_factory() as uow:
        assert [(v.text, v.written_date) for v in uow.messages.versions(message.id)] == [
            ("один", at(1)),
            ("два", at(2)),
        ]
        uow.messages.remove_versions(message.id)
        uow.messages.remove_versions(12345)  # missing is fine
        uow.commit()
    with uow_factory(read_only=True) as uow:
        assert uow.messages.versions(message.id) == []
        assert [v.text for v in uow.messages.versions(other.id)] == ["другое"]


def test_hidden_messages_leave_one_users_pages_and_counts(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        chat = add_chat(uow, [alena.id, boris.id], at(1), ChatKind.GROUP)
        ids = [
            uow.messages.add(
                NewMessage(
                    chat_id=chat.id,
                    sender_id=alena.id,
                    text=str(i),
                    sticker_id=None,
                    sending_date=at(10 + i),
                    mentions=(boris.id,),
                )
            ).id
            for i in range(6)
        ]
        for hidden in (ids[1], ids[4]):
            uow.messages.hide(boris.id, hidden)
        uow.messages.hide(boris.id, ids[1])  # twice: harmless
        uow.messages.hide(boris.id, 999999)  # no such message: nothing
        uow.commit()
    shown = [ids[0], ids[2], ids[3], ids[5]]
    with uow_factory(read_only=True) as uow:
        assert uow.messages.hidden_among(boris.id, ids) == {ids[1], ids[4]}
        assert uow.messages.hidden_among(alena.id, ids) == set()
        assert [m.id for m in uow.messages.page_before(chat.id, None, 3, hidden_for=boris.id)] == [
            ids[5],
            ids[3],
            ids[2],
        ]
        assert [m.id for m in uow.messages.page_before(chat.id, None, 3)] == ids[:2:-1]
        assert [m.id for m in uow.messages.page_after(chat.id, ids[0], 2, hidden_for=boris.id)] == shown[1:3]
        since = [m.id for m in uow.messages.page_since(chat.id, at(10), 10, hidden_for=boris.id)]
        assert since == shown[1:]
        assert uow.messages.count_unread(chat.id, boris.id, 0) == 4
        assert uow.messages.count_unread(chat.id, alena.id, 0) == 0  # her own
        assert uow.messages.count_unread_mentions(chat.id, boris.id, ids[0]) == 3


def test_events_about_a_message_skip_those_who_may_not_see_it(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        chat = add_chat(uow, [alena.id, boris.id], at(1))
        first, second = add_message(uow, chat, alena), add_message(uow, chat, alena)
        uow.messages.hide(boris.id, first.id)
        about_first = uow.events.append_to_chat(
            chat.id, EventType.MESSAGE_EDITED, {}, at(2), message_id=first.id
        )
        about_second = uow.events.append_to_chat(
            chat.id, EventType.MESSAGE_EDITED, {}, at(3), message_id=second.id
        )
        plain = uow.events.append_to_chat(chat.id, EventType.CHAT_UPDATED, {}, at(4))
        uow.commit()
    with uow_factory() as uow:
        assert [e.id for e in uow.events.after(alena.id, 0, 10)] == [
            about_first.id,
            about_second.id,
            plain.id,
        ]
        assert [e.id for e in uow.events.after(boris.id, 0, 10)] == [about_second.id, plain.id]
        assert uow.events.after(alena.id, 0, 10)[0].message_id == first.id
        # Clearing moves where Boris's part begins: events about earlier messages stop.
        uow.chats.set_visible_after(chat.id, boris.id, second.id)
        assert uow.chats.member(chat.id, boris.id) == attrs.evolve(
            uow.chats.members(chat.id)[1], visible_after_message_id=second.id
        )
        assert [e.id for e in uow.events.after(boris.id, 0, 10)] == [plain.id]
        uow.commit()


def test_reactions_are_summarised_per_emoji_in_the_order_they_came(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        users = [add_user(uow) for _ in range(REACTION_USERS_SHOWN + 2)]
        chat = add_chat(uow, [u.id for u in users], at(1), ChatKind.GROUP)
        message, other = add_message(uow, chat, users[0]), add_message(uow, chat, users[0])
        given = [(users[2], "👍"), (users[1], "❤️"), (users[0], "👍"), (users[3], "👍"), (users[1], "👍")]
        for second, (user, emoji) in enumerate(given):
            added = uow.reactions.add(
                Reaction(message_id=message.id, user_id=user.id, emoji=emoji, created_date=at(second))
            )
            assert added
        again = Reaction(message_id=message.id, user_id=users[2].id, emoji="👍", created_date=at(9))
        assert uow.reactions.add(again) is False
        uow.commit()
    with uow_factory() as uow:
        assert uow.reactions.emojis(message.id) == {"👍", "❤️"}
        summaries = uow.reactions.summaries([message.id, other.id], users[1].id)
        thumbs = (users[2].id, users[0].id, users[3].id, users[1].id)
        assert summaries == {
            message.id: [
                ReactionSummary(emoji="👍", count=4, user_ids=thumbs, me=True),
                ReactionSummary(emoji="❤️", count=1, user_ids=(users[1].id,), me=True),
            ]
        }
        assert [s.me for s in uow.reactions.summaries([message.id], users[3].id)[message.id]] == [True, False]
        assert uow.reactions.remove(message.id, users[2].id, "👍") is True
        assert uow.reactions.remove(message.id, users[2].id, "👍") is False
        # The order is that of the reactions there now: ❤️ came before the 👍 left.
        left = uow.reactions.summaries([message.id], -1)[message.id]
        assert [(s.emoji, s.count) for s in left] == [("❤️", 1), ("👍", 3)]
        uow.reactions.remove_all(message.id)
        assert uow.reactions.summaries([message.id], -1) == {}
        assert uow.reactions.emojis(message.id) == set()
        uow.commit()


def test_a_summary_names_the_first_reactors_only(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        users = [add_user(uow) for _ in range(REACTION_USERS_SHOWN + 3)]
        chat = add_chat(uow, [u.id for u in users], at(1), ChatKind.GROUP)
        message = add_message(uow, chat, users[0])
        for second, user in enumerate(reversed(users)):
            uow.reactions.add(
                Reaction(message_id=message.id, user_id=user.id, emoji="🎉", created_date=at(second))
            )
        uow.commit()
    with uow_factory(read_only=True) as uow:
        [party] = uow.reactions.summaries([message.id], users[0].id)[message.id]
        assert party.count == len(users) and party.me is True  # the viewer is past the first ten
        assert party.user_ids == tuple(u.id for u in reversed(users))[:REACTION_USERS_SHOWN]


def test_pins_are_listed_latest_first_and_skip_what_a_user_hid(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        chat = add_chat(uow, [alena.id, boris.id], at(1))
        a, b, c = (add_message(uow, chat, alena) for _ in range(3))
        for second, message in ((5, a), (7, c), (6, b)):
            assert uow.pins.add(
                Pin(chat_id=chat.id, message_id=message.id, pinned_by=alena.id, pinned_date=at(second))
            )
        assert (
            uow.pins.add(Pin(chat_id=chat.id, message_id=a.id, pinned_by=boris.id, pinned_date=at(9)))
            is False
        )
        uow.messages.hide(boris.id, c.id)
        uow.commit()
    with uow_factory() as uow:
        assert [p.message_id for p in uow.pins.list_for_chat(chat.id)] == [c.id, b.id, a.id]
        assert uow.pins.list_for_chat(chat.id)[-1].pinned_by == alena.id
        latest = uow.pins.latest_for(chat.id, alena.id, 0)
        assert latest is not None and latest.message_id == c.id
        hidden = uow.pins.latest_for(chat.id, boris.id, 0)
        assert hidden is not None and hidden.message_id == b.id
        assert uow.pins.latest_for(chat.id, alena.id, c.id) is None  # all at or below the floor
        assert uow.pins.remove(chat.id, b.id) is True
        assert uow.pins.remove(chat.id, b.id) is False
        uow.chats.remove(chat.id)
        assert uow.pins.list_for_chat(chat.id) == []
        uow.commit()


def test_copies_share_stored_files_until_the_last_row_goes(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        chat = add_chat(uow, [alena.id, boris.id], at(1))
        original, forward = add_message(uow, chat, alena), add_message(uow, chat, boris)
        first = uow.attachments.add(attrs.evolve(new_attachment(alena), storage_key="k1", thumbnail_key="t1"))
        second = uow.attachments.add(
            attrs.evolve(new_attachment(alena, "b.txt"), storage_key="k2", thumbnail_key=None)
        )
        uow.attachments.attach([first.id, second.id], original.id)
        sources = uow.attachments.for_messages([original.id])[original.id]
        copies = uow.attachments.add_copies(sources, forward.id, boris.id)
        assert [
            (c.storage_key, c.thumbnail_key, c.message_id, c.position, c.uploader_id) for c in copies
        ] == [
            ("k1", "t1", forward.id, 0, boris.id),
            ("k2", None, forward.id, 1, boris.id),
        ]
        assert {c.id for c in copies}.isdisjoint({first.id, second.id})
        assert uow.attachments.for_messages([forward.id])[forward.id] == copies
        uow.attachments.detach_all(original.id)
        assert uow.attachments.keys_in_use(["k1", "t1", "k2", "nowhere"]) == {"k1", "t1", "k2"}
        uow.attachments.detach_all(forward.id)
        assert uow.attachments.keys_in_use(["k1", "t1", "k2"]) == set()
        uow.commit()
