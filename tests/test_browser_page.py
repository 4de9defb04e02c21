"""The page as a visitor meets it at 1366x768: the first click answers, the answer and its heatmap share
the screen, the step replay moves with the keyboard, and presenter mode grows the page's own text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser import UI_MS, VIEWPORT, expect_heatmap, open_tab, screenshot_after, wait_for_answer
from tests.tabs import ATTENTION, GENERATION, SENTIMENT, TABS, Tab

# A real Chromium driving the launched app.
pytestmark = pytest.mark.slow

WIDE = {"width": 1920, "height": 1080}


def in_viewport(page: Page, element_id: str) -> bool:
    """Whether the top of the element is on screen (its box starts inside the window's height). An answer
    scrolled to the top lands at 0 give or take a few pixels of rounding."""
    box = page.locator(f"#{element_id}").bounding_box()
    return box is not None and -4 <= box["y"] < VIEWPORT["height"] - 100


@pytest.mark.parametrize("tab", TABS, ids=lambda tab: tab.name)
def test_the_first_click_answers_and_the_heatmap_is_on_screen(app_page: Page, artifacts: Path, tab: Tab):
    """Each tab opens with its first course example typed in: its main button answers at once."""
    slug = re.sub(r"\W+", "-", tab.name.lower())
    with screenshot_after(app_page, artifacts / f"first-click-{slug}.png"):
        panel = open_tab(app_page, tab.name)
        panel.get_by_role("button", name=tab.run, exact=True).click()
        wait_for_answer(app_page, tab.plots[0])
        expect_heatmap(app_page, tab.plots[0])
        app_page.wait_for_timeout(1500)  # the page scrolls the answer to the top once it comes
        shown = tab.first_screen or tab.plots[0]
        assert in_viewport(app_page, shown), f"After a run of '{tab.name}', #{shown} is below the fold"
        tab.answer(panel)
    # The same answer on a wide screen, for the artefacts.
    app_page.set_viewport_size(WIDE)
    app_page.wait_for_timeout(500)
    app_page.screenshot(path=artifacts / f"first-click-{slug}-1920x1080.png")


def test_the_arrow_keys_step_through_the_replay(app_page: Page, artifacts: Path):
    with screenshot_after(app_page, artifacts / "replay-arrow-keys.png"):
        panel = open_tab(app_page, GENERATION.name)
        panel.get_by_role("button", name=GENERATION.run, exact=True).click()
        wait_for_answer(app_page, GENERATION.plots[0])
        sentence = panel.get_by_role("textbox", name="In one sentence", exact=True).first
        expect(sentence, "The replay does not start at step 1").to_have_value(re.compile("^Step 1 writes"))
        slider = panel.get_by_role("slider").last
        slider.focus()
        slider.press("ArrowRight")
        expect(sentence, "ArrowRight on the step slider did not move the replay").to_have_value(
            re.compile("^Step 2 writes"), timeout=UI_MS
        )
        slider.press("ArrowLeft")
        expect(sentence, "ArrowLeft did not step back").to_have_value(re.compile("^Step 1 writes"), timeout=UI_MS)


def font_px(page: Page, text: str) -> float:
    """The font size of the first visible element whose text is `text`, in pixels."""
    element = page.get_by_text(text, exact=True).first
    return float(element.evaluate("(e) => parseFloat(getComputedStyle(e).fontSize)"))


def test_presenter_mode_grows_the_pages_own_text(app_page: Page, artifacts: Path):
    panel = open_tab(app_page, SENTIMENT.name)
    label, button = "Texts, one per line", SENTIMENT.run
    before = font_px(app_page, label), font_px(app_page, button)
    with screenshot_after(app_page, artifacts / "presenter-mode.png"):
        app_page.get_by_label("Presenter mode: large text for a projector").check()
        expect(panel.get_by_text(label, exact=True).first).to_be_visible()
        app_page.wait_for_timeout(500)
        after = font_px(app_page, label), font_px(app_page, button)
    assert after[0] >= 1.3 * before[0], f"Presenter mode left the labels at {after[0]} px (from {before[0]} px)"
    assert after[1] > before[1], "Presenter mode left the buttons' text as it was"


def test_a_head_can_be_found_by_what_the_focus_token_attends_to(app_page: Page, artifacts: Path):
    """Pick a key token: the explorer opens the head where the token in focus attends most to it."""
    with screenshot_after(app_page, artifacts / "find-a-head.png"):
        panel = open_tab(app_page, ATTENTION.name)
        panel.get_by_role("button", name=ATTENTION.run, exact=True).click()
        wait_for_answer(app_page, ATTENTION.plots[0])
        head = panel.get_by_role("combobox", name="Head", exact=True)
        expect(head, "The head dropdown does not start at the mean of heads").to_have_value("mean of heads")
        finder = panel.get_by_role("combobox", name=re.compile("^Find the head where the token in focus"))
        finder.click()
        panel.page.get_by_role("option", name=re.compile(r"^because ")).first.click()
        expect(head, "Picking a key token did not open one head").to_have_value(re.compile(r"^Head \d+$"))
        expect_heatmap(app_page, ATTENTION.plots[0])


def test_every_tab_name_shows_at_1366_none_behind_a_menu(app_page: Page):
    """Eight tabs: at 16 px of padding Gradio hid the attention and tokenizers tabs behind its '…' menu."""
    app_page.set_viewport_size(VIEWPORT)
    app_page.wait_for_timeout(500)
    names = [name.strip() for name in app_page.get_by_role("tab").all_inner_texts()]
    for name in ("Lessons", ATTENTION.name, "Tokenizers · every model"):
        assert name in names, f"'{name}' is not among the tabs shown at 1366 px: {names}"
        expect(app_page.get_by_role("tab", name=name, exact=True)).to_be_visible()
