"""Pytest fixtures for the browser tests: Debian's Chromium, one profile a module, a new visitor a test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, expect, sync_playwright

from tests.browser import CHROMIUM, CHROMIUM_ARGS, MODEL_MS, UI_MS, VIEWPORT
from tests.tabs import SENTIMENT


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: the browser test drives Debian's Chromium. "
            "Install it with `apt-get install chromium` (tests/install_browser.sh does that).",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def artifacts() -> Path:
    folder = Path(os.environ.get("PLAYGROUND_TEST_ARTIFACTS", Path(__file__).parent.parent / "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def context(browser: Browser) -> Iterator[BrowserContext]:
    """One browser profile for the module; each test opens its own page."""
    context = browser.new_context(viewport=VIEWPORT)
    yield context
    context.close()


@pytest.fixture
def app_page(context: BrowserContext, client) -> Iterator[Page]:
    """A new visitor on the app's first page: a Gradio session of its own, nothing left from another test."""
    page = context.new_page()
    page.set_default_timeout(UI_MS)
    page.goto(client.src)
    first_tab = page.get_by_role("tab", name=SENTIMENT.name)
    expect(first_tab, "The app's tabs never appeared").to_be_visible(timeout=MODEL_MS)
    yield page
    page.close()


@pytest.fixture
def dialogs(app_page: Page) -> list[str]:
    """Every alert, confirm or prompt the page opens; each is dismissed so the page goes on."""
    opened: list[str] = []

    def record(dialog: Dialog) -> None:
        opened.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    app_page.on("dialog", record)
    return opened
