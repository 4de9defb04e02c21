"""The app in a real browser: Playwright drives Debian's headless Chromium against the app launched here.

Each check is what a visitor would look at: the example fills the input, the answer appears, the
heatmap is drawn, the explorer's controls redraw it, and typed HTML stays text. Screenshots of every
tab go to test-artifacts/ (or $PLAYGROUND_TEST_ARTIFACTS).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser import (
    ERROR_MS,
    UI_MS,
    choose,
    error_toast,
    expect_heatmap,
    expect_sentence,
    open_tab,
    screenshot_after,
    wait_for_answer,
)
from tests.tabs import ATTENTION, RAW_ATTENTION, SENTIMENT, TABS, ZERO_SHOT, Tab, run_example

# A real Chromium driving the launched app.
pytestmark = pytest.mark.slow

PAYLOAD = "<img src=x onerror=alert(1)> <script>alert(2)</script> <svg onload=alert(3)>"
# What the payload would leave in the page if the browser had parsed it as markup.
INJECTED = "img[src='x'], [onerror], [onload], script:has-text('alert(')"


# The tests --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("tab", TABS, ids=lambda tab: tab.name)
def test_each_tab_answers_its_example_with_text_and_a_heatmap(app_page: Page, artifacts: Path, tab: Tab):
    slug = re.sub(r"\W+", "-", tab.name.lower())
    with screenshot_after(app_page, artifacts / f"tab-{slug}.png"):
        panel = open_tab(app_page, tab.name)
        run_example(panel, tab)
        # The heatmap comes with the run's last update (generation streams its text first).
        wait_for_answer(app_page, tab.plots[0])
        for accordion in tab.opens:
            panel.get_by_role("button", name=accordion).click()
        for plot_id in tab.plots:
            expect_heatmap(app_page, plot_id)
        tab.answer(panel)
        expect_sentence(panel, r"attends most to")


def test_switching_layer_and_head_redraws_the_heatmap(app_page: Page, artifacts: Path):
    with screenshot_after(app_page, artifacts / "attention-layer-1-head-2.png"):
        panel = open_tab(app_page, ATTENTION.name)
        run_example(panel, ATTENTION)
        wait_for_answer(app_page, "attention-view")
        plot = expect_heatmap(app_page, "attention-view")
        title, cells = plot.locator(".gtitle"), plot.locator(".heatmaplayer image")
        expect(title, "The first view is not the last layer averaged over heads").to_contain_text(
            "layer 2, averaged over heads", timeout=UI_MS
        )
        last_layer = cells.get_attribute("href")

        choose(app_page, panel, "Layer", "Layer 1")
        expect(title, "Choosing Layer 1 did not redraw the heatmap").to_contain_text(
            "layer 1, averaged over heads", timeout=UI_MS
        )
        choose(app_page, panel, "Head", "Head 2")
        expect(title, "Choosing Head 2 did not redraw the heatmap").to_contain_text("layer 1, head 2", timeout=UI_MS)
        expect(cells, "The heatmap's cells did not change with the layer and head").not_to_have_attribute(
            "href", last_layer, timeout=UI_MS
        )
        expect_sentence(panel, r"in layer 1, head 2\.")


def run_payload(page: Page, tab: Tab) -> Locator:
    """Type the payload, run, hover over the heatmap (its hover label shows tokens); the tab's panel."""
    plot_id = tab.plots[0]
    panel = open_tab(page, tab.name)
    panel.get_by_role("textbox", name=tab.input, exact=True).fill(PAYLOAD)
    panel.get_by_role("button", name=tab.run, exact=True).click()
    wait_for_answer(page, plot_id)
    plot = expect_heatmap(page, plot_id)
    plot.locator(".nsewdrag").first.hover()
    expect(plot.locator(".hoverlayer .hovertext"), "Hovering over the heatmap shows no label").to_contain_text(
        "query", timeout=UI_MS
    )
    # Tick labels are the tokens: the payload's pieces must show as characters, not be parsed away.
    ticks = plot.locator(".ytick text")
    for character in "<>":
        expect(ticks.filter(has_text=character).first, f"No token label shows '{character}'").to_be_attached()
    return panel


def expect_nothing_ran(page: Page, dialogs: list[str]) -> None:
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => setTimeout(done, 0)))")
    assert not dialogs, f"The typed payload ran as script and opened: {dialogs}"
    expect(page.locator(INJECTED), "The typed payload became page elements").to_have_count(0)


def test_typed_html_stays_text_in_sentiment(app_page: Page, dialogs: list[str], artifacts: Path):
    with screenshot_after(app_page, artifacts / "payload-sentiment.png"):
        panel = run_payload(app_page, SENTIMENT)
        cell = panel.get_by_role("grid", name="Predictions").get_by_role("gridcell", name=PAYLOAD, exact=True)
        expect(cell, "The Predictions table does not show the typed text as text").to_be_visible(timeout=UI_MS)
        expect_nothing_ran(app_page, dialogs)


def test_typed_html_stays_text_in_attention_heatmap(app_page: Page, dialogs: list[str], artifacts: Path):
    with screenshot_after(app_page, artifacts / "payload-attention-heatmap.png"):
        panel = run_payload(app_page, ATTENTION)
        panel.get_by_role("button", name=RAW_ATTENTION).click()
        raw = panel.locator("div.block").filter(has_text=RAW_ATTENTION).last
        expect(raw, "The raw output does not list the '<' token as text").to_contain_text('"<"', timeout=UI_MS)
        expect_nothing_ran(app_page, dialogs)


def test_an_error_quoting_typed_html_shows_it_as_text(app_page: Page, dialogs: list[str], artifacts: Path):
    """Gradio renders an error toast as HTML, and this error quotes the visitor's hypothesis template."""
    with screenshot_after(app_page, artifacts / "payload-error-toast.png"):
        panel = open_tab(app_page, ZERO_SHOT.name)
        panel.get_by_role("textbox", name="Text", exact=True).fill("I love food so much.")
        panel.get_by_role("textbox", name="Candidate labels, comma-separated", exact=True).fill("food, sports")
        panel.get_by_role("textbox", name="Hypothesis template ({} is the label)", exact=True).fill(PAYLOAD)
        panel.get_by_role("button", name=ZERO_SHOT.run, exact=True).click()
        expect(error_toast(app_page), "The error toast does not quote the typed template as text").to_contain_text(
            PAYLOAD, timeout=ERROR_MS
        )
        expect_nothing_ran(app_page, dialogs)


def expect_empty_input_error(page: Page, tab: Tab) -> None:
    """Run the tab with nothing typed: an error toast must say what to type; it is closed afterwards."""
    panel = open_tab(page, tab.name)
    panel.get_by_role("textbox", name=tab.input, exact=True).fill("")  # each tab opens with its example typed
    panel.get_by_role("button", name=tab.run, exact=True).click()
    expect(error_toast(page), f"Running '{tab.name}' with nothing typed shows no error").to_contain_text(
        re.compile(r"is empty: please type"), timeout=ERROR_MS
    )
    page.get_by_test_id("toast-close").click()
    expect(error_toast(page), "The error toast did not close").to_have_count(0, timeout=UI_MS)


def test_running_an_empty_input_says_what_to_type(app_page: Page):
    for tab in TABS:
        expect_empty_input_error(app_page, tab)
