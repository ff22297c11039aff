"""Past one machine, end to end: a throwaway PostgreSQL, moto's S3 server and nginx
(deploy/nginx.conf.in, rendered as production renders it) in front of two server
processes with NOTIFIER=postgres.

The tests pin requests to a process with an ``X-Pin`` header (a map the test adds to
the rendered config) and check nginx's ``X-Upstream`` answer header to know who served.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
import requests

from scripts.live_server import PASSWORD, LiveServer, bearer, expect
from scripts.nginx_config import NginxProxy, nginx_binary
from scripts.throwaway_s3 import ThrowawayS3
from tests.postgres import fresh_database

pytestmark = pytest.mark.e2e

WAIT = 30.0
SENDERS = 8
SENDS_EACH = 40


@attrs.define
class Cluster:
    proxy: NginxProxy
    servers: dict[str, LiveServer]
    s3: ThrowawayS3

    def url(self) -> str:
        return self.proxy.url

    def port_of(self, pin: str) -> int:
        return self.servers[pin].port


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if nginx_binary() is None:
        message = "!!! NGINX IS MISSING: the multi-process end-to-end tests did not run"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    database = fresh_database()
    folder = tmp_path_factory.mktemp("cluster")
    with ThrowawayS3(log=folder / "s3.log") as s3:
        s3.create_bucket("uploads")
        saved = {name: os.environ.get(name) for name in s3.env()}
        os.environ.update(s3.env())  # the servers' AWS credentials, as a deployment gives them
        settings = {
            # One secret for all processes: a token one signs, the other must accept.
            "SECRET_KEY": repr("cluster-secret-" + "x" * 40),
            "DATABASE_URL": repr(database),
            "BLOB_STORE": repr(s3.blob_store_url("uploads", "e2e")),
            "NOTIFIER": "'postgres'",
            "TRUSTED_PROXY": "'127.0.0.1'",
        }
        servers = {pin: LiveServer(folder / pin, extra_env=settings) for pin in ("a", "b")}
        try:
            for server in servers.values():
                server.start(timeout=60)
            pins = {pin: server.port for pin, server in servers.items()}
            with NginxProxy(list(pins.values()), pins=pins) as proxy:
                yield Cluster(proxy, servers, s3)
        finally:
            for server in servers.values():
                server.stop()
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


class Client:
    """A user talking to the proxy, pinned to one process (or to none)."""

    def __init__(self, cluster: Cluster, pin: str | None, email: str, name: str) -> None:
        self.cluster, self.pin = cluster, pin
        self.session = requests.Session()
        body = {"first_name": name, "second_name": "Cluster", "email": email, "password": PASSWORD}
        self.user_id = expect(self.post("/api/v1/users", json=body), 201)["user"]["user_id"]
        self.token = expect(self.post("/api/v1/login", json={"email": email, "password": PASSWORD}), 200)[
            "access_token"
        ]

    def headers(self) -> dict[str, str]:
        headers = {"X-Pin": self.pin} if self.pin else {}
        return headers | (bearer(self.token) if getattr(self, "token", None) else {})

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        extra = kwargs.pop("headers", {})
        return self.session.get(
            self.cluster.url() + path, headers=self.headers() | extra, timeout=WAIT + 10, **kwargs
        )

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        extra = kwargs.pop("headers", {})
        return self.session.post(
            self.cluster.url() + path, headers=self.headers() | extra, timeout=WAIT + 10, **kwargs
        )

    def befriend(self, other: Client) -> int:
        expect(self.post("/api/v1/users_friends", json={"friend_id": other.user_id, "action": "add"}), 200)
        expect(other.post("/api/v1/users_friends", json={"friend_id": self.user_id, "action": "accept"}), 200)
        return int(
            expect(self.post("/api/v1/chats", json={"user_id": other.user_id}), 200, 201)["chat"]["id"]
        )


_emails = iter(range(1, 10**6))


def client(cluster: Cluster, pin: str | None) -> Client:
    n = next(_emails)
    return Client(cluster, pin, f"user{n}@cluster.example", f"User{n}")


def served_by(response: requests.Response) -> int:
    return int(response.headers["X-Upstream"].rsplit(":", 1)[1])


def test_users_on_two_processes_chat_live(cluster: Cluster) -> None:
    alena, boris = client(cluster, "a"), client(cluster, "b")
    chat_id = alena.befriend(boris)
    cursor = expect(boris.get("/api/v1/events"), 200)["cursor"]
    received: list[Any] = []

    def wait_for_it() -> None:
        answer = boris.get("/api/v1/events", params={"since": cursor, "timeout": WAIT})
        assert served_by(answer) == cluster.port_of("b")
        received.append(expect(answer, 200))

    waiter = threading.Thread(target=wait_for_it)
    waiter.start()
    # A head start so the poll is most likely waiting already (if not, it finds the event at
    # once, and the test still passes): nothing here is timed or asserted about time.
    time.sleep(0.5)
    sent = alena.post("/api/v1/messages", json={"chat_id": chat_id, "text": "через два процесса"})
    assert served_by(sent) == cluster.port_of("a")
    message = expect(sent, 201)["message"]
    waiter.join(WAIT + 10)
    events = received[0]["events"]
    assert [e["type"] for e in events] == ["message.new"]
    assert events[0]["data"]["message"]["id"] == message["id"]


def test_an_attachment_uploaded_through_one_process_downloads_through_the_other(cluster: Cluster) -> None:
    alena, boris = client(cluster, "a"), client(cluster, "b")
    chat_id = alena.befriend(boris)
    data = os.urandom(300_000)
    uploaded = alena.post(
        "/api/v1/attachments", files={"file": ("notes.bin", data, "application/octet-stream")}
    )
    attachment = expect(uploaded, 201)["attachment"]
    expect(
        alena.post("/api/v1/messages", json={"chat_id": chat_id, "attachment_ids": [attachment["id"]]}), 201
    )
    whole = boris.get(f"/api/v1/attachments/{attachment['id']}")
    assert served_by(whole) == cluster.port_of("b")
    assert whole.status_code == 200 and whole.content == data
    part = boris.get(f"/api/v1/attachments/{attachment['id']}", headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == data[1000:2000]
    assert part.headers["Content-Range"] == f"bytes 1000-1999/{len(data)}"
    stored = cluster.s3.client().list_objects_v2(Bucket="uploads", Prefix="e2e/")["Contents"]
    assert len(data) in {item["Size"] for item in stored}  # the bytes are in the bucket, not on a disk


def test_kill_9_while_eight_clients_send_loses_and_doubles_nothing(cluster: Cluster) -> None:
    people = [client(cluster, None) for _ in range(SENDERS)]
    chats = {}
    for first, second in zip(people[::2], people[1::2], strict=True):
        chats[first.user_id] = chats[second.user_id] = first.befriend(second)
    acknowledged: dict[str, int] = {}  # text → message id
    failures: list[int] = []
    lock = threading.Lock()
    served: set[int] = set()

    def send(person: Client, n: int) -> None:
        for i in range(SENDS_EACH):
            text = f"{n}-{i}"
            try:
                answer = person.post(
                    "/api/v1/messages", json={"chat_id": chats[person.user_id], "text": text}
                )
            except requests.RequestException:
                with lock:
                    failures.append(0)
                continue
            with lock:
                if answer.status_code == 201:
                    acknowledged[text] = answer.json()["message"]["id"]
                    served.add(served_by(answer))
                else:
                    assert answer.status_code in (502, 503, 504), answer.text
                    failures.append(answer.status_code)

    threads = [threading.Thread(target=send, args=(p, n)) for n, p in enumerate(people)]
    for thread in threads:
        thread.start()
    until(lambda: len(acknowledged) >= SENDERS * SENDS_EACH // 4, "a quarter of the sends")
    cluster.servers["a"].kill()
    killed_at = len(acknowledged)
    survivor = client(cluster, "b")  # the other process keeps answering, signing in included
    assert expect(survivor.get("/api/v1/users/me"), 200)["user"]["user_id"] == survivor.user_id
    until(lambda: len(acknowledged) >= killed_at + SENDERS * 4, "sends served while one process is down")
    cluster.servers["a"].start(timeout=60, same_port=True)
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads)

    # Every acknowledged message is there exactly once, and nothing else is.
    stored: dict[str, list[int]] = {}
    reader = people[0]
    for person in people[::2]:
        reader = person
        page = expect(
            reader.get(f"/api/v1/chats/{chats[person.user_id]}/messages", params={"limit": 100}), 200
        )
        messages = page["messages"]
        while len(messages) % 100 == 0 and messages:
            older = expect(
                reader.get(
                    f"/api/v1/chats/{chats[person.user_id]}/messages",
                    params={"limit": 100, "before": messages[0]["id"]},
                ),
                200,
            )["messages"]
            if not older:
                break
            messages = older + messages
        for message in messages:
            stored.setdefault(message["text"], []).append(message["id"])
    assert all(len(ids) == 1 for ids in stored.values()), "a message stored twice"
    for text, message_id in acknowledged.items():
        assert stored.get(text) == [message_id], f"acknowledged message {text} is missing"
    unacknowledged = set(stored) - set(acknowledged)  # sent, stored, but the answer was lost
    assert len(unacknowledged) <= len(failures)
    # The restarted process rejoined: pinned requests reach it, and so do unpinned ones.
    back = client(cluster, "a")
    assert served_by(back.get("/api/v1/users/me")) == cluster.port_of("a")
    seen = {served_by(client(cluster, None).get("/api/v1/users/me")) for _ in range(6)}
    assert cluster.port_of("a") in seen | served


def until(condition: Any, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.01)
