"""Use cases of the Messenger on the memory adapter: the happy paths and every rule."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image

from adapters.memory import MemoryBlobStore, MemoryUnitOfWorkFactory
from adapters.testing import ManualClock
from messenger_core import Conflict, Forbidden, Gone, Invalid, Messenger, NotFound, TooLarge, Unauthorized
from messenger_core.model import Actor, AttachmentKind, EventType, FriendListKind, ProfileChanges, TokenType
from messenger_core.services import Upload
from tests.conftest import build_messenger

PASSWORD = "correct horse"


def register(m: Messenger, first: str, second: str = "Tester", email: str | None = None) -> Actor:
    view = m.register(
        first_name=first, second_name=second, email=email or f"{first.lower()}@example.com", password=PASSWORD
    )
    return Actor(view.id, view.user_id)


def befriend(m: Messenger, a: Actor, b: Actor) -> None:
    m.send_friend_request(a, b.alternative_id)
    m.accept_friend_request(b, a.alternative_id)


@pytest.fixture
def alice(messenger: Messenger) -> Actor:
    return register(messenger, "Alice", "Smith")


@pytest.fixture
def bob(messenger: Messenger) -> Actor:
    return register(messenger, "Bob", "Brown")


@pytest.fixture
def friends(messenger: Messenger, alice: Actor, bob: Actor) -> tuple[Actor, Actor]:
    befriend(messenger, alice, bob)
    return alice, bob


def png_bytes(size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "red").save(out, "PNG")
    return out.getvalue()


# --- registration and validation -------------------------------------------------------


def test_register_gives_public_id_of_the_allowed_alphabet(messenger: Messenger) -> None:
    user = messenger.register(first_name="  Алёна ", second_name="Иванова", email="A@x.io", password=PASSWORD)
    assert 10 <= len(user.user_id) <= 20
    assert set(user.user_id) <= set("abcdefghijklmnopqrstuvwxyz0123456789_")
    assert user.first_name == "Алёна"
    assert user.is_confirmed is False


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"first_name": "  "}, "first_name"),
        ({"second_name": ""}, "second_name"),
        ({"first_name": "x" * 65}, "first_name"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"password": "short"}, "password"),
    ],
)
def test_register_rejects_each_bad_field_by_name(
    messenger: Messenger, fields: dict[str, str], bad: str
) -> None:
    data = {
        "first_name": "Ann",
        "second_name": "Lee",
        "email": "ann@example.com",
        "password": PASSWORD,
    } | fields
    with pytest.raises(Invalid) as raised:
        messenger.register(**data)
    assert set(raised.value.fields) == {bad}


def test_email_is_unique_case_insensitively(messenger: Messenger, alice: Actor) -> None:
    with pytest.raises(Conflict) as raised:
        messenger.register(first_name="A", second_name="B", email="ALICE@example.com", password=PASSWORD)
    assert "email" in raised.value.fields


@pytest.mark.parametrize(
    ("changes", "bad"),
    [
        (ProfileChanges(age=0), "age"),
        (ProfileChanges(age=151), "age"),
        (ProfileChanges(phone_number="12345"), "phone_number"),
        (ProfileChanges(phone_number="+7 (916) 12"), "phone_number"),
        (ProfileChanges(additional_inf="x" * 1001), "additional_inf"),
        (ProfileChanges(first_name=""), "first_name"),
        (ProfileChanges(password="new password"), "old_password"),
        (ProfileChanges(email="new@example.com"), "old_password"),
        (ProfileChanges(password="short", old_password=PASSWORD), "password"),
    ],
)
def test_profile_validation_names_the_field(
    messenger: Messenger, alice: Actor, changes: ProfileChanges, bad: str
) -> None:
    with pytest.raises(Invalid) as raised:
        messenger.update_profile(alice, changes)
    assert bad in raised.value.fields


def test_profile_edit_keeps_identity(messenger: Messenger, alice: Actor) -> None:
    user, tokens = messenger.update_profile(
        alice, ProfileChanges(phone_number="+7 916 123-45-67", age=30, city="Москва", additional_inf="hi")
    )
    assert tokens is None
    assert (user.phone_number, user.age, user.city, user.user_id) == (
        "+79161234567",
        30,
        "Москва",
        alice.alternative_id,
    )
    user, _ = messenger.update_profile(alice, ProfileChanges(clear=frozenset({"age", "city"})))
    assert user.age is None and user.city is None and user.phone_number == "+79161234567"


# --- tokens -----------------------------------------------------------------------------


def test_login_issues_tokens_that_authenticate(messenger: Messenger, alice: Actor) -> None:
    pair = messenger.login(email="ALICE@example.com", password=PASSWORD)
    assert messenger.authenticate(pair.access_token) == alice
    assert messenger.authenticate(pair.refresh_token, type=TokenType.REFRESH) == alice


def test_wrong_password_and_unknown_email_fail_alike(messenger: Messenger, alice: Actor) -> None:
    with pytest.raises(Unauthorized) as wrong:
        messenger.login(email="alice@example.com", password="wrong password")
    with pytest.raises(Unauthorized) as unknown:
        messenger.login(email="nobody@example.com", password=PASSWORD)
    assert wrong.value.message == unknown.value.message
    assert wrong.value.reason == unknown.value.reason == "bad_credentials"


def test_token_types_are_not_interchangeable(messenger: Messenger, alice: Actor) -> None:
    pair = messenger.login(email="alice@example.com", password=PASSWORD)
    with pytest.raises(Unauthorized) as raised:
        messenger.authenticate(pair.refresh_token)
    assert raised.value.reason == "token_invalid"
    with pytest.raises(Unauthorized):
        messenger.refresh(pair.access_token)


def test_access_token_expires_by_the_clock(messenger: Messenger, clock: ManualClock, alice: Actor) -> None:
    pair = messenger.login(email="alice@example.com", password=PASSWORD, expires_in=60)
    clock.advance(timedelta(seconds=59))
    assert messenger.authenticate(pair.access_token) == alice
    clock.advance(timedelta(seconds=1))
    with pytest.raises(Unauthorized) as raised:
        messenger.authenticate(pair.access_token)
    assert raised.value.reason == "token_expired"
    clock.advance(timedelta(days=3650))
    fresh = messenger.refresh(pair.refresh_token).access_token  # refresh tokens never expire
    assert messenger.authenticate(fresh) == alice


@pytest.mark.parametrize("expires_in", [0, -5, 10**9])
def test_expires_in_is_bounded(messenger: Messenger, alice: Actor, expires_in: int) -> None:
    with pytest.raises(Invalid) as raised:
        messenger.login(email="alice@example.com", password=PASSWORD, expires_in=expires_in)
    assert "expires_in" in raised.value.fields


def test_missing_and_tampered_tokens(messenger: Messenger, alice: Actor) -> None:
    pair = messenger.login(email="alice@example.com", password=PASSWORD)
    with pytest.raises(Unauthorized) as missing:
        messenger.authenticate(None)
    assert missing.value.reason == "token_missing"
    with pytest.raises(Unauthorized) as tampered:
        messenger.authenticate(pair.access_token[:-2] + "00")
    assert tampered.value.reason == "token_invalid"


@pytest.mark.parametrize("change", [{"password": "brand new pass"}, {"email": "alice2@example.com"}])
def test_email_or_password_change_rotates_identity(
    messenger: Messenger, alice: Actor, change: dict[str, str]
) -> None:
    before = messenger.login(email="alice@example.com", password=PASSWORD)
    user, after = messenger.update_profile(alice, ProfileChanges(old_password=PASSWORD, **change))
    assert after is not None and user.user_id != alice.alternative_id
    for token, kind in ((before.access_token, TokenType.ACCESS), (before.refresh_token, TokenType.REFRESH)):
        with pytest.raises(Unauthorized) as raised:
            messenger.authenticate(token, type=kind)
        assert raised.value.reason == "token_revoked"
    assert messenger.authenticate(after.access_token).alternative_id == user.user_id


def test_wrong_old_password_is_forbidden_and_changes_nothing(messenger: Messenger, alice: Actor) -> None:
    with pytest.raises(Forbidden):
        messenger.update_profile(alice, ProfileChanges(password="brand new pass", old_password="wrong pass"))
    assert messenger.login(email="alice@example.com", password=PASSWORD)
    assert messenger.get_user(alice).user_id == alice.alternative_id


def test_email_confirmation(messenger: Messenger, alice: Actor) -> None:
    token = messenger.request_confirmation(email="alice@example.com", password=PASSWORD)
    assert messenger.confirm_email(token).is_confirmed
    with pytest.raises(Unauthorized):
        messenger.confirm_email(messenger.login(email="alice@example.com", password=PASSWORD).access_token)


# --- search ------------------------------------------------------------------------------


def test_search_folds_cyrillic_and_latin(messenger: Messenger, alice: Actor) -> None:
    alena = register(messenger, "Алёна", "Петрова", "alena@example.com")
    register(messenger, "Alena", "Novak", "alena2@example.com")
    assert [u.first_name for u in messenger.search_users(alice, text="алёна")] == ["Алёна"]
    assert [u.first_name for u in messenger.search_users(alice, text="ALENA")] == ["Alena"]
    assert [u.second_name for u in messenger.search_users(alice, second_name="ПЕТР")] == ["Петрова"]
    assert [u.user_id for u in messenger.search_users(alice, text=alena.alternative_id[2:9])] == [
        alena.alternative_id
    ]


def test_search_pages(messenger: Messenger, alice: Actor) -> None:
    for i in range(25):
        register(messenger, f"Page{i:02}", "Person", f"p{i}@example.com")
    first = messenger.search_users(alice, text="page", limit=20)
    rest = messenger.search_users(alice, text="page", start=20, limit=20)
    assert len(first) == 20 and len(rest) == 5
    assert len({u.user_id for u in first + rest}) == 25
    with pytest.raises(Invalid):
        messenger.search_users(alice, text="page", limit=21)


# --- friends -----------------------------------------------------------------------------


def test_friend_request_lifecycle(messenger: Messenger, alice: Actor, bob: Actor) -> None:
    messenger.send_friend_request(alice, bob.alternative_id)
    assert [f.user.user_id for f in messenger.list_friends(bob, FriendListKind.INCOMING)] == [
        alice.alternative_id
    ]
    assert [f.user.user_id for f in messenger.list_friends(alice, FriendListKind.OUTGOING)] == [
        bob.alternative_id
    ]
    with pytest.raises(Conflict):
        messenger.send_friend_request(alice, bob.alternative_id)
    messenger.deny_friend_request(bob, alice.alternative_id)
    assert messenger.list_friends(bob, FriendListKind.INCOMING) == []
    messenger.send_friend_request(alice, bob.alternative_id)  # may ask again after a denial
    messenger.accept_friend_request(bob, alice.alternative_id)
    assert [f.user.user_id for f in messenger.list_friends(alice)] == [bob.alternative_id]
    assert [f.user.user_id for f in messenger.list_friends(bob)] == [alice.alternative_id]
    with pytest.raises(Conflict):
        messenger.send_friend_request(bob, alice.alternative_id)
    messenger.remove_friend(bob, alice.alternative_id)
    assert messenger.list_friends(alice) == [] and messenger.list_friends(bob) == []
    with pytest.raises(NotFound):
        messenger.remove_friend(bob, alice.alternative_id)


def test_crossed_requests_make_friends(messenger: Messenger, alice: Actor, bob: Actor) -> None:
    messenger.send_friend_request(alice, bob.alternative_id)
    view = messenger.send_friend_request(bob, alice.alternative_id)
    assert view.is_accepted
    assert messenger.list_friends(alice)[0].is_accepted


def test_cancel_outgoing_request(messenger: Messenger, alice: Actor, bob: Actor) -> None:
    messenger.send_friend_request(alice, bob.alternative_id)
    messenger.remove_friend(alice, bob.alternative_id)
    assert messenger.list_friends(bob, FriendListKind.INCOMING) == []


def test_no_self_friendship_and_unknown_users(messenger: Messenger, alice: Actor) -> None:
    with pytest.raises(Invalid):
        messenger.send_friend_request(alice, alice.alternative_id)
    with pytest.raises(NotFound):
        messenger.send_friend_request(alice, "nobody_here_123")
    with pytest.raises(NotFound):
        messenger.accept_friend_request(alice, "nobody_here_123")


# --- chats and messages -------------------------------------------------------------------


def test_only_friends_start_chats(messenger: Messenger, alice: Actor, bob: Actor) -> None:
    with pytest.raises(Forbidden):
        messenger.open_chat(alice, bob.alternative_id)
    with pytest.raises(Forbidden):
        messenger.send_message(alice, receiver_id=bob.alternative_id, text="hi")
    befriend(messenger, alice, bob)
    chat, created = messenger.open_chat(alice, bob.alternative_id)
    again, created_again = messenger.open_chat(bob, alice.alternative_id)
    assert created and not created_again and chat.id == again.id


def test_message_flow_with_read_marks(messenger: Messenger, friends: tuple[Actor, Actor]) -> None:
    alice, bob = friends
    first = messenger.send_message(alice, receiver_id=bob.alternative_id, text="  hello  ")
    second = messenger.send_message(alice, chat_id=first.chat_id, text="how are you?")
    assert first.text == "hello" and not first.is_read
    chat = messenger.list_chats(bob)[0]
    assert chat.unread_count == 2 and chat.last_message is not None and chat.last_message.id == second.id
    assert messenger.list_chats(alice)[0].unread_count == 0  # own messages are read
    messenger.mark_read(bob, first.chat_id, first.id)
    assert messenger.list_chats(bob)[0].unread_count == 1
    page = messenger.history(alice, first.chat_id)
    assert [m.is_read for m in page] == [True, False]
    messenger.mark_read(bob, first.chat_id, second.id)
    messenger.mark_read(bob, first.chat_id, first.id)  # never moves back
    assert messenger.list_chats(bob)[0].unread_count == 0


def test_strangers_see_nothing(messenger: Messenger, friends: tuple[Actor, Actor]) -> None:
    alice, bob = friends
    eve = register(messenger, "Eve")
    message = messenger.send_message(alice, receiver_id=bob.alternative_id, text="secret")
    for call in (
        lambda: messenger.history(eve, message.chat_id),
        lambda: messenger.get_chat(eve, message.chat_id),
        lambda: messenger.edit_message(eve, message.id, text="x"),
        lambda: messenger.delete_message(eve, message.id),
        lambda: messenger.mark_read(eve, message.chat_id, message.id),
        lambda: messenger.delete_chat(eve, message.chat_id),
        lambda: messenger.send_message(eve, chat_id=message.chat_id, text="hi"),
    ):
        with pytest.raises(NotFound):
            call()


def test_only_the_author_edits_and_deletes(
    messenger: Messenger, clock: ManualClock, friends: tuple[Actor, Actor]
) -> None:
    alice, bob = friends
    message = messenger.send_message(alice, receiver_id=bob.alternative_id, text="draft")
    with pytest.raises(Forbidden):
        messenger.edit_message(bob, message.id, text="hacked")
    with pytest.raises(Forbidden):
        messenger.delete_message(bob, message.id)
    clock.advance(timedelta(minutes=1))
    edited = messenger.edit_message(alice, message.id, text="final")
    assert edited.text == "final" and edited.edited_date == clock.now()
    deleted = messenger.delete_message(alice, message.id)
    assert deleted.is_deleted and deleted.text is None
    assert messenger.history(bob, message.chat_id)[0].is_deleted
    with pytest.raises(Conflict):
        messenger.edit_message(alice, message.id, text="again")
    assert messenger.delete_message(alice, message.id).is_deleted  # repeating is harmless


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"text": "   "}, "text"),
        ({"text": "x" * 4097}, "text"),
        ({"text": "hi", "sticker_id": 999}, "sticker_id"),
        ({"attachment_ids": [12345]}, "attachment_ids"),
        ({"attachment_ids": list(range(11))}, "attachment_ids"),
    ],
)
def test_bad_messages(messenger: Messenger, friends: tuple[Actor, Actor], kwargs: dict, field: str) -> None:
    alice, bob = friends
    with pytest.raises(Invalid) as raised:
        messenger.send_message(alice, receiver_id=bob.alternative_id, **kwargs)
    assert field in raised.value.fields


def test_history_pages_by_keyset(messenger: Messenger, friends: tuple[Actor, Actor]) -> None:
    alice, bob = friends
    sent = [messenger.send_message(alice, receiver_id=bob.alternative_id, text=str(i)).id for i in range(120)]
    chat_id = messenger.list_chats(alice)[0].id
    newest = messenger.history(bob, chat_id)
    assert [m.id for m in newest] == sent[-50:]
    seen, before = [], None
    while True:
        page = messenger.history(bob, chat_id, before=before, limit=100)
        if not page:
            break
        seen = [m.id for m in page] + seen
        before = page[0].id
    assert seen == sent
    assert [m.id for m in messenger.history(bob, chat_id, after=sent[9], limit=5)] == sent[10:15]
    with pytest.raises(Invalid):
        messenger.history(bob, chat_id, limit=101)


def test_delete_chat_removes_it_for_both(messenger: Messenger, friends: tuple[Actor, Actor]) -> None:
    alice, bob = friends
    message = messenger.send_message(alice, receiver_id=bob.alternative_id, text="hi")
    messenger.delete_chat(bob, message.chat_id)
    assert messenger.list_chats(alice) == [] and messenger.list_chats(bob) == []
    with pytest.raises(NotFound):
        messenger.history(alice, message.chat_id)


# --- attachments and stickers ----------------------------------------------------------------


def test_attachments_kind_from_content_and_visibility(
    messenger: Messenger, friends: tuple[Actor, Actor]
) -> None:
    alice, bob = friends
    eve = register(messenger, "Eve")
    photo = messenger.upload_attachment(alice, Upload(name="cat.txt", chunks=[png_bytes()]))
    html = messenger.upload_attachment(alice, Upload(name="../../cat.jpg", chunks=[b"<html><script>"]))
    assert (photo.kind, photo.mime, photo.width, photo.has_thumbnail) == (
        AttachmentKind.PHOTO,
        "image/png",
        40,
        True,
    )
    assert (html.kind, html.name) == (AttachmentKind.FILE, "cat.jpg")
    with pytest.raises(NotFound):
        messenger.open_attachment(bob, photo.id)  # not sent yet: only the uploader
    with pytest.raises(Invalid):
        messenger.send_message(bob, receiver_id=alice.alternative_id, attachment_ids=[photo.id])
    message = messenger.send_message(
        alice, receiver_id=bob.alternative_id, attachment_ids=[html.id, photo.id]
    )
    assert [a.id for a in message.attachments] == [html.id, photo.id]
    _, stream = messenger.open_attachment(bob, photo.id)
    assert stream.read() == png_bytes()
    with pytest.raises(NotFound):
        messenger.open_attachment(eve, photo.id)
    with pytest.raises(Invalid):  # already attached elsewhere
        messenger.send_message(alice, receiver_id=bob.alternative_id, attachment_ids=[photo.id])


def test_upload_limit(messenger: Messenger, alice: Actor) -> None:
    limit = messenger.settings.max_upload_size
    with pytest.raises(TooLarge):
        messenger.upload_attachment(alice, Upload(name="big", chunks=[b"x" * limit, b"y"]))


def test_orphan_uploads_are_cleaned(messenger: Messenger, clock: ManualClock, alice: Actor) -> None:
    upload = messenger.upload_attachment(alice, Upload(name="a.bin", chunks=[b"abc"]))
    assert messenger.remove_orphan_uploads() == 0
    clock.advance(timedelta(hours=25))
    assert messenger.remove_orphan_uploads() == 1
    with pytest.raises(NotFound):
        messenger.open_attachment(alice, upload.id)


def test_stray_files_are_swept_once_past_the_grace_period(clock: ManualClock) -> None:
    blobs = MemoryBlobStore(clock)
    messenger = build_messenger(MemoryUnitOfWorkFactory(), clock, blobs=blobs)
    alice, bob = register(messenger, "Alice"), register(messenger, "Bob")
    befriend(messenger, alice, bob)
    messenger.add_sticker_pack("Basic", [Upload(name="a.png", chunks=[png_bytes()])])
    messenger.set_avatar(alice, Upload(name="me.png", chunks=[png_bytes()]))
    group = messenger.create_group(alice, title="Group", member_ids=[bob.alternative_id])
    messenger.set_group_photo(alice, group.id, Upload(name="g.png", chunks=[png_bytes()]))
    sent = messenger.upload_attachment(alice, Upload(name="p.png", chunks=[png_bytes()]))
    messenger.send_message(alice, chat_id=group.id, attachment_ids=[sent.id])
    messenger.upload_attachment(bob, Upload(name="unsent.bin", chunks=[b"later"]))
    referenced = set(blobs.blobs)
    assert len(referenced) == 6  # sticker, avatar, group photo, photo and its thumbnail, unsent file
    stray = blobs.write([b"its row never came"], max_size=100).key
    grace = messenger.settings.stray_file_grace

    clock.advance(grace - timedelta(seconds=1))
    assert messenger.remove_stray_files() == 0
    young = blobs.write([b"its row is on the way"], max_size=100).key
    clock.advance(timedelta(seconds=2))
    assert messenger.remove_stray_files(batch=2) == 1
    assert set(blobs.blobs) == referenced | {young}
    clock.advance(grace)
    assert messenger.remove_stray_files() == 1
    assert set(blobs.blobs) == referenced and stray not in blobs.blobs


def test_sticker_messages(messenger: Messenger, friends: tuple[Actor, Actor]) -> None:
    alice, bob = friends
    pack = messenger.add_sticker_pack("Basic", [Upload(name="a.png", chunks=[png_bytes()])])
    with pytest.raises(Invalid):
        messenger.add_sticker_pack("Bad", [Upload(name="a.txt", chunks=[b"not an image"])])
    sticker = pack.stickers[0]
    message = messenger.send_message(alice, receiver_id=bob.alternative_id, sticker_id=sticker.id)
    assert message.sticker == sticker and message.text is None
    assert [p.title for p in messenger.list_sticker_packs()] == ["Basic"]


def test_avatar_is_reencoded_and_replaced(messenger: Messenger, alice: Actor) -> None:
    first = messenger.set_avatar(alice, Upload(name="me.png", chunks=[png_bytes((300, 200))]))
    _, stream = messenger.open_avatar(alice, alice.alternative_id)
    assert stream is not None and Image.open(stream).size == (256, 256)
    second = messenger.set_avatar(alice, Upload(name="me.png", chunks=[png_bytes()]))
    assert first.avatar != second.avatar
    with pytest.raises(Invalid):
        messenger.set_avatar(alice, Upload(name="x.png", chunks=[b"not an image"]))


# --- events --------------------------------------------------------------------------------


def test_events_follow_every_change(messenger: Messenger, alice: Actor, bob: Actor) -> None:
    cursor = messenger.events(bob).cursor
    messenger.send_friend_request(alice, bob.alternative_id)
    messenger.accept_friend_request(bob, alice.alternative_id)
    message = messenger.send_message(alice, receiver_id=bob.alternative_id, text="hi")
    messenger.edit_message(alice, message.id, text="hey")
    messenger.mark_read(bob, message.chat_id, message.id)
    messenger.delete_message(alice, message.id)
    messenger.update_profile(alice, ProfileChanges(first_name="Alicia"))
    batch = messenger.events(bob, since=cursor)
    assert [e.type for e in batch.events] == [
        EventType.FRIEND_REQUEST,
        EventType.MESSAGE_NEW,
        EventType.MESSAGE_EDITED,
        EventType.CHAT_READ,
        EventType.MESSAGE_DELETED,
        EventType.USER_UPDATED,
    ]
    assert batch.events[1].data["message"]["text"] == "hi"
    # A chat's events reach its members while they are members: once the chat is
    # deleted, only its deletion is left to tell.
    messenger.delete_chat(alice, message.chat_id)
    after = messenger.events(bob, since=batch.cursor)
    assert [e.type for e in after.events] == [EventType.CHAT_DELETED]
    assert messenger.events(bob, since=after.cursor).events == ()
    alice_types = [e.type for e in messenger.events(alice, since=cursor).events]
    assert EventType.FRIEND_ACCEPTED in alice_types


def test_event_cursor_bounds(messenger: Messenger, clock: ManualClock, friends: tuple[Actor, Actor]) -> None:
    alice, bob = friends
    with pytest.raises(Gone):
        messenger.events(bob, since=10**6)
    start = messenger.events(bob).cursor
    messenger.send_message(alice, receiver_id=bob.alternative_id, text="hi")
    clock.advance(timedelta(days=8))
    assert messenger.prune_events() > 0
    with pytest.raises(Gone):
        messenger.events(bob, since=start - 1)
    assert messenger.events(bob, since=messenger.events(bob).cursor).events == ()


def test_failed_use_case_leaves_nothing(messenger: Messenger, friends: tuple[Actor, Actor]) -> None:
    alice, bob = friends
    before = messenger.list_chats(alice)
    with pytest.raises(Invalid):
        messenger.send_message(alice, receiver_id=bob.alternative_id, text="hi", sticker_id=42)
    assert messenger.list_chats(alice) == before  # the chat created on the way was rolled back


def test_long_poll_ends_even_when_the_clock_stands_still(messenger: Messenger, alice: Actor) -> None:
    cursor = messenger.events(alice).cursor
    batch = messenger.events(alice, since=cursor, timeout=0.2)  # the manual clock never moves
    assert batch.events == () and batch.cursor == cursor


def test_long_poll_wakes_on_a_new_event(messenger: Messenger, friends: tuple[Actor, Actor]) -> None:
    import threading

    alice, bob = friends
    cursor = messenger.events(bob).cursor
    timer = threading.Timer(
        0.1, lambda: messenger.send_message(alice, receiver_id=bob.alternative_id, text="hi")
    )
    timer.start()
    batch = messenger.events(bob, since=cursor, timeout=10)
    timer.join()
    assert [e.type for e in batch.events] == [EventType.MESSAGE_NEW]


def test_a_password_change_ends_a_long_poll_already_waiting(
    messenger: Messenger, friends: tuple[Actor, Actor]
) -> None:
    import threading

    _, bob = friends
    cursor = messenger.events(bob).cursor
    outcome: list[BaseException | object] = []

    def wait() -> None:
        try:
            outcome.append(messenger.events(bob, since=cursor, timeout=10))
        except Unauthorized as error:
            outcome.append(error)

    waiter = threading.Thread(target=wait)
    waiter.start()
    # Rotating the identity wakes the user's waiters (their own user.updated event).
    messenger.update_profile(bob, ProfileChanges(password="a new passphrase", old_password=PASSWORD))
    waiter.join(10)
    assert len(outcome) == 1
    assert isinstance(outcome[0], Unauthorized) and outcome[0].reason == "token_revoked"


def test_search_ignores_control_characters(messenger: Messenger, alice: Actor) -> None:
    assert [u.first_name for u in messenger.search_users(alice, text="al\x00ice\x07")] == ["Alice"]


def test_message_text_loses_controls_and_bidi_overrides(
    messenger: Messenger, friends: tuple[Actor, Actor]
) -> None:
    alice, bob = friends
    sent = messenger.send_message(
        alice,
        receiver_id=bob.alternative_id,
        text="photo\u202egpj.exe\x00 \x1b[31mred\tand 👨\u200d👩\u200d👧\u200f",
    )
    assert sent.text == "photogpj.exe [31mred\tand 👨\u200d👩\u200d👧\u200f"  # ZWJ, RLM and tabs stay
    edited = messenger.edit_message(alice, sent.id, text="\u2067isolated\u2069\x07")
    assert edited.text == "isolated"
