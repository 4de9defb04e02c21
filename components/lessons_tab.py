"""Lessons: nine short steps that follow the Hugging Face course, each with a link that opens its view.

A first tab rather than a strip at the top: at 1366x768 a strip would push every tab's inputs below the
fold, and a tab of its own gives the steps the whole width in large type for a projector. Each link is
relative (`?tab=…`), so it works on any host; it holds no server state, so it works after a restart.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import quote_plus, urlencode

import gradio as gr

from components.page import Page
from services.config import Settings

KEY = "lessons"  # the tab's id, and its name in links (?tab=lessons)

INTRO = """
Nine short steps that follow the [Hugging Face course](https://huggingface.co/learn/llm-course/chapter1/1).
Each link opens the view it talks about, fills it in and runs it. Put a link on a slide: it carries
everything in its address, so it works on any copy of this app, and after a restart.
"""

ANIMAL = "The animal didn't cross the street because it was too tired"


@dataclass(frozen=True)
class Lesson:
    """One step: a title, two or three sentences (`code` in backticks), and the link's parameters."""

    title: str
    text: str
    link: dict[str, str]

    @property
    def href(self) -> str:
        return "?" + urlencode(self.link, quote_via=quote_plus)


LESSONS = (
    Lesson(
        "What a pipeline does",
        '`pipeline("sentiment-analysis")` does three things: its tokenizer turns the text into token ids, the '
        "model turns the ids into one score (a logit) per class, and a softmax turns the scores into "
        "probabilities. This runs the pipeline's default model, DistilBERT fine-tuned on SST-2, on the course's "
        "two sentences; the raw output is shaped like the pipeline's.",
        {
            "tab": "sentiment",
            "text": "I've been waiting for a HuggingFace course my whole life.\nI hate this so much!",
            "run": "1",
        },
    ),
    Lesson(
        "What a tokenizer does",
        "A tokenizer cuts text into pieces from a fixed vocabulary, maps each piece to an id, and adds the special "
        "tokens its model expects, such as `[CLS]` and `[SEP]` for BERT. A word the vocabulary lacks becomes "
        "several pieces: WordPiece marks a piece that continues a word with `##`, byte-level BPE marks a leading "
        "space with `Ġ`, SentencePiece with `▁`. `decode` turns the ids back into text.",
        {"tab": "tokenizers", "text": "Using a Transformer network is simple", "run": "1"},
    ),
    Lesson(
        "An encoder sees everything",
        "In an encoder such as BERT, every token attends to every token of the text, left and right, in every "
        "layer: its attention is a full square. That suits tasks that read a whole text, such as classification. "
        "The token in focus here is *it*: see where it attends, layer by layer.",
        {"tab": "attention", "text": ANIMAL, "focus": "it", "run": "1"},
    ),
    Lesson(
        "A decoder sees only the left",
        "A decoder such as SmolLM2 writes one token at a time, so each token may attend only to itself and the "
        "tokens before it: its attention is a triangle, empty above the diagonal. This runs one sentence through an "
        "encoder, a decoder and an encoder-decoder side by side: all of it, only the left, or the source plus the "
        "left.",
        {"tab": "attention", "text": ANIMAL, "compare_architectures": "1", "run": "1"},
    ),
    Lesson(
        "Cross-attention aligns words in translation",
        "In an encoder-decoder such as Marian, the encoder reads the English sentence and the decoder writes the "
        "translation one token at a time, looking back at the English through its cross-attention. Each row is a "
        "French word and each column an English one, so the heatmap often reads like a word alignment, though the "
        "model was never taught one.",
        {
            "tab": "translation",
            "text": "You like this house",
            "target_language": "French",
            "merge_words": "1",
            "run": "1",
        },
    ),
    Lesson(
        "Sampling: temperature, top-k and top-p",
        "At each step a decoder gives every token of its vocabulary a probability. Greedy decoding takes the most "
        "likely one; sampling draws one at random after temperature divides the scores (below 1 sharpens the odds, "
        "above 1 flattens them), top-k keeps the k most likely tokens and top-p the fewest whose probabilities add "
        "up to p. The chart beside the heatmap shows each step's odds before and after, and the token drawn.",
        {
            "tab": "generation",
            "prompt": "So today, I just feel like",
            "max_new_tokens": "20",
            "do_sample": "1",
            "temperature": "1.2",
            "top_k": "20",
            "top_p": "0.9",
            "seed": "0",
            "run": "1",
        },
    ),
    Lesson(
        "Zero-shot is entailment",
        "The zero-shot pipeline uses a model trained for natural language inference: does a premise entail a "
        'hypothesis? Each label becomes a hypothesis such as "This example is education.", and the model\'s '
        "entailment scores, made to sum to 1 over the labels, rank them. The model never saw your labels in "
        "training.",
        {
            "tab": "zero_shot",
            "text": "This is a course about the Transformers library",
            "labels": "education, politics, business",
            "run": "1",
        },
    ),
    Lesson(
        "Bias in fill-mask",
        "A model learns what its training text says, stereotypes included. The course asks BERT to fill in "
        '"This man works as a [MASK]." and "This woman works as a [MASK].": the fills split along gender lines '
        "(lawyer, carpenter, doctor; nurse, waitress, teacher), though BERT read English Wikipedia and BookCorpus. "
        "The chart shows how much likelier each fill is for one sentence than for the other.",
        {
            "tab": "fill_mask",
            "text": "This man works as a [MASK].",
            "text_b": "This woman works as a [MASK].",
            "run": "1",
        },
    ),
    Lesson(
        "Attention is not explanation",
        "Attention shows where each token read from, not what made the answer. Jain and Wallace (2019) found that "
        "attention often disagrees with gradient-based measures of importance, and that very different attention "
        "can give the same prediction; Wiegreffe and Pinter (2019) replied that it depends on what one asks of an "
        "explanation. This opens the attribution lens: which tokens moved the answer, and whether attention agrees.",
        {"tab": "sentiment", "text": "I love food so much.", "lens": "attribution", "run": "1"},
    ),
)


def _inline(text: str) -> str:
    """Escaped text with `code` and *emphasis*, as the rest of the page writes them."""
    text = html.escape(text, quote=False)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    return re.sub(r"\*([^*]+)\*", r"<em>\1</em>", text)


def lessons_html(lessons: tuple[Lesson, ...] = LESSONS) -> str:
    """The steps as numbered cards, each with its link (same window: a link replaces the page's view)."""
    cards = []
    for number, lesson in enumerate(lessons, start=1):
        cards.append(
            f'<li class="lesson"><h3><span class="step">{number}</span><span>{html.escape(lesson.title)}</span></h3>'
            f"<p>{_inline(lesson.text)}</p>"
            f'<a class="lesson-link" href="{html.escape(lesson.href)}" target="_self">Open this view →</a></li>'
        )
    return f'<ol class="lessons">{"".join(cards)}</ol>'


def build(settings: Settings, page: Page) -> None:
    """No inputs and no model: a link from here opens another tab."""
    gr.Markdown(INTRO, elem_classes="lessons-intro")
    gr.HTML(lessons_html())
