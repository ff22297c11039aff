"""The path of message search."""

from __future__ import annotations

from .. import render, schema
from .generate import Components, Schema
from .parts import AUTH_ERRORS, errors, ok, op


def paths(c: Components) -> dict[str, Schema]:
    return {
        "/api/v1/search/messages": {
            "get": op(
                "searchMessages",
                "search",
                "Find messages you may read, newest first",
                description="Full text over the text and the file names of the messages of your chats "
                "(your part of each: not what you deleted for yourself or cleared, not what came before "
                "you joined a group without visible history; never messages deleted for everyone). Each "
                'word of `q` is the beginning of a word; a "quoted phrase" matches as written; all '
                "must match. `q` may be empty when `has` is given. Each answer has a `snippet` with "
                "the match's offsets, so a client can highlight it without parsing markup.",
                parameters=c.parameters(schema.MessageSearchQuery),
                responses={
                    "200": ok(c.answer(render.SearchPageOut), "A page of found messages"),
                    **errors(*AUTH_ERRORS, 404, 422, 429),
                },
            ),
        },
    }
