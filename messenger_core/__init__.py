"""The messenger's domain: users, friendships, chats, messages, stickers, attachments,
token policy and events, behind ports. Framework-free: stdlib and attrs only."""

from .errors import (
    Conflict,
    FieldError,
    Forbidden,
    Gone,
    Invalid,
    MessengerError,
    NotFound,
    Throttled,
    TooLarge,
    Unauthorized,
    Unavailable,
)
from .services import Messenger, MessengerSettings

__all__ = [
    "Conflict",
    "FieldError",
    "Forbidden",
    "Gone",
    "Invalid",
    "Messenger",
    "MessengerError",
    "MessengerSettings",
    "NotFound",
    "Throttled",
    "TooLarge",
    "Unauthorized",
    "Unavailable",
]
