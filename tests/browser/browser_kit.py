"""Helpers of the browser tests: the live server, accounts made over the API, screenshots."""

from __future__ import annotations

import io
import itertools
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from PIL import Image, ImageDraw

from scripts.live_server import LiveServer

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "tests" / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "пароль-надёжный-1"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}
SHIPPED_STICKERS = ROOT / "entrypoints" / "stickers" / "default"

_serial = itertools.count(1)


def unique() -> int:
    return next(_serial) + int(time.time() * 1000) % 1_000_000 * 100


def cyrillic_tag() -> str:
    """A few Cyrillic letters unique to this run, so names found by search are ours."""
    letters = "абвгдежзиклмнопрстуфхцчшэюя"
    n, tag = unique(), ""
    while n:
        n, digit = divmod(n, len(letters))
        tag += letters[digit]
    return tag


class Server(LiveServer):
    """The live server (``scripts.live_server``), plus the CLI on its database and uploads."""

    def __init__(self, folder: Path, **settings: str) -> None:
        super().__init__(folder, extra_env=settings)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "__main__.py", *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


def sticker_images(folder: Path) -> Path:
    """The shipped pack if there is one, else a few generated faces (so the test still
    covers the CLI and the picker)."""
    shipped = sorted(SHIPPED_STICKERS.glob("*.png")) if SHIPPED_STICKERS.is_dir() else []
    folder.mkdir(parents=True, exist_ok=True)
    if shipped:
        for path in shipped[:24]:
            shutil.copy(path, folder / path.name)
        return folder
    for i, colour in enumerate(["#f5c518", "#ff7a59", "#4bb38a", "#5b8def"]):
        image = Image.new("RGBA", (160, 160), (0, 0, 0, 0))
        draw = ImageDraw.Draw(image)
        draw.ellipse((8, 8, 152, 152), fill=colour)
        draw.ellipse((50, 55, 66, 75), fill="black")
        draw.ellipse((94, 55, 110, 75), fill="black")
        draw.arc((45, 70, 115, 125), 20, 160, fill="black", width=6)
        image.save(folder / f"{i:02d}.png")
    return folder


# --- people made through the API, for speed --------------------------------------------


@dataclass
class Account:
    """A user made through the API; ``session`` carries their bearer token."""

    url: str
    first_name: str
    second_name: str
    email: str
    password: str
    user_id: str = ""
    access_token: str = ""
    refresh_token: str = ""
    session: requests.Session = field(default_factory=requests.Session)

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.second_name}"

    def call(self, method: str, path: str, status: int | tuple[int, ...] = (200, 201), **kwargs: Any) -> Any:
        response = self.session.request(method, self.url + path, timeout=30, **kwargs)
        expected = (status,) if isinstance(status, int) else status
        assert response.status_code in expected, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def login(self) -> None:
        tokens = self.call("POST", "/api/v1/login", json={"email": self.email, "password": self.password})
        self.access_token, self.refresh_token = tokens["access_token"], tokens["refresh_token"]
        self.session.headers["Authorization"] = f"Bearer {self.access_token}"
        self.user_id = self.call("GET", "/api/v1/users/me")["user"]["user_id"]

    def befriend(self, other: Account) -> None:
        self.call("POST", "/api/v1/users_friends", json={"action": "add", "friend_id": other.user_id})
        other.call("POST", "/api/v1/users_friends", json={"action": "accept", "friend_id": self.user_id})

    def open_chat(self, other: Account) -> int:
        return int(self.call("POST", "/api/v1/chats", json={"user_id": other.user_id})["chat"]["id"])

    def send(self, chat_id: int, text: str) -> dict[str, Any]:
        return dict(self.call("POST", f"/api/v1/chats/{chat_id}/messages", json={"text": text})["message"])

    def cookies(self) -> list[dict[str, Any]]:
        """Browser cookies for this user, as the login page would set them."""
        response = requests.post(
            f"{self.url}/api/v1/login", json={"email": self.email, "password": self.password}, timeout=30
        )
        assert response.status_code == 200, response.text
        return [{"name": c.name, "value": c.value or "", "url": self.url} for c in response.cookies]


def make_account(url: str, first_name: str, second_name: str) -> Account:
    n = unique()
    account = Account(url, first_name, second_name, f"user{n}@example.org", PASSWORD)
    body = {"first_name": first_name, "second_name": second_name, "email": account.email}
    body["password"] = PASSWORD
    response = requests.post(f"{url}/api/v1/users", json=body, timeout=30)
    assert response.status_code == 201, response.text
    account.login()
    return account


# --- pages -----------------------------------------------------------------------------


class Watch:
    """Collects what must never happen on a page: script errors, CSP reports, dialogs."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []

    def attach(self, page: Any) -> None:
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        page.on("console", self._console(page))

    def _console(self, page: Any) -> Callable[[Any], None]:
        def handle(message: Any) -> None:
            if message.type == "error" and "Failed to load resource" not in message.text:
                self.errors.append(f"{page.url}: console: {message.text}")

        return handle


def screenshot(page: Any, name: str) -> None:
    """Save the page as it looks now, at its own size and at 375 px."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    kind = "phone" if size["width"] <= 400 else "desktop"
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{kind}.png"))


def screenshot_both(page: Any, name: str) -> None:
    size = page.viewport_size
    page.set_viewport_size(DESKTOP)
    page.wait_for_timeout(150)
    screenshot(page, name)
    page.set_viewport_size(PHONE)
    page.wait_for_timeout(150)
    screenshot(page, name)
    page.set_viewport_size(size)


def expect_image_loaded(image: Any) -> None:
    """Wait until the ``<img>`` behind the locator has loaded its picture.

    Images are ``loading="lazy"``: the request starts only once the image is visible, so
    right after ``to_be_visible()`` the picture may still be on its way. Polls (on each
    animation frame, up to the context's default timeout) rather than checking once.
    """
    image.page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())


def png_bytes(size: tuple[int, int] = (640, 420)) -> bytes:
    image = Image.new("RGB", size, "#86c5ff")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, size[1] * 2 // 3, size[0], size[1]), fill="#3f9b4a")
    draw.ellipse((size[0] - 170, 40, size[0] - 70, 140), fill="#ffd23f")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def long_press(page: Any, target: Any, until: Any) -> None:
    """Hold a finger on ``target`` until ``until`` shows (a long press's menu), then lift it.

    Touch events go through the DevTools protocol, as a phone's would: Playwright's
    touchscreen only taps. The page needs a context with ``has_touch``.
    """
    from playwright.sync_api import expect

    box = target.bounding_box()
    assert box, "the target is not on the screen"
    point = {"x": box["x"] + min(24, box["width"] / 2), "y": box["y"] + box["height"] / 2}
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [point]})
    try:
        expect(until).to_be_visible()
    finally:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        cdp.detach()
