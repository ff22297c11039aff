"""The TokenCodec contract, over the cheap memory codec and the PyJWT one.

Every property test signs with MemoryTokenCodec, so it must behave as the real codec
does: claims come back equal, anything not signed with the secret is ``token_invalid``
(never another error), and times are left to the core. PyJWT-only rules (the pinned
algorithm, ``alg: none``, the header) stay in tests/integration/test_tokens_pyjwt.py.

Both codecs end a token with ``.`` and the signature (JWS compact form); the tampering
helpers below rely on that much, and on nothing else of either format.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.memory import MemoryTokenCodec
from adapters.tokens_pyjwt import PyJwtCodec
from messenger_core.errors import Unauthorized
from messenger_core.ports import TokenCodec

SECRET = "s" * 64
OTHER_SECRET = "t" * 64
CLAIMS = {"sub": "u_abc", "type": "access", "iat": 1_700_000_000, "exp": 1_700_003_600}

MakeCodec = Callable[[str], TokenCodec]
CODECS: dict[str, MakeCodec] = {"memory": MemoryTokenCodec, "pyjwt": PyJwtCodec}

# A fixture made once per test, not per example: codecs hold no state an example changes
# (PyJWT's cache only remembers verified tokens).
examples = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(params=list(CODECS))
def make(request: pytest.FixtureRequest) -> MakeCodec:
    """Makes the adapter's codec for a secret."""
    return CODECS[request.param]


@pytest.fixture
def codec(make: MakeCodec) -> TokenCodec:
    return make(SECRET)


def assert_invalid(codec: TokenCodec, token: str) -> None:
    with pytest.raises(Unauthorized) as caught:
        codec.decode(token)
    assert caught.value.reason == "token_invalid"


def signed_part(token: str) -> str:
    return token.rsplit(".", 1)[0]


def signature(token: str) -> str:
    return token.rsplit(".", 1)[1]


# --- round trip --------------------------------------------------------------------------


def test_claims_come_back_equal(codec: TokenCodec) -> None:
    claims = {
        **CLAIMS,
        "sub": 'Алёна ✓ 🙂 "quoted" \\ back',
        "iat": 2**62,
        "x_profile": {"names": ["Ёлка", "straße"], "n": -7, "ok": True, "none": None, "ratio": 0.25},
        "x_empty": [],
    }
    token = codec.encode(claims)
    assert token.isascii()
    assert codec.decode(token) == claims
    assert codec.decode(token) == claims  # and again (PyJWT answers the second from its cache)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
# Private claim names: JWT's registered ones (aud, iss, jti, ...) are not the core's.
extra_claims = st.dictionaries(st.text(max_size=8).map(lambda name: f"x_{name}"), json_values, max_size=3)


@examples
@given(sub=st.text(), type=st.text(), iat=st.integers(min_value=0, max_value=2**53), extra=extra_claims)
def test_round_trip_of_any_claims(
    codec: TokenCodec, sub: str, type: str, iat: int, extra: dict[str, Any]
) -> None:
    claims = {**extra, "sub": sub, "type": type, "iat": iat}
    assert codec.decode(codec.encode(claims)) == claims


def test_decoded_claims_are_the_callers_to_change(codec: TokenCodec) -> None:
    claims = {**CLAIMS, "x_nested": {"ids": [1, 2]}}
    token = codec.encode(claims)
    first = codec.decode(token)
    first["sub"] = "u_admin"
    first["x_nested"]["ids"].append(3)
    assert codec.decode(token) == claims


def test_times_are_not_judged(codec: TokenCodec) -> None:
    """The core judges times with its Clock, never a codec with the wall clock."""
    expired = {**CLAIMS, "iat": 1_000, "exp": 2_000}
    not_yet = {**CLAIMS, "iat": 10_000_000_000, "nbf": 10_000_000_000}
    assert codec.decode(codec.encode(expired)) == expired
    assert codec.decode(codec.encode(not_yet)) == not_yet


# --- what decode refuses -------------------------------------------------------------------


def test_other_claims_under_a_signature_are_refused(codec: TokenCodec) -> None:
    genuine = codec.encode(CLAIMS)
    forged = codec.encode({**CLAIMS, "sub": "u_admin"})
    assert_invalid(codec, f"{signed_part(forged)}.{signature(genuine)}")
    assert_invalid(codec, f"{signed_part(genuine)}.{signature(forged)}")


def test_a_tampered_signature_is_refused(codec: TokenCodec) -> None:
    token = codec.encode(CLAIMS)
    body, mark = signed_part(token), signature(token)
    flipped = ("B" if mark[0] == "A" else "A") + mark[1:]
    for bad in (flipped, "", mark[:-1], mark + "A", mark[::-1], mark.upper(), mark.lower()):
        if bad != mark:
            assert_invalid(codec, f"{body}.{bad}")
    assert_invalid(codec, body)


@examples
@given(data=st.data())
def test_changing_one_character_never_yields_other_claims(codec: TokenCodec, data: st.DataObject) -> None:
    token = codec.encode(CLAIMS)
    position = data.draw(st.integers(0, len(token) - 1), label="position")
    replacement = data.draw(st.characters(codec="ascii").filter(lambda c: c != token[position]))
    changed = token[:position] + replacement + token[position + 1 :]
    try:
        claims = codec.decode(changed)
    except Unauthorized as error:
        assert error.reason == "token_invalid"
    else:
        # Base64 may ignore the spare bits of a last character: then the bytes, and so
        # the claims, are the same. Anything else must be refused.
        assert claims == CLAIMS


def test_a_token_of_another_secret_is_refused(make: MakeCodec) -> None:
    ours, theirs = make(SECRET), make(OTHER_SECRET)
    assert_invalid(ours, theirs.encode(CLAIMS))
    assert_invalid(theirs, ours.encode(CLAIMS))


@pytest.mark.parametrize("missing", ["sub", "type", "iat"])
def test_a_token_without_a_required_claim_is_refused(codec: TokenCodec, missing: str) -> None:
    claims = {k: v for k, v in CLAIMS.items() if k != missing}
    assert_invalid(codec, codec.encode(claims))


@pytest.mark.parametrize(
    "bad",
    [{"sub": 5}, {"sub": None}, {"iat": "yesterday"}, {"iat": True}, {"iat": 1.5}, {"type": 1}],
)
def test_required_claims_of_the_wrong_type_are_refused(codec: TokenCodec, bad: dict[str, Any]) -> None:
    assert_invalid(codec, codec.encode({**CLAIMS, **bad}))


GARBAGE = [
    "",
    " ",
    ".",
    "..",
    "....",
    "garbage",
    "a.b",
    "a.b.c",
    "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln",
    "e30.e30.e30",
    "e30=.00",
    "é.é.é",
    "ключ.ключ.ключ",
    "\x00",
    "a.\ud800.b",  # a lone surrogate, as a JSON body's "\\ud800" decodes
    "\ud800",
    "a" * 1_000_000,
    ".".join(["a" * 100_000] * 3),
]


@pytest.mark.parametrize("token", GARBAGE, ids=lambda t: repr(t[:24]))
def test_garbage_is_refused(codec: TokenCodec, token: str) -> None:
    assert_invalid(codec, token)


def test_a_token_with_white_space_around_is_refused(codec: TokenCodec) -> None:
    token = codec.encode(CLAIMS)
    for padded in (f" {token}", f"{token} ", f"{token}\n", f"Bearer {token}"):
        assert_invalid(codec, padded)


@examples
@given(token=st.text())
def test_arbitrary_text_never_escapes_as_another_error(codec: TokenCodec, token: str) -> None:
    assert_invalid(codec, token)
