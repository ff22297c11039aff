"""Records the repository tests build by hand, the way use cases would."""

from __future__ import annotations

from datetime import datetime

from messenger_core.model import Chat, ChatKind, MemberRole, NewChat, NewMember
from messenger_core.ports import UnitOfWork


def add_chat(
    uow: UnitOfWork, member_ids: list[int], when: datetime, kind: ChatKind = ChatKind.DIRECT
) -> Chat:
    """A chat of these members (the first one owns a group), created at ``when``."""
    role = MemberRole.OWNER if kind is ChatKind.GROUP else MemberRole.MEMBER
    members = [
        NewMember(user_id=user_id, role=role if i == 0 else MemberRole.MEMBER, joined_date=when)
        for i, user_id in enumerate(member_ids)
    ]
    title = "Group" if kind is ChatKind.GROUP else None
    return uow.chats.add(NewChat(kind=kind, created_date=when, title=title), members)
