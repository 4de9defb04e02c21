"""Links in a real browser: a link opens the right tab with the right inputs and runs when asked, bad
parameters are named in a warning while the rest applies, "Link to this view" gives a link that opens the
same view again, and every lesson's link opens its view without an error.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from components.lessons_tab import LESSONS
from tests.browser import MODEL_MS, UI_MS, choose, error_toast, expect_heatmap, screenshot_after, wait_for_answer
from tests.tabs import ATTENTION, BY_KEY

# A real Chromium driving the launched app.
pytestmark = pytest.mark.slow

ANIMAL = "The animal didn't cross the street because it was too tired"
WIDE = {"width": 1920, "height": 1080}


def visit(context: BrowserContext, client, query: str) -> Page:
    """A new visitor opening the app at `query` (a link's `?…` part, or a whole URL)."""
    page = context.new_page()
    page.set_default_timeout(UI_MS)
    page.goto(query if query.startswith("http") else client.src.rstrip("/") + "/" + query)
    expect(page.get_by_role("tab").first, "The app's tabs never appeared").to_be_visible(timeout=MODEL_MS)
    return page


def selected_panel(page: Page, name: str) -> Locator:
    tab = page.get_by_role("tab", name=name, exact=True)
    expect(tab, f"The link did not open the '{name}' tab").to_have_attribute("aria-selected", "true", timeout=UI_MS)
    return page.get_by_role("tabpanel").filter(visible=True)


def warnings(page: Page) -> Locator:
    return page.locator("[data-testid='toast-body'].warning").get_by_test_id("toast-text")


def expect_view(panel: Locator, *, layer: str, head: str) -> None:
    expect(panel.get_by_role("combobox", name="Layer", exact=True).first).to_have_value(layer, timeout=UI_MS)
    expect(panel.get_by_role("combobox", name="Head", exact=True).first).to_have_value(head, timeout=UI_MS)


def test_a_link_opens_its_tab_filled_and_runs_with_its_view(context, client, artifacts: Path):
    link = f"?tab=attention&text={ANIMAL.replace(' ', '+')}&run=1&layer=1&head=2&focus=it&hide_special=1"
    page = visit(context, client, link)
    with screenshot_after(page, artifacts / "link-opened-view.png"):
        panel = selected_panel(page, ATTENTION.name)
        expect(panel.get_by_role("textbox", name="Text", exact=True)).to_have_value(ANIMAL)
        wait_for_answer(page, ATTENTION.plots[0])
        expect_view(panel, layer="Layer 1", head="Head 2")
        expect(panel.get_by_label("Hide special tokens and renormalise rows")).to_be_checked()
        expect(panel.get_by_role("combobox", name="Query token in focus")).to_have_value(re.compile(r"^it\b"))
        plot = expect_heatmap(page, ATTENTION.plots[0])
        expect(plot.locator(".gtitle")).to_contain_text("layer 1, head 2", timeout=UI_MS)
        expect(warnings(page)).to_have_count(0)
    page.set_viewport_size(WIDE)
    page.wait_for_timeout(500)
    page.screenshot(path=artifacts / "link-opened-view-1920x1080.png")
    page.close()


def test_a_link_without_run_fills_the_inputs_and_waits(context, client):
    page = visit(context, client, "?tab=translation&text=I+am+a+student&target_language=German")
    panel = selected_panel(page, BY_KEY["translation"].name)
    expect(panel.get_by_role("textbox", name="English text", exact=True)).to_have_value("I am a student")
    expect(panel.get_by_role("combobox", name="Target language", exact=True)).to_have_value("German")
    page.wait_for_timeout(3000)
    expect(panel.get_by_role("textbox", name="Translation", exact=True)).to_have_value("")
    page.close()


def test_bad_parameters_are_named_and_the_rest_of_the_link_applies(context, client, artifacts: Path):
    link = "?tab=attention&text=%3Cb%3Ebold%3C%2Fb%3E+it+is&run=1&layer=99&head=2&colour=red"
    page = visit(context, client, link)
    with screenshot_after(page, artifacts / "link-bad-parameters.png"):
        panel = selected_panel(page, ATTENTION.name)
        expect(panel.get_by_role("textbox", name="Text", exact=True)).to_have_value("<b>bold</b> it is")
        wait_for_answer(page, ATTENTION.plots[0])
        said = warnings(page)
        expect(said.filter(has_text="'colour'")).to_contain_text("takes no parameter 'colour'", timeout=UI_MS)
        expect(said.filter(has_text="'layer'")).to_contain_text("Layer 99 does not exist", timeout=UI_MS)
        expect_view(panel, layer=re.compile(r"^Layer \d+$"), head="Head 2")
        expect(page.locator("b", has_text="bold")).to_have_count(0)  # typed HTML stays text
    page.close()


def test_an_unknown_tab_names_the_valid_ones(context, client):
    page = visit(context, client, "?tab=summarize&text=hello&run=1")
    expect(warnings(page).first).to_contain_text("one of: lessons, sentiment", timeout=UI_MS)
    expect(page.get_by_role("tab", name="Lessons", exact=True)).to_have_attribute("aria-selected", "true")
    page.close()


def test_link_to_this_view_opens_the_same_view_again(context, client, artifacts: Path):
    sentiment = BY_KEY["sentiment"]
    page = visit(context, client, "?tab=sentiment&text=I+love+food+so+much.%0AI+am+so+hungry.&run=1")
    with screenshot_after(page, artifacts / "link-to-this-view.png"):
        panel = selected_panel(page, sentiment.name)
        wait_for_answer(page, sentiment.plots[0])
        choose(page, panel, "Text", "I am so hungry.")
        choose(page, panel, "Layer", "Layer 1")
        choose(page, panel, "Head", "Head 2")
        panel.get_by_label("Merge sub-word pieces into words").check()
        title = page.locator(f"#{sentiment.plots[0]} .gtitle")
        expect(title).to_contain_text("layer 1, head 2", timeout=UI_MS)
        panel.get_by_role("button", name="Link to this view").first.click()
        box = panel.locator(".view-link textarea").first
        expect(box).to_have_value(re.compile(r"^http://.+\?tab=sentiment&"), timeout=UI_MS)
        url = box.input_value()
    params = parse_qs(urlsplit(url).query)
    assert params["text"] == ["I love food so much.\nI am so hungry."]
    assert {name: params[name] for name in ("item", "layer", "head", "merge_words", "run")} == {
        "item": ["1"],
        "layer": ["1"],
        "head": ["2"],
        "merge_words": ["1"],
        "run": ["1"],
    }
    page.close()
    again = visit(context, client, url)
    with screenshot_after(again, artifacts / "link-to-this-view-opened.png"):
        panel = selected_panel(again, sentiment.name)
        wait_for_answer(again, sentiment.plots[0])
        expect_view(panel, layer="Layer 1", head="Head 2")
        expect(panel.get_by_role("combobox", name="Text", exact=True)).to_have_value("I am so hungry.")
        expect(panel.get_by_label("Merge sub-word pieces into words")).to_be_checked()
        expect(again.locator(f"#{sentiment.plots[0]} .gtitle")).to_contain_text("layer 1, head 2", timeout=UI_MS)
        expect(warnings(again)).to_have_count(0)
    again.close()


def settled(page: Page, client, *, quiet_ms: int = 1500) -> None:
    """Wait until the server has had no event queued or running for `quiet_ms`: the run, and a view or
    lens restored after it, are done."""
    queue = client.demo._queue
    quiet = 0
    for _ in range(MODEL_MS // 250):
        busy = len(queue) or any(queue.active_jobs)
        quiet = 0 if busy else quiet + 250
        if quiet >= quiet_ms:
            return
        page.wait_for_timeout(250)
    pytest.fail("The app was still busy a minute after the lesson's link was opened", pytrace=False)


TOKENIZERS_TAB = "Tokenizers · every model"  # no explorer: its answer is a card per tokenizer


def lesson_answered(page: Page, key: str) -> Locator:
    """The lesson's tab, opened and answered: its explorer's sentence, or the tokenizers' cards."""
    if key == "tokenizers":
        panel = selected_panel(page, TOKENIZERS_TAB)
        cards = panel.locator(".tok-card").first
        expect(cards.or_(error_toast(page)).first).to_be_visible(timeout=MODEL_MS)
        return cards
    assert key in BY_KEY, f"tests/tabs.py has no tab with the key {key!r}"
    tab = BY_KEY[key]
    panel = selected_panel(page, tab.name)
    sentence = panel.get_by_role("textbox", name="In one sentence", exact=True).first
    expect(sentence.or_(error_toast(page)).first).to_have_value(re.compile(r"\S"), timeout=MODEL_MS)
    return page.locator(f"#{tab.plots[0]} .js-plotly-plot .main-svg").first


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.title)
def test_every_lesson_link_opens_its_view_without_an_error(context, client, artifacts: Path, lesson):
    """Clicked from the Lessons tab, as an instructor would: the tab opens, runs, and says nothing is wrong."""
    page = visit(context, client, "")
    slug = re.sub(r"\W+", "-", lesson.title.lower())
    with screenshot_after(page, artifacts / f"lesson-{slug}.png"):
        page.get_by_role("link", name="Open this view →").nth(LESSONS.index(lesson)).click()
        answer = lesson_answered(page, lesson.link["tab"])
        settled(page, client)
        expect(error_toast(page)).to_have_count(0)
        shown = warnings(page).all_inner_texts()
        assert not shown, f"{lesson.title}: {shown}"
        expect(answer).to_be_visible()
    page.close()


def test_a_projector_stays_in_presenter_mode_from_lesson_to_lesson(context, client):
    page = visit(context, client, "")
    page.get_by_label("Presenter mode: large text for a projector").check()
    expect(page.locator("html.presenter")).to_have_count(1)
    page.get_by_role("link", name="Open this view →").first.click()
    page.wait_for_url(re.compile(r"presenter=1"), timeout=UI_MS)
    expect(page.get_by_label("Presenter mode: large text for a projector")).to_be_checked(timeout=UI_MS)
    expect(page.locator("html.presenter")).to_have_count(1)
    page.close()
