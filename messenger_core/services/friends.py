"""Friends: requests, accepting, denying, ending a friendship, the lists."""

from __future__ import annotations

from ..errors import Forbidden, NotFound
from ..model import Actor, EventType, FriendListKind, Friendship, User
from ..payloads import user_data
from ..ports import UnitOfWork
from ..read_models import friend_view
from ..views import FriendView, user_view
from .context import Context
from .lookups import current_user, other_user


class Friends:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def send_friend_request(self, actor: Actor, user_id: str) -> FriendView:
        """Ask a user to be friends; if they already asked you, you become friends."""
        with self._ctx.uow() as uow:
            other = other_user(uow, actor, user_id)
            if other.is_deleted:
                raise NotFound("user")
            if uow.blocks.between(actor.id, other.id):
                raise Forbidden("blocked")
            row = uow.friendships.get(actor.id, other.id)
            now = self._ctx.now()
            if row is None:
                row = Friendship.request(requester_id=actor.id, addressee_id=other.id, at=now)
                uow.friendships.add(row)
                event = EventType.FRIEND_REQUEST
            else:
                row = row.requested_again(by=actor.id, at=now)
                uow.friendships.update(row)
                event = EventType.FRIEND_ACCEPTED
            self._tell(uow, actor, other, event)
            uow.commit()
        self._ctx.notifier.notify([other.id])
        return friend_view(row, other)

    def accept_friend_request(self, actor: Actor, user_id: str) -> FriendView:
        """Accept a pending request the user sent you."""
        with self._ctx.uow() as uow:
            other = other_user(uow, actor, user_id)
            row = uow.friendships.get(actor.id, other.id)
            if row is None:
                raise NotFound("request")
            row = row.accepted(by=actor.id, at=self._ctx.now())
            uow.friendships.update(row)
            self._tell(uow, actor, other, EventType.FRIEND_ACCEPTED)
            uow.commit()
        self._ctx.notifier.notify([other.id])
        return friend_view(row, other)

    def deny_friend_request(self, actor: Actor, user_id: str) -> None:
        """Refuse a pending request; the user may ask again later."""
        with self._ctx.uow() as uow:
            other = other_user(uow, actor, user_id)
            row = uow.friendships.get(actor.id, other.id)
            if row is None:
                raise NotFound("pending_request")
            row.check_deniable(by=actor.id)
            uow.friendships.remove(actor.id, other.id)
            self._ctx.append_events(
                uow, [other.id], EventType.FRIEND_DENIED, {"user_id": actor.alternative_id}
            )
            uow.commit()
        self._ctx.notifier.notify([other.id])

    def remove_friend(self, actor: Actor, user_id: str) -> None:
        """Cancel your request to the user, refuse theirs, or end the friendship."""
        with self._ctx.uow() as uow:
            other = other_user(uow, actor, user_id)
            row = uow.friendships.get(actor.id, other.id)
            if row is None:
                raise NotFound("friendship")
            uow.friendships.remove(actor.id, other.id)
            self._ctx.append_events(
                uow, [other.id], row.ending(by=actor.id), {"user_id": actor.alternative_id}
            )
            uow.commit()
        self._ctx.notifier.notify([other.id])

    def list_friends(self, actor: Actor, kind: FriendListKind = FriendListKind.FRIENDS) -> list[FriendView]:
        """Friends, requests to you (incoming) or from you (outgoing), oldest first."""
        with self._ctx.uow(read_only=True) as uow:
            rows = [r for r in uow.friendships.list_for(actor.id) if r.in_list(actor.id, kind)]
            users = uow.users.get_many(r.other(actor.id) for r in rows)
        return [friend_view(r, users[r.other(actor.id)]) for r in rows]

    def _tell(self, uow: UnitOfWork, actor: Actor, other: User, event: EventType) -> None:
        me = current_user(uow, actor.id)
        self._ctx.append_events(uow, [other.id], event, {"user": user_data(user_view(me))})
