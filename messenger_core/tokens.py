"""TokenPolicy: what a token says and when the core believes it.

Signing is the codec's job (a port); lifetimes, types and identity rotation are judged
here against the Clock, so expiry is testable with a manual clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from .errors import Invalid, Unauthorized, field
from .model import TokenType
from .ports import Clock, TokenCodec

# What every token TokenPolicy issues holds; a codec refuses a token without them.
REQUIRED_CLAIMS = ("sub", "type", "iat")


def has_required_claims(claims: Mapping[str, Any]) -> bool:
    """Whether the claims hold a string ``sub`` and ``type`` and an integer ``iat``: the
    shape every ``TokenCodec`` checks before it returns claims, so all codecs agree."""
    issued_at = claims.get("iat")
    return (
        isinstance(claims.get("sub"), str)
        and isinstance(claims.get("type"), str)
        and isinstance(issued_at, int)
        and not isinstance(issued_at, bool)
    )


@attrs.frozen(kw_only=True)
class TokenClaims:
    subject: str  # the user's alternative_id at the time of issue
    type: TokenType
    issued_at: int
    expires_at: int | None
    session_id: int | None = None  # access and refresh tokens: the session ("sid")
    generation: int | None = None  # refresh tokens: the session's generation ("gen")


@attrs.frozen(kw_only=True)
class TokenPolicy:
    codec: TokenCodec
    clock: Clock
    access_lifetime: int = 3600  # seconds
    access_max_lifetime: int = 30 * 24 * 3600
    confirm_lifetime: int = 24 * 3600

    def issue(
        self,
        subject: str,
        type: TokenType,
        *,
        expires_in: int | None = None,
        session_id: int | None = None,
        generation: int | None = None,
    ) -> str:
        """Sign a token of the type for the subject, naming its session (and, for a
        refresh token, the session's generation). Refresh tokens never expire; an
        access token lives ``expires_in`` seconds (bounded) or the default."""
        now = _unix(self.clock.now())
        claims: dict[str, Any] = {"sub": subject, "type": type.value, "iat": now}
        if session_id is not None:
            claims["sid"] = session_id
        if generation is not None:
            claims["gen"] = generation
        lifetime = self.lifetime(type, expires_in)
        if lifetime is not None:
            claims["exp"] = now + lifetime
        return self.codec.encode(claims)

    def lifetime(self, type: TokenType, expires_in: int | None) -> int | None:
        if type is TokenType.REFRESH:
            return None
        if type is TokenType.CONFIRM:
            return self.confirm_lifetime
        if expires_in is None:
            return self.access_lifetime
        if isinstance(expires_in, bool) or not 1 <= expires_in <= self.access_max_lifetime:
            raise Invalid({"expires_in": field("out_of_range", min=1, max=self.access_max_lifetime)})
        return expires_in

    def read(self, token: str | None, expected: TokenType, *, expired_too: bool = False) -> TokenClaims:
        """The claims of a well-signed, unexpired token of the expected type (expired
        too, with ``expired_too``: for signing out with an old token).

        Raises Unauthorized with reason token_missing, token_invalid or token_expired.
        Whether the subject and its session still stand (token_revoked) is the caller's
        question.
        """
        if not token:
            raise Unauthorized("token_missing")
        claims = self.codec.decode(token)
        try:
            type = TokenType(claims["type"])
            subject = claims["sub"]
            issued_at = int(claims["iat"])
            expires_at = int(claims["exp"]) if "exp" in claims else None
            session_id = _optional_int(claims.get("sid"))
            generation = _optional_int(claims.get("gen"))
        except (KeyError, TypeError, ValueError):
            raise Unauthorized("token_invalid") from None
        if type is not expected or not isinstance(subject, str):
            raise Unauthorized("token_invalid")
        if expected is not TokenType.REFRESH and expires_at is None:
            raise Unauthorized("token_invalid")
        if expires_at is not None and not expired_too and _unix(self.clock.now()) >= expires_at:
            raise Unauthorized("token_expired")
        return TokenClaims(
            subject=subject,
            type=type,
            issued_at=issued_at,
            expires_at=expires_at,
            session_id=session_id,
            generation=generation,
        )


def _unix(moment: datetime) -> int:
    return int(moment.timestamp())


def _optional_int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("not an integer claim")
    return value
