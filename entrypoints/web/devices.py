"""A session's device label from the User-Agent: browser and system, by ua-parser
(the maintained port of Browserscope's parser), never by our own regular expressions."""

from __future__ import annotations

import functools

from ua_parser import parse

UA_MAX = 512  # longer User-Agent headers are cut before parsing (they are never that long)


@functools.lru_cache(maxsize=1024)
def device_label(user_agent: str | None) -> str:
    """ "Chrome 120 · Linux", "Mobile Safari 17 · iOS 17", "curl 8" — or "" when unknown
    (no words in it, so it reads the same in every language)."""
    if not user_agent:
        return ""
    result = parse(user_agent[:UA_MAX])
    browser = result.user_agent
    system = result.os
    name = ""
    if browser is not None and browser.family != "Other":
        name = f"{browser.family} {browser.major}" if browser.major else browser.family
    where = ""
    if system is not None and system.family != "Other":
        where = f"{system.family} {system.major}" if system.major else system.family
    if name and where:
        return f"{name} · {where}"
    return name or where
