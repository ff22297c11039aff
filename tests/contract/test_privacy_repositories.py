"""The repository methods of privacy and account control, on every adapter: sessions
(rotation, ending, pruning), blocks (one row per direction), exports (the latest per
user), usernames (case-insensitive, unique, searchable), last seen, and what deleting an
account leans on (a tombstone's row, its freed email, a user's messages and uploads)."""

from __future__ import annotations

import attrs
import pytest

from messenger_core.errors import Conflict
from messenger_core.model import (
    Block,
    ChatKind,
    Export,
    ExportState,
    MessageKind,
    NewMessage,
    NewSession,
    NewUser,
    SessionEnd,
    Visibility,
)
from messenger_core.normalize import search_key
from messenger_core.ports import UnitOfWork, UnitOfWorkFactory
from tests.contract.test_repositories import T0, add_message, add_user, at, new_attachment
from tests.records import add_chat


def new_session(user_id: int, seconds: float = 0, device: str = "Firefox 128, Ubuntu") -> NewSession:
    return NewSession(user_id=user_id, device=device, ip="192.0.2.7", created_date=at(seconds))


def search_ids(uow: UnitOfWork, text: str) -> list[int]:
    text = search_key(text)
    return [u.id for u in uow.users.search(text=text, first_name=None, second_name=None, start=0, limit=20)]


# --- sessions --------------------------------------------------------------------------


def test_a_session_starts_at_generation_one_and_ids_grow(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena = add_user(uow)
        first = uow.sessions.add(new_session(alena.id, 1))
        second = uow.sessions.add(NewSession(user_id=alena.id, device="Chrome", ip=None, created_date=at(2)))
        uow.commit()
    assert second.id > first.id
    assert (first.generation, first.last_used_date, first.rotated_date) == (1, at(1), None)
    assert (first.device, first.ip, first.is_ended, first.end_reason) == (
        "Firefox 128, Ubuntu",
        "192.0.2.7",
        False,
        None,
    )
    with uow_factory(read_only=True) as uow:
        assert uow.sessions.get(first.id) == first
        assert uow.sessions.get(second.id) == second and second.ip is None
        assert uow.sessions.get(10**6) is None


def test_a_rotated_and_used_session_is_stored_whole(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        session = uow.sessions.add(new_session(add_user(uow).id))
        uow.commit()
    rotated = session.rotated(at(90)).rotated(at(150))
    with uow_factory() as uow:
        uow.sessions.update(rotated)
        uow.commit()
    with uow_factory(read_only=True) as uow:
        stored = uow.sessions.get(session.id)
    assert stored == rotated
    assert stored is not None and (stored.generation, stored.rotated_date, stored.last_used_date) == (
        3,
        at(150),
        at(150),
    )


def test_ending_keeps_the_session_with_its_reason_and_leaves_the_active_list(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        mine = [uow.sessions.add(new_session(alena.id, i)) for i in range(3)]
        theirs = uow.sessions.add(new_session(boris.id))
        uow.sessions.update(mine[1].ended(SessionEnd.LOGOUT, at(10)))
        uow.commit()
    with uow_factory(read_only=True) as uow:
        assert [s.id for s in uow.sessions.active_for(alena.id)] == [mine[0].id, mine[2].id]
        ended = uow.sessions.get(mine[1].id)
        assert ended is not None and (ended.ended_date, ended.end_reason) == (at(10), SessionEnd.LOGOUT)
        assert uow.sessions.active_for(10**6) == []
    with uow_factory() as uow:
        # All but the one kept; the one already ended keeps its own reason and time.
        assert uow.sessions.end_all(alena.id, SessionEnd.ENDED_ELSEWHERE, at(20), keep=mine[2].id) == [
            mine[0].id
        ]
        uow.commit()
    with uow_factory(read_only=True) as uow:
        assert [s.id for s in uow.sessions.active_for(alena.id)] == [mine[2].id]
        first, logged_out = uow.sessions.get(mine[0].id), uow.sessions.get(mine[1].id)
        assert first is not None and (first.ended_date, first.end_reason) == (
            at(20),
            SessionEnd.ENDED_ELSEWHERE,
        )
        assert logged_out is not None and logged_out.end_reason is SessionEnd.LOGOUT
        assert [s.id for s in uow.sessions.active_for(boris.id)] == [theirs.id]  # nobody else's
    with uow_factory() as uow:
        assert uow.sessions.end_all(alena.id, SessionEnd.PASSWORD_CHANGED, at(30)) == [mine[2].id]
        assert uow.sessions.end_all(alena.id, SessionEnd.PASSWORD_CHANGED, at(31)) == []
        uow.commit()
    with uow_factory(read_only=True) as uow:
        assert uow.sessions.active_for(alena.id) == []


@pytest.mark.parametrize("reason", list(SessionEnd))
def test_every_reason_a_session_ends_for_is_kept(uow_factory: UnitOfWorkFactory, reason: SessionEnd) -> None:
    with uow_factory() as uow:
        session = uow.sessions.add(new_session(add_user(uow).id))
        uow.sessions.update(session.ended(reason, at(5)))
        uow.commit()
    with uow_factory(read_only=True) as uow:
        stored = uow.sessions.get(session.id)
        assert stored is not None and stored.end_reason is reason


def test_pruning_forgets_sessions_ended_long_enough_ago(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena = add_user(uow)
        old, recent, live = (uow.sessions.add(new_session(alena.id, i)) for i in range(3))
        uow.sessions.update(old.ended(SessionEnd.LOGOUT, at(10)))
        uow.sessions.update(recent.ended(SessionEnd.IDLE, at(100)))
        uow.commit()
    with uow_factory() as uow:
        assert uow.sessions.prune_ended_before(at(100)) == 1  # ended exactly then stays
        uow.commit()
    with uow_factory(read_only=True) as uow:
        assert uow.sessions.get(old.id) is None
        assert uow.sessions.get(recent.id) is not None
        assert [s.id for s in uow.sessions.active_for(alena.id)] == [live.id]


def test_a_users_sessions_are_removed_all_and_only_theirs(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        ended = uow.sessions.add(new_session(alena.id))
        uow.sessions.update(ended.ended(SessionEnd.LOGOUT, at(1)))
        live = uow.sessions.add(new_session(alena.id, 2))
        theirs = uow.sessions.add(new_session(boris.id))
        uow.commit()
    with uow_factory() as uow:
        uow.sessions.remove_all_for(alena.id)
        uow.sessions.remove_all_for(10**6)  # nobody: fine
        uow.commit()
    with uow_factory(read_only=True) as uow:
        assert uow.sessions.get(ended.id) is None and uow.sessions.get(live.id) is None
        assert uow.sessions.get(theirs.id) == theirs


def test_a_session_written_in_a_rolled_back_unit_is_gone(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena = add_user(uow)
        uow.commit()
    with uow_factory() as uow:
        uow.sessions.add(new_session(alena.id))
    with uow_factory(read_only=True) as uow:
        assert uow.sessions.active_for(alena.id) == []


# --- blocks ----------------------------------------------------------------------------


def test_a_block_is_one_direction_and_idempotent(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        assert uow.blocks.add(Block(blocker_id=alena.id, blocked_id=boris.id, created_date=at(1)))
        assert not uow.blocks.add(Block(blocker_id=alena.id, blocked_id=boris.id, created_date=at(2)))
        uow.commit()
    with uow_factory(read_only=True) as uow:
        assert uow.blocks.exists(alena.id, boris.id)
        assert not uow.blocks.exists(boris.id, alena.id)
        assert uow.blocks.between(alena.id, boris.id) and uow.blocks.between(boris.id, alena.id)
        # The second add changed nothing: the first time stays.
        assert uow.blocks.list_by(alena.id) == [
            Block(blocker_id=alena.id, blocked_id=boris.id, created_date=at(1))
        ]
        assert uow.blocks.list_by(boris.id) == []
    with uow_factory() as uow:
        assert uow.blocks.add(Block(blocker_id=boris.id, blocked_id=alena.id, created_date=at(3)))
        assert uow.blocks.remove(alena.id, boris.id)
        assert not uow.blocks.remove(alena.id, boris.id)
        uow.commit()
    with uow_factory(read_only=True) as uow:
        assert not uow.blocks.exists(alena.id, boris.id)
        assert uow.blocks.exists(boris.id, alena.id)  # the other direction stays
        assert uow.blocks.between(alena.id, boris.id)
    with uow_factory() as uow:
        assert uow.blocks.remove(boris.id, alena.id)
        uow.commit()
    with uow_factory(read_only=True) as uow:
        assert not uow.blocks.between(alena.id, boris.id) and not uow.blocks.between(boris.id, alena.id)


def test_blocks_list_oldest_first_and_by_involvement(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris, vera, gleb = (add_user(uow) for _ in range(4))
        uow.blocks.add(Block(blocker_id=alena.id, blocked_id=vera.id, created_date=at(5)))
        uow.blocks.add(Block(blocker_id=alena.id, blocked_id=gleb.id, created_date=at(1)))
        uow.blocks.add(Block(blocker_id=alena.id, blocked_id=boris.id, created_date=at(5)))
        uow.blocks.add(Block(blocker_id=boris.id, blocked_id=alena.id, created_date=at(7)))
        uow.blocks.add(Block(blocker_id=vera.id, blocked_id=gleb.id, created_date=at(8)))
        uow.commit()
    with uow_factory(read_only=True) as uow:
        assert [b.blocked_id for b in uow.blocks.list_by(alena.id)] == [gleb.id, boris.id, vera.id]
        involving = {(b.blocker_id, b.blocked_id) for b in uow.blocks.involving(alena.id)}
        assert involving == {
            (alena.id, vera.id),
            (alena.id, gleb.id),
            (alena.id, boris.id),
            (boris.id, alena.id),
        }
        assert {(b.blocker_id, b.blocked_id) for b in uow.blocks.involving(gleb.id)} == {
            (alena.id, gleb.id),
            (vera.id, gleb.id),
        }
    with uow_factory() as uow:
        uow.blocks.remove_all_for(alena.id)
        uow.commit()
    with uow_factory(read_only=True) as uow:
        assert uow.blocks.involving(alena.id) == []
        assert [(b.blocker_id, b.blocked_id) for b in uow.blocks.involving(gleb.id)] == [(vera.id, gleb.id)]


# --- exports ---------------------------------------------------------------------------


def test_an_export_is_the_latest_per_user(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        uow.commit()
    pending = Export(user_id=alena.id, state=ExportState.PENDING, created_date=at(1))
    ready = attrs.evolve(pending, state=ExportState.READY, blob_key="export-1", size=4096, ready_date=at(9))
    with uow_factory() as uow:
        assert uow.exports.get(alena.id) is None
        uow.exports.put(pending)
        uow.commit()
    with uow_factory() as uow:
        assert uow.exports.get(alena.id) == pending
        uow.exports.put(ready)
        uow.commit()
    with uow_factory() as uow:
        assert uow.exports.get(alena.id) == ready
        assert uow.exports.get(boris.id) is None
        uow.exports.remove(alena.id)
        uow.exports.remove(boris.id)  # missing is fine
        uow.commit()
    with uow_factory(read_only=True) as uow:
        assert uow.exports.get(alena.id) is None


def test_exports_waiting_and_ready_are_found_oldest_first(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        users = [add_user(uow) for _ in range(4)]
        uow.commit()
    exports = [
        Export(user_id=users[0].id, state=ExportState.PENDING, created_date=at(5)),
        Export(user_id=users[1].id, state=ExportState.PENDING, created_date=at(2)),
        Export(
            user_id=users[2].id,
            state=ExportState.READY,
            created_date=at(1),
            blob_key="b2",
            size=1,
            ready_date=at(30),
        ),
        Export(
            user_id=users[3].id,
            state=ExportState.READY,
            created_date=at(1),
            blob_key="b3",
            size=1,
            ready_date=at(10),
        ),
    ]
    with uow_factory() as uow:
        for export in exports:
            uow.exports.put(export)
        uow.commit()
    with uow_factory(read_only=True) as uow:
        assert [e.user_id for e in uow.exports.pending()] == [users[1].id, users[0].id]
        assert [e.user_id for e in uow.exports.ready_before(at(31))] == [users[3].id, users[2].id]
        assert [e.user_id for e in uow.exports.ready_before(at(30))] == [users[3].id]  # strictly before
        assert uow.exports.ready_before(at(10)) == []


# --- usernames and last seen ----------------------------------------------------------


def test_a_username_is_found_in_any_case_and_unique_in_any_case(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        uow.users.update(attrs.evolve(alena, username="alena_s"))
        uow.commit()
    with uow_factory() as uow:
        found = uow.users.get_by_username("ALENA_S")
        assert found is not None and (found.id, found.username) == (alena.id, "alena_s")
        assert uow.users.get_by_username("alena") is None
        with pytest.raises(Conflict) as taken:
            uow.users.update(attrs.evolve(boris, username="alena_s"))
        assert taken.value.code == "username_taken"
    with uow_factory() as uow:
        stored = uow.users.get(alena.id)
        assert stored is not None
        uow.users.update(stored)  # keeping one's own is fine
        uow.users.update(attrs.evolve(stored, username="alena_new"))
        uow.users.update(attrs.evolve(boris, username="alena_s"))  # freed by the change at once
        uow.commit()
    with uow_factory(read_only=True) as uow:
        by_old = uow.users.get_by_username("alena_s")
        assert by_old is not None and by_old.id == boris.id
        by_new = uow.users.get_by_username("alena_new")
        assert by_new is not None and by_new.id == alena.id


def test_a_cleared_username_frees_it_and_leaves_the_search(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow, "Алёна", "Смирнова"), add_user(uow, "Борис", "Борисов")
        uow.users.update(attrs.evolve(alena, username="zvezda_42"))
        uow.commit()
    with uow_factory() as uow:
        assert search_ids(uow, "zvezda") == [alena.id]
        assert search_ids(uow, "ZVEZDA_42 алёна") == [alena.id]
        assert search_ids(uow, "zvezda борис") == []
        stored = uow.users.get(alena.id)
        assert stored is not None
        uow.users.update(attrs.evolve(stored, username=None))
        uow.commit()
    with uow_factory() as uow:
        assert uow.users.get_by_username("zvezda_42") is None
        assert search_ids(uow, "zvezda") == []
        uow.users.update(attrs.evolve(boris, username="zvezda_42"))
        uow.commit()
    with uow_factory(read_only=True) as uow:
        assert search_ids(uow, "zvezda") == [boris.id]


def test_privacy_settings_and_last_seen_are_kept(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena = add_user(uow)
        uow.commit()
    assert (alena.last_seen, alena.last_seen_visibility) == (None, Visibility.EVERYBODY)
    assert (alena.read_receipts, alena.typing_indicator, alena.forward_link) == (True, True, True)
    quiet = attrs.evolve(
        alena,
        last_seen_visibility=Visibility.NOBODY,
        read_receipts=False,
        typing_indicator=False,
        forward_link=False,
    )
    with uow_factory() as uow:
        uow.users.update(quiet)
        uow.users.set_last_seen(alena.id, at(60))
        uow.commit()
    with uow_factory(read_only=True) as uow:
        assert uow.users.get(alena.id) == attrs.evolve(quiet, last_seen=at(60))
    with uow_factory() as uow:
        uow.users.set_last_seen(alena.id, at(120))
        uow.commit()
    with uow_factory(read_only=True) as uow:
        stored = uow.users.get(alena.id)
        assert stored == attrs.evolve(quiet, last_seen=at(120))  # nothing else of the row moved


# --- what deleting an account leans on -----------------------------------------------


def test_a_tombstoned_account_frees_its_email_and_leaves_the_search(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena = add_user(uow, "Алёна", "Смирнова", email="alena@example.org")
        uow.users.update(attrs.evolve(alena, username="alena_s"))
        uow.commit()
    tombstone = alena.tombstoned(alternative_id="deleted0001", email=f"deleted-{alena.id}@deleted.invalid")
    with uow_factory() as uow:
        uow.users.update(tombstone)
        uow.commit()
    with uow_factory() as uow:
        stored = uow.users.get(alena.id)
        assert stored == tombstone
        assert stored is not None and stored.is_deleted and stored.username is None
        assert (stored.first_name, stored.second_name, stored.password_hash) == ("", "", "")
        assert uow.users.get_by_email("ALENA@example.org") is None
        assert uow.users.get_by_username("alena_s") is None
        assert uow.users.get_by_alternative_id(alena.alternative_id) is None
        assert search_ids(uow, "алёна") == [] and search_ids(uow, "deleted") == []
        assert search_ids(uow, "") == []  # a deleted account is never found
        again = uow.users.add(
            NewUser(
                alternative_id="user9999",
                email="alena@example.org",
                password_hash="hash",
                first_name="Алёна",
                second_name="Новая",
                created_date=at(10),
            )
        )
        uow.users.update(attrs.evolve(again, username="alena_s"))
        uow.commit()
    with uow_factory(read_only=True) as uow:
        found = uow.users.get_by_email("alena@example.org")
        assert found is not None and found.id == again.id != alena.id
        assert search_ids(uow, "алёна") == [again.id]


def test_a_users_messages_come_oldest_first_from_every_chat(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        direct = add_chat(uow, [alena.id, boris.id], T0)
        group = add_chat(uow, [boris.id, alena.id], T0, ChatKind.GROUP)
        mine = [add_message(uow, direct, alena, "1"), add_message(uow, group, alena, "2")]
        add_message(uow, direct, boris, "not mine")
        system = uow.messages.add(
            NewMessage(
                chat_id=group.id,
                sender_id=alena.id,
                text=None,
                sticker_id=None,
                sending_date=at(1),
                kind=MessageKind.SYSTEM,
                system={"action": "joined"},
            )
        )
        mine.append(system)
        last = add_message(uow, direct, alena, "3")
        uow.messages.update(last.tombstoned())
        mine.append(last.tombstoned())
        uow.commit()
    with uow_factory(read_only=True) as uow:
        every = uow.messages.sent_by(alena.id, 0, 10)
        assert [m.id for m in every] == [m.id for m in mine]  # tombstones and system ones too
        assert every[-1].is_deleted
        first_two = uow.messages.sent_by(alena.id, 0, 2)
        assert [m.id for m in first_two] == [mine[0].id, mine[1].id]
        assert [m.id for m in uow.messages.sent_by(alena.id, first_two[-1].id, 10)] == [
            m.id for m in mine[2:]
        ]
        assert uow.messages.sent_by(alena.id, mine[-1].id, 10) == []
        assert uow.messages.sent_by(10**6, 0, 10) == []


def test_a_users_uploads_come_by_id_sent_or_not(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        chat = add_chat(uow, [alena.id, boris.id], T0)
        sent = uow.attachments.add(new_attachment(alena, "sent.jpg"))
        theirs = uow.attachments.add(new_attachment(boris, "theirs.jpg"))
        unsent = uow.attachments.add(new_attachment(alena, "unsent.jpg"))
        message = add_message(uow, chat, alena, "фото")
        uow.attachments.attach([sent.id], message.id)
        uow.commit()
    with uow_factory(read_only=True) as uow:
        every = uow.attachments.uploaded_by(alena.id, 0, 10)
        assert [(a.id, a.message_id) for a in every] == [(sent.id, message.id), (unsent.id, None)]
        assert [a.id for a in uow.attachments.uploaded_by(alena.id, 0, 1)] == [sent.id]
        assert [a.id for a in uow.attachments.uploaded_by(alena.id, sent.id, 10)] == [unsent.id]
        assert [a.id for a in uow.attachments.uploaded_by(boris.id, 0, 10)] == [theirs.id]
