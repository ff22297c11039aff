"""The reaction picker's emoji list (static/emoji/emoji.json, built by scripts/build_emoji.py)
offers only what the server takes as a reaction, each spelled as the server spells it."""

from __future__ import annotations

import json
from pathlib import Path

from adapters.emoji_unicode import UnicodeEmojiCatalog

LIST = Path(__file__).resolve().parents[2] / "entrypoints" / "web" / "static" / "emoji" / "emoji.json"
QUICK = ["👍", "❤️", "😂", "😮", "😢", "🙏"]  # the menu's quick row (static/js/chat/reactions.js)


def test_every_listed_emoji_is_a_reaction_in_the_servers_spelling() -> None:
    data = json.loads(LIST.read_text(encoding="utf-8"))
    catalog = UnicodeEmojiCatalog()
    listed = [item[0] for group in data["groups"] for item in group["emoji"]]
    assert len(listed) > 1000
    assert len(listed) == len(set(listed))
    assert [e for e in listed if catalog.canonical(e) != e] == []
    assert all(len(item) == 1 + len(data["languages"]) for g in data["groups"] for item in g["emoji"])
    assert "component" not in {g["key"] for g in data["groups"]}


def test_the_quick_row_is_listed_as_the_server_spells_it() -> None:
    data = json.loads(LIST.read_text(encoding="utf-8"))
    listed = {item[0] for group in data["groups"] for item in group["emoji"]}
    catalog = UnicodeEmojiCatalog()
    assert [catalog.canonical(e) for e in QUICK] == QUICK
    assert set(QUICK) <= listed
