"""What a visitor does and sees in the app's page, in Playwright terms: tabs, components by label, plots, toasts.

Plotly draws a heatmap's cells as one PNG image inside `.heatmaplayer` and its title as `.gtitle`;
Gradio gives a component its `elem_id`, puts its label in a `block-label`, and shows a gr.Error as an
error toast.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect

CHROMIUM = Path("/usr/bin/chromium")  # Playwright's own browser download does not work offline
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1366, "height": 768}  # a laptop driving a projector
MODEL_MS = 60_000  # a model's first answer: it loads on first use, on 2 busy cores
UI_MS = 15_000  # a redraw from the stored run, an example filling its input
ERROR_MS = 10_000  # a toast for an input error: inputs are checked before any model runs


@contextlib.contextmanager
def screenshot_after(page: Page, path: Path) -> Iterator[None]:
    """Save what the browser shows when the block ends, passed or failed: the first thing to look at."""
    try:
        yield
    finally:
        with contextlib.suppress(PlaywrightError):
            page.screenshot(path=path, full_page=True)


def open_tab(page: Page, name: str) -> Locator:
    """Click the tab; its panel (Gradio hides the other tabs' panels)."""
    tab = page.get_by_role("tab", name=name, exact=True)
    tab.click()
    expect(tab, f"The '{name}' tab did not open").to_have_attribute("aria-selected", "true", timeout=UI_MS)
    return page.get_by_role("tabpanel").filter(visible=True)


def block(panel: Locator, label: str) -> Locator:
    """The Gradio component labelled `label`, for components with no accessible name (JSON, plots)."""
    name = panel.page.get_by_test_id("block-label").get_by_text(label, exact=True)
    return panel.locator("div.block").filter(has=name)


def wait_for_answer(page: Page, plot_id: str) -> None:
    """Wait for the run's heatmap, or fail at once with the error message the visitor saw instead."""
    cells = page.locator(f"#{plot_id} .heatmaplayer image")
    nothing = f"No heatmap appeared in #{plot_id}, and no error either, {MODEL_MS // 1000} s after the run"
    expect(cells.or_(error_toast(page)).first, nothing).to_be_visible(timeout=MODEL_MS)
    if error_toast(page).count():
        shown = " | ".join(error_toast(page).all_inner_texts())
        pytest.fail(f"The app showed an error instead of an answer: {shown}", pytrace=False)


def expect_heatmap(page: Page, plot_id: str) -> Locator:
    """Plotly drew the explorer's heatmap: its cells as a PNG image in the heatmap layer, under a title."""
    plot = page.locator(f"#{plot_id} .js-plotly-plot")
    cells = plot.locator(".heatmaplayer image")
    expect(cells, f"No attention heatmap was drawn in #{plot_id}").to_have_attribute(
        "href", re.compile(r"^data:image/png;base64,."), timeout=UI_MS
    )
    expect(cells, f"The heatmap in #{plot_id} is not visible").to_be_visible(timeout=UI_MS)
    title = plot.locator(".gtitle")
    expect(title, f"The heatmap in #{plot_id} does not say which layer it shows").to_contain_text(
        re.compile(r"layer \d+"), timeout=UI_MS
    )
    return plot


def expect_sentence(panel: Locator, pattern: str) -> None:
    """The explorer's one-sentence reading of the heatmap (the first explorer's, when a tab has two)."""
    sentence = panel.get_by_role("textbox", name="In one sentence", exact=True).first
    expect(sentence, f"'In one sentence' does not read '{pattern}'").to_have_value(re.compile(pattern), timeout=UI_MS)


def choose(page: Page, panel: Locator, control: str, option: str) -> None:
    panel.get_by_role("combobox", name=control, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()


def error_toast(page: Page) -> Locator:
    """The text of Gradio's toasts for a gr.Error (warnings are toasts too, in another colour)."""
    return page.locator("[data-testid='toast-body'].error").get_by_test_id("toast-text")
