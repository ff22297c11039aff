"""Which texts are one emoji, from the Unicode emoji data the ``emoji`` package keeps."""

from __future__ import annotations

import emoji

_FULLY_QUALIFIED = emoji.STATUS["fully_qualified"]
_COMPONENT = emoji.STATUS["component"]


class UnicodeEmojiCatalog:
    """An emoji is one entry of Unicode's emoji list (``emoji.EMOJI_DATA``): a single
    grapheme such as 👍, 👍🏽, 👨‍👩‍👧 or 🇷🇺. Components (a skin tone swatch alone) are
    not reactions. Unqualified forms ("❤" without its variation selector) become the
    fully qualified one, so that both are one reaction."""

    def canonical(self, text: str) -> str | None:
        data = emoji.EMOJI_DATA.get(text)
        if data is None or data["status"] == _COMPONENT:
            return None
        if data["status"] == _FULLY_QUALIFIED:
            return text
        qualified = emoji.emojize(data["en"])
        return qualified if emoji.EMOJI_DATA.get(qualified, {}).get("status") == _FULLY_QUALIFIED else text
