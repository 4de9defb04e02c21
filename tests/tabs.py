"""The app's tabs as a visitor meets them in a browser: each one's example, input, run button,
answer and attention plots."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from playwright.sync_api import Locator, expect

from tests.browser import UI_MS, block


@dataclass(frozen=True)
class Tab:
    """One tab, as a visitor meets it: its example, input, run button, answer and attention plots."""

    name: str
    key: str  # the tab's id: a link opens it with ?tab=<key>
    example: str | re.Pattern[str]  # the example button's accessible name
    input: str  # the textbox the example fills…
    filled: str  # …with this text
    run: str
    plots: tuple[str, ...]  # elem_id of each explorer's main plot
    answer: Callable[[Locator], None]  # expects the tab's text result inside the tab's panel
    opens: tuple[str, ...] = ()  # closed panels holding the plots after the first, opened to check them
    # The elem_id whose top shows in a 1366×768 window once the page scrolls the answer to the top; "": the
    # heatmap's. The fill-mask lab's answer is two charts (the fills side by side, their difference): they
    # take that screen, and its heatmap follows right below them.
    first_screen: str = ""


def sentiment_answer(panel: Locator) -> None:
    predictions = panel.get_by_role("grid", name="Predictions")
    label = predictions.get_by_role("gridcell", name=re.compile(r"^(POSITIVE|NEGATIVE)$")).first
    expect(label, "The Predictions table shows no POSITIVE or NEGATIVE label").to_be_visible(timeout=UI_MS)


def zero_shot_answer(panel: Locator) -> None:
    scores = block(panel, "Score of each label")
    for label in ("education", "politics", "business"):
        expect(scores, f"The scores do not rank the label '{label}'").to_contain_text(label, timeout=UI_MS)


def generation_answer(panel: Locator) -> None:
    written = panel.get_by_role("textbox", name="Generated text", exact=True)
    continued = re.compile(r"^So today, I just feel like.+", re.DOTALL)
    expect(written, "Generated text does not continue the prompt").to_have_value(continued, timeout=UI_MS)


def translation_answer(panel: Locator) -> None:
    translation = panel.get_by_role("textbox", name="Translation", exact=True)
    expect(translation, "The Translation box stayed empty").to_have_value(re.compile(r"\S"), timeout=UI_MS)


def attention_answer(panel: Locator) -> None:
    """The raw output waits in a closed panel: open it, as a visitor would."""
    panel.get_by_role("button", name=RAW_ATTENTION).click()
    raw = panel.locator("div.block").filter(has_text=RAW_ATTENTION).last
    expect(raw, "The raw output lists no tokens").to_contain_text('"tokens"', timeout=UI_MS)
    expect(raw, "The raw output lacks the [CLS] token").to_contain_text("[CLS]", timeout=UI_MS)


RAW_ATTENTION = "Tokens, layers and heads (raw output)"


def fill_mask_answer(panel: Locator) -> None:
    """Both sentences' likeliest fill in one line, and the mask in focus in the explorer."""
    summary = panel.get_by_text(re.compile(r"^Likeliest fill\. First sentence: .+ · Second sentence: "))
    expect(summary, "The likeliest fill of each sentence is not shown").to_be_visible(timeout=UI_MS)
    focus = panel.get_by_role("combobox", name="Query token in focus", exact=True)
    expect(focus, "The explorer's focus is not the mask").to_have_value(re.compile(r"^\[MASK\] \(#\d+\)$"))


SENTIMENT = Tab(
    key="sentiment",
    name="Sentiment · encoder-only",
    example="I'm so hungry man.",
    input="Texts, one per line",
    filled="I'm so hungry man.",
    run="Classify",
    plots=("sentiment-attention",),
    answer=sentiment_answer,
)
FILL_MASK = Tab(
    key="fill_mask",
    name="Fill-mask · encoder-only",
    example=re.compile(r"^This man works as a \[MASK\]\. \| This woman works as a"),
    input="Sentence with [MASK]",
    filled="This man works as a [MASK].",
    run="Fill the mask",
    plots=("fill-mask-attention",),
    answer=fill_mask_answer,
    first_screen="fill-mask-answer",
)
ZERO_SHOT = Tab(
    key="zero_shot",
    name="Zero-shot · encoder-decoder",
    example=re.compile(r"^History isn't really a fun class → education"),  # Gradio cuts long example labels
    input="Text",
    filled="History isn't really a fun class",
    run="Classify",
    plots=("zero-shot-attention",),
    answer=zero_shot_answer,
)
GENERATION = Tab(
    key="generation",
    name="Generation · decoder-only",
    example="So today, I just feel like",
    input="Prompt",
    filled="So today, I just feel like",
    run="Generate",
    plots=("generate-attention",),
    answer=generation_answer,
)
TRANSLATION = Tab(
    key="translation",
    name="Translation · encoder-decoder",
    example="You like this house → French",
    input="English text",
    filled="You like this house",
    run="Translate",
    plots=("translate-cross-attention", "translate-encoder-attention"),
    answer=translation_answer,
    opens=("The encoder reading the English source: its self-attention",),
)
ATTENTION = Tab(
    key="attention",
    name="Attention heatmap · any model",
    example="The animal didn't cross the street because it was too tired",
    input="Text",
    filled="The animal didn't cross the street because it was too tired",
    run="Show attention",
    plots=("attention-view",),
    answer=attention_answer,
)

TABS = (SENTIMENT, FILL_MASK, ZERO_SHOT, GENERATION, TRANSLATION, ATTENTION)
BY_KEY = {tab.key: tab for tab in TABS}


def run_example(panel: Locator, tab: Tab) -> None:
    panel.get_by_role("button", name=tab.example, exact=True).click()
    textbox = panel.get_by_role("textbox", name=tab.input, exact=True)
    # The example fills the input asynchronously: running before that would send an empty text.
    expect(textbox, f"The example did not fill '{tab.input}'").to_have_value(tab.filled, timeout=UI_MS)
    panel.get_by_role("button", name=tab.run, exact=True).click()
