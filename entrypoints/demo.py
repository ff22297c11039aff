"""The demo data shipped with the project (the specification's "test data").

Made only through use cases, with a manual clock and a seeded random source, so the
same command always makes the same database. Passwords are listed in the README.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from messenger_core import Messenger
from messenger_core.model import Actor, ProfileChanges

DEMO_PASSWORD = "password123"

# (first name, second name, email, city)
DEMO_USERS = (
    ("Алёна", "Иванова", "alena@example.com", "Москва"),
    ("Дмитрий", "Смирнов", "dmitry@example.com", "Санкт-Петербург"),
    ("Alice", "Johnson", "alice@example.com", "London"),
    ("Bob", "Miller", "bob@example.com", "Berlin"),
    ("Екатерина", "Волкова", "katya@example.com", "Казань"),
    ("Carlos", "García", "carlos@example.com", "Madrid"),
    ("Ольга", "Кузнецова", "olga@example.com", "Новосибирск"),
    ("Ivan", "Petrov", "ivan@example.com", "Екатеринбург"),
)

CONVERSATION = (
    (0, "Привет! Как дела?"),
    (1, "Привет, Алёна! Всё отлично, спасибо. Ты как?"),
    (0, "Тоже хорошо. Пойдём в субботу в кино?"),
    (1, "Давай! Во сколько?"),
    (0, "В шесть вечера у входа."),
    (1, "Договорились 👍"),
)


def load_demo_data(messenger: Messenger, advance: Callable[[timedelta], None]) -> list[Actor]:
    """Fill an empty messenger with users, friendships, requests, chats and stickers."""
    users: list[Actor] = []
    for first, second, email, city in DEMO_USERS:
        view = messenger.register(first_name=first, second_name=second, email=email, password=DEMO_PASSWORD)
        actor = Actor(view.id, view.user_id)
        messenger.update_profile(
            actor, ProfileChanges(city=city, additional_inf=f"{first} — демо-пользователь")
        )
        users.append(actor)
        advance(timedelta(minutes=7))
    alena, dmitry, alice, bob, katya, carlos, olga, ivan = users

    for a, b in (
        (alena, dmitry),
        (alena, alice),
        (alice, bob),
        (dmitry, katya),
        (bob, carlos),
        (alena, olga),
    ):
        messenger.send_friend_request(a, b.alternative_id)
        messenger.accept_friend_request(b, a.alternative_id)
    messenger.send_friend_request(ivan, alena.alternative_id)  # pending: incoming for Алёна
    messenger.send_friend_request(alena, katya.alternative_id)  # pending: outgoing for Алёна

    pack = _sticker_pack(messenger)

    advance(timedelta(hours=1))
    pair = (alena, dmitry)
    sent = []
    for speaker, text in CONVERSATION:
        sent.append(
            messenger.send_message(pair[speaker], receiver_id=pair[1 - speaker].alternative_id, text=text)
        )
        advance(timedelta(minutes=2))
    messenger.edit_message(alena, sent[4].id, text="В шесть вечера у главного входа.")
    messenger.mark_read(dmitry, sent[0].chat_id, sent[4].id)
    if pack is not None:
        messenger.send_message(dmitry, chat_id=sent[0].chat_id, sticker_id=pack)

    advance(timedelta(hours=3))
    hello = messenger.send_message(
        alice, receiver_id=bob.alternative_id, text="Hi Bob! Did you get my email?"
    )
    advance(timedelta(minutes=1))
    oops = messenger.send_message(alice, chat_id=hello.chat_id, text="Wrong chat, sorry")
    messenger.delete_message(alice, oops.id)
    messenger.send_message(bob, chat_id=hello.chat_id, text="Yes, thanks! Reading it now.")
    advance(timedelta(minutes=30))
    messenger.send_message(alena, receiver_id=alice.alternative_id, text="Hello Alice! Привет из Москвы 🙂")
    for i in range(1, 121):  # a long chat, to page through
        advance(timedelta(minutes=1))
        messenger.send_message(bob, receiver_id=carlos.alternative_id, text=f"Message number {i}")
    return users


def _sticker_pack(messenger: Messenger) -> int | None:
    """The first sticker of the built-in pack (every database is created with it)."""
    packs = messenger.list_sticker_packs()
    return packs[0].stickers[0].id if packs and packs[0].stickers else None
