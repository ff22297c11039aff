"""What a field's type cannot say: documentation markers for the edge's shapes.

The request classes (``schema``), the answer TypedDicts (``render``) and the error shape
(``errors``) annotate a field with ``Annotated[T, doc("…", maxLength=limits.NAME_MAX)]``.
cattrs and mypy see through the metadata to ``T``; the OpenAPI generator
(``openapi.generate``) turns ``T`` into a JSON Schema and merges the keywords into it.
So a limit is written once, in the core, and read here by name.

A keyword whose value comes from the configuration names its setting,
``maximum=setting("LONG_POLL_MAX_TIMEOUT")``, and so may the description:
``{JWT_ACCESS_TOKEN_EXPIRES}`` in it becomes that setting's value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs


# eq=False: the marker rides inside types that cattrs caches by hash, and its keywords
# may hold lists; identity is all a marker needs.
@attrs.frozen(eq=False)
class Doc:
    """A field's description and the JSON Schema keywords its type cannot express."""

    description: str | None = None
    keywords: Mapping[str, Any] = attrs.field(factory=dict)


def doc(description: str | None = None, /, **json_schema_keywords: Any) -> Doc:
    """``doc("Page size", minimum=1, maximum=limits.HISTORY_LIMIT_MAX)``."""
    return Doc(description, json_schema_keywords)


@attrs.frozen
class Setting:
    """A keyword value read from the settings when the document is built."""

    name: str


def setting(name: str) -> Setting:
    return Setting(name)


# JSON Schema approximations of rules the core checks in code, for the document only.
# A name: not blank, and none of the usual control or format characters. The server
# refuses all of Unicode's category C (unassigned code points too), which a portable
# pattern cannot name, so a rare generated name may still be refused with 422.
_CONTROL = (
    r"\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u180e\u200b-\u200f\u202a-\u202e"
    r"\u2060-\u206f\ufeff\ufff9-\ufffb\ue000-\uf8ff"
)
NAME_PATTERN = rf"^[^{_CONTROL}]*[^\s{_CONTROL}][^{_CONTROL}]*$"
# policies.check_phone strips these separators, then wants "+" and 7 to 15 digits.
# (The core keeps that regex private; exporting it would let this one be derived.)
_SEP = r"[\s().-]*"
PHONE_PATTERN = rf"^{_SEP}\+{_SEP}[1-9]({_SEP}[0-9]){{6,14}}{_SEP}$"
# Text that stays after trimming (Python's str.strip also trims \x1c-\x1f and \x85).
NOT_BLANK = r"[^\s\x1c-\x1f\x85]"
