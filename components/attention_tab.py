"""Attention heatmap tab: look inside a model's attention for any text or sentence pair."""

from __future__ import annotations

import gradio as gr

from components.architectures import ArchitecturePanels, switch
from components.errors import progress_reporter, warn_truncated
from components.explorer import AttentionExplorer
from components.page import Page
from services.architectures import Trio, compare
from services.config import Settings
from services.errors import InputError
from services.inputs import clean_text, echo
from services.shared_results import SHARED

KEY = "attention"  # the tab's id, and its name in links (?tab=attention)

INTRO = """
**What attention is.** In every layer, each head lets each token (a row, the *query*) take a weighted
mix of all the tokens (the columns, the *keys*); each row's weights sum to 1. The tokens are the
pieces the tokenizer cut the text into, special tokens such as `[CLS]` and `[SEP]` included.
Try the pair example: BERT reads two sentences joined by `[SEP]`, as BertViz's head view shows them.
Pick *it* as the query token in focus and look for the layer and head where it attends to *animal*;
the head summaries point to heads that look at the previous token, spread broadly, or rest on `[SEP]`.
"""

EXAMPLES = [
    ["The animal didn't cross the street because it was too tired", ""],
    ["She is eating a green apple", "She bought the apple from the local market."],
]


def build(settings: Settings, page: Page) -> None:
    choices = settings.attention_models()
    trio = Trio.of(settings)
    gr.Markdown(INTRO)
    with gr.Row(equal_height=False, elem_id="attention-answer"):
        with gr.Column(scale=2, min_width=320):
            text = gr.Textbox(label="Text", lines=2, value=EXAMPLES[0][0])
            text_pair = gr.Textbox(label="Second sentence (optional)", value="", lines=1)
            model = gr.Dropdown(
                choices=[(choice.label, choice.name) for choice in choices], value=choices[0].name, label="Model"
            )
            three = switch(trio)
            button = gr.Button("Show attention", variant="primary")
        with gr.Column(scale=3, min_width=320):
            examples = gr.Examples(
                EXAMPLES,
                inputs=[text, text_pair],
                example_labels=[f"{e[0]} | {e[1]}" if e[1] else e[0] for e in EXAMPLES],
            )
            note = gr.Markdown()
            with gr.Accordion("Tokens, layers and heads (raw output)", open=False):
                raw = gr.JSON(show_label=False)
    panels = ArchitecturePanels()
    explorer = AttentionExplorer("Attention", api_name="attention_view", presenter=page.presenter)
    # Another model has other layers and heads: start it from its last layer, heads averaged.
    model.change(None, outputs=[explorer.layer, explorer.head, explorer.focus], js="() => [null, 'mean', null]")

    @page.model_run
    def show(
        text: str,
        text_pair: str = "",
        model: str = "",
        compare_architectures: bool = False,
        fast: bool = False,
        presenter: bool = False,
        progress: gr.Progress = gr.Progress(track_tqdm=True),
        **controls,
    ):
        limits = settings.limits
        by_name = {choice.name: choice for choice in choices} | {choice.source: choice for choice in choices}
        model = model or choices[0].name
        choice = by_name.get(model) if isinstance(model, str) else None
        if choice is None:
            names = ", ".join(choice.name for choice in choices)
            raise InputError(f"Model {echo(model)} is not one of this app's models; choose one of: {names}.")
        pair = text_pair.strip() if isinstance(text_pair, str) else text_pair
        text = clean_text(text, max_chars=limits.max_input_chars)
        from services import attention  # torch loads with the first request, not at startup

        result = SHARED.call(
            "attention",
            attention.attend,
            text,
            clean_text(pair, what="second sentence", max_chars=limits.max_input_chars) if pair else None,
            model=choice.source,
            kind=choice.kind,
            precision=page.precision(fast),
            max_tokens=limits.max_tokens,
            on_load=progress_reporter(progress),
        )
        values = {note: warn_truncated(result.truncated), raw: result.as_raw_output()} | explorer.show(
            [result.attention], presenter=presenter, **controls
        )
        if not compare_architectures:
            return values | panels.hidden()
        comparison = compared(text, page.precision(fast), progress)
        values[raw] = values[raw] | {"architectures": comparison.as_raw_output()}
        return values | panels.show(comparison, presenter=bool(presenter), pair_ignored=bool(pair))

    def compared(text: str, precision: str, progress: gr.Progress):
        """The text through the three families, one sentence's worth of tokens each."""
        limits = settings.limits
        return compare(
            text,
            trio,
            precision=precision,
            max_tokens=min(limits.max_tokens, limits.max_compare_tokens),
            max_new_tokens=min(limits.max_translation_tokens, limits.max_compare_tokens),
            on_progress=lambda done, message: progress(done, desc=message),
        )

    run = {
        "fn": show,
        "inputs": [text, text_pair, model, three],
        "inputs_kwargs": explorer.kwargs | {"fast": page.fast},
        "outputs": [note, raw, *explorer.outputs, *panels.outputs],
    }
    triggers = [button.click, text.submit, text_pair.submit, three.input]
    page.run(
        triggers,
        examples,
        answer="attention-answer",
        api_name="attention",
        progress_on=[explorer.plot],
        link=KEY,
        explorers=[explorer],
        **run,
    )
