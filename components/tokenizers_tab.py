"""Tokenizers tab: one text through the tokenizer of every configured model, side by side."""

from __future__ import annotations

import gradio as gr

from components.errors import progress_reporter
from components.page import Page
from components.token_chips import cards_html, flags_html
from services import tokenizers_compare
from services.config import Settings
from services.inputs import clean_text

KEY = "tokenizers"  # the tab's id, and its name in links (?tab=tokenizers)

INTRO = """
**What a tokenizer does.** Before a model reads a text, its tokenizer cuts it into pieces from a fixed
vocabulary and turns each piece into an id. Every model here has its own: **WordPiece** (BERT, DistilBERT)
marks a piece that continues a word with `##`; **byte-level BPE** (BART, SmolLM2) works on bytes, so it
never meets an unknown character, and marks a space before a word with `Ġ`; **SentencePiece** (Marian)
marks it with `▁`. Each chip shows a piece as it reads, with the tokenizer's own piece under it where that
differs; hover over a chip for its id. Grey chips are special tokens the tokenizer adds, red ones unknown
tokens. Only the tokenizers load here, not the models.
"""

EXAMPLES = [
    ["Tokenization isn't trivial: unbelievable GPT-2 naïve 🤗 3.14159"],
    ["Using a Transformer network is simple"],
    ["I've been waiting for a HuggingFace course my whole life."],
    ["def add(a, b):\n    return a + b"],
    ["Grüße aus München! Ça coûte 5€. こんにちは"],
]


def build(settings: Settings, page: Page) -> None:
    models = settings.configured_models()
    gr.Markdown(INTRO)
    with gr.Row(equal_height=False, elem_id="tokenizers-answer"):
        with gr.Column(scale=2, min_width=320):
            text = gr.Textbox(label="Text", lines=3, value=EXAMPLES[0][0])
            button = gr.Button("Tokenize", variant="primary")
            examples = gr.Examples(EXAMPLES, inputs=[text])
            flags = gr.HTML(elem_classes="tok-flags-block")
        with gr.Column(scale=3, min_width=320):
            cards = gr.HTML(elem_classes="tok-cards-block")
            with gr.Accordion("Raw output: tokens and ids of each tokenizer", open=False):
                raw = gr.JSON(show_label=False)

    @page.model_run
    def tokenize(text: str, progress: gr.Progress = gr.Progress()):
        """The text through each configured model's tokenizer; a tokenizer that cannot load says so in its card."""
        limits = settings.limits
        comparison = tokenizers_compare.compare(
            clean_text(text, max_chars=limits.max_input_chars),
            models,
            max_tokens=limits.max_tokens,
            on_load=progress_reporter(progress),
        )
        return {
            flags: flags_html(comparison, many=tokenizers_compare.MANY_PIECES),
            cards: cards_html(comparison),
            raw: comparison.as_raw_output(),
        }

    run = {"fn": tokenize, "inputs": [text], "outputs": [flags, cards, raw]}
    page.run(
        [button.click, text.submit],
        examples,
        answer="tokenizers-answer",
        api_name="tokenize",
        progress_on=[cards],
        link=KEY,
        explorers=(),
        **run,
    )
