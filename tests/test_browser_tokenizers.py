"""The tokenizers tab in a real browser: its first click shows every configured tokenizer's chips, an example
runs when clicked, typed HTML stays text, and an empty text gets a message."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from services.config import Settings
from tests.browser import ERROR_MS, MODEL_MS, UI_MS, error_toast, open_tab, screenshot_after
from tests.test_browser import INJECTED, PAYLOAD

pytestmark = pytest.mark.slow  # a real Chromium driving the launched app

TAB = "Tokenizers · every model"


def test_the_first_click_shows_each_tokenizers_chips(app_page: Page, artifacts: Path):
    with screenshot_after(app_page, artifacts / "tab-tokenizers.png"):
        panel = open_tab(app_page, TAB)
        panel.get_by_role("button", name="Tokenize", exact=True).click()
        cards = panel.locator(".tok-card")
        expect(cards.first, "No tokenizer card appeared").to_be_visible(timeout=MODEL_MS)
        configured = Settings.from_env().configured_models()  # the launched app's (serving sets the environment)
        expect(cards, "Not every configured model has its card").to_have_count(len(configured), timeout=UI_MS)
        bert = cards.filter(has_text="WordPiece").first
        expect(bert.locator(".tok-special").first, "BERT's [CLS] is not shown").to_have_text("[CLS]")
        expect(bert.locator(".tok").nth(1), "A chip gives no id on hover").to_have_attribute(
            "title", re.compile(r"^id \d+ · piece ")
        )
        broken = cards.filter(has_text="Could not load the tokenizer of 'broken'")
        expect(broken, "The model that cannot load does not say so in its card").to_have_count(1)
        expect(panel.get_by_text("Differences that teach"), "The differences are missing").to_be_visible()


def test_an_example_runs_when_clicked(app_page: Page):
    panel = open_tab(app_page, TAB)
    panel.get_by_role("button", name="Using a Transformer network is simple").click()
    decoded = panel.locator(".tok-decoded").first
    expect(decoded, "Clicking an example did not run it").to_contain_text("using a transformer", timeout=MODEL_MS)


def test_typed_html_stays_text_in_the_chips(app_page: Page, dialogs: list[str], artifacts: Path):
    with screenshot_after(app_page, artifacts / "payload-tokenizers.png"):
        panel = open_tab(app_page, TAB)
        panel.get_by_role("textbox", name="Text", exact=True).fill(PAYLOAD)
        panel.get_by_role("button", name="Tokenize", exact=True).click()
        decoded = panel.locator(".tok-decoded").filter(has_text="<script>alert(2)</script>")
        expect(decoded.first, "decode's text does not show the typed HTML as text").to_be_visible(timeout=MODEL_MS)
        app_page.evaluate("() => new Promise(done => requestAnimationFrame(() => setTimeout(done, 0)))")
        assert not dialogs, f"The typed payload ran as script and opened: {dialogs}"
        expect(app_page.locator(INJECTED), "The typed payload became page elements").to_have_count(0)


def test_an_empty_text_says_what_to_type(app_page: Page):
    panel = open_tab(app_page, TAB)
    panel.get_by_role("textbox", name="Text", exact=True).fill("")
    panel.get_by_role("button", name="Tokenize", exact=True).click()
    expect(error_toast(app_page), "No message for an empty text").to_contain_text("The text is empty", timeout=ERROR_MS)
