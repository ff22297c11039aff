"""Message search on every adapter: what matches, who finds what, and an index that
follows every change of a message in the same unit of work."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from messenger_core import search
from messenger_core.model import AttachmentKind, ChatKind, MemberRole, MessageKind, NewMember, NewMessage
from messenger_core.ports import UnitOfWork, UnitOfWorkFactory
from tests.contract.test_repositories import T0, add_message, add_user, at, new_attachment
from tests.records import add_chat


def find(uow: UnitOfWork, user_id: int, q: str = "", limit: int = 50, **narrow: object) -> list[str | None]:
    wanted = search.Filter(query=search.parse(q), **narrow)  # type: ignore[arg-type]
    return [m.text for m in uow.messages.search(user_id, wanted, limit)]


TEXTS = [
    "Привет, как дела?",
    "Ёлка в парке у дома",
    "добрый день всем",
    "День добрый, коллеги",
    "hello-world мой_друг",
    "ссылка: https://example.org/путь",
    "привет ещё раз",
]


@pytest.fixture
def talk(uow_factory: UnitOfWorkFactory) -> tuple[int, int, int]:
    """Alena and Boris chat; Clara is a stranger. Returns their ids."""
    with uow_factory() as uow:
        alena, boris, clara = add_user(uow), add_user(uow), add_user(uow)
        chat = add_chat(uow, [alena.id, boris.id], at(1))
        for second, text in enumerate(TEXTS):
            add_message(uow, chat, alena, text, sent=at(10 + second))
        uow.commit()
    return alena.id, boris.id, clara.id


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("прив", ["привет ещё раз", "Привет, как дела?"]),  # a prefix, any case, newest first
        ("ПРИВЕТ", ["привет ещё раз", "Привет, как дела?"]),
        ("елка", ["Ёлка в парке у дома"]),  # ё and е are one letter
        ("ёлк парк", ["Ёлка в парке у дома"]),  # every word, each a prefix
        ("парк зима", []),
        ('"добрый день"', ["добрый день всем"]),  # a phrase in its order …
        ("день добрый", ["День добрый, коллеги", "добрый день всем"]),  # … words in any
        ('"добр день"', []),  # a phrase's words are whole
        ("world друг", ["hello-world мой_друг"]),  # hyphens and underscores part words
        ("example", ["ссылка: https://example.org/путь"]),
        ("пут", ["ссылка: https://example.org/путь"]),
        ("как-дела", ["Привет, как дела?"]),  # a hyphenated word is a phrase of its words
    ],
)
def test_words_are_prefixes_and_phrases_run(
    uow_factory: UnitOfWorkFactory, talk: tuple[int, int, int], q: str, expected: list[str]
) -> None:
    _, boris, _ = talk
    with uow_factory(read_only=True) as uow:
        assert find(uow, boris, q) == expected


def test_only_members_find_and_pages_continue(
    uow_factory: UnitOfWorkFactory, talk: tuple[int, int, int]
) -> None:
    alena, boris, clara = talk
    with uow_factory(read_only=True) as uow:
        assert find(uow, clara, "прив") == []
        every = uow.messages.search(boris, search.Filter(query=search.parse("")), 50)
        assert [m.text for m in every] == TEXTS[::-1]
        first = uow.messages.search(boris, search.Filter(query=search.Query()), 3)
        rest = uow.messages.search(boris, search.Filter(query=search.Query(), before_id=first[-1].id), 50)
        assert [m.id for m in first + rest] == [m.id for m in every]
        assert find(uow, boris, sender_id=boris) == []
        assert find(uow, boris, "прив", sender_id=alena) == ["привет ещё раз", "Привет, как дела?"]
        assert find(uow, boris, sent_after=at(15)) == ["привет ещё раз"]
        assert find(uow, boris, sent_before=at(11)) == ["Привет, как дела?"]
        assert find(uow, boris, has="link") == ["ссылка: https://example.org/путь"]
        assert find(uow, boris, has="photo") == []


def test_the_index_follows_edits_deletions_hiding_and_files(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        chat = add_chat(uow, [alena.id, boris.id], at(1))
        edited = add_message(uow, chat, alena, "старый текст")
        deleted = add_message(uow, chat, alena, "удалю потом")
        hidden = add_message(uow, chat, alena, "спрячу от себя")
        photo = add_message(uow, chat, alena, "")
        file = uow.attachments.add(
            attrs.evolve(new_attachment(alena, "Отчёт за год.pdf"), kind=AttachmentKind.FILE)
        )
        picture = uow.attachments.add(new_attachment(alena, "море.jpg"))
        uow.attachments.attach([file.id, picture.id], photo.id)
        uow.messages.update(attrs.evolve(edited, text="новый текст"))
        uow.messages.update(deleted.tombstoned())
        uow.messages.hide(boris.id, hidden.id)
        system = uow.messages.add(
            NewMessage(
                chat_id=chat.id,
                sender_id=alena.id,
                text="системное",
                sticker_id=None,
                sending_date=T0,
                kind=MessageKind.SYSTEM,
            )
        )
        assert system.id
        assert find(uow, boris.id, "стар") == []
        assert find(uow, boris.id, "новый") == ["новый текст"]
        assert find(uow, boris.id, "удалю") == []
        assert find(uow, boris.id, "спрячу") == []
        assert find(uow, alena.id, "спрячу") == ["спрячу от себя"]
        assert find(uow, boris.id, "системное") == []
        assert find(uow, boris.id, "отчет год") == [""]  # by the files' names
        assert find(uow, boris.id, '"за год"') == [""]
        assert find(uow, boris.id, has="file") == find(uow, boris.id, has="photo") == [""]
        copy = add_message(uow, chat, boris, "")
        uow.attachments.add_copies(uow.attachments.for_messages([photo.id])[photo.id], copy.id, boris.id)
        assert len(find(uow, boris.id, "море")) == 2
        uow.commit()
    with uow_factory() as uow:
        uow.chats.remove(chat.id)
        assert find(uow, alena.id, "новый") == find(uow, alena.id, has="photo") == []
        uow.commit()


def test_a_later_member_finds_only_their_part(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        group = add_chat(uow, [alena.id], at(1), ChatKind.GROUP)
        before = add_message(uow, group, alena, "до тебя")
        uow.chats.add_member(
            group.id,
            NewMember(
                user_id=boris.id,
                role=MemberRole.MEMBER,
                joined_date=at(2),
                visible_after_message_id=before.id,
            ),
        )
        add_message(uow, group, alena, "после тебя", sent=at(3) + timedelta(seconds=1))
        assert find(uow, boris.id, "тебя") == ["после тебя"]
        assert find(uow, alena.id, "тебя") == ["после тебя", "до тебя"]
        assert find(uow, boris.id, "тебя", chat_id=group.id) == ["после тебя"]
        uow.commit()
