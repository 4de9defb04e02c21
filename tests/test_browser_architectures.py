"""Three architectures, one sentence, in a real browser: one switch, three heatmaps in a row, each titled
with what its tokens may see, and a decoder whose upper triangle is the mask's grey."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from services.architectures import SEES
from tests.browser import MODEL_MS, UI_MS, open_tab, screenshot_after
from tests.tabs import ATTENTION

pytestmark = pytest.mark.slow

PLOTS = {family: f"architecture-{family}" for family in SEES}


def wrapped(text: str) -> re.Pattern[str]:
    """`text` as a Plotly title reads once wrapped: a line break leaves no space between two words."""
    return re.compile(r"\s*".join(re.escape(word) for word in text.split()))


def test_the_switch_shows_three_heatmaps_side_by_side_each_saying_what_its_tokens_may_see(
    app_page: Page, artifacts: Path
):
    app_page.set_viewport_size({"width": 1920, "height": 1080})
    with screenshot_after(app_page, artifacts / "attention-three-architectures.png"):
        panel = open_tab(app_page, ATTENTION.name)
        panel.get_by_label("Three architectures, one sentence").check()  # ticking it runs
        for family, plot_id in PLOTS.items():
            plot = app_page.locator(f"#{plot_id} .js-plotly-plot")
            expect(plot.locator(".heatmaplayer image"), f"No {family} heatmap was drawn").to_be_visible(
                timeout=MODEL_MS
            )
            expect(plot.locator(".gtitle"), f"The {family} title does not say what a token sees").to_contain_text(
                wrapped(SEES[family]), timeout=UI_MS
            )
        expect(app_page.locator("#architectures-caption"), "No caption explains the grey cells").to_contain_text(
            "Grey cells are hidden by the model's mask"
        )
        boxes = [app_page.locator(f"#{plot_id}").bounding_box() for plot_id in PLOTS.values()]
        assert len({round(box["y"]) for box in boxes}) == 1, "At 1920 px the three panels are not in one row"
        # Unticking hides them again.
        panel.get_by_label("Three architectures, one sentence").uncheck()
        expect(app_page.locator(f"#{PLOTS['decoder-only']}"), "The panels stayed after unticking").to_be_hidden(
            timeout=MODEL_MS
        )
