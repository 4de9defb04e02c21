"""Waiting, said plainly, in a real browser: a visitor behind another's run sees their place in the queue and an
estimate where the answer will appear, and a visitor who finds the queue full is told it is busy, to try again."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from components.waiting import RecentTime
from tests.app_server import playground_env, serving
from tests.browser import MODEL_MS, UI_MS, VIEWPORT, error_toast, open_tab, screenshot_after, wait_for_answer
from tests.hostile import post
from tests.http_api import wait_for
from tests.tabs import SENTIMENT

# A real Chromium driving the launched app.
pytestmark = pytest.mark.slow


def visitor(browser: Browser, url: str) -> Page:
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.set_default_timeout(UI_MS)
    page.goto(url)
    expect(page.get_by_role("tab", name=SENTIMENT.name), "The app's tabs never appeared").to_be_visible(
        timeout=MODEL_MS
    )
    open_tab(page, SENTIMENT.name)  # the first tab is the lessons'
    return page


def test_a_waiting_visitor_sees_their_place_and_a_full_queue_says_busy(
    browser: Browser, artifacts: Path, tiny_models, broken_model, held_generation
):
    entered, release = held_generation
    # One run at a time, and room for one request to wait.
    env = playground_env(tiny_models, broken_model) | {"PLAYGROUND_QUEUE_SIZE": "1", "PLAYGROUND_CONCURRENT_RUNS": "1"}
    with serving(env) as client:
        assert isinstance(client.demo._queue.process_time_per_fn[None], RecentTime), "the estimates are not tuned"
        release.set()  # each event runs once, so Gradio can estimate how long the next ones take
        client.predict(prompt="So today", max_new_tokens=2, api_name="/generate")
        client.predict(text="I love food", api_name="/sentiment")
        release.clear(), entered.clear()
        try:
            assert post(client, "/generate", "first", prompt="So today", max_new_tokens=2).status_code == 200
            wait_for(entered.is_set, "the first visitor's generation holds the only run")

            second = visitor(browser, client.src)
            with screenshot_after(second, artifacts / "queue-second-visitor-waits.png"):
                second.get_by_role("button", name=SENTIMENT.run, exact=True).click()
                status = second.get_by_test_id("status-tracker").filter(has_text="queue:")
                # Place 1 of 1, then seconds so far / seconds expected.
                expect(status.first, "The waiting visitor does not see their place and an estimate").to_contain_text(
                    re.compile(r"queue: 1/1 \|\s*[\d.]+/[\d.]+s"), timeout=UI_MS
                )
                # Shown on the answer and its heatmap, not once on each of the explorer's outputs.
                expect(status).to_have_count(2)

            third = visitor(browser, client.src)
            with screenshot_after(third, artifacts / "queue-full-third-visitor.png"):
                third.get_by_role("button", name=SENTIMENT.run, exact=True).click()
                # The page's own load (it reads a link's query) finds the queue full too: a toast each, same words.
                expect(error_toast(third).last, "A full queue did not say the app is busy").to_contain_text(
                    re.compile(r"busy.*try again", re.IGNORECASE), timeout=UI_MS
                )
        finally:
            release.set()
        with screenshot_after(second, artifacts / "queue-second-visitor-answered.png"):
            wait_for_answer(second, SENTIMENT.plots[0])
        for page in (second, third):
            page.context.close()
