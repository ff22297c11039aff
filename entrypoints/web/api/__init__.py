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
from .search import MessageSearchResource
from .users import AvatarResource, UsersResource, default_avatar

__all__ = [
    "AttachmentsResource",
    "AvatarResource",
    "ChatClearResource",
    "ChatMembersResource",
    "ChatPhotoResource",
    "ChatReadResource",
    "ChatsResource",
    "EditHistoryResource",
    "EventsResource",
    "ForwardResource",
    "FriendsResource",
    "LoginResource",
    "LogoutResource",
    "MessageSearchResource",
    "MessagesResource",
    "PinsResource",
    "ReactionsResource",
    "ReadersResource",
    "RefreshResource",
    "Resource",
    "StickersResource",
    "TokensResource",
    "UsersResource",
    "default_avatar",
    "not_found",
    "upload_from",
]
