"""TokenCodec over PyJWT: HS256 signatures only. The only ``import jwt`` in the repo.

The codec checks the signature, the pinned algorithm and that the claims the core
relies on are present. It judges no times: PyJWT would compare ``exp``, ``nbf`` and
``iat`` with its own wall clock, which tests cannot move, so the core's TokenPolicy
judges them against the Clock port instead.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import jwt

from messenger_core.errors import Unauthorized
from messenger_core.tokens import REQUIRED_CLAIMS, has_required_claims

ALGORITHM = "HS256"
# RFC 7518 §3.2: an HS256 key must be at least as long as the hash output.
MIN_SECRET_BYTES = 32

_DECODE_OPTIONS: Any = {
    "verify_signature": True,
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,  # PyJWT rejects an iat "in the future" by its own clock
    "require": list(REQUIRED_CLAIMS),
}


class PyJwtCodec:
    """Signs claims with HMAC-SHA256 under one server secret."""

    def __init__(self, secret: str, *, cache_size: int = 8192) -> None:
        if len(secret.encode("utf-8")) < MIN_SECRET_BYTES:
            raise ValueError(f"the token secret must be at least {MIN_SECRET_BYTES} bytes")
        self._secret = secret
        # Verifying a signature costs more than the rest of a cheap request. A token's
        # text never changes, so claims verified once stay valid claims of that text;
        # expiry and revocation are still judged by the core on every request.
        self._verified = functools.lru_cache(maxsize=cache_size)(self._verify)

    def encode(self, claims: dict[str, Any]) -> str:
        """Sign the claims (datetimes in exp/iat/nbf become NumericDate seconds)."""
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def decode(self, token: str) -> dict[str, Any]:
        """Verify signature and algorithm and return the claims, expiry unchecked.

        Raises ``Unauthorized("token_invalid")`` for anything else: a bad or missing
        signature, another algorithm (``none``, HS512, RS256…), a malformed token,
        or a missing ``sub``/``type``/``iat``.
        """
        if not token.isascii():  # a JWT is ASCII; PyJWT would fail to encode a lone surrogate
            raise Unauthorized("token_invalid")
        claims = self._verified(token)
        # A copy: callers may change what they get, never the cached claims. Nested claims
        # (which the core's tokens never hold) need a deep one.
        if any(isinstance(value, dict | list) for value in claims.values()):
            return copy.deepcopy(claims)
        return dict(claims)

    def _verify(self, token: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token, self._secret, algorithms=[ALGORITHM], options=_DECODE_OPTIONS
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized("token_invalid") from exc
        # PyJWT checks that they are there; their types (iat with its check off) are ours.
        if not has_required_claims(claims):
            raise Unauthorized("token_invalid")
        return claims
