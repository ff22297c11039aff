"""PyJwtCodec: the signature and the pinned algorithm are checked, times are not."""

from __future__ import annotations

import base64
import hmac
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.tokens_pyjwt import PyJwtCodec
from messenger_core.errors import Unauthorized
from messenger_core.ports import TokenCodec

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


def test_is_a_token_codec() -> None:
    port: TokenCodec = PyJwtCodec(SECRET)  # checked by mypy
    assert port.decode(port.encode(CLAIMS)) == CLAIMS


@given(sub=st.text(), type=st.text(), iat=st.integers(min_value=0, max_value=2**53))
def test_round_trip_of_any_subject(sub: str, type: str, iat: int) -> None:
    codec = PyJwtCodec(SECRET)
    claims = {"sub": sub, "type": type, "iat": iat}
    assert codec.decode(codec.encode(claims)) == claims


def test_header_is_hs256(codec: PyJwtCodec) -> None:
    header = codec.encode(CLAIMS).split(".")[0]
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "HS256", "typ": "JWT"}


def test_a_hand_made_hs256_token_decodes(codec: PyJwtCodec) -> None:
    """Checks the forging helper itself, so the rejections below mean something."""
    assert codec.decode(_sign({"alg": "HS256", "typ": "JWT"}, CLAIMS, "sha256")) == CLAIMS


def test_expired_and_future_tokens_still_decode(codec: PyJwtCodec) -> None:
    """The core judges times with its Clock, never PyJWT with the wall clock."""
    past = {**CLAIMS, "iat": 1_000, "exp": 2_000}
    future = {**CLAIMS, "iat": 10_000_000_000, "nbf": 10_000_000_000}
    assert codec.decode(codec.encode(past)) == past
    assert codec.decode(codec.encode(future)) == future


def test_alg_none_is_rejected(codec: PyJwtCodec) -> None:
    _assert_invalid(codec, _forge({"alg": "none", "typ": "JWT"}, CLAIMS))
    _assert_invalid(codec, _forge({"alg": "None", "typ": "JWT"}, CLAIMS))


def test_tampered_signature_is_rejected(codec: PyJwtCodec) -> None:
    header, payload, signature = codec.encode(CLAIMS).split(".")
    flipped = "A" if signature[0] != "A" else "B"
    _assert_invalid(codec, f"{header}.{payload}.{flipped}{signature[1:]}")
    _assert_invalid(codec, f"{header}.{payload}.")


def test_tampered_claims_are_rejected(codec: PyJwtCodec) -> None:
    header, _, signature = codec.encode(CLAIMS).split(".")
    payload = _b64(json.dumps({**CLAIMS, "sub": "u_admin"}).encode())
    _assert_invalid(codec, f"{header}.{payload}.{signature}")


def test_other_secret_is_rejected(codec: PyJwtCodec) -> None:
    _assert_invalid(codec, PyJwtCodec("t" * 32).encode(CLAIMS))


def test_hs512_with_the_same_secret_is_rejected(codec: PyJwtCodec) -> None:
    _assert_invalid(codec, _sign({"alg": "HS512", "typ": "JWT"}, CLAIMS, "sha512"))


def test_asymmetric_algorithms_are_rejected(codec: PyJwtCodec) -> None:
    # Correct HMAC over the signing input, but the header names RS256 / ES256: the
    # pinned algorithm list must refuse it before any key confusion can happen.
    for alg in ("RS256", "ES256", "PS256", "none"):
        _assert_invalid(codec, _sign({"alg": alg, "typ": "JWT"}, CLAIMS, "sha256"))


@pytest.mark.parametrize("missing", ["sub", "type", "iat"])
def test_missing_claim_is_rejected(codec: PyJwtCodec, missing: str) -> None:
    claims = {k: v for k, v in CLAIMS.items() if k != missing}
    _assert_invalid(codec, codec.encode(claims))


@pytest.mark.parametrize("bad", [{"sub": 5}, {"sub": None}, {"iat": "yesterday"}, {"iat": True}, {"type": 1}])
def test_claims_of_the_wrong_type_are_rejected(codec: PyJwtCodec, bad: dict[str, Any]) -> None:
    _assert_invalid(codec, codec.encode({**CLAIMS, **bad}))


@pytest.mark.parametrize(
    "token",
    ["", "garbage", "a.b.c", "a.b", "....", "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln", "é.é.é"],
)
def test_malformed_tokens_are_rejected(codec: PyJwtCodec, token: str) -> None:
    _assert_invalid(codec, token)


@given(st.text())
def test_arbitrary_text_never_escapes_as_another_error(token: str) -> None:
    _assert_invalid(PyJwtCodec(SECRET), token)


def test_payload_that_is_not_an_object_is_rejected(codec: PyJwtCodec) -> None:
    _assert_invalid(codec, _sign({"alg": "HS256", "typ": "JWT"}, [1, 2, 3], "sha256"))


def test_short_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        PyJwtCodec("too short")
