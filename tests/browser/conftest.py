"""Browser tests: Debian's Chromium, driven by Playwright, against the real server.

A session-scoped fixture starts ``python __main__.py`` on a free loopback port with a
temporary database (EnvConfig), after adding a sticker pack through the CLI; a second
server with 2-second access tokens is started only for the refresh test. Each page a
test visits can be saved as a screenshot (desktop and 375 px) under
``tests/artifacts/screenshots/`` (git-ignored) for people to look at.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_kit import CHROMIUM, CHROMIUM_ARGS, DESKTOP, Account, Server, Watch, make_account, sticker_images

playwright_sync = pytest.importorskip("playwright.sync_api")
# Assertions poll for their condition; on a loaded machine (a second process burning a
# core, chromium and the server sharing two) an answer can take longer than Playwright's
# 5 s default, so they poll for longer. Nothing here asserts how long anything took.
playwright_sync.expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("server")
    live = Server(folder)
    added = live.cli("add-sticker-pack", "Эмоции", str(sticker_images(folder / "stickers")))
    assert added.returncode == 0, added.stdout + added.stderr
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="session")
def short_token_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server whose access tokens live 2 seconds."""
    live = Server(tmp_path_factory.mktemp("short"), JWT_ACCESS_TOKEN_EXPIRES="2")
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium)")
    with playwright_sync.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def account(server: Server) -> Callable[[str, str], Account]:
    return lambda first, second: make_account(server.url, first, second)


@pytest.fixture
def new_page(browser: Any, server: Server) -> Iterator[Callable[..., Any]]:
    """Open a page in a fresh browser context (its own cookies), optionally logged in."""
    contexts: list[Any] = []
    watch = Watch()

    def open_page(
        account: Account | None = None,
        *,
        viewport: dict[str, int] = DESKTOP,
        locale: str = "ru-RU",
        base_url: str | None = None,
        touch: bool = False,
    ) -> Any:
        # touch: a phone's browser (touch events, no hover, the mobile viewport rules).
        context = browser.new_context(
            viewport=viewport,
            locale=locale,
            base_url=base_url or server.url,
            has_touch=touch,
            is_mobile=touch,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        if account is not None:
            context.add_cookies(account.cookies())
        page = context.new_page()
        watch.attach(page)
        return page

    open_page.watch = watch  # type: ignore[attr-defined]
    yield open_page
    for context in contexts:
        context.close()
    assert not watch.errors, "script errors on the page:\n" + "\n".join(watch.errors)
