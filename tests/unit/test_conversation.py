"""The conversation on the memory adapter: replies, jumps, forwards, reactions, edit
history, deleting for oneself, clearing, pins."""

from __future__ import annotations

import io
from datetime import timedelta

import attrs
import pytest
from PIL import Image

from adapters.memory import MemoryUnitOfWorkFactory
from adapters.testing import ManualClock
from messenger_core import Conflict, Forbidden, Invalid, Messenger, MessengerSettings, NotFound
from messenger_core.limits import FORWARD_CHATS_MAX, PINS_MAX, REACTIONS_MAX, REPLY_PREVIEW_MAX
from messenger_core.model import Actor, EventType
from messenger_core.services import Upload
from tests.conftest import build_messenger

PASSWORD = "correct horse"
# Twenty-one distinct emoji, for the per-message limit.
MANY_EMOJI = "😀😃😄😁😆😅😂🤣😊😇🙂🙃😉😌😍🥰😘😗😙😚😋"


def person(m: Messenger, name: str) -> Actor:
    view = m.register(
        first_name=name, second_name="Talk", email=f"{name.lower()}@example.com", password=PASSWORD
    )
    return Actor(view.id, view.user_id)


def befriend(m: Messenger, a: Actor, b: Actor) -> int:
    m.send_friend_request(a, b.alternative_id)
    m.accept_friend_request(b, a.alternative_id)
    return m.open_chat(a, b.alternative_id)[0].id


@attrs.frozen
class Room:
    anna: Actor
    boris: Actor
    vera: Actor
    chat: int  # Anna and Boris
    other: int  # Anna and Vera


@pytest.fixture
def room(messenger: Messenger) -> Room:
    anna, boris, vera = (person(messenger, n) for n in ("Anna", "Boris", "Vera"))
    return Room(anna, boris, vera, befriend(messenger, anna, boris), befriend(messenger, anna, vera))


def say(m: Messenger, actor: Actor, chat: int, text: str, **more: object) -> int:
    return m.send_message(actor, chat_id=chat, text=text, **more).id  # type: ignore[arg-type]


def texts(m: Messenger, actor: Actor, chat: int, **paging: object) -> list[str | None]:
    return [v.text for v in m.history(actor, chat, **paging)]  # type: ignore[arg-type]


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


def upload(m: Messenger, actor: Actor, name: str = "фото.png") -> int:
    return m.upload_attachment(actor, Upload(name=name, chunks=[png()])).id


def events(m: Messenger, actor: Actor, since: int) -> list[tuple[EventType, dict[str, object]]]:
    return [(e.type, e.data) for e in m.events(actor, since=since).events]


# --- replies -------------------------------------------------------------------------


def test_a_reply_quotes_the_original_as_it_was(messenger: Messenger, room: Room) -> None:
    original = say(messenger, room.anna, room.chat, "Встречаемся в шесть")
    reply = messenger.send_message(room.boris, chat_id=room.chat, text="Хорошо", reply_to_id=original)
    assert reply.reply_to is not None
    assert (reply.reply_to.id, reply.reply_to.sender_id, reply.reply_to.preview, reply.reply_to.kind) == (
        original,
        room.anna.alternative_id,
        "Встречаемся в шесть",
        "text",
    )
    messenger.edit_message(room.anna, original, text="Встречаемся в семь")
    [_, shown] = messenger.history(room.anna, room.chat)
    assert shown.reply_to == reply.reply_to  # the snapshot never changes


def test_a_quote_is_short_and_names_a_file_or_sticker(messenger: Messenger, room: Room) -> None:
    long = say(messenger, room.anna, room.chat, "ж" * (REPLY_PREVIEW_MAX + 50))
    photo = messenger.send_message(
        room.anna, chat_id=room.chat, attachment_ids=[upload(messenger, room.anna)]
    ).id
    pack = messenger.add_sticker_pack("Набор", [Upload(name="s.png", chunks=[png()])])
    sticker_id = pack.stickers[0].id
    sticker = messenger.send_message(room.anna, chat_id=room.chat, sticker_id=sticker_id).id
    quotes = [
        messenger.send_message(room.boris, chat_id=room.chat, text="!", reply_to_id=i).reply_to
        for i in (long, photo, sticker)
    ]
    assert [(q.kind, q.preview) for q in quotes if q] == [
        ("text", "ж" * REPLY_PREVIEW_MAX),
        ("photo", "фото.png"),
        ("sticker", ""),
    ]


def test_a_reply_to_a_deleted_or_hidden_original_says_deleted(messenger: Messenger, room: Room) -> None:
    first = say(messenger, room.anna, room.chat, "первое")
    second = say(messenger, room.anna, room.chat, "второе")
    to_first = say(messenger, room.boris, room.chat, "на первое", reply_to_id=first)
    to_second = say(messenger, room.boris, room.chat, "на второе", reply_to_id=second)
    messenger.delete_message(room.anna, first)
    messenger.hide_message(room.boris, second)
    quotes = {v.id: v.reply_to for v in messenger.history(room.boris, room.chat)}
    assert quotes[to_first] is not None and quotes[to_first].deleted and quotes[to_first].preview is None
    assert quotes[to_second] is not None and quotes[to_second].deleted  # hidden for Boris …
    anna_sees = {v.id: v.reply_to for v in messenger.history(room.anna, room.chat)}
    assert anna_sees[to_second] is not None and anna_sees[to_second].preview == "второе"  # … not for Anna


def test_a_reply_answers_a_live_message_of_its_own_chat(messenger: Messenger, room: Room) -> None:
    elsewhere = say(messenger, room.anna, room.other, "в другом чате")
    gone = say(messenger, room.anna, room.chat, "удалю")
    messenger.delete_message(room.anna, gone)
    for target in (elsewhere, gone, 10**9):
        with pytest.raises(Invalid) as refused:
            say(messenger, room.boris, room.chat, "ответ", reply_to_id=target)
        assert refused.value.fields["reply_to_id"].code == "no_such_message"


# --- jumping to a message ----------------------------------------------------------------


def test_around_centres_a_page_on_the_message(messenger: Messenger, room: Room) -> None:
    ids = [say(messenger, room.anna, room.chat, f"m{i}") for i in range(300)]
    page = messenger.history(room.boris, room.chat, around=ids[10], limit=7)
    assert [v.id for v in page] == ids[7:14]
    assert [v.id for v in messenger.history(room.boris, room.chat, around=ids[0], limit=5)] == ids[0:5]
    assert [v.id for v in messenger.history(room.boris, room.chat, around=ids[-1], limit=4)] == ids[-2:]
    with pytest.raises(NotFound):
        messenger.history(room.boris, room.other, around=ids[0])  # not Boris's chat
    with pytest.raises(Invalid) as both:
        messenger.history(room.boris, room.chat, around=ids[0], before=ids[5])
    assert both.value.fields["around"].code == "around_alone"


# --- forwards ------------------------------------------------------------------------------


def test_a_forward_copies_to_each_chat_and_names_its_source(
    messenger: Messenger, clock: ManualClock, room: Room
) -> None:
    original = messenger.send_message(room.boris, chat_id=room.chat, text="Новость")
    clock.advance(timedelta(minutes=5))
    copies = messenger.forward_message(room.anna, original.id, chat_ids=[room.other, room.chat, room.other])
    assert [c.chat_id for c in copies] == [room.other, room.chat]
    for copy in copies:
        assert (copy.text, copy.sender_id) == ("Новость", room.anna.alternative_id)
        assert copy.forwarded_from is not None
        assert copy.forwarded_from.user_id == room.boris.alternative_id
        assert copy.forwarded_from.name == "Boris Talk"
        assert copy.forwarded_from.date == original.sending_date
    [again] = messenger.forward_message(room.vera, copies[0].id, chat_ids=[room.other])
    assert again.forwarded_from == copies[0].forwarded_from  # the first author, not the forwarder
    assert messenger.history(room.vera, room.other)[-1].text == "Новость"


def test_the_chat_list_names_a_forwarded_author_outside_the_chat(messenger: Messenger, room: Room) -> None:
    # The list knows the chat's members already; whoever else its last message names is read.
    original = say(messenger, room.boris, room.chat, "Новость")
    messenger.forward_message(room.anna, original, chat_ids=[room.other])
    listed = {c.id: c for c in messenger.list_chats(room.vera)}[room.other]
    assert listed.last_message is not None and listed.last_message.forwarded_from is not None
    assert listed.last_message.forwarded_from.user_id == room.boris.alternative_id
    assert listed.last_message.sender_id == room.anna.alternative_id


def test_a_forward_names_without_linking_whom_forward_link_hides(messenger: Messenger, room: Room) -> None:
    original = say(messenger, room.boris, room.chat, "Новость")
    [before] = messenger.forward_message(room.anna, original, chat_ids=[room.other])
    messenger.update_privacy(room.boris, forward_link=False)
    [hidden] = messenger.forward_message(room.anna, original, chat_ids=[room.other])
    assert hidden.forwarded_from is not None
    assert (hidden.forwarded_from.user_id, hidden.forwarded_from.name) == (None, "Boris Talk")
    [again] = messenger.forward_message(room.vera, hidden.id, chat_ids=[room.other])
    assert again.forwarded_from == hidden.forwarded_from  # a forward of the forward links no more
    # The setting speaks for forwards made while it is off: one made before keeps its link.
    assert before.forwarded_from is not None and before.forwarded_from.user_id == room.boris.alternative_id
    messenger.update_privacy(room.boris, forward_link=True)
    [linked] = messenger.forward_message(room.anna, original, chat_ids=[room.other])
    assert linked.forwarded_from is not None and linked.forwarded_from.user_id == room.boris.alternative_id


def test_a_forward_goes_only_where_you_may_write(messenger: Messenger, room: Room) -> None:
    original = say(messenger, room.anna, room.chat, "секрет")
    with pytest.raises(NotFound):
        messenger.forward_message(room.vera, original, chat_ids=[room.other])  # Vera can't see it
    with pytest.raises(Invalid) as not_hers:
        messenger.forward_message(room.boris, original, chat_ids=[room.other])  # Boris isn't in it
    assert not_hers.value.fields["chat_ids"].code == "no_such_chat"
    with pytest.raises(Invalid) as none:
        messenger.forward_message(room.anna, original, chat_ids=[])
    assert none.value.fields["chat_ids"].code == "no_chats"
    with pytest.raises(Invalid) as many:
        messenger.forward_message(room.anna, original, chat_ids=list(range(1, FORWARD_CHATS_MAX + 2)))
    assert many.value.fields["chat_ids"].code == "too_many_chats"
    messenger.delete_message(room.anna, original)
    with pytest.raises(Conflict):
        messenger.forward_message(room.anna, original, chat_ids=[room.other])


def test_forwarded_files_are_shared_and_kept_while_any_message_uses_them(
    messenger: Messenger, room: Room
) -> None:
    sent = messenger.send_message(room.anna, chat_id=room.chat, attachment_ids=[upload(messenger, room.anna)])
    [copy] = messenger.forward_message(room.anna, sent.id, chat_ids=[room.other])
    assert copy.attachments[0].id != sent.attachments[0].id
    messenger.delete_message(room.anna, sent.id)
    _, stream = messenger.open_attachment(room.vera, copy.attachments[0].id)
    with stream:
        assert stream.read() == png()  # the bytes outlive the original
    _, thumbnail = messenger.open_attachment(room.vera, copy.attachments[0].id, thumbnail=True)
    thumbnail.close()
    messenger.delete_message(room.anna, copy.id)
    with pytest.raises(NotFound):
        messenger.open_attachment(room.anna, copy.attachments[0].id)


# --- reactions --------------------------------------------------------------------------------


def test_reactions_count_people_and_know_mine(messenger: Messenger, room: Room) -> None:
    message = say(messenger, room.anna, room.chat, "Ура")
    messenger.add_reaction(room.anna, message, "👍")
    messenger.add_reaction(room.anna, message, "👍")  # again: nothing changes
    shown = messenger.add_reaction(room.boris, message, "👍")
    messenger.add_reaction(room.boris, message, "❤")  # the unqualified heart is ❤️
    [thumbs, heart] = messenger.history(room.anna, room.chat)[-1].reactions
    assert (thumbs.emoji, thumbs.count, thumbs.me) == ("👍", 2, True)
    assert thumbs.user_ids == (room.anna.alternative_id, room.boris.alternative_id)
    assert (heart.emoji, heart.count, heart.me) == ("❤️", 1, False)
    assert shown.reactions[0].me is True  # Boris's own answer
    after = messenger.remove_reaction(room.boris, message, "❤️")
    assert [r.emoji for r in after.reactions] == ["👍"]
    assert messenger.remove_reaction(room.boris, message, "❤️").reactions == after.reactions


@pytest.mark.parametrize("text", ["a", "👍👍", "", " ", "🏽", "x" * 100, "<b>"])
def test_a_reaction_is_one_emoji(messenger: Messenger, room: Room, text: str) -> None:
    message = say(messenger, room.anna, room.chat, "?")
    with pytest.raises(Invalid) as refused:
        messenger.add_reaction(room.boris, message, text)
    assert refused.value.fields["emoji"].code == "not_an_emoji"


def test_a_message_holds_a_bounded_set_of_reactions(messenger: Messenger, room: Room) -> None:
    message = say(messenger, room.anna, room.chat, "!")
    for emoji in MANY_EMOJI[:REACTIONS_MAX]:
        messenger.add_reaction(room.anna, message, emoji)
    with pytest.raises(Conflict) as full:
        messenger.add_reaction(room.boris, message, MANY_EMOJI[REACTIONS_MAX])
    assert full.value.code == "too_many_reactions"
    messenger.add_reaction(room.boris, message, MANY_EMOJI[0])  # one already there is fine


def test_reactions_reach_every_member_without_me(messenger: Messenger, room: Room) -> None:
    message = say(messenger, room.anna, room.chat, "!")
    cursor = messenger.events(room.anna).cursor
    messenger.add_reaction(room.boris, message, "🎉")
    [(kind, data)] = events(messenger, room.anna, cursor)
    assert kind is EventType.MESSAGE_REACTION
    assert (data["user_id"], data["emoji"], data["added"]) == (room.boris.alternative_id, "🎉", True)
    assert data["reactions"] == [{"emoji": "🎉", "count": 1, "user_ids": [room.boris.alternative_id]}]
    messenger.delete_message(room.anna, message)
    assert messenger.history(room.boris, room.chat)[-1].reactions == ()  # the tombstone keeps none
    with pytest.raises(Conflict):
        messenger.add_reaction(room.boris, message, "🎉")


# --- edit history -----------------------------------------------------------------------------


def test_every_member_sees_what_an_edit_replaced(
    messenger: Messenger, clock: ManualClock, room: Room
) -> None:
    message = say(messenger, room.anna, room.chat, "первый")
    clock.advance(timedelta(minutes=1))
    messenger.edit_message(room.anna, message, text="второй")
    messenger.edit_message(room.anna, message, text="второй")  # the same text: no version
    clock.advance(timedelta(minutes=1))
    messenger.edit_message(room.anna, message, text="третий")
    versions = messenger.edit_history(room.boris, message)
    assert [v.text for v in versions] == ["первый", "второй", "третий"]
    assert versions[0].date < versions[1].date < versions[2].date
    messenger.delete_message(room.anna, message)
    assert messenger.edit_history(room.boris, message) == []
    with pytest.raises(NotFound):
        messenger.edit_history(room.vera, message)


def test_edits_close_after_the_window(clock: ManualClock) -> None:
    windowed = build_messenger(
        MemoryUnitOfWorkFactory(), clock, settings=MessengerSettings(edit_window=timedelta(hours=48))
    )
    forever = build_messenger(MemoryUnitOfWorkFactory(), clock, settings=MessengerSettings(edit_window=None))
    for m in (windowed, forever):
        anna, boris = person(m, "Anna"), person(m, "Boris")
        chat = befriend(m, anna, boris)
        message = say(m, anna, chat, "старое")
        clock.advance(timedelta(hours=47))
        m.edit_message(anna, message, text="ещё можно")
        clock.advance(timedelta(hours=2))
        if m is windowed:
            with pytest.raises(Conflict) as late:
                m.edit_message(anna, message, text="поздно")
            assert (late.value.code, late.value.params) == ("edit_window_passed", {"hours": 48})
        else:
            assert m.edit_message(anna, message, text="всегда").text == "всегда"


# --- delete for me, clearing ------------------------------------------------------------------


def test_delete_for_me_hides_it_from_me_only(messenger: Messenger, room: Room) -> None:
    say(messenger, room.anna, room.chat, "раз")
    two = say(messenger, room.anna, room.chat, "два")
    assert messenger.get_chat(room.boris, room.chat).unread_count == 2
    messenger.hide_message(room.boris, two)
    assert texts(messenger, room.boris, room.chat) == ["раз"]
    assert texts(messenger, room.anna, room.chat) == ["раз", "два"]
    chat = messenger.get_chat(room.boris, room.chat)
    assert chat.unread_count == 1
    assert chat.last_message is not None and chat.last_message.text == "раз"
    assert [m.message.text for m in messenger.latest_messages(room.boris)] == ["раз"]
    for look in (
        lambda: messenger.readers(room.boris, two),
        lambda: messenger.edit_history(room.boris, two),
        lambda: messenger.add_reaction(room.boris, two, "👍"),
        lambda: messenger.history(room.boris, room.chat, around=two),
    ):
        with pytest.raises(NotFound):
            look()
    # Anna hides her own message: a tombstone only she would leave is not needed.
    messenger.hide_message(room.anna, two)
    assert texts(messenger, room.anna, room.chat) == ["раз"]


def test_what_i_hid_never_comes_back_as_an_event(messenger: Messenger, room: Room) -> None:
    message = say(messenger, room.anna, room.chat, "текст")
    before = messenger.events(room.boris).cursor
    messenger.hide_message(room.boris, message)
    messenger.edit_message(room.anna, message, text="правка")
    messenger.add_reaction(room.anna, message, "👍")
    messenger.pin_message(room.anna, room.chat, message)
    seen = events(messenger, room.boris, before)
    assert [kind for kind, _ in seen] == [EventType.MESSAGE_HIDDEN]
    assert {kind for kind, _ in events(messenger, room.anna, before)} >= {
        EventType.MESSAGE_EDITED,
        EventType.MESSAGE_REACTION,
        EventType.CHAT_PINNED,
    }
    assert messenger.get_chat(room.boris, room.chat).pinned_message is None
    assert messenger.list_pins(room.boris, room.chat) == []


def test_clearing_a_chat_empties_it_for_me_only(messenger: Messenger, room: Room) -> None:
    old = say(messenger, room.anna, room.chat, "старое")
    cleared = messenger.clear_chat(room.boris, room.chat)
    assert (cleared.last_message, cleared.unread_count) == (None, 0)
    assert texts(messenger, room.boris, room.chat) == []
    assert texts(messenger, room.anna, room.chat) == ["старое"]
    cursor = messenger.events(room.boris).cursor
    messenger.add_reaction(room.anna, old, "👍")  # about a cleared message: not for Boris
    say(messenger, room.anna, room.chat, "новое")
    assert [kind for kind, _ in events(messenger, room.boris, cursor)] == [EventType.MESSAGE_NEW]
    assert texts(messenger, room.boris, room.chat) == ["новое"]
    assert messenger.get_chat(room.boris, room.chat).unread_count == 1


# --- pins ---------------------------------------------------------------------------------------


def test_either_member_of_a_direct_chat_pins(messenger: Messenger, clock: ManualClock, room: Room) -> None:
    first = say(messenger, room.anna, room.chat, "первый")
    second = say(messenger, room.anna, room.chat, "второй")
    assert messenger.pin_message(room.boris, room.chat, first).pinned_message is not None
    clock.advance(timedelta(seconds=1))
    chat = messenger.pin_message(room.anna, room.chat, second)
    assert chat.pinned_message is not None and chat.pinned_message.id == second
    assert [m.id for m in messenger.list_pins(room.boris, room.chat)] == [second, first]
    messenger.delete_message(room.anna, second)  # deleting unpins
    latest = messenger.get_chat(room.boris, room.chat).pinned_message
    assert latest is not None and latest.id == first
    messenger.unpin_message(room.boris, room.chat, first)
    messenger.unpin_message(room.boris, room.chat, first)  # again: harmless
    assert messenger.get_chat(room.anna, room.chat).pinned_message is None
    with pytest.raises(NotFound):
        messenger.pin_message(room.anna, room.other, first)  # not a message of that chat
    with pytest.raises(NotFound):
        messenger.pin_message(room.vera, room.chat, first)


def test_a_chat_holds_a_bounded_number_of_pins(messenger: Messenger, room: Room) -> None:
    ids = [say(messenger, room.anna, room.chat, str(i)) for i in range(PINS_MAX + 1)]
    for message in ids[:PINS_MAX]:
        messenger.pin_message(room.anna, room.chat, message)
    messenger.pin_message(room.anna, room.chat, ids[0])  # pinned already: fine
    with pytest.raises(Conflict) as full:
        messenger.pin_message(room.anna, room.chat, ids[-1])
    assert full.value.code == "too_many_pins"


def test_only_those_who_run_a_group_pin(messenger: Messenger, room: Room) -> None:
    befriend(messenger, room.boris, room.vera)
    group = messenger.create_group(room.anna, title="Клуб", member_ids=[room.boris.alternative_id]).id
    message = say(messenger, room.boris, group, "закрепите")
    with pytest.raises(Forbidden) as member:
        messenger.pin_message(room.boris, group, message)
    assert member.value.code == "not_group_admin"
    assert messenger.pin_message(room.anna, group, message).pinned_message is not None
