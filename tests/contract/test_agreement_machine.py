"""The agreement machine: three Messengers, on the memory adapter, on SQLite and on
PostgreSQL, get the same calls, the same manual clock and the same seeded random source.

Every rule runs one use case on each and asserts that the read models are equal or
that all raised the same error (type, code, reason, fields and message). Ids must
agree too: every adapter grows its ids from 1, and the shared seed makes the public
ids agree. PostgreSQL is one database of the run's throwaway cluster, emptied before
each example (tests/postgres.py); where PostgreSQL is missing the machine skips.

Agreement alone would let both adapters be wrong the same way, so the machine also
keeps a small model of who asked whom to be friends, which chats exist and who wrote
which message. Rules check the outcome the model predicts (only the author edits or
deletes, only friends start chats, ...) and the invariants check the domain's laws on
each side separately: only participants see a chat, keyset paging returns every
message exactly once in both directions, friendship is symmetric, a token works
exactly while its session lives (a rotated identity, a logout, an ended session or a
reused refresh token end it for good), a blocked user can't write to the blocker in a
direct chat nor sees their presence, and nothing of a deleted account authenticates or
is found (its email registers again).

The users bundle holds permanent user ids, not Actors: an email or password change
rotates the public id, so the current Actor always comes from the model. Rules draw
their partners, chats and authors through ``steer`` so that most calls can succeed;
the rest go to strangers, missing chats and other people's messages on purpose.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import attrs
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
)
from PIL import Image

from adapters.memory import MemoryBlobStore, MemoryTokenCodec, MemoryUnitOfWorkFactory
from adapters.postgres import PostgresUnitOfWorkFactory
from adapters.sqlite import SqliteUnitOfWorkFactory
from adapters.testing import ManualClock
from messenger_core import (
    Conflict,
    Forbidden,
    Invalid,
    Messenger,
    MessengerError,
    MessengerSettings,
    NotFound,
    Unauthorized,
    limits,
    search,
)
from messenger_core.limits import REFRESH_REUSE_GRACE_SECONDS, REPLY_PREVIEW_MAX, SEARCH_QUERY_MAX
from messenger_core.model import (
    Actor,
    AttachmentKind,
    FriendListKind,
    MemberRole,
    ProfileChanges,
    TokenPair,
    TokenType,
    Visibility,
)
from messenger_core.normalize import clean_text, email_key, search_key
from messenger_core.services import Upload
from messenger_core.views import ReplyView
from tests.conftest import START, build_messenger
from tests.postgres import empty, fresh_database

T = TypeVar("T")

SEED = 20260101
NEVER_ISSUED = "nobody_here_0000"
MAX_USERS = 7
MAX_TOKENS_KEPT = 3  # per account, so the token invariant stays cheap
MESSAGE_MAX = limits.MESSAGE_MAX
GROUP_LIMIT = 4
EDIT_WINDOW = timedelta(hours=48)  # the default setting
# Reactions the rules give: "❤" is the unqualified form of "❤️" (one reaction), "no" no emoji.
REACTIONS = ["👍", "❤️", "❤", "🎉", "no"]
CANONICAL = {"❤": "❤️"}
DECODER = MemoryTokenCodec()  # build_messenger signs with this codec's default secret

# --- strategies -------------------------------------------------------------------------

LATIN_NAMES = ["Alice", "Bob", "Ann Lee", "Zoë", "O'Brien", "Jean-Luc", "ALENA", "Straße", "ﬁona"]
CYRILLIC_NAMES = ["Алёна", "Иван", "Пётр", "Ёлка", "Мария-Анна", "ЕЛЕНА", "Юлия", "Семёнов"]
NAME_ALPHABET = "абвгдеёжзийклмнопрстуфхцчшщыэюяАБВГДЕЁЖЗЯabcdexyzABCXYZ-'"
CYRILLIC_ALPHABET = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙЯ"

name_core = st.one_of(
    st.sampled_from(LATIN_NAMES + CYRILLIC_NAMES),
    st.text(alphabet=NAME_ALPHABET, min_size=1, max_size=12),
)
valid_names = st.builds(
    lambda before, core, after: before + core + after,
    st.sampled_from(["", " ", "  "]),
    name_core,
    st.sampled_from(["", " ", "\t"]),
)
invalid_names = st.sampled_from(["", "   ", "Я" * 65, "Bo\x07b"])


def mostly(
    valid: st.SearchStrategy[T], invalid: st.SearchStrategy[T], one_in: int = 6
) -> st.SearchStrategy[T]:
    """Valid values, and about one time in ``one_in`` an invalid one."""
    return st.integers(1, one_in).flatmap(lambda n: invalid if n == one_in else valid)


names = mostly(valid_names, invalid_names)

passwords = st.sampled_from(["correct horse", "another passphrase", "пароль-надёжный", "short"])

# ("fresh", latin?, upper?) | ("taken", which, upper?) | ("bad", text); resolved at run time
fresh_emails = st.tuples(st.just("fresh"), st.booleans(), st.booleans())
email_specs = mostly(
    st.one_of(fresh_emails, fresh_emails, st.tuples(st.just("taken"), st.integers(0, 20), st.booleans())),
    st.tuples(st.just("bad"), st.sampled_from(["not-an-email", "a@b", " @x.io", "иван@пример"])),
)

message_texts = mostly(
    st.one_of(
        st.sampled_from(
            ["hi", "Привет!", "  padded  ", "line1\r\nline2", "ёжик в тумане", "я" * MESSAGE_MAX]
        ),
        st.text(alphabet=CYRILLIC_ALPHABET + "abc \n", min_size=1, max_size=30),
    ),
    st.sampled_from([None, "", "   ", "\r\n", "x" * (MESSAGE_MAX + 1)]),  # nothing to send, or too long
)
limits = mostly(st.integers(1, 100), st.sampled_from([0, 101]))
clock_steps = st.one_of(
    st.integers(1, 600).map(lambda s: timedelta(seconds=s)),
    st.integers(1, 999_999).map(lambda us: timedelta(microseconds=us)),
    st.sampled_from(
        [timedelta(minutes=59, seconds=59), timedelta(hours=1), timedelta(hours=2), timedelta(days=1)]
    ),
)
ghosts = st.integers(0, 11).map(lambda n: n == 11)  # now and then, name a public id nobody has


# --- the model ------------------------------------------------------------------------


@attrs.define
class SessionModel:
    generation: int = 1  # of the one refresh token that renews it
    rotated: datetime | None = None
    ended: bool = False


@attrs.define
class Account:
    id: int
    actor: Actor
    email: str
    password: str
    first_name: str
    second_name: str
    tokens: list[TokenPair] = attrs.Factory(list)  # issued for the current identity
    revoked: list[TokenPair] = attrs.Factory(list)  # issued before a rotation
    old_ids: list[str] = attrs.Factory(list)
    sessions: dict[int, SessionModel] = attrs.Factory(dict)  # every session ever started
    forward_link: bool = True


@attrs.define
class Request:
    requester: int
    addressee: int
    accepted: bool = False


@attrs.define
class ChatModel:
    members: frozenset[int]
    messages: list[int] = attrs.Factory(list)  # ids ascending, tombstones and system ones included
    group: bool = False
    roles: dict[int, str] = attrs.Factory(dict)  # groups: owner, admin or member
    joined: dict[int, datetime] = attrs.Factory(dict)  # groups: when each member joined
    floors: dict[int, int] = attrs.Factory(dict)  # what each member sees begins after this id
    history_visible: bool = True
    hidden: dict[int, set[int]] = attrs.Factory(dict)  # what each member deleted for themselves
    pins: dict[int, datetime] = attrs.Factory(dict)  # pinned message → when

    def floor(self, user: int) -> int:
        return self.floors.get(user, 0)

    def sees(self, user: int, message: int) -> bool:
        return (
            user in self.members and message > self.floor(user) and message not in self.hidden.get(user, ())
        )

    def visible(self, user: int) -> list[int]:
        return [i for i in self.messages if self.sees(user, i)]

    def latest_pin(self, user: int) -> int | None:
        shown = [(when, i) for i, when in self.pins.items() if self.sees(user, i)]
        return max(shown)[1] if shown else None

    def manages(self, user: int) -> bool:
        return self.roles.get(user) in ("owner", "admin")


@attrs.define
class MessageModel:
    chat_id: int
    sender: int
    deleted: bool = False
    system: bool = False
    sent: datetime | None = None
    text: str | None = None
    versions: list[str] = attrs.Factory(list)  # texts it had before its edits
    author: int | None = None  # whose words: the sender, or a forward's first author
    forwarded: bool = False
    linked: int | None = None  # a forward: whom it links to (None: the author kept their account out)
    reactions: dict[str, set[int]] = attrs.Factory(dict)
    quoted: int | None = None  # the message it answers
    quote: ReplyView | None = None  # as the reply was sent
    files: int = 0  # how many attachments it has


@attrs.frozen
class Outcome:
    """What both Messengers agreed on: a value, or an error of the same kind."""

    value: Any = None
    error: MessengerError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (24, 16), (30, 140, 90)).save(out, "PNG")
    return out.getvalue()


PNG = png()


def run(call: Callable[[], Any]) -> Outcome:
    try:
        return Outcome(value=call())
    except MessengerError as error:
        return Outcome(error=error)


def same_error(left: MessengerError, right: MessengerError) -> bool:
    return (
        type(left) is type(right)
        and left.code == right.code
        and left.fields == right.fields
        and str(left) == str(right)
        and getattr(left, "reason", None) == getattr(right, "reason", None)
    )


def describe(outcome: Outcome) -> str:
    if outcome.error is None:
        return repr(outcome.value)
    error = outcome.error
    return f"{type(error).__name__}(code={error.code!r}, fields={error.fields!r}, message={str(error)!r})"


def too_long_or_empty(text: str | None) -> bool:
    cleaned = clean_text(text or "")
    return not cleaned or len(cleaned) > MESSAGE_MAX


_postgres: list[str] = []


def postgres_database() -> str:
    """The machine's database on the run's cluster, made on first use."""
    if not _postgres:
        _postgres.append(fresh_database())
    return _postgres[0]


class AgreementMachine(RuleBasedStateMachine):
    users = Bundle("users")
    messages = Bundle("messages")

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(START)
        self.tmp = tempfile.mkdtemp(prefix="agreement-")
        # NORMAL only skips the fsync per commit (WAL): durability is not under test here.
        self.sqlite_uow = SqliteUnitOfWorkFactory(Path(self.tmp) / "messenger.sqlite3", synchronous="NORMAL")
        self.sqlite_uow.migrate()
        # Small groups, so that the member limit is reached now and then.
        small = MessengerSettings(group_max_members=GROUP_LIMIT, edit_window=EDIT_WINDOW)
        self.memory_uow = MemoryUnitOfWorkFactory()
        self.blob_stores = (MemoryBlobStore(), MemoryBlobStore(), MemoryBlobStore())
        self.memory = build_messenger(
            self.memory_uow, self.clock, seed=SEED, settings=small, blobs=self.blob_stores[0]
        )
        self.sqlite = build_messenger(
            self.sqlite_uow, self.clock, seed=SEED, settings=small, blobs=self.blob_stores[1]
        )
        empty(postgres_database())
        self.postgres_uow = PostgresUnitOfWorkFactory(postgres_database(), pool_size=2)
        self.postgres = build_messenger(
            self.postgres_uow, self.clock, seed=SEED, settings=small, blobs=self.blob_stores[2]
        )
        self.sides: tuple[tuple[str, Messenger], ...] = (
            ("memory", self.memory),
            ("sqlite", self.sqlite),
            ("postgres", self.postgres),
        )
        self.accounts: dict[int, Account] = {}
        self.requests: dict[frozenset[int], Request] = {}  # one per pair, pending or accepted
        self.blocks: set[tuple[int, int]] = set()  # (blocker, blocked)
        self.gone: dict[int, Account] = {}  # deleted accounts (still members of direct chats)
        self.chats: dict[int, ChatModel] = {}
        self.chat_ids_seen: list[int] = []
        self.message_models: dict[int, MessageModel] = {}  # messages whose chat still exists
        self.message_chat: dict[int, int] = {}  # every message ever sent
        self.emails_made = 0
        self.event_cursors: dict[int, int] = {}
        self.calls = 0  # use cases run so far: varies ghosts and page sizes

    def teardown(self) -> None:
        self.sqlite_uow.close()
        self.postgres_uow.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- helpers ------------------------------------------------------------------------

    def both(self, call: Callable[[Messenger], Any]) -> Outcome:
        """Run the use case on every Messenger and insist that they agree."""
        self.calls += 1
        outcomes = [(side, run(lambda m=messenger: call(m))) for side, messenger in self.sides]
        memory = outcomes[0][1]
        for side, other in outcomes[1:]:
            if memory.error is None and other.error is None:
                agree = memory.value == other.value
            else:
                agree = (
                    memory.error is not None
                    and other.error is not None
                    and same_error(memory.error, other.error)
                )
            assert agree, f"memory: {describe(memory)}\n{side}: {describe(other)}"
        return memory

    @staticmethod
    def expect(outcome: Outcome, error: type[MessengerError] | None) -> None:
        if error is None:
            assert outcome.ok, f"expected success, got {describe(outcome)}"
        else:
            assert isinstance(outcome.error, error), f"expected {error.__name__}, got {describe(outcome)}"

    @staticmethod
    def steer(data: st.DataObject, default: T, candidates: Sequence[T], label: str) -> T:
        """Mostly one of the candidates that make the call meaningful, sometimes the default."""
        if candidates and data.draw(st.integers(0, 3), label=f"steer {label}") < 3:
            return data.draw(st.sampled_from(candidates), label=label)
        return default

    def actor(self, user: int) -> Actor:
        return self.accounts[user].actor

    def public_id(self, user: int, ghost: bool = False) -> str:
        """The user's current public id, or for a ghost one that resolves to nobody:
        never issued, or rotated away from (which must be as dead)."""
        if not ghost:
            return self.accounts[user].actor.alternative_id
        rotated = [old for account in self.accounts.values() for old in account.old_ids]
        return rotated[self.calls % len(rotated)] if rotated else NEVER_ISSUED

    def request(self, a: int, b: int) -> Request | None:
        return self.requests.get(frozenset((a, b)))

    def are_friends(self, a: int, b: int) -> bool:
        row = self.request(a, b)
        return row is not None and row.accepted

    def friends_of(self, user: int) -> list[int]:
        return [o for o in self.accounts if o != user and self.are_friends(user, o)]

    def direct_chat(self, a: int, b: int) -> int | None:
        return next(
            (cid for cid, chat in self.chats.items() if not chat.group and chat.members == {a, b}), None
        )

    def chats_of(self, user: int) -> list[int]:
        return [cid for cid, chat in self.chats.items() if user in chat.members]

    def write_refusal(self, user: int, chat_id: int) -> type[MessengerError] | None:
        """Why the user may not write in the chat: not a member of it, or in a direct
        chat no friend of the other (an ex-friend's chat stays readable, not writable;
        a block ends the friendship, a deleted account too)."""
        chat = self.chats.get(chat_id)
        if chat is None or user not in chat.members:
            return NotFound
        if not chat.group and not all(self.are_friends(user, o) for o in chat.members - {user}):
            return Forbidden
        return None

    def sociable(self, data: st.DataObject, user: int, *, in_chat: bool = False) -> int:
        """Mostly a user with a chat (or a friend, unless ``in_chat``), sometimes the one drawn."""
        candidates = [u for u in self.accounts if self.chats_of(u) or (not in_chat and self.friends_of(u))]
        return self.steer(data, user, candidates, "sociable")

    def pick_chat(self, data: st.DataObject, user: int) -> int:
        """One of the user's chats mostly; else any chat ever seen, or none that exists."""
        known = self.chat_ids_seen or [1]
        anywhere = data.draw(st.sampled_from([*known, known[-1] + 1, 10**6]), label="any chat")
        return self.steer(data, anywhere, self.chats_of(user), "own chat")

    def keep_tokens(self, account: Account, pair: TokenPair) -> None:
        account.tokens = [*account.tokens, pair][-MAX_TOKENS_KEPT:]
        account.sessions.setdefault(int(DECODER.decode(pair.access_token)["sid"]), SessionModel())

    def live(self, people: frozenset[int] | set[int]) -> list[int]:
        """Those of the people whose accounts exist, ascending."""
        return sorted(p for p in people if p in self.accounts)

    def blocked_between(self, a: int, b: int) -> bool:
        return (a, b) in self.blocks or (b, a) in self.blocks

    def token_works(self, account: Account, token: str, kind: TokenType) -> bool:
        """Whether a token the account was given still authenticates as ``kind`` (expiry
        aside): of that type, its session not ended, a refresh token of the session's
        current generation."""
        claims = DECODER.decode(token)
        if claims.get("type") != kind.value:
            return False
        session = account.sessions.get(int(claims["sid"]))
        if session is None or session.ended:
            return False
        return kind is not TokenType.REFRESH or int(claims["gen"]) == session.generation

    def live_sessions(self, account: Account) -> list[int]:
        return sorted(sid for sid, session in account.sessions.items() if not session.ended)

    def resolve_email(self, spec: tuple[Any, ...]) -> str:
        kind = spec[0]
        if kind == "same email":
            return str(spec[1])
        if kind == "taken" and self.accounts:
            accounts = list(self.accounts.values())
            taken: str = accounts[int(spec[1]) % len(accounts)].email
            return taken.upper() if spec[2] else taken
        if kind == "bad":
            return str(spec[1])
        self.emails_made += 1
        latin = kind != "fresh" or spec[1]
        email = (
            f"user{self.emails_made}@example.com" if latin else f"пользователь{self.emails_made}@пример.рф"
        )
        return email.upper() if spec[2] else email

    def email_owner(self, email: str) -> int | None:
        key = email_key(email)
        return next((a.id for a in self.accounts.values() if email_key(a.email) == key), None)

    def record_chat(self, chat_id: int, members: frozenset[int]) -> None:
        if chat_id not in self.chats:
            assert chat_id not in self.chat_ids_seen, f"chat id {chat_id} given twice"
            self.chats[chat_id] = ChatModel(members=members)
            self.chat_ids_seen.append(chat_id)

    # --- accounts and tokens ------------------------------------------------------------

    @initialize(
        target=users,
        people=st.lists(st.tuples(valid_names, valid_names, st.booleans()), min_size=3, max_size=3),
        friendships=st.sampled_from([((0, 1), (1, 2), (2, 0)), ((2, 1),), ()]),
        group=st.sampled_from([None, True, False]),
    )
    def first_users(
        self,
        people: list[tuple[str, str, bool]],
        friendships: tuple[tuple[int, int], ...],
        group: bool | None,
    ) -> Any:
        """Three signed-in users, some of them friends already, so that chats are a few steps away."""
        ids = []
        for first, second, latin in people:
            user = self.do_register(first, second, ("fresh", latin, False), "correct horse")
            assert user is not None
            ids.append(user)
            # Signed in from the start, so that any later rotation has tokens to revoke.
            self.login(user, ghost=False, right_password=True, upper=False, expires_in=None)
        for a, b in friendships:
            self.do_send_friend_request(ids[a], ids[b], ghost=False)
            self.do_accept_friend_request(ids[b], ids[a], ghost=False)
        if group is not None and len(friendships) == 3:  # a group of all three, to grow from
            self.do_create_group(ids[0], "Трое", [ids[1], ids[2]], history_visible=group)
        return multiple(*ids)

    def do_register(self, first: str, second: str, email: tuple[Any, ...], password: str) -> int | None:
        address = self.resolve_email(email)
        owner = self.email_owner(address)
        outcome = self.both(
            lambda m: m.register(first_name=first, second_name=second, email=address, password=password)
        )
        if isinstance(outcome.error, Conflict):
            assert owner is not None, "Conflict for an email nobody has"
        if not outcome.ok:
            return None
        view = outcome.value
        assert owner is None, f"{address!r} registered twice"
        assert view.id not in self.accounts
        assert (view.first_name, view.second_name) == (" ".join(first.split()), " ".join(second.split()))
        self.accounts[view.id] = Account(
            id=view.id,
            actor=Actor(view.id, view.user_id),
            email=view.email,
            password=password,
            first_name=view.first_name,
            second_name=view.second_name,
        )
        return int(view.id)

    @precondition(lambda self: len(self.accounts) < MAX_USERS)
    @rule(target=users, first=names, second=names, email=email_specs, password=passwords)
    def register(self, first: str, second: str, email: tuple[Any, ...], password: str) -> Any:
        user = self.do_register(first, second, email, password)
        return multiple() if user is None else user

    @rule(
        user=users,
        ghost=ghosts,
        right_password=st.booleans(),
        upper=st.booleans(),
        expires_in=mostly(st.sampled_from([None, None, 60, 86400]), st.sampled_from([0, 10**9])),
    )
    def login(
        self, user: int, ghost: bool, right_password: bool, upper: bool, expires_in: int | None
    ) -> None:
        account = None if ghost else self.accounts[user]
        email = account.email if account else "ghost@example.com"
        password = account.password if account and right_password else "wrong password!"
        outcome = self.both(
            lambda m: m.login(
                email=email.upper() if upper else email, password=password, expires_in=expires_in
            )
        )
        if expires_in in (0, 10**9):
            self.expect(outcome, Invalid)
        elif account is None or not right_password:
            self.expect(outcome, Unauthorized)
            assert outcome.error is not None and outcome.error.code == "bad_credentials"
        else:
            self.expect(outcome, None)
            self.keep_tokens(account, outcome.value)

    @precondition(lambda self: any(a.tokens or a.revoked for a in self.accounts.values()))
    @rule(data=st.data(), as_type=st.sampled_from(TokenType), refresh=st.booleans())
    def authenticate(self, data: st.DataObject, as_type: TokenType, refresh: bool) -> None:
        holders = [a for a in self.accounts.values() if a.tokens or a.revoked]
        account = data.draw(st.sampled_from(holders), label="holder")
        pair = data.draw(st.sampled_from(account.tokens + account.revoked), label="pair")
        token = data.draw(st.sampled_from([pair.access_token, pair.refresh_token]), label="token")
        expired = self.expired(token)
        if refresh:
            claims = DECODER.decode(token)
            session = account.sessions.get(int(claims["sid"]))
            outcome = self.both(lambda m: m.refresh(token))
            if expired or claims["type"] != "refresh" or session is None or session.ended:
                return self.expect(outcome, Unauthorized)
            now = self.clock.now()
            if int(claims["gen"]) == session.generation:
                session.generation += 1
                session.rotated = now
            elif not (
                int(claims["gen"]) == session.generation - 1
                and session.rotated is not None
                and now - session.rotated <= timedelta(seconds=REFRESH_REUSE_GRACE_SECONDS)
            ):  # a retired refresh token came back: the whole session ends
                session.ended = True
                self.expect(outcome, Unauthorized)
                assert outcome.error is not None and outcome.error.params.get("ended") == "refresh_reused"
                return
            self.expect(outcome, None)
            fresh = outcome.value
            assert int(DECODER.decode(fresh.refresh_token)["gen"]) == session.generation
            self.keep_tokens(account, fresh)
            for _, messenger in self.sides:
                assert messenger.authenticate(fresh.access_token) == account.actor
        else:
            outcome = self.both(lambda m: m.authenticate(token, type=as_type))
            works = not expired and self.token_works(account, token, as_type)
            self.expect(outcome, None if works else Unauthorized)
            if outcome.ok:
                assert outcome.value == account.actor

    def expired(self, token: str) -> bool:
        expires = DECODER.decode(token).get("exp")
        return expires is not None and int(self.clock.now().timestamp()) >= expires

    # --- sessions -----------------------------------------------------------------------

    def some_session(self, data: st.DataObject, account: Account) -> int | None:
        """Mostly one of the account's live sessions, sometimes an ended one or none."""
        live = self.live_sessions(account)
        anything = data.draw(st.sampled_from([None, *account.sessions, 10**6]), label="any session")
        return self.steer(data, anything, live, "live session")

    @rule(user=users)
    def list_sessions(self, user: int) -> None:
        account = self.accounts[user]
        outcome = self.both(lambda m: m.list_sessions(account.actor))
        self.expect(outcome, None)
        assert [s.id for s in outcome.value] == self.live_sessions(account)

    @rule(data=st.data(), user=users)
    def end_session(self, data: st.DataObject, user: int) -> None:
        account = self.accounts[user]
        target = self.some_session(data, account)
        if target is None:
            return
        outcome = self.both(lambda m: m.end_session(account.actor, target))
        if target not in self.live_sessions(account):
            return self.expect(outcome, NotFound)
        self.expect(outcome, None)
        account.sessions[target].ended = True

    @rule(data=st.data(), user=users)
    def end_other_sessions(self, data: st.DataObject, user: int) -> None:
        account = self.accounts[user]
        keep = self.some_session(data, account)
        actor = Actor(account.actor.id, account.actor.alternative_id, keep)
        outcome = self.both(lambda m: m.end_other_sessions(actor))
        self.expect(outcome, None)
        others = [sid for sid in self.live_sessions(account) if sid != keep]
        assert outcome.value == len(others)
        for sid in others:
            account.sessions[sid].ended = True

    @precondition(lambda self: any(a.tokens for a in self.accounts.values()))
    @rule(data=st.data(), refresh=st.booleans())
    def logout(self, data: st.DataObject, refresh: bool) -> None:
        account = data.draw(st.sampled_from([a for a in self.accounts.values() if a.tokens]), label="who")
        pair = data.draw(st.sampled_from(account.tokens + account.revoked), label="pair")
        token, kind = (
            (pair.refresh_token, TokenType.REFRESH) if refresh else (pair.access_token, TokenType.ACCESS)
        )
        outcome = self.both(lambda m: m.logout(token, type=kind))
        self.expect(outcome, None)
        session = account.sessions[int(DECODER.decode(token)["sid"])]
        assert outcome.value == (not session.ended)
        if outcome.value:
            session.ended = True

    # --- deleting an account ------------------------------------------------------------

    @precondition(lambda self: len(self.accounts) > 2)
    @rule(target=users, user=consumes(users), delete_messages=st.booleans(), again=st.booleans())
    def delete_account(self, user: int, delete_messages: bool, again: bool) -> Any:
        """Deleting an account: its groups go on without it, its direct chats stay (under a
        tombstone), its messages too unless ``delete_messages``; nothing of the profile
        stays readable, and the email is free for a new account (``again``)."""
        account = self.accounts[user]
        wrong = self.both(lambda m: m.delete_account(account.actor, password="wrong password!"))
        self.expect(wrong, Forbidden)
        outcome = self.both(
            lambda m: m.delete_account(
                account.actor, password=account.password, delete_messages=delete_messages
            )
        )
        self.expect(outcome, None)
        del self.accounts[user]
        self.gone[user] = account
        for chat_id in [c for c in self.chats_of(user) if self.chats[c].group]:
            self.depart(chat_id, user)
            self.learn_new_messages(chat_id, user)
        if delete_messages:
            for message, model in self.message_models.items():
                if model.sender == user and not model.system and not model.deleted:
                    model.deleted, model.text, model.versions, model.reactions = True, None, [], {}
                    model.files = 0
                    self.chats[model.chat_id].pins.pop(message, None)
        self.requests = {pair: row for pair, row in self.requests.items() if user not in pair}
        self.blocks = {pair for pair in self.blocks if user not in pair}
        for _, messenger in self.sides:
            with pytest.raises(Unauthorized):
                messenger.login(email=account.email, password=account.password)
        for chat_id in self.chats_of(user):  # its direct chats: a tombstone, nothing of the person
            peers = self.live(self.chats[chat_id].members)
            if not peers:
                continue  # the other side was deleted before: nobody is left to look
            peer = peers[0]
            for side, messenger in self.sides:
                [shown] = [
                    m.user for m in messenger.get_chat(self.actor(peer), chat_id).members if m.user.id == user
                ]
                assert shown.deleted and (shown.first_name, shown.second_name) == ("", ""), side
                assert shown.user_id not in (account.actor.alternative_id, *account.old_ids), side
                assert shown.presence is None and shown.username is None, side
        if not again:
            return multiple()
        reborn = self.do_register("Новая", "Жизнь", ("same email", account.email), account.password)
        assert reborn is not None and reborn != user, "the email of a deleted account is free again"
        return reborn

    # --- blocks and privacy -------------------------------------------------------------

    @rule(data=st.data(), user=users, other=users, ghost=ghosts, block=st.booleans())
    def block(self, data: st.DataObject, user: int, other: int, ghost: bool, block: bool) -> None:
        """Block or unblock: a block ends the friendship or the requests between the two."""
        user = self.sociable(data, user)
        other = self.steer(
            data, other, [*self.friends_of(user), *(b for a, b in self.blocks if a == user)], "whom"
        )
        target = self.public_id(other, ghost)
        call = "block_user" if block else "unblock_user"
        outcome = self.both(lambda m: getattr(m, call)(self.actor(user), target))
        if ghost:
            return self.expect(outcome, NotFound)
        if other == user:
            return self.expect(outcome, Invalid)
        self.expect(outcome, None)
        if block:
            self.blocks.add((user, other))
            self.requests.pop(frozenset((user, other)), None)
        else:
            self.blocks.discard((user, other))
        listed = self.both(lambda m: m.list_blocked(self.actor(user)))
        assert {v.user.id for v in listed.value} == {b for a, b in self.blocks if a == user}

    @rule(
        user=users,
        last_seen=st.sampled_from([None, *Visibility]),
        read_receipts=st.sampled_from([None, True, False]),
        typing=st.sampled_from([None, True, False]),
        forward_link=st.sampled_from([None, True, False]),
    )
    def change_privacy(
        self,
        user: int,
        last_seen: Visibility | None,
        read_receipts: bool | None,
        typing: bool | None,
        forward_link: bool | None,
    ) -> None:
        account = self.accounts[user]
        before = self.both(lambda m: m.get_privacy(account.actor)).value
        outcome = self.both(
            lambda m: m.update_privacy(
                account.actor,
                last_seen=last_seen,
                read_receipts=read_receipts,
                typing=typing,
                forward_link=forward_link,
            )
        )
        self.expect(outcome, None)
        after = outcome.value
        wanted = {
            "last_seen": last_seen,
            "read_receipts": read_receipts,
            "typing": typing,
            "forward_link": forward_link,
        }
        for name, value in wanted.items():
            assert getattr(after, name) == (getattr(before, name) if value is None else value), name
        account.forward_link = after.forward_link

    # --- users and profiles -------------------------------------------------------------

    @rule(
        user=users,
        first=st.none() | names,
        second=st.none() | valid_names,
        age=mostly(st.sampled_from([None, None, 1, 30, 150]), st.sampled_from([0, 151])),
        city=mostly(st.sampled_from([None, "Москва", "  Санкт-Петербург "]), st.just("x" * 101)),
        phone=mostly(st.sampled_from([None, "+7 916 123-45-67"]), st.just("12345")),
        clear=st.sets(st.sampled_from(["phone_number", "age", "city", "additional_inf"]), max_size=2),
        email=st.sampled_from([None, None, ("same",)]) | email_specs,
        password=st.sampled_from([None, None, "brand new pass"]) | passwords,
        old_password=mostly(st.just("right"), st.sampled_from(["wrong", None])),
    )
    def update_profile(
        self,
        user: int,
        first: str | None,
        second: str | None,
        age: int | None,
        city: str | None,
        phone: str | None,
        clear: set[str],
        email: tuple[Any, ...] | None,
        password: str | None,
        old_password: str | None,
    ) -> None:
        account = self.accounts[user]
        if email is None:
            address = None
        elif email[0] == "same":
            address = account.email.upper()  # the same address in other letters: no rotation
        else:
            address = self.resolve_email(email)
        old = {"right": account.password, "wrong": "not my password", None: None}[old_password]
        changes = ProfileChanges(
            first_name=first,
            second_name=second,
            age=age,
            city=city,
            phone_number=phone,
            email=address,
            password=password,
            old_password=old,
            clear=frozenset(clear),
        )
        before = account.actor
        outcome = self.both(lambda m: m.update_profile(before, changes))
        owner = self.email_owner(address) if address is not None else None
        rotates = password is not None or (
            address is not None and email_key(address) != email_key(account.email)
        )
        if isinstance(outcome.error, Conflict):
            assert owner not in (None, user)
        if isinstance(outcome.error, Forbidden):
            assert old_password == "wrong"
        if not outcome.ok:
            return
        view, tokens = outcome.value
        assert owner in (None, user), "took another user's email"
        assert (tokens is not None) == rotates
        account.first_name, account.second_name, account.email = view.first_name, view.second_name, view.email
        if password is not None:
            account.password = password
        if rotates:
            assert view.user_id != before.alternative_id
            account.old_ids.append(before.alternative_id)
            account.actor = Actor(user, view.user_id)
            account.revoked = (account.revoked + account.tokens)[-2 * MAX_TOKENS_KEPT :]
            for session in account.sessions.values():
                session.ended = True  # a new identity ends every session
            account.tokens = []
            self.keep_tokens(account, tokens)
        else:
            assert view.user_id == before.alternative_id

    @rule(user=users, other=users, ghost=ghosts)
    def get_user(self, user: int, other: int, ghost: bool) -> None:
        target = self.public_id(other, ghost)
        outcome = self.both(lambda m: m.get_user(self.actor(user), target))
        self.expect(outcome, NotFound if ghost else None)

    def piece_of(self, data: st.DataObject, whose: Account, part: str) -> str:
        """A substring of one of the user's names or public id, in random letter case."""
        whole = {"first": whose.first_name, "second": whose.second_name, "id": whose.actor.alternative_id}
        text = whole[part]
        begin = data.draw(st.integers(0, len(text) - 1), label=f"{part} begin")
        end = data.draw(st.integers(begin + 1, len(text)), label=f"{part} end")
        flips = data.draw(st.lists(st.booleans(), min_size=end - begin, max_size=end - begin), label="case")
        return "".join(c.swapcase() if flip else c for c, flip in zip(text[begin:end], flips, strict=True))

    @rule(
        user=users,
        data=st.data(),
        source=st.sampled_from(["first", "second", "id", "two names", "cyrillic", "blank"]),
        field=st.sampled_from(["text", "text", "first_name", "second_name"]),
        start=mostly(st.sampled_from([0, 0, 1, 3]), st.just(-1)),
        limit=mostly(st.sampled_from([20, 20, 1, 2, 5]), st.sampled_from([0, 21])),
    )
    def search(self, user: int, data: st.DataObject, source: str, field: str, start: int, limit: int) -> None:
        if source == "cyrillic":
            query = data.draw(st.text(alphabet=CYRILLIC_ALPHABET, min_size=1, max_size=3), label="query")
        elif source == "blank":
            query = data.draw(st.sampled_from(["", "  "]), label="query")
        else:
            whose = self.accounts[data.draw(st.sampled_from(sorted(self.accounts)), label="whose")]
            parts = ["first", "second"] if source == "two names" else [source]
            query = " ".join(self.piece_of(data, whose, part) for part in parts)
        outcome = self.both(
            lambda m: m.search_users(self.actor(user), start=start, limit=limit, **{field: query})
        )
        if start < 0 or not 1 <= limit <= 20:
            return self.expect(outcome, Invalid)
        self.expect(outcome, None)
        # The law (ports.UserRepository.search): case-folded, in id order; ``text`` is
        # whitespace-separated terms, each in the first name, second name or public id;
        # first_name/second_name match a substring of that name as a whole.
        key = search_key(query.strip()) or None

        def found(a: Account) -> bool:
            if key is None:
                return True
            if field == "first_name":
                return key in search_key(a.first_name)
            if field == "second_name":
                return key in search_key(a.second_name)
            keys = [search_key(v) for v in (a.first_name, a.second_name, a.actor.alternative_id)]
            return all(any(term in k for k in keys) for term in key.split())

        expected = [a.id for a in sorted(self.accounts.values(), key=lambda a: a.id) if found(a)]
        assert [u.id for u in outcome.value] == expected[start : start + limit], (query, field, expected)

    # --- friends ------------------------------------------------------------------------

    @rule(data=st.data(), user=users, other=users, ghost=ghosts)
    def send_friend_request(self, data: st.DataObject, user: int, other: int, ghost: bool) -> None:
        askable = [
            o
            for o in self.accounts
            if o != user
            and ((row := self.request(user, o)) is None or (not row.accepted and row.requester == o))
        ]
        self.do_send_friend_request(user, self.steer(data, other, askable, "whom"), ghost)

    def do_send_friend_request(self, user: int, other: int, ghost: bool) -> None:
        target = self.public_id(other, ghost)
        outcome = self.both(lambda m: m.send_friend_request(self.actor(user), target))
        if ghost:
            return self.expect(outcome, NotFound)
        if other == user:
            return self.expect(outcome, Invalid)
        if self.blocked_between(user, other):
            return self.expect(outcome, Forbidden)
        row = self.request(user, other)
        if row is None:
            self.expect(outcome, None)
            assert not outcome.value.is_accepted and outcome.value.user.id == other
            self.requests[frozenset((user, other))] = Request(user, other)
        elif row.accepted or row.requester == user:
            self.expect(outcome, Conflict)
        else:  # they asked first: crossed requests make friends
            self.expect(outcome, None)
            assert outcome.value.is_accepted
            row.accepted = True

    def pending_to(self, data: st.DataObject, user: int, other: int) -> tuple[int, int]:
        """Mostly a real pending request as (addressee, requester), sometimes any pair."""
        pending = [(row.addressee, row.requester) for row in self.requests.values() if not row.accepted]
        return self.steer(data, (user, other), pending, "pending")

    @rule(data=st.data(), user=users, other=users, ghost=ghosts)
    def accept_friend_request(self, data: st.DataObject, user: int, other: int, ghost: bool) -> None:
        self.do_accept_friend_request(*self.pending_to(data, user, other), ghost)

    def do_accept_friend_request(self, user: int, other: int, ghost: bool) -> None:
        target = self.public_id(other, ghost)
        outcome = self.both(lambda m: m.accept_friend_request(self.actor(user), target))
        if ghost:
            return self.expect(outcome, NotFound)
        if other == user:
            return self.expect(outcome, Invalid)
        row = self.request(user, other)
        if row is not None and row.accepted:
            return self.expect(outcome, Conflict)
        if row is None or row.requester != other:
            return self.expect(outcome, NotFound)
        self.expect(outcome, None)
        assert outcome.value.is_accepted and outcome.value.user.id == other
        row.accepted = True

    @rule(data=st.data(), user=users, other=users, ghost=ghosts)
    def deny_friend_request(self, data: st.DataObject, user: int, other: int, ghost: bool) -> None:
        user, other = self.pending_to(data, user, other)
        target = self.public_id(other, ghost)
        outcome = self.both(lambda m: m.deny_friend_request(self.actor(user), target))
        if ghost:
            return self.expect(outcome, NotFound)
        if other == user:
            return self.expect(outcome, Invalid)
        row = self.request(user, other)
        if row is None or row.accepted or row.requester != other:
            return self.expect(outcome, NotFound)
        self.expect(outcome, None)
        del self.requests[frozenset((user, other))]

    @rule(data=st.data(), user=users, other=users, ghost=ghosts)
    def remove_friend(self, data: st.DataObject, user: int, other: int, ghost: bool) -> None:
        related = [o for o in self.accounts if o != user and self.request(user, o) is not None]
        other = self.steer(data, other, related, "whom")
        target = self.public_id(other, ghost)
        outcome = self.both(lambda m: m.remove_friend(self.actor(user), target))
        if ghost:
            return self.expect(outcome, NotFound)
        if other == user:
            return self.expect(outcome, Invalid)
        if self.request(user, other) is None:
            return self.expect(outcome, NotFound)
        self.expect(outcome, None)
        del self.requests[frozenset((user, other))]

    @rule(user=users, kind=st.sampled_from(FriendListKind))
    def list_friends(self, user: int, kind: FriendListKind) -> None:
        self.expect(self.both(lambda m: m.list_friends(self.actor(user), kind)), None)

    # --- chats --------------------------------------------------------------------------

    @rule(data=st.data(), user=users, other=users, ghost=ghosts)
    def open_chat(self, data: st.DataObject, user: int, other: int, ghost: bool) -> None:
        user = self.sociable(data, user)
        other = self.steer(data, other, self.friends_of(user), "friend")
        target = self.public_id(other, ghost)
        outcome = self.both(lambda m: m.open_chat(self.actor(user), target))
        if ghost:
            return self.expect(outcome, NotFound)
        if other == user:
            return self.expect(outcome, Invalid)
        existing = self.direct_chat(user, other)
        if existing is None and not self.are_friends(user, other):
            return self.expect(outcome, Forbidden)
        self.expect(outcome, None)
        view, created = outcome.value
        assert created == (existing is None) and existing in (None, view.id)
        assert {m.user.id for m in view.members} == {user, other}
        self.record_chat(view.id, frozenset((user, other)))

    @rule(user=users, data=st.data())
    def get_chat(self, user: int, data: st.DataObject) -> None:
        user = self.sociable(data, user, in_chat=True)
        chat_id = self.pick_chat(data, user)
        outcome = self.both(lambda m: m.get_chat(self.actor(user), chat_id))
        self.expect(outcome, None if chat_id in self.chats_of(user) else NotFound)

    @rule(user=users)
    def list_chats(self, user: int) -> None:
        outcome = self.both(lambda m: m.list_chats(self.actor(user)))
        self.expect(outcome, None)
        assert {c.id for c in outcome.value} == set(self.chats_of(user))
        activity = [(c.last_activity, c.id) for c in outcome.value]
        assert activity == sorted(activity, reverse=True), "latest activity first"

    @rule(user=users, data=st.data())
    def delete_chat(self, user: int, data: st.DataObject) -> None:
        user = self.sociable(data, user, in_chat=True)
        chat_id = self.pick_chat(data, user)
        outcome = self.both(lambda m: m.delete_chat(self.actor(user), chat_id))
        if chat_id not in self.chats_of(user):
            return self.expect(outcome, NotFound)
        if self.chats[chat_id].group and self.chats[chat_id].roles[user] != "owner":
            return self.expect(outcome, Forbidden)  # a group is its owner's to delete
        self.expect(outcome, None)
        self.forget_chat(chat_id)

    def forget_chat(self, chat_id: int) -> None:
        for message_id in self.chats.pop(chat_id).messages:
            del self.message_models[message_id]

    # --- groups ---------------------------------------------------------------------------

    def pick_people(self, data: st.DataObject, user: int, label: str) -> list[int | None]:
        """Mostly some friends of the user, sometimes anyone, now and then a ghost (None)."""
        friends = self.friends_of(user)
        anyone = st.lists(st.sampled_from([*sorted(self.accounts), None]), max_size=4)
        if friends and data.draw(st.integers(0, 3), label=f"steer {label}") < 3:
            return data.draw(st.lists(st.sampled_from(friends), min_size=1, max_size=3), label=label)
        return data.draw(anyone, label=label)

    def named(self, people: Sequence[int | None]) -> list[str]:
        return [NEVER_ISSUED if p is None else self.public_id(p) for p in people]

    def first_refusal(self, user: int, people: Sequence[int | None]) -> type[MessengerError] | None:
        """What naming these people to join the user's group is refused with, first first."""
        for person in dict.fromkeys(people):
            if person is None:
                return NotFound
            if person == user:
                return Invalid
            if not self.are_friends(user, person):
                return Forbidden
        return None

    def learn_new_messages(self, chat_id: int, actor: int) -> None:
        """Record the system messages a group change wrote (as the memory side lists them)."""
        chat = self.chats.get(chat_id)
        if chat is None:
            return
        reader = self.accounts[min(self.live(chat.members), key=chat.floor)].actor
        last = chat.messages[-1] if chat.messages else 0
        for view in self.memory.history(reader, chat_id, after=last, limit=100):
            chat.messages.append(view.id)
            self.message_models[view.id] = MessageModel(
                chat_id=chat_id, sender=actor, system=True, sent=view.sending_date, author=actor
            )
            self.message_chat[view.id] = chat_id

    def in_a_group(self, data: st.DataObject, user: int, roles: tuple[str, ...]) -> tuple[int, int]:
        """Mostly (a member with one of the roles, their group), sometimes the user drawn
        and any chat of theirs (or none)."""
        pairs = [
            (member, cid)
            for cid, chat in self.chats.items()
            if chat.group
            for member, role in chat.roles.items()
            if role in roles
        ]
        default = (user, self.pick_chat(data, user))
        return self.steer(data, default, sorted(pairs), "group member")

    def group_refusal(self, user: int, chat_id: int) -> type[MessengerError] | None:
        """Why the user cannot change this chat as a group's member, if they cannot."""
        chat = self.chats.get(chat_id)
        if chat is None or user not in chat.members:
            return NotFound
        if not chat.group:
            return Conflict
        return None

    def join(self, chat: ChatModel, people: Sequence[int], role: str = "member") -> None:
        floor = 0 if chat.history_visible else (chat.messages[-1] if chat.messages else 0)
        for person in people:
            chat.roles[person] = role
            chat.joined[person] = self.clock.now()
            if floor:
                chat.floors[person] = floor
        chat.members = frozenset(chat.roles)

    def depart(self, chat_id: int, leaving: int) -> None:
        """The model of a member leaving (or removed): the owner's place passes on, the
        last one out ends the group."""
        chat = self.chats[chat_id]
        role = chat.roles.pop(leaving)
        chat.joined.pop(leaving)
        chat.floors.pop(leaving, None)
        chat.members = frozenset(chat.roles)
        if not chat.members:
            self.forget_chat(chat_id)
            return
        if role == "owner":
            heir = min(chat.members, key=lambda u: (chat.roles[u] != "admin", chat.joined[u], u))
            chat.roles[heir] = "owner"

    @rule(
        data=st.data(),
        user=users,
        title=mostly(st.sampled_from(["Клуб", " Друзья ", "Team"]), st.sampled_from(["  ", "x" * 129])),
        history_visible=st.booleans(),
    )
    def create_group(self, data: st.DataObject, user: int, title: str, history_visible: bool) -> None:
        user = self.sociable(data, user)
        self.do_create_group(user, title, self.pick_people(data, user, "members"), history_visible)

    def do_create_group(self, user: int, title: str, people: list[int | None], history_visible: bool) -> None:
        names = self.named(people)
        outcome = self.both(
            lambda m: m.create_group(
                self.actor(user), title=title, member_ids=names, history_visible=history_visible
            )
        )
        if not title.strip() or len(title.strip()) > 128 or not people:
            return self.expect(outcome, Invalid)
        refusal = self.first_refusal(user, people)
        if refusal is None and 1 + len(set(people)) > GROUP_LIMIT:
            refusal = Invalid
        self.expect(outcome, refusal)
        if outcome.ok:
            chat = ChatModel(members=frozenset(), group=True, history_visible=history_visible)
            self.record_chat(outcome.value.id, frozenset())
            self.chats[outcome.value.id] = chat
            self.join(chat, [user], role="owner")
            self.join(chat, [p for p in dict.fromkeys(people) if p is not None])
            self.learn_new_messages(outcome.value.id, user)

    @precondition(lambda self: any(chat.group for chat in self.chats.values()))
    @rule(data=st.data(), user=users)
    def add_members(self, data: st.DataObject, user: int) -> None:
        user, chat_id = self.in_a_group(data, user, ("owner", "admin"))
        people = self.pick_people(data, user, "newcomers")
        outcome = self.both(lambda m: m.add_members(self.actor(user), chat_id, self.named(people)))
        chat = self.chats.get(chat_id)
        if not people:
            return self.expect(outcome, Invalid)
        refusal = self.group_refusal(user, chat_id)
        if refusal is None and chat is not None and not chat.manages(user):
            refusal = Forbidden
        refusal = refusal or self.first_refusal(user, people)
        newcomers = [p for p in dict.fromkeys(people) if p is not None]
        if refusal is None and chat is not None and any(p in chat.members for p in newcomers):
            refusal = Conflict
        if refusal is None and chat is not None and len(chat.members) + len(newcomers) > GROUP_LIMIT:
            refusal = Invalid
        self.expect(outcome, refusal)
        if outcome.ok and chat is not None:
            self.join(chat, newcomers)
            self.learn_new_messages(chat_id, user)

    @precondition(lambda self: any(chat.group for chat in self.chats.values()))
    @rule(data=st.data(), user=users, other=users, ghost=ghosts, by_me=st.sampled_from([False, False, True]))
    def remove_member(self, data: st.DataObject, user: int, other: int, ghost: bool, by_me: bool) -> None:
        user, chat_id = self.in_a_group(data, user, ("owner", "admin", "admin", "member"))
        chat = self.chats.get(chat_id)
        other = self.steer(data, other, self.live(chat.members) if chat else [], "whom")
        target = "me" if by_me else self.public_id(other, ghost)
        leaving = by_me or (other == user and not ghost)
        cursor = self.memory.events(self.actor(other)).cursor if not ghost else None
        outcome = self.both(lambda m: m.remove_member(self.actor(user), chat_id, target))
        refusal = self.group_refusal(user, chat_id)
        if refusal is None and chat is not None and not leaving:
            if ghost or other not in chat.members:
                refusal = NotFound
            elif not chat.manages(user) or (chat.roles[user] == "admin" and chat.roles[other] != "member"):
                refusal = Forbidden
        self.expect(outcome, refusal)
        if not outcome.ok or chat is None:
            return
        gone = user if leaving else other
        self.depart(chat_id, gone)
        self.learn_new_messages(chat_id, user)
        if cursor is not None and gone == other:
            self.nothing_after_leaving(other, chat_id, cursor)

    def nothing_after_leaving(self, user: int, chat_id: int, cursor: int) -> None:
        """A departed member's view is frozen: of that chat they get their removal only."""
        for side, messenger in self.sides:
            events = messenger.events(self.actor(user), since=cursor, limit=100).events
            about = [e.type.value for e in events if e.data.get("chat_id") == chat_id or e.chat_id == chat_id]
            assert about == ["chat.member_removed"], (side, about)

    @precondition(lambda self: any(chat.group for chat in self.chats.values()))
    @rule(
        data=st.data(),
        user=users,
        other=users,
        ghost=ghosts,
        role=st.sampled_from([MemberRole.ADMIN, MemberRole.MEMBER, MemberRole.OWNER]),
    )
    def set_member_role(
        self, data: st.DataObject, user: int, other: int, ghost: bool, role: MemberRole
    ) -> None:
        user, chat_id = self.in_a_group(data, user, ("owner",))
        chat = self.chats.get(chat_id)
        other = self.steer(data, other, self.live(chat.members) if chat else [], "whom")
        target = self.public_id(other, ghost)
        outcome = self.both(lambda m: m.set_member_role(self.actor(user), chat_id, target, role))
        refusal = self.group_refusal(user, chat_id)
        if refusal is None and chat is not None:
            if chat.roles[user] != "owner":
                refusal = Forbidden
            elif ghost or other not in chat.members:
                refusal = NotFound
            elif other == user:
                refusal = Invalid
        self.expect(outcome, refusal)
        if outcome.ok and chat is not None and chat.roles[other] != role.value:
            chat.roles[other] = role.value
            if role is MemberRole.OWNER:
                chat.roles[user] = "admin"
            self.learn_new_messages(chat_id, user)

    @rule(data=st.data(), user=users, other=users, ghost=ghosts)
    def mention(self, data: st.DataObject, user: int, other: int, ghost: bool) -> None:
        user = self.sociable(data, user, in_chat=True)
        chat_id = self.pick_chat(data, user)
        chat = self.chats.get(chat_id)
        other = self.steer(data, other, self.live(chat.members) if chat else [], "mentioned")
        target = self.public_id(other, ghost)
        outcome = self.both(
            lambda m: m.send_message(self.actor(user), chat_id=chat_id, text="смотри", mentions=[target])
        )
        if chat is None or user not in chat.members:
            return self.expect(outcome, NotFound)
        if self.write_refusal(user, chat_id) is not None:
            return self.expect(outcome, self.write_refusal(user, chat_id))
        if ghost or other not in chat.members:
            return self.expect(outcome, Invalid)
        self.expect(outcome, None)
        # Whom a block keeps from the sender is never mentioned by them.
        assert outcome.value.mentions == (() if (other, user) in self.blocks else (target,))
        self.record_message(outcome.value, user)
        if other != user and chat.group:  # a direct chat counts no mentions: there is one reader
            seen = self.memory.get_chat(self.actor(other), chat_id)
            assert seen.unread_mentions >= 1 or seen.last_read_message_id >= outcome.value.id

    # --- messages -----------------------------------------------------------------------

    @rule(
        target=messages,
        user=users,
        to_user=st.booleans(),
        other=users,
        ghost=ghosts,
        data=st.data(),
        texts=st.lists(message_texts, min_size=1, max_size=5),
    )
    def send_message(
        self, user: int, to_user: bool, other: int, ghost: bool, data: st.DataObject, texts: list[str | None]
    ) -> Any:
        """A short burst of messages from one user to one chat or receiver, so that
        chats grow long enough for paging to cross pages."""
        user = self.sociable(data, user)
        if not to_user and not self.chats_of(user):
            to_user = self.steer(data, False, [True], "to a user")
        target: dict[str, Any]
        if to_user:
            reachable = [
                o
                for o in self.accounts
                if o != user and (self.are_friends(user, o) or self.direct_chat(user, o))
            ]
            other = self.steer(data, other, reachable, "receiver")
            target = {"receiver_id": self.public_id(other, ghost)}
        else:
            target = {"chat_id": self.pick_chat(data, user)}
        sent = [self.send_one(user, other, ghost, target, text) for text in texts]
        return multiple(*(message for message in sent if message is not None))

    def send_one(
        self, user: int, other: int, ghost: bool, target: dict[str, Any], text: str | None
    ) -> int | None:
        actor = self.actor(user)
        outcome = self.both(lambda m: m.send_message(actor, text=text, **target))
        chat_id = target.get("chat_id")
        if too_long_or_empty(text):
            self.expect(outcome, Invalid)
            assert outcome.error is not None and "text" in outcome.error.fields
        elif chat_id is not None:
            self.expect(outcome, self.write_refusal(user, chat_id))
        elif ghost:
            self.expect(outcome, NotFound)
        elif other == user:
            self.expect(outcome, Invalid)
        else:
            # A direct chat, new or old, is written in by friends only.
            self.expect(outcome, None if self.are_friends(user, other) else Forbidden)
            if outcome.ok:
                self.record_chat(outcome.value.chat_id, frozenset((user, other)))
        if not outcome.ok:
            return None
        view = outcome.value
        assert view.text == clean_text(text or "") and view.sender_id == actor.alternative_id
        assert not view.is_deleted and chat_id in (None, view.chat_id)
        for _, messenger in self.sides:  # what the sender got is what the chat now shows
            assert messenger.history(actor, view.chat_id, after=view.id - 1, limit=1) == [view]
        self.record_message(view, user)
        return int(view.id)

    def linked_author(self, user: int) -> int | None:
        return user if self.accounts[user].forward_link else None

    def record_message(self, view: Any, user: int, **more: Any) -> None:
        """A message just written by ``user``, as the model keeps it."""
        chat = self.chats[view.chat_id]
        assert not chat.messages or chat.messages[-1] < view.id, "message ids grow"
        chat.messages.append(view.id)
        more.setdefault("author", user)
        self.message_models[view.id] = MessageModel(
            chat_id=view.chat_id, sender=user, sent=view.sending_date, text=view.text, **more
        )
        self.message_chat[view.id] = view.chat_id

    def sees(self, user: int, message: int) -> bool:
        """Whether the message is there for the user: its chat exists, they are in it,
        it is in their part of the chat, and they have not hidden it."""
        model = self.message_models.get(message)
        chat = self.chats.get(model.chat_id) if model is not None else None
        return chat is not None and chat.sees(user, message)

    def member_of_chat_of(self, data: st.DataObject, user: int, message: int) -> int:
        """Mostly the author or the other member of the message's chat, sometimes anyone."""
        chat = self.chats.get(self.message_chat[message])
        return self.steer(data, user, self.live(chat.members) if chat else [], "member")

    def check_author_rule(self, user: int, message: int, outcome: Outcome, *, edit: bool) -> None:
        """Only the author edits; the author or, in a group, its owner and admins delete;
        outsiders (and members who joined after it, without visible history) learn
        nothing (NotFound)."""
        model = self.message_models.get(message)
        chat = self.chats[model.chat_id] if model is not None else None
        if model is None or chat is None or not self.sees(user, message):
            self.expect(outcome, NotFound)
        elif model.sender != user and (edit or not (chat.group and chat.manages(user))):
            self.expect(outcome, Forbidden)
        elif edit and model.deleted:
            self.expect(outcome, Conflict)
        elif edit and model.sent is not None and self.clock.now() - model.sent > EDIT_WINDOW:
            self.expect(outcome, Conflict)
            assert outcome.error is not None and outcome.error.code == "edit_window_passed"
        else:
            self.expect(outcome, None)

    @rule(data=st.data(), user=users, message=messages, text=message_texts)
    def edit_message(self, data: st.DataObject, user: int, message: int, text: str | None) -> None:
        user = self.member_of_chat_of(data, user, message)
        outcome = self.both(lambda m: m.edit_message(self.actor(user), message, text=text or ""))
        if too_long_or_empty(text):
            return self.expect(outcome, Invalid)
        self.check_author_rule(user, message, outcome, edit=True)
        if not outcome.ok:
            return
        model = self.message_models[message]
        new = clean_text(text or "")
        assert outcome.value.text == new
        if new != model.text:
            assert outcome.value.edited_date == self.clock.now()
            model.versions.append(model.text or "")
            model.text = new
        # Every member sees what each edit replaced, the current text last.
        for _, messenger in self.sides:
            for member in self.live(self.chats[model.chat_id].members):
                if self.sees(member, message):
                    got = [v.text for v in messenger.edit_history(self.actor(member), message)]
                    assert got == [*model.versions, model.text], (got, model.versions, model.text)

    @rule(data=st.data(), user=users, message=messages)
    def delete_message(self, data: st.DataObject, user: int, message: int) -> None:
        user = self.member_of_chat_of(data, user, message)
        outcome = self.both(lambda m: m.delete_message(self.actor(user), message))
        self.check_author_rule(user, message, outcome, edit=False)
        if outcome.ok:
            assert outcome.value.is_deleted and outcome.value.text is None
            assert outcome.value.reactions == () and outcome.value.reply_to is None
            model = self.message_models[message]
            model.deleted, model.text, model.versions, model.reactions = True, None, [], {}
            self.chats[model.chat_id].pins.pop(message, None)
            for _, messenger in self.sides:
                assert messenger.edit_history(self.actor(user), message) == []

    @rule(data=st.data(), user=users, message=messages)
    def mark_read(self, data: st.DataObject, user: int, message: int) -> None:
        chat_id = self.message_chat[message]
        chat = self.chats.get(chat_id)
        user = self.member_of_chat_of(data, user, message)
        outcome = self.both(lambda m: m.mark_read(self.actor(user), chat_id, message))
        self.expect(outcome, None if chat and user in chat.members else NotFound)
        if outcome.ok:
            assert outcome.value.last_read_message_id >= message

    @rule(
        user=users,
        data=st.data(),
        mode=st.sampled_from(["newest", "before", "after", "since", "around"]),
        limit=limits,
    )
    def history(self, user: int, data: st.DataObject, mode: str, limit: int) -> None:
        user = self.sociable(data, user, in_chat=True)
        chat_id = self.pick_chat(data, user)
        chat = self.chats.get(chat_id)
        ids = chat.messages if chat else []
        paging: dict[str, Any] = {"limit": limit}
        if mode in ("before", "after", "around"):
            paging[mode] = data.draw(st.sampled_from([*ids, 0, 1, 10**6]), label="anchor")
        elif mode == "since":
            paging["since"] = self.clock.now() - data.draw(clock_steps, label="ago")
        outcome = self.both(lambda m: m.history(self.actor(user), chat_id, **paging))
        if not 1 <= limit <= 100:
            return self.expect(outcome, Invalid)
        if chat is None or user not in chat.members:
            return self.expect(outcome, NotFound)
        ids = chat.visible(user)
        if mode == "around" and paging["around"] not in ids:
            return self.expect(outcome, NotFound)  # not there for them, or in no chat of theirs
        self.expect(outcome, None)
        got = [m.id for m in outcome.value]
        if mode == "around":
            at = ids.index(paging["around"])
            older = ids[max(0, at + 1 - (limit + 1) // 2) : at + 1]
            assert got == older + ids[at + 1 : at + 1 + limit - len(older)], (paging, ids)
            return
        if mode == "since":
            assert got == sorted(got) and set(got) <= set(ids)
            assert all(m.sending_date > paging["since"] for m in outcome.value)
            return
        expected = {
            "newest": ids[-limit:],
            "before": [i for i in ids if i < paging.get("before", 0)][-limit:],
            "after": [i for i in ids if i > paging.get("after", 0)][:limit],
        }[mode]
        assert got == expected, (paging, ids)

    # --- the conversation -----------------------------------------------------------------

    @rule(target=messages, data=st.data(), user=users, message=messages, text=message_texts)
    def reply(self, data: st.DataObject, user: int, message: int, text: str | None) -> Any:
        user = self.member_of_chat_of(data, user, message)
        home = self.message_chat[message]
        chat_id = self.steer(data, self.pick_chat(data, user), [home], "reply's chat")
        outcome = self.both(
            lambda m: m.send_message(self.actor(user), chat_id=chat_id, text=text, reply_to_id=message)
        )
        model = self.message_models.get(message)
        if too_long_or_empty(text):
            self.expect(outcome, Invalid)
        elif self.write_refusal(user, chat_id) is not None:
            self.expect(outcome, self.write_refusal(user, chat_id))
        elif chat_id != home or model is None or model.deleted or not self.sees(user, message):
            self.expect(outcome, Invalid)
            assert outcome.error is not None and "reply_to_id" in outcome.error.fields
        else:
            self.expect(outcome, None)
        if not outcome.ok:
            return multiple()
        quote = outcome.value.reply_to
        assert model is not None and quote is not None and not quote.deleted
        # the text, else the first file's name (the machine's files are all "p.png")
        preview = (model.text or ("p.png" if model.files else ""))[:REPLY_PREVIEW_MAX]
        assert (quote.id, quote.preview) == (message, preview)
        assert quote.sender_id == self.public_id(model.sender)
        self.record_message(outcome.value, user, quoted=message, quote=quote)
        return int(outcome.value.id)

    @rule(data=st.data(), user=users, message=messages)
    def forward(self, data: st.DataObject, user: int, message: int) -> Any:
        user = self.member_of_chat_of(data, user, message)
        own = self.chats_of(user)
        if own and data.draw(st.integers(0, 3), label="steer targets") < 3:
            targets = data.draw(st.lists(st.sampled_from(own), min_size=1, max_size=3), label="targets")
        else:
            targets = data.draw(st.lists(st.sampled_from([*own, 10**6]), max_size=2), label="targets")
        outcome = self.both(lambda m: m.forward_message(self.actor(user), message, chat_ids=targets))
        model = self.message_models.get(message)
        if not targets:
            return self.expect(outcome, Invalid)
        if model is None or not self.sees(user, message):
            return self.expect(outcome, NotFound)
        if model.deleted:
            return self.expect(outcome, Conflict)
        refusal = next((r for t in dict.fromkeys(targets) if (r := self.write_refusal(user, t))), None)
        if refusal is NotFound:  # a chat one is not in is no target at all
            self.expect(outcome, Invalid)
            assert outcome.error is not None and "chat_ids" in outcome.error.fields
            return
        if refusal is not None:
            return self.expect(outcome, refusal)
        self.expect(outcome, None)
        assert [copy.chat_id for copy in outcome.value] == list(dict.fromkeys(targets))
        for copy in outcome.value:
            assert copy.text == model.text and len(copy.attachments) == model.files
            assert copy.forwarded_from is not None
            linked = model.linked if model.forwarded else self.linked_author(model.author or model.sender)
            assert copy.forwarded_from.user_id == (None if linked is None else self.public_id(linked))
            self.record_message(
                copy, user, author=model.author, forwarded=True, linked=linked, files=model.files
            )

    @rule(
        target=messages,
        data=st.data(),
        user=users,
        files=st.integers(1, 2),
        text=st.sampled_from([None, "фото"]),
    )
    def send_files(self, data: st.DataObject, user: int, files: int, text: str | None) -> Any:
        """Photos, whose bytes must live exactly as long as some message names them."""
        user = self.sociable(data, user, in_chat=True)
        chat_id = self.pick_chat(data, user)
        actor = self.actor(user)
        uploads = [
            self.both(lambda m: m.upload_attachment(actor, Upload(name="p.png", chunks=[PNG])))
            for _ in range(files)
        ]
        ids = [u.value.id for u in uploads]
        outcome = self.both(lambda m: m.send_message(actor, chat_id=chat_id, text=text, attachment_ids=ids))
        self.expect(outcome, self.write_refusal(user, chat_id))
        if not outcome.ok:
            return multiple()  # the uploads stay, unsent: rows that name their bytes
        self.record_message(outcome.value, user, files=files)
        return int(outcome.value.id)

    @rule(data=st.data(), user=users, message=messages, emoji=st.sampled_from(REACTIONS), add=st.booleans())
    def react(self, data: st.DataObject, user: int, message: int, emoji: str, add: bool) -> None:
        user = self.member_of_chat_of(data, user, message)
        change = "add_reaction" if add else "remove_reaction"
        outcome = self.both(lambda m: getattr(m, change)(self.actor(user), message, emoji))
        model = self.message_models.get(message)
        if emoji == "no":
            return self.expect(outcome, Invalid)
        if model is None or not self.sees(user, message):
            return self.expect(outcome, NotFound)
        if model.deleted:
            return self.expect(outcome, Conflict)
        self.expect(outcome, None)
        reactors = model.reactions.setdefault(CANONICAL.get(emoji, emoji), set())
        (reactors.add if add else reactors.discard)(user)
        self.check_reactions(outcome.value, model, user)

    def check_reactions(self, view: Any, model: MessageModel, reader: int) -> None:
        """Reaction counts are the number of distinct people who reacted so."""
        got = {r.emoji: (r.count, r.me) for r in view.reactions}
        expected = {e: (len(who), reader in who) for e, who in model.reactions.items() if who}
        assert got == expected, (got, expected)

    @rule(data=st.data(), user=users, message=messages)
    def delete_for_me(self, data: st.DataObject, user: int, message: int) -> None:
        user = self.member_of_chat_of(data, user, message)
        outcome = self.both(lambda m: m.hide_message(self.actor(user), message))
        if not self.sees(user, message):
            return self.expect(outcome, NotFound)
        self.expect(outcome, None)
        chat = self.chats[self.message_chat[message]]
        chat.hidden.setdefault(user, set()).add(message)
        for _, messenger in self.sides:  # nobody else's view changes
            for member in self.live(chat.members - {user}):
                if self.sees(member, message):
                    page = messenger.history(
                        self.actor(member), self.message_chat[message], around=message, limit=1
                    )
                    assert [m.id for m in page] == [message]

    @rule(data=st.data(), user=users)
    def clear_chat(self, data: st.DataObject, user: int) -> None:
        user = self.sociable(data, user, in_chat=True)
        chat_id = self.pick_chat(data, user)
        outcome = self.both(lambda m: m.clear_chat(self.actor(user), chat_id))
        if chat_id not in self.chats_of(user):
            return self.expect(outcome, NotFound)
        self.expect(outcome, None)
        chat = self.chats[chat_id]
        if chat.messages:
            chat.floors[user] = max(chat.floor(user), chat.messages[-1])
        assert outcome.value.unread_count == 0 and outcome.value.last_message is None

    @rule(data=st.data(), user=users, message=messages, pin=st.booleans())
    def pin(self, data: st.DataObject, user: int, message: int, pin: bool) -> None:
        user = self.member_of_chat_of(data, user, message)
        chat_id = self.message_chat[message]
        change = "pin_message" if pin else "unpin_message"
        outcome = self.both(lambda m: getattr(m, change)(self.actor(user), chat_id, message))
        chat = self.chats.get(chat_id)
        model = self.message_models.get(message)
        if chat is None or user not in chat.members:
            return self.expect(outcome, NotFound)
        if chat.group and not chat.manages(user):
            return self.expect(outcome, Forbidden)
        if model is None or not self.sees(user, message):
            return self.expect(outcome, NotFound)
        if pin and model.deleted:
            return self.expect(outcome, Conflict)
        self.expect(outcome, None)
        if pin:
            chat.pins.setdefault(message, self.clock.now())
        else:
            chat.pins.pop(message, None)
        latest = chat.latest_pin(user)
        shown = outcome.value.pinned_message
        assert (shown.id if shown else None) == latest, (shown, latest, chat.pins)

    @rule(data=st.data(), user=users, has=st.sampled_from([None, None, None, "photo", "link"]))
    def search_messages(self, data: st.DataObject, user: int, has: str | None) -> None:
        """Search finds exactly the live messages the user may read that match."""
        user = self.sociable(data, user, in_chat=True)
        known = [m.text for m in self.message_models.values() if m.text]
        source = data.draw(st.sampled_from(known or ["привет"]), label="from text")
        words = search.keys(source) or ["x"]
        word = data.draw(st.sampled_from(words), label="word")
        q = data.draw(
            st.sampled_from([word, word[:2], word.upper(), f'"{source}"', "", "нет-такого"]), label="q"
        )
        outcome = self.both(lambda m: m.search_messages(self.actor(user), q=q, has=has, limit=50))
        query = search.parse(q)
        if len(q) > SEARCH_QUERY_MAX:  # a phrase of a long message
            return self.expect(outcome, Invalid)
        if not query and has is None:
            return self.expect(outcome, Invalid)
        self.expect(outcome, None)
        expected = sorted(
            (
                i
                for i, model in self.message_models.items()
                if not model.deleted
                and not model.system
                and self.sees(user, i)
                and search.matches(
                    query, search.keys(model.text or ""), search.name_keys(["p.png"] * model.files)
                )
                and (has is None or has in search.tags(model.text, [AttachmentKind.PHOTO] * model.files))
            ),
            reverse=True,
        )[:50]
        assert [hit.message.id for hit in outcome.value.messages] == expected, (q, has)

    # --- events and time ----------------------------------------------------------------

    @rule(user=users)
    def events(self, user: int) -> None:
        cursor = self.event_cursors.get(user)
        outcome = self.both(lambda m: m.events(self.actor(user), since=cursor))
        self.expect(outcome, None)
        self.event_cursors[user] = outcome.value.cursor
        # Nothing about a message the user has hidden, or cleared, reaches them.
        for event in outcome.value.events:
            chat = self.chats.get(event.chat_id) if event.chat_id is not None else None
            if chat is not None and event.message_id is not None:
                assert chat.sees(user, event.message_id), (event, chat.hidden, chat.floors)

    @rule(step=clock_steps)
    def advance_clock(self, step: timedelta) -> None:
        self.clock.advance(step)

    # --- invariants: the domain's laws, on each side ------------------------------------

    @invariant()
    def friendship_is_symmetric_and_as_modelled(self) -> None:
        for side, messenger in self.sides:
            lists: dict[tuple[int, FriendListKind], set[int]] = {}
            for user, account in self.accounts.items():
                for kind in FriendListKind:
                    views = messenger.list_friends(account.actor, kind)
                    assert all(v.is_accepted == (kind is FriendListKind.FRIENDS) for v in views), side
                    ids = [v.user.id for v in views]
                    assert len(ids) == len(set(ids)), f"{side}: a friend listed twice"
                    lists[user, kind] = set(ids)
            for a in self.accounts:
                for b in self.accounts:
                    assert (b in lists[a, FriendListKind.FRIENDS]) == (
                        a in lists[b, FriendListKind.FRIENDS]
                    ), f"{side}: the friendship of {a} and {b} is one-sided"
                    assert (b in lists[a, FriendListKind.INCOMING]) == (
                        a in lists[b, FriendListKind.OUTGOING]
                    ), f"{side}: the request between {a} and {b} is one-sided"
            for user in self.accounts:
                rows = [row for pair, row in self.requests.items() if user in pair]
                expected = {
                    FriendListKind.FRIENDS: {r.requester + r.addressee - user for r in rows if r.accepted},
                    FriendListKind.INCOMING: {
                        r.requester for r in rows if not r.accepted and r.addressee == user
                    },
                    FriendListKind.OUTGOING: {
                        r.addressee for r in rows if not r.accepted and r.requester == user
                    },
                }
                for kind, others in expected.items():
                    assert lists[user, kind] == others, f"{side}: {kind.value} of user {user}"

    @invariant()
    def only_participants_see_a_chat(self) -> None:
        for chat_id in self.chat_ids_seen:
            chat = self.chats.get(chat_id)
            for user, account in self.accounts.items():
                if chat is not None and user in chat.members:
                    memory, *others = (m.get_chat(account.actor, chat_id) for _, m in self.sides)
                    assert all(memory == other for other in others)
                    assert {m.user.id for m in memory.members} == chat.members
                    continue
                for side, messenger in self.sides:
                    for call in (messenger.history, messenger.get_chat):
                        try:
                            call(account.actor, chat_id)
                        except NotFound:
                            continue
                        raise AssertionError(
                            f"{side}: user {user} sees chat {chat_id} through {call.__name__}"
                        )

    @invariant()
    def paging_returns_every_message_once_both_ways(self) -> None:
        limit = 1 + self.calls % 7  # page sizes vary from step to step
        for chat_id, chat in self.chats.items():
            if not self.live(chat.members):
                continue
            reader_id = min(self.live(chat.members))
            reader = self.accounts[reader_id].actor
            newest = []
            for side, messenger in self.sides:
                backwards: list[int] = []
                before: int | None = None
                while page := messenger.history(reader, chat_id, before=before, limit=limit):
                    assert len(page) <= limit, side
                    backwards = [m.id for m in page] + backwards
                    before = page[0].id
                forwards: list[int] = []
                after = 0
                while page := messenger.history(reader, chat_id, after=after, limit=limit):
                    assert len(page) <= limit, side
                    forwards += [m.id for m in page]
                    after = page[-1].id
                expected = chat.visible(reader_id)
                assert backwards == forwards == expected, (side, backwards, forwards, expected)
                newest.append(messenger.history(reader, chat_id, limit=100))
            assert all(page == newest[0] for page in newest[1:])
            tombstones = {i for i in chat.visible(reader_id) if self.message_models[i].deleted}
            assert {m.id for m in newest[0] if m.is_deleted} == tombstones

    @invariant()
    def every_group_has_exactly_one_owner_and_the_modelled_roles(self) -> None:
        for chat_id, chat in self.chats.items():
            if not chat.group:
                continue
            assert len(chat.members) <= GROUP_LIMIT
            assert list(chat.roles.values()).count("owner") == 1, chat.roles
            reader = self.accounts[min(chat.members)].actor
            for side, messenger in self.sides:
                view = messenger.get_chat(reader, chat_id)
                roles = {m.user.id: m.role.value for m in view.members}
                assert roles == chat.roles, (side, roles, chat.roles)

    @invariant()
    def each_member_sees_the_conversation_as_modelled(self) -> None:
        """For every member: what they hid or cleared is in no read (history, the chat's
        last message and pin); replies keep their snapshot (or say the original is gone);
        reaction counts are the distinct reactors."""
        for chat_id, chat in self.chats.items():
            for member in self.live(chat.members):
                actor = self.accounts[member].actor
                views = [m.history(actor, chat_id, limit=100) for _, m in self.sides]
                assert all(view == views[0] for view in views[1:])
                shown = chat.visible(member)
                assert [v.id for v in views[0]] == shown[-100:]
                for view in views[0]:
                    model = self.message_models[view.id]
                    self.check_reactions(view, model, member)
                    if model.deleted:  # a tombstone quotes nothing, though it was a reply
                        assert view.reply_to is None
                    elif model.quote is not None:
                        original = self.message_models.get(model.quoted or 0)
                        gone = (
                            original is None
                            or original.deleted
                            or model.quoted in chat.hidden.get(member, ())
                        )
                        if gone:
                            assert view.reply_to == ReplyView(id=model.quote.id, deleted=True)
                        else:
                            assert view.reply_to is not None
                            assert (view.reply_to.id, view.reply_to.preview, view.reply_to.kind) == (
                                model.quote.id,
                                model.quote.preview,
                                model.quote.kind,
                            )
                for _, messenger in self.sides:
                    seen = messenger.get_chat(actor, chat_id)
                    last = seen.last_message.id if seen.last_message else None
                    assert last == (shown[-1] if shown else None), (last, shown)
                    pinned = seen.pinned_message.id if seen.pinned_message else None
                    assert pinned == chat.latest_pin(member)

    @invariant()
    def stored_bytes_live_exactly_while_a_row_names_them(self) -> None:
        """No stray bytes: every stored blob (the machine stores files only) is named by
        an attachment row; and every modelled file of a live message still opens."""
        for (side, messenger), store, factory in zip(
            self.sides, self.blob_stores, (self.memory_uow, self.sqlite_uow, self.postgres_uow), strict=True
        ):
            with factory(read_only=True) as uow:
                named = uow.attachments.keys_in_use(store.blobs)
            assert set(store.blobs) == named, f"{side}: bytes no row names"
            for message, model in self.message_models.items():
                if not model.files or model.deleted:
                    continue
                reader = next(
                    (u for u in self.live(self.chats[model.chat_id].members) if self.sees(u, message)), None
                )
                if reader is None:
                    continue
                [view] = messenger.history(self.actor(reader), model.chat_id, around=message, limit=1)
                assert len(view.attachments) == model.files
                for attachment in view.attachments:
                    _, stream = messenger.open_attachment(self.actor(reader), attachment.id)
                    with stream:
                        assert stream.read() == PNG, side

    @invariant()
    def revoked_tokens_never_authenticate(self) -> None:
        """A token works exactly while its session lives (for a refresh token: while it is
        the session's current one) and it has not expired; a rotation of the public id,
        a logout, an ended session or a reused refresh token end it for good."""
        for account in self.accounts.values():
            for pair, revoked in [(p, True) for p in account.revoked] + [(p, False) for p in account.tokens]:
                for token, kind in (
                    (pair.access_token, TokenType.ACCESS),
                    (pair.refresh_token, TokenType.REFRESH),
                ):
                    expired = self.expired(token)  # expiry is judged first
                    works = not revoked and self.token_works(account, token, kind)
                    for side, messenger in self.sides:
                        try:
                            actor = messenger.authenticate(token, type=kind)
                        except Unauthorized as error:
                            wanted = "token_expired" if expired else "token_revoked"
                            assert (not works or expired) and error.reason == wanted, (
                                side,
                                error.reason,
                                wanted,
                            )
                        else:
                            assert works and not expired, f"{side}: a revoked or expired token works"
                            assert actor == account.actor, side

    @invariant()
    def nothing_of_a_deleted_account_authenticates_or_is_found(self) -> None:
        for account in self.gone.values():
            for pair in account.tokens + account.revoked:
                for token, kind in (
                    (pair.access_token, TokenType.ACCESS),
                    (pair.refresh_token, TokenType.REFRESH),
                ):
                    for _, messenger in self.sides:
                        with pytest.raises(Unauthorized):
                            messenger.authenticate(token, type=kind)
            viewer = self.accounts[min(self.accounts)].actor
            for public_id in (account.actor.alternative_id, *account.old_ids):
                for _, messenger in self.sides:
                    with pytest.raises(NotFound):
                        messenger.get_user(viewer, public_id)

    @invariant()
    def a_block_keeps_presence_and_direct_chats_from_the_blocked(self) -> None:
        """Whom a user blocked can't write to them in a direct chat and sees none of their
        presence (nor the blocker theirs)."""
        for blocker, blocked in sorted(self.blocks):
            for a, b in ((blocker, blocked), (blocked, blocker)):
                for side, messenger in self.sides:
                    seen = messenger.get_user(self.actor(a), self.public_id(b))
                    assert seen.presence is None, (side, a, b, seen.presence)
            chat_id = self.direct_chat(blocker, blocked)
            if chat_id is not None:
                for side, messenger in self.sides:
                    view = messenger.get_chat(self.actor(blocked), chat_id)
                    assert view.cannot_send == "blocked", side


AgreementMachine.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],  # shared CI machines can be slow
)
TestMachine = AgreementMachine.TestCase
