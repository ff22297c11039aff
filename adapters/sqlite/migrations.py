"""The database schema, built only by these append-only migration steps.

Each step runs in one transaction together with ``PRAGMA user_version = N``, so a
crash leaves the database at a whole version. Never edit a step that has shipped:
append a new one. Times are stored as fixed-width ISO-8601 UTC text (see rows.py),
so comparing them as text compares them as times.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

from .search_index import index_every_message, remember_every_word

# A step is SQL statements, or a function of the connection for what SQL alone cannot do
# (filling an index whose words the core's tokenizer decides); all run in its transaction.
Statement = str | Callable[[sqlite3.Connection], None]

# The indexed text of a user: the folded keys, one per line, so no term (which never
# holds white space) can match across two of them.
_SEARCH_KEYS = (
    "{row}.first_name_key || char(10) || {row}.second_name_key || char(10) || {row}.alternative_id_key"
)
# From step 10 on, the username's key too (empty without one).
_SEARCH_KEYS_10 = _SEARCH_KEYS + " || char(10) || {row}.username_key"

# One entry per version: STEPS[0] takes a blank database to version 1, and so on.
STEPS: Sequence[Sequence[Statement]] = (
    # 1: the initial schema.
    (
        """
        CREATE TABLE users (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            alternative_id TEXT NOT NULL UNIQUE,
            alternative_id_key TEXT NOT NULL,
            email TEXT NOT NULL,
            email_key TEXT NOT NULL UNIQUE,
            password_hash TEXT NOT NULL,
            first_name TEXT NOT NULL,
            second_name TEXT NOT NULL,
            first_name_key TEXT NOT NULL,
            second_name_key TEXT NOT NULL,
            phone_number TEXT,
            age INTEGER,
            city TEXT,
            additional_inf TEXT,
            avatar TEXT,
            created_date TEXT NOT NULL,
            is_confirmed INTEGER NOT NULL DEFAULT 0
        )
        """,
        # The pair columns are generated so they can never disagree with the row;
        # the unique index on them keeps one row per unordered pair.
        """
        CREATE TABLE friendships (
            requester_id INTEGER NOT NULL REFERENCES users (id),
            addressee_id INTEGER NOT NULL REFERENCES users (id),
            status TEXT NOT NULL,
            created_date TEXT NOT NULL,
            user_low INTEGER NOT NULL
                GENERATED ALWAYS AS (min(requester_id, addressee_id)) VIRTUAL,
            user_high INTEGER NOT NULL
                GENERATED ALWAYS AS (max(requester_id, addressee_id)) VIRTUAL,
            CHECK (requester_id <> addressee_id)
        )
        """,
        "CREATE UNIQUE INDEX friendships_pair ON friendships (user_low, user_high)",
        "CREATE INDEX friendships_user_high ON friendships (user_high)",
        """
        CREATE TABLE chats (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            created_date TEXT NOT NULL,
            last_activity TEXT NOT NULL,
            last_message_id INTEGER
        )
        """,
        "CREATE INDEX chats_last_activity ON chats (last_activity)",
        """
        CREATE TABLE chat_members (
            chat_id INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL REFERENCES users (id),
            last_read_message_id INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (chat_id, user_id)
        )
        """,
        "CREATE INDEX chat_members_user ON chat_members (user_id)",
        """
        CREATE TABLE sticker_packs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            title TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE stickers (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            pack_id INTEGER NOT NULL REFERENCES sticker_packs (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            image_key TEXT NOT NULL,
            mime TEXT NOT NULL
        )
        """,
        "CREATE INDEX stickers_pack ON stickers (pack_id, position)",
        """
        CREATE TABLE messages (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            chat_id INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
            sender_id INTEGER NOT NULL REFERENCES users (id),
            text TEXT,
            sticker_id INTEGER REFERENCES stickers (id),
            sending_date TEXT NOT NULL,
            edited_date TEXT,
            is_deleted INTEGER NOT NULL DEFAULT 0
        )
        """,
        "CREATE INDEX messages_chat ON messages (chat_id, id)",
        # Deleting a message (only ever through its chat) takes its attachment rows.
        """
        CREATE TABLE attachments (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            uploader_id INTEGER NOT NULL REFERENCES users (id),
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            size INTEGER NOT NULL,
            mime TEXT NOT NULL,
            storage_key TEXT NOT NULL,
            created_date TEXT NOT NULL,
            message_id INTEGER REFERENCES messages (id) ON DELETE CASCADE,
            position INTEGER NOT NULL DEFAULT 0,
            width INTEGER,
            height INTEGER,
            thumbnail_key TEXT
        )
        """,
        "CREATE INDEX attachments_message ON attachments (message_id, position)",
        """
        CREATE INDEX attachments_orphans ON attachments (created_date)
            WHERE message_id IS NULL
        """,
        # AUTOINCREMENT keeps the greatest id in sqlite_sequence, which pruning
        # does not lower: that is EventRepository.latest_id().
        """
        CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id INTEGER NOT NULL REFERENCES users (id),
            type TEXT NOT NULL,
            data TEXT NOT NULL CHECK (json_valid(data)),
            created_date TEXT NOT NULL
        )
        """,
        "CREATE INDEX events_user ON events (user_id, id)",
        "CREATE INDEX events_created ON events (created_date)",
    ),
    # 2: a trigram index over the folded search keys. instr() over every row cost
    # ~50 ms at 100k users; the index finds the rows holding a term of 3+ characters.
    # Triggers keep it in step with users, whoever writes them.
    (
        "CREATE VIRTUAL TABLE user_search USING fts5(keys, tokenize = 'trigram')",
        f"""
        CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
            INSERT INTO user_search (rowid, keys) VALUES (new.id, {_SEARCH_KEYS.format(row="new")});
        END
        """,
        f"""
        CREATE TRIGGER users_search_update
        AFTER UPDATE OF first_name_key, second_name_key, alternative_id_key ON users BEGIN
            UPDATE user_search SET keys = {_SEARCH_KEYS.format(row="new")} WHERE rowid = new.id;
        END
        """,
        """
        CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
            DELETE FROM user_search WHERE rowid = old.id;
        END
        """,
        f"INSERT INTO user_search (rowid, keys) SELECT id, {_SEARCH_KEYS.format(row='users')} FROM users",
    ),
    # 3: group chats. Chats get a kind, a title, a photo and a history setting; members a
    # role and where their part of the chat begins; messages a kind (system messages hold
    # an action as JSON), mentions and who deleted them. Events become either a user's or
    # a chat's: a chat's event is one row, read by every member through chat_members,
    # instead of one row per member. events.user_id must become nullable, which SQLite
    # can only do by rebuilding the table; its sequence (the clients' cursor, which
    # pruning never lowers) is carried over.
    (
        "ALTER TABLE chats ADD COLUMN kind TEXT NOT NULL DEFAULT 'direct'",
        "ALTER TABLE chats ADD COLUMN title TEXT",
        "ALTER TABLE chats ADD COLUMN photo TEXT",
        "ALTER TABLE chats ADD COLUMN creator_id INTEGER REFERENCES users (id)",
        "ALTER TABLE chats ADD COLUMN history_visible INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE chat_members ADD COLUMN role TEXT NOT NULL DEFAULT 'member'",
        "ALTER TABLE chat_members ADD COLUMN joined_date TEXT",
        "ALTER TABLE chat_members ADD COLUMN joined_event_id INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE chat_members ADD COLUMN visible_after_message_id INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'user'",
        "ALTER TABLE messages ADD COLUMN system TEXT CHECK (system IS NULL OR json_valid(system))",
        "ALTER TABLE messages ADD COLUMN mentions TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(mentions))",
        "ALTER TABLE messages ADD COLUMN deleted_by INTEGER REFERENCES users (id)",
        # Who is mentioned where, for the unread-mention counts (messages.mentions keeps
        # the list with its message, for reading).
        """
        CREATE TABLE message_mentions (
            user_id INTEGER NOT NULL REFERENCES users (id),
            chat_id INTEGER NOT NULL,
            message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
            PRIMARY KEY (user_id, chat_id, message_id)
        ) WITHOUT ROWID
        """,
        "CREATE INDEX message_mentions_message ON message_mentions (message_id)",
        """
        CREATE TABLE events_new (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id INTEGER REFERENCES users (id),
            chat_id INTEGER,
            type TEXT NOT NULL,
            data TEXT NOT NULL CHECK (json_valid(data)),
            created_date TEXT NOT NULL,
            CHECK ((user_id IS NULL) <> (chat_id IS NULL))
        )
        """,
        "INSERT INTO events_new (id, user_id, type, data, created_date)"
        " SELECT id, user_id, type, data, created_date FROM events ORDER BY id",
        # The greatest id ever given, pruned or not: the old table's sequence, or the
        # copied rows' greatest id (neither may be there on a database without events).
        "DELETE FROM sqlite_sequence WHERE name = 'events_new'",
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'events_new', max("
        " coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0),"
        " coalesce((SELECT max(id) FROM events_new), 0))",
        "DROP TABLE events",
        "ALTER TABLE events_new RENAME TO events",
        "CREATE INDEX events_user ON events (user_id, id) WHERE user_id IS NOT NULL",
        "CREATE INDEX events_chat ON events (chat_id, id) WHERE chat_id IS NOT NULL",
        "CREATE INDEX events_created ON events (created_date)",
    ),
    # 4: the conversation. Messages keep what they answer and where a forward came from
    # (JSON snapshots, so later edits don't change them); earlier texts of edited
    # messages; reactions; pins; messages a user hid from themselves. A chat's event
    # names its message, so a member's stream can leave out the messages they hid.
    (
        "ALTER TABLE messages ADD COLUMN reply_to TEXT CHECK (reply_to IS NULL OR json_valid(reply_to))",
        "ALTER TABLE messages ADD COLUMN forwarded_from TEXT"
        " CHECK (forwarded_from IS NULL OR json_valid(forwarded_from))",
        # The reactions as a page shows them, kept by every change of them: a history
        # page reads one column per message instead of grouping the reactions table.
        "ALTER TABLE messages ADD COLUMN reaction_summary TEXT"
        " CHECK (reaction_summary IS NULL OR json_valid(reaction_summary))",
        """
        CREATE TABLE message_versions (
            id INTEGER PRIMARY KEY,
            message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
            text TEXT NOT NULL,
            written_date TEXT NOT NULL
        )
        """,
        "CREATE INDEX message_versions_message ON message_versions (message_id, id)",
        # The rowid orders a message's reactions by when they came.
        """
        CREATE TABLE reactions (
            id INTEGER PRIMARY KEY,
            message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL REFERENCES users (id),
            emoji TEXT NOT NULL,
            created_date TEXT NOT NULL,
            UNIQUE (message_id, emoji, user_id)
        )
        """,
        # Which of a page's messages the reader reacted to (and a user's reactions).
        "CREATE INDEX reactions_user ON reactions (user_id, message_id)",
        """
        CREATE TABLE pins (
            chat_id INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
            message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
            pinned_by INTEGER NOT NULL REFERENCES users (id),
            pinned_date TEXT NOT NULL,
            PRIMARY KEY (chat_id, message_id)
        ) WITHOUT ROWID
        """,
        "CREATE INDEX pins_message ON pins (message_id)",
        """
        CREATE TABLE hidden_messages (
            user_id INTEGER NOT NULL REFERENCES users (id),
            chat_id INTEGER NOT NULL,
            message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
            PRIMARY KEY (user_id, message_id)
        ) WITHOUT ROWID
        """,
        "CREATE INDEX hidden_messages_chat ON hidden_messages (user_id, chat_id, message_id)",
        "CREATE INDEX hidden_messages_message ON hidden_messages (message_id)",
        "ALTER TABLE events ADD COLUMN message_id INTEGER",
        # A forward shares stored files: deleting one of its rows asks whether another
        # still names the bytes.
        "CREATE INDEX attachments_storage_key ON attachments (storage_key)",
        "CREATE INDEX attachments_thumbnail_key ON attachments (thumbnail_key)"
        " WHERE thumbnail_key IS NOT NULL",
    ),
    # 5: message search. A full-text index of live user messages (rowid = message id):
    # the keys of the text, of the files' names, and tags of what it holds, as
    # messenger_core.search defines them, written by the repositories in the same
    # transaction as the message. unicode61 with the core's word characters (letters,
    # digits, marks) and no diacritic removal splits exactly where the core's words end,
    # and leaves "й" and "ё" to the core's folding; prefix indexes of 2 and 3 characters
    # make short prefixes cheap.
    (
        "CREATE VIRTUAL TABLE message_search USING fts5(body, names, tags,"
        " tokenize = \"unicode61 remove_diacritics 0 categories 'L* N* M*'\", prefix = '2 3')",
        index_every_message,
    ),
    # 6: the words the message index holds, so that a query's prefix can become the OR
    # of the words it starts, which FTS5 reads lazily (adapters/sqlite/search_index.py).
    (
        "CREATE TABLE message_search_words (word TEXT PRIMARY KEY) WITHOUT ROWID",
        remember_every_word,
    ),
    # 7: rate-limit buckets shared by every server process (RateLimitStore): one moment
    # per key, when its bucket is full again; rows whose moment has passed are pruned.
    (
        """
        CREATE TABLE rate_limits (
            key TEXT PRIMARY KEY,
            full_at REAL NOT NULL
        ) WITHOUT ROWID
        """,
    ),
    # 8: notifications. Each member's mute of a chat (NULL: not muted; a time past is
    # no mute) and each user's notification settings, both on by default.
    (
        "ALTER TABLE chat_members ADD COLUMN muted_until TEXT",
        "ALTER TABLE users ADD COLUMN notify_preview INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE users ADD COLUMN notify_muted_mentions INTEGER NOT NULL DEFAULT 1",
    ),
    # 9: an index on every other column that holds blob keys (step 4 indexed the
    # attachments'), so the sweep of stray files can ask which keys rows name without
    # reading whole tables.
    (
        "CREATE INDEX users_avatar ON users (avatar) WHERE avatar IS NOT NULL",
        "CREATE INDEX chats_photo ON chats (photo) WHERE photo IS NOT NULL",
        "CREATE INDEX stickers_image_key ON stickers (image_key)",
    ),
    # 10: privacy and account control. Users get a username (lower-case, unique, in the
    # search index), a last-seen time, privacy settings and a tombstone flag; sessions
    # (one per sign-in: the tokens carry its id and the refresh token its generation),
    # blocks (one row per direction) and data exports (the latest per user) get tables;
    # messages and attachments an index by their author, for exports and deletion.
    (
        "ALTER TABLE users ADD COLUMN username TEXT",
        "ALTER TABLE users ADD COLUMN username_key TEXT NOT NULL DEFAULT ''",
        "CREATE UNIQUE INDEX users_username ON users (username) WHERE username IS NOT NULL",
        "ALTER TABLE users ADD COLUMN last_seen TEXT",
        "ALTER TABLE users ADD COLUMN last_seen_visibility TEXT NOT NULL DEFAULT 'everybody'",
        "ALTER TABLE users ADD COLUMN read_receipts INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE users ADD COLUMN typing_indicator INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE users ADD COLUMN forward_link INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE users ADD COLUMN is_deleted INTEGER NOT NULL DEFAULT 0",
        "DROP TRIGGER users_search_insert",
        "DROP TRIGGER users_search_update",
        f"""
        CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
            INSERT INTO user_search (rowid, keys) VALUES (new.id, {_SEARCH_KEYS_10.format(row="new")});
        END
        """,
        f"""
        CREATE TRIGGER users_search_update
        AFTER UPDATE OF first_name_key, second_name_key, alternative_id_key, username_key ON users BEGIN
            UPDATE user_search SET keys = {_SEARCH_KEYS_10.format(row="new")} WHERE rowid = new.id;
        END
        """,
        f"UPDATE user_search SET keys = (SELECT {_SEARCH_KEYS_10.format(row='users')} FROM users"
        " WHERE users.id = user_search.rowid)",
        """
        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id INTEGER NOT NULL REFERENCES users (id),
            device TEXT NOT NULL,
            ip TEXT,
            created_date TEXT NOT NULL,
            last_used_date TEXT NOT NULL,
            generation INTEGER NOT NULL DEFAULT 1,
            rotated_date TEXT,
            ended_date TEXT,
            end_reason TEXT,
            CHECK ((ended_date IS NULL) = (end_reason IS NULL))
        )
        """,
        "CREATE INDEX sessions_user ON sessions (user_id, id)",
        "CREATE INDEX sessions_ended ON sessions (ended_date) WHERE ended_date IS NOT NULL",
        """
        CREATE TABLE blocks (
            blocker_id INTEGER NOT NULL REFERENCES users (id),
            blocked_id INTEGER NOT NULL REFERENCES users (id),
            created_date TEXT NOT NULL,
            PRIMARY KEY (blocker_id, blocked_id),
            CHECK (blocker_id <> blocked_id)
        ) WITHOUT ROWID
        """,
        "CREATE INDEX blocks_blocked ON blocks (blocked_id, blocker_id)",
        """
        CREATE TABLE exports (
            user_id INTEGER PRIMARY KEY REFERENCES users (id),
            state TEXT NOT NULL,
            created_date TEXT NOT NULL,
            blob_key TEXT,
            size INTEGER,
            ready_date TEXT
        )
        """,
        "CREATE INDEX messages_sender ON messages (sender_id, id)",
        "CREATE INDEX attachments_uploader ON attachments (uploader_id, id)",
    ),
    # 11: exports keep their ZIP in the blob store too: the sweep of stray files asks
    # for their keys as for every other column that holds one.
    ("CREATE INDEX exports_blob_key ON exports (blob_key) WHERE blob_key IS NOT NULL",),
)

LATEST_VERSION = len(STEPS)


def schema_version(conn: sqlite3.Connection) -> int:
    """The version recorded in the database header (0 for a blank database)."""
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    return version


def migrate(conn: sqlite3.Connection) -> int:
    """Apply every pending step and return the resulting version.

    The connection must be in autocommit mode (``isolation_level=None``): each step
    opens its own ``BEGIN IMMEDIATE`` and rereads the version inside it, so two
    processes migrating at once apply each step exactly once. Re-applying is a no-op.
    """
    if conn.in_transaction:
        raise RuntimeError("migrate() needs a connection outside any transaction")
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = schema_version(conn)
            if version > LATEST_VERSION:
                raise RuntimeError(
                    f"database schema version {version} is newer than this code ({LATEST_VERSION})"
                )
            if version == LATEST_VERSION:
                conn.execute("COMMIT")
                return version
            # Statements one by one: executescript() would commit our transaction.
            for statement in STEPS[version]:
                if callable(statement):
                    statement(conn)
                else:
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
