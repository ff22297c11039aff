"""Every limit the messenger enforces, defined once.

The rules in ``policies`` check against these; the web edge reads them for the request
schemas, the OpenAPI document, the pages and the scripts (``public_limits``), so no
layer retypes a number.
"""

from __future__ import annotations

NAME_MAX = 64
CITY_MAX = 100
ABOUT_MAX = 1000
PASSWORD_MIN = 8
PASSWORD_MAX = 1024  # bounds the hashing work one request can ask for
EMAIL_MAX = 254
AGE_MIN = 1
AGE_MAX = 150
MESSAGE_MAX = 4096
ATTACHMENTS_MAX = 10
FILE_NAME_MAX = 255
SEARCH_LIMIT_MAX = 20
SEARCH_WORDS_MAX = 10  # words of a search query that count; the rest are ignored
MESSAGE_SEARCH_LIMIT_DEFAULT = 20
MESSAGE_SEARCH_LIMIT_MAX = 50
SEARCH_QUERY_MAX = 256  # characters of a message search query
SNIPPET_MAX = 160  # characters of a found message shown around its match
GROUP_TITLE_MAX = 128
GROUP_MAX_MEMBERS_DEFAULT = 200  # a setting (GROUP_MAX_MEMBERS); this is its default
REPLY_PREVIEW_MAX = 200  # characters of the original a reply quotes
FORWARD_CHATS_MAX = 20  # chats one forward may go to
REACTIONS_MAX = 20  # distinct emoji on one message
REACTION_USERS_SHOWN = 10  # reactors a message names per emoji
REACTION_MAX_LENGTH = 32  # code points of an emoji (a family with skin tones is ~11)
PINS_MAX = 50  # pinned messages in one chat
EDIT_WINDOW_HOURS_DEFAULT = 48  # a setting (EDIT_WINDOW_HOURS; 0: no limit); this is its default
HISTORY_LIMIT_DEFAULT = 50
HISTORY_LIMIT_MAX = 100
EVENTS_LIMIT = 100
ALTERNATIVE_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789_"
ALTERNATIVE_ID_LENGTH = 16
USERNAME_MIN = 5
USERNAME_MAX = 32
USERNAME_PATTERN = rf"^[a-z0-9_]{{{USERNAME_MIN},{USERNAME_MAX}}}$"  # after folding to lower case
DEVICE_MAX = 120  # characters of a session's device label
SESSION_TOUCH_SECONDS = 60  # a session's last use (and its user's last seen) is written at most this often
REFRESH_REUSE_GRACE_SECONDS = 10  # the refresh token just retired still renews for this long (two tabs)
ONLINE_SECONDS = 60  # online: a long-poll waiting now or answered this recently
TYPING_INTERVAL_SECONDS = 3  # at most one typing signal per user and chat this often
TYPING_TTL_SECONDS = 6  # how long clients show "typing…"
LAST_SEEN_RECENTLY_DAYS = 3  # hidden last-seen times read "recently" within this,
LAST_SEEN_WEEK_DAYS = 7  # "this week" within this, and "long ago" after
EXPORT_INTERVAL_HOURS = 24  # one data export per user this often
EXPORT_RETENTION_DAYS = 7  # a built export is deleted after this


def public_limits() -> dict[str, int]:
    """The limits a client needs to know to guide its user, by name."""
    return {
        "name_max": NAME_MAX,
        "city_max": CITY_MAX,
        "about_max": ABOUT_MAX,
        "password_min": PASSWORD_MIN,
        "password_max": PASSWORD_MAX,
        "email_max": EMAIL_MAX,
        "age_min": AGE_MIN,
        "age_max": AGE_MAX,
        "message_max": MESSAGE_MAX,
        "group_title_max": GROUP_TITLE_MAX,
        "attachments_max": ATTACHMENTS_MAX,
        "history_limit_max": HISTORY_LIMIT_MAX,
        "search_limit_max": SEARCH_LIMIT_MAX,
        "message_search_limit_max": MESSAGE_SEARCH_LIMIT_MAX,
        "username_min": USERNAME_MIN,
        "username_max": USERNAME_MAX,
        "typing_interval": TYPING_INTERVAL_SECONDS,
        "typing_ttl": TYPING_TTL_SECONDS,
        "forward_chats_max": FORWARD_CHATS_MAX,
        "reactions_max": REACTIONS_MAX,
        "pins_max": PINS_MAX,
    }
