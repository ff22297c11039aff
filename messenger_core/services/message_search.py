"""Finding messages: full-text over what a user may read, newest first, with snippets."""

from __future__ import annotations

from datetime import datetime

from .. import policies, search
from ..errors import FieldErrors
from ..limits import MESSAGE_SEARCH_LIMIT_DEFAULT, MESSAGE_SEARCH_LIMIT_MAX, SEARCH_QUERY_MAX
from ..message_views import message_views
from ..model import Actor, Message
from ..ports import UnitOfWork
from ..views import FoundMessage, MessageView, SearchPage, Snippet
from .context import Context
from .lookups import membership, other_user


class MessageSearch:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def search_messages(
        self,
        actor: Actor,
        *,
        q: str = "",
        chat_id: int | None = None,
        sender_id: str | None = None,
        before: datetime | None = None,
        after: datetime | None = None,
        has: str | None = None,
        cursor: int | None = None,
        limit: int = MESSAGE_SEARCH_LIMIT_DEFAULT,
    ) -> SearchPage:
        """Messages you may read whose text or file names match ``q`` (each word a
        prefix, "quoted phrases" exact), newest first, narrowed by chat, sender, time
        and what they hold; ``cursor`` is the ``next`` of the page before."""
        errors = FieldErrors()
        policies.check_limit(errors, limit, MESSAGE_SEARCH_LIMIT_MAX)
        if len(q) > SEARCH_QUERY_MAX:
            errors.add("q", "too_long", max=SEARCH_QUERY_MAX)
        query = search.parse(q)
        if not query and has is None:
            errors.add("q", "empty")
        if has is not None and has not in search.TAGS:
            errors.add("has", "not_a_tag", options=", ".join(search.TAGS))
        errors.raise_if_any()
        with self._ctx.uow(read_only=True) as uow:
            if chat_id is not None:
                membership(uow, actor, chat_id)  # a chat that is not yours: 404
            sender = None
            if sender_id is not None:
                sender = (
                    actor.id if sender_id == actor.alternative_id else other_user(uow, actor, sender_id).id
                )
            wanted = search.Filter(
                query=query,
                chat_id=chat_id,
                sender_id=sender,
                sent_before=before,
                sent_after=after,
                has=has,
                before_id=cursor,
            )
            found = uow.messages.search(actor.id, wanted, limit)
            hits = _found(uow, actor, found, query)
        return SearchPage(messages=tuple(hits), next=found[-1].id if len(found) == limit else None)


def _found(uow: UnitOfWork, actor: Actor, messages: list[Message], query: search.Query) -> list[FoundMessage]:
    """Views of the found messages (built chat by chat), in the order found."""
    by_chat: dict[int, list[Message]] = {}
    for message in messages:
        by_chat.setdefault(message.chat_id, []).append(message)
    views: dict[int, MessageView] = {}
    for chat_id, in_chat in by_chat.items():
        views |= {v.id: v for v in message_views(uow, actor.id, chat_id, in_chat)}
    hits = []
    for message in messages:
        view = views[message.id]
        text = view.text or ""
        spans = search.highlights(text, query) if text else []
        if not spans:  # matched by a file's name, or by ``has`` alone
            named = next((a.name for a in view.attachments if search.highlights(a.name, query)), None)
            text, spans = (named, search.highlights(named, query)) if named is not None else (text, spans)
        shown, marks = search.snippet(text, query, spans=spans)
        hits.append(FoundMessage(message=view, snippet=Snippet(text=shown, highlights=tuple(marks))))
    return hits
