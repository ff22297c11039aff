"""The JSON API's resources, a module per resource group. Each responder parses, calls
one use case and renders."""

from .accounts import LoginResource, LogoutResource, RefreshResource, TokensResource
from .base import Resource, not_found, upload_from
from .chats import ChatReadResource, ChatsResource, MessagesResource
from .conversation import (
    ChatClearResource,
    EditHistoryResource,
    ForwardResource,
    PinsResource,
    ReactionsResource,
)
from .events import EventsResource
from .files import AttachmentsResource, StickersResource
from .friends import FriendsResource
from .groups import ChatMembersResource, ChatPhotoResource, ReadersResource
from .notifications import ChatMuteResource, SettingsResource
from .privacy import BlocksResource, ExportResource, PrivacyResource, TypingResource, UsernameResource
from .search import MessageSearchResource
from .sessions import SessionsResource
from .users import AvatarResource, UsersResource, default_avatar

__all__ = [
    "AttachmentsResource",
    "AvatarResource",
    "BlocksResource",
    "ChatClearResource",
    "ChatMembersResource",
    "ChatMuteResource",
    "ChatPhotoResource",
    "ChatReadResource",
    "ChatsResource",
    "EditHistoryResource",
    "EventsResource",
    "ExportResource",
    "ForwardResource",
    "FriendsResource",
    "LoginResource",
    "LogoutResource",
    "MessageSearchResource",
    "MessagesResource",
    "PinsResource",
    "PrivacyResource",
    "ReactionsResource",
    "ReadersResource",
    "RefreshResource",
    "Resource",
    "SessionsResource",
    "SettingsResource",
    "StickersResource",
    "TokensResource",
    "TypingResource",
    "UsernameResource",
    "UsersResource",
    "default_avatar",
    "not_found",
    "upload_from",
]
