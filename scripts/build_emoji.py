"""Rebuild the reaction picker's emoji list from Emojibase (emojibase-data on npm, MIT).

    npm install                  # installs emojibase-data, pinned in package.json
    npm run build:emoji          # or: .venv/bin/python -m scripts.build_emoji

Emojibase keeps Unicode's emoji in Unicode's order with their groups and a label per
language. This script keeps, group by group, each emoji the server takes as a reaction
(the ``emoji`` package's list, through ``adapters.emoji_unicode``, in the server's own
spelling, so a picked emoji and the chip it makes are one string), with its English and
Russian labels, and writes ``entrypoints/web/static/emoji/emoji.json``. The file is
committed, so running the messenger needs no Node; the page fetches it the first time the
picker opens. Skin tones and the "component" group (the bare tone swatches) are left out.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from adapters.emoji_unicode import UnicodeEmojiCatalog

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "node_modules" / "emojibase-data"
OUT = ROOT / "entrypoints" / "web" / "static" / "emoji" / "emoji.json"
LANGUAGES = ("en", "ru")
SKIPPED_GROUPS = {"component"}


def by_order(pair: tuple[int, list[str]]) -> int:
    return pair[0]


def build() -> dict[str, object]:
    groups: dict[str, str] = json.loads((DATA / "meta" / "groups.json").read_text())["groups"]
    labels = {
        lang: {e["hexcode"]: e["label"] for e in json.loads((DATA / lang / "compact.json").read_text())}
        for lang in LANGUAGES
    }
    catalog = UnicodeEmojiCatalog()
    chosen: dict[int, list[tuple[int, list[str]]]] = {}
    seen: set[str] = set()
    for entry in json.loads((DATA / "en" / "compact.json").read_text()):
        group = entry.get("group")
        if group is None or groups[str(group)] in SKIPPED_GROUPS:
            continue
        # Emojibase writes a variation selector where Unicode's list has none ("👍️").
        text = entry["unicode"]
        emoji = catalog.canonical(text) or catalog.canonical(text.replace("\ufe0f", ""))
        if emoji is None or emoji in seen:  # newer than the server's list, or a duplicate
            continue
        seen.add(emoji)
        names = [labels[lang].get(entry["hexcode"], entry["label"]) for lang in LANGUAGES]
        chosen.setdefault(group, []).append((entry.get("order", 0), [emoji, *names]))
    return {
        "languages": list(LANGUAGES),
        "groups": [
            {"key": groups[str(group)], "emoji": [item for _, item in sorted(items, key=by_order)]}
            for group, items in sorted(chosen.items())
        ],
    }


def main() -> int:
    if not DATA.is_dir():
        print(f"{DATA} is missing: run `npm install` first", file=sys.stderr)
        return 1
    data = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    count = sum(len(g["emoji"]) for g in data["groups"])  # type: ignore[attr-defined]
    print(f"{OUT.relative_to(ROOT)}: {count} emoji in {len(data['groups'])} groups")  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
