"""Fuzzing every operation of the OpenAPI document with schemathesis, against the real server.

Signed in as a real user (a bearer token) who has a friend, a chat, messages and an
upload, each operation gets a bounded number of generated requests (``FUZZ_EXAMPLES``,
15 by default; derandomized so CI is repeatable) and every answer must be no 5xx and, when
its status is documented, match the documented schema. ``scripts/fuzz.py --examples 200``
runs the same test longer, with fresh randomness.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from scripts.live_server import PASSWORD, LiveServer, bearer, befriend, expect, sign_up

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
DERANDOMIZE = os.environ.get("FUZZ_RANDOM", "") != "1"
OPENAPI = "/api/v1/openapi.json"
CASES: Counter[str] = Counter()  # generated requests sent, per operation
SECONDS: Counter[str] = Counter()
# Long-polls are capped at 1 s here, or each generated ?timeout=30 would hold a case that long.
# The document states the cap, so the in-process copy is built with the same value.
LONG_POLL_MAX_TIMEOUT = 1.0


class Target:
    """The live server and the fuzzing user's token."""

    def __init__(self, server: LiveServer, token: str) -> None:
        self.server = server
        self.token = token


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    server = LiveServer(
        tmp_path_factory.mktemp("fuzz"), extra_env={"LONG_POLL_MAX_TIMEOUT": repr(LONG_POLL_MAX_TIMEOUT)}
    )
    server.start()
    try:
        me_id, me = sign_up(server.url, "fuzzer@example.com", "Fuzz", "Tester")
        friend_id, friend = sign_up(server.url, "friend@example.com", "Друг", "Фаззера")
        chat_id = befriend(server.url, me, friend_id, friend, me_id)
        for text in ("first", "second", "третье"):
            expect(
                requests.post(
                    f"{server.url}/api/v1/chats/{chat_id}/messages",
                    json={"text": text},
                    headers=bearer(friend),
                    timeout=10,
                ),
                201,
            )
        expect(
            requests.post(
                f"{server.url}/api/v1/attachments",
                headers=bearer(me),
                files={"file": ("notes.txt", b"hello", "text/plain")},
                timeout=10,
            ),
            201,
        )
        yield Target(server, me)
    finally:
        server.stop()
        if CASES:
            print(
                f"\nfuzz: {sum(CASES.values())} generated requests over {len(CASES)} operations "
                f"(max_examples={EXAMPLES}, derandomize={DERANDOMIZE})"
            )
            for label, seconds in SECONDS.most_common(8):
                print(f"  {label}: {CASES[label]} cases, {seconds:.1f} s")
        log = server.log()
        assert "Traceback" not in log, log[log.index("Traceback") - 200 :][:4000]


def openapi_document() -> dict[str, Any] | None:
    """The document as the app serves it, read in-process (so pytest can list the operations
    when it collects); the test checks that the live server serves the same one."""
    from falcon import testing

    from entrypoints.bootstrap import build_messenger
    from entrypoints.config import Settings
    from entrypoints.web.app import create_app

    settings = Settings(
        SECRET_KEY="fuzz" * 10, RATE_LIMITS_ENABLED=False, LONG_POLL_MAX_TIMEOUT=LONG_POLL_MAX_TIMEOUT
    )
    client = testing.TestClient(create_app(build_messenger(settings, memory=True), settings))
    answer = client.simulate_get(OPENAPI)
    return answer.json if answer.status_code == 200 else None


DOCUMENT = openapi_document()
# The fuzzed requests go to the live server, under the document's base path.
BASE_PATH = urlsplit(((DOCUMENT or {}).get("servers") or [{"url": "/"}])[0]["url"]).path.rstrip("/")


if DOCUMENT is None:

    def test_no_server_error_and_answers_match_the_schema() -> None:
        pytest.fail(f"{OPENAPI} is not served yet: nothing to fuzz")

else:
    schema = schemathesis.openapi.from_dict(DOCUMENT)

    @schema.parametrize()
    @settings(
        max_examples=EXAMPLES,
        derandomize=DERANDOMIZE,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def test_no_server_error_and_answers_match_the_schema(case: Any, target: Target) -> None:
        CASES[case.operation.label] += 1
        started = time.perf_counter()
        case.call_and_validate(
            base_url=target.server.url + BASE_PATH,
            headers=bearer(target.token),
            checks=[not_a_server_error, response_schema_conformance],
            timeout=30,
        )
        SECONDS[case.operation.label] += time.perf_counter() - started


def test_the_live_server_serves_the_fuzzed_document(target: Target) -> None:
    served = requests.get(f"{target.server.url}{OPENAPI}", timeout=10)
    assert served.status_code == 200
    assert served.json() == DOCUMENT


def test_the_fuzz_user_still_signs_in(target: Target) -> None:
    """Nothing the fuzzer sent may have locked its own user out or broken the server. Its
    session may well have ended (the fuzzer calls POST /logout and DELETE /sessions with
    its own token, as any client may), so it signs in again with its password."""
    body = {"email": "fuzzer@example.com", "password": PASSWORD}
    tokens = expect(requests.post(f"{target.server.url}/api/v1/login", json=body, timeout=10), 200)
    url = f"{target.server.url}/api/v1/users/me"
    expect(requests.get(url, headers=bearer(tokens["access_token"]), timeout=10), 200)
