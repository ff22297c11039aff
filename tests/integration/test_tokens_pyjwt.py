"""PyJwtCodec's own rules: the pinned HS256 algorithm and the JWT header.

What every codec promises (round trips, tampering, other secrets, garbage, required
claims, times left to the core) is in tests/contract/test_token_codecs.py."""

from __future__ import annotations

import base64
import hmac
import json
from typing import Any

import pytest

from adapters.tokens_pyjwt import PyJwtCodec
from messenger_core.errors import Unauthorized

SECRET = "s" * 64  # long enough for the HS512 forgery too
CLAIMS = {"sub": "u_abc", "type": "access", "iat": 1_700_000_000, "exp": 1_700_003_600}


@pytest.fixture
def codec() -> PyJwtCodec:
    return PyJwtCodec(SECRET)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _forge(header: dict[str, Any], claims: Any, signature: bytes = b"") -> str:
    return ".".join([_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()), _b64(signature)])


def _sign(header: dict[str, Any], claims: Any, digest: str, secret: str = SECRET) -> str:
    """A token whose header says ``header`` with a correct HMAC-``digest`` signature
    (made by hand: tokens_pyjwt.py stays the only module importing jwt)."""
    unsigned = _forge(header, claims).rstrip(".")
    mac = hmac.new(secret.encode(), unsigned.encode(), digest).digest()
    return f"{unsigned}.{_b64(mac)}"


def _assert_invalid(codec: PyJwtCodec, token: str) -> None:
    with pytest.raises(Unauthorized) as caught:
        codec.decode(token)
    assert caught.value.reason == "token_invalid"


def test_header_is_hs256(codec: PyJwtCodec) -> None:
    header = codec.encode(CLAIMS).split(".")[0]
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "HS256", "typ": "JWT"}


def test_a_hand_made_hs256_token_decodes(codec: PyJwtCodec) -> None:
    """Checks the forging helper itself, so the rejections below mean something."""
    assert codec.decode(_sign({"alg": "HS256", "typ": "JWT"}, CLAIMS, "sha256")) == CLAIMS


def test_alg_none_is_rejected(codec: PyJwtCodec) -> None:
    _assert_invalid(codec, _forge({"alg": "none", "typ": "JWT"}, CLAIMS))
    _assert_invalid(codec, _forge({"alg": "None", "typ": "JWT"}, CLAIMS))


def test_hs512_with_the_same_secret_is_rejected(codec: PyJwtCodec) -> None:
    _assert_invalid(codec, _sign({"alg": "HS512", "typ": "JWT"}, CLAIMS, "sha512"))


def test_asymmetric_algorithms_are_rejected(codec: PyJwtCodec) -> None:
    # Correct HMAC over the signing input, but the header names RS256 / ES256: the
    # pinned algorithm list must refuse it before any key confusion can happen.
    for alg in ("RS256", "ES256", "PS256", "none"):
        _assert_invalid(codec, _sign({"alg": alg, "typ": "JWT"}, CLAIMS, "sha256"))


def test_payload_that_is_not_an_object_is_rejected(codec: PyJwtCodec) -> None:
    _assert_invalid(codec, _sign({"alg": "HS256", "typ": "JWT"}, [1, 2, 3], "sha256"))


def test_short_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        PyJwtCodec("too short")
