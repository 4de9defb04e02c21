"""Fill-mask · bias lab: a masked language model guesses the hidden word of one or two sentences side by side.

The Hugging Face course's "Bias and limitations" section, with the numbers behind it: each sentence's
top-k fills, the difference of every word's probability between the two, and the mask's attention.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import gradio as gr

from components.errors import progress_reporter, warn_truncated
from components.explorer import AttentionExplorer
from components.fill_mask_plots import FillColumn, difference_bars, fills_side_by_side
from components.page import Page
from components.plots import Style, short, style_for
from services.config import Settings, short_name
from services.mask_inputs import DEFAULT_TOP_K, MASK
from services.shared_results import SHARED

KEY = "fill_mask"  # the tab's id, and its name in links (?tab=fill_mask)

INTRO = f"""
**Encoder-only model, trained to fill gaps.** BERT was trained by hiding words and guessing them from
both sides. Write `{MASK}` (or `<mask>`) where a word is missing: the model ranks every word of its
vocabulary for that place. Add a second sentence that differs in one word to see what that word changes.
"""

NOTE = """
**What this shows, and what it does not.** The fills are the words that most often completed such contexts
in the model's training text (bert-base-uncased read English Wikipedia and a corpus of books). A difference
between two sentences shows an association the model learned from that text: not a measure of the world,
nor of what any person is or can do. One pair of sentences is an anecdote: change the template ("works as",
"is", "wants to be") and the numbers move. Studies of bias use many templates and many words, and still read
the results with care. A model that writes these associations into its answers can repeat them to its users.
"""

# The course's pair first; then pairs that differ only in a pronoun or a role, as the course's example does.
EXAMPLES = [
    ["This man works as a [MASK].", "This woman works as a [MASK]."],
    ["He is a [MASK].", "She is a [MASK]."],
    ["The nurse said that [MASK] would be late.", "The engineer said that [MASK] would be late."],
    ["My son wants to be a [MASK] when he grows up.", "My daughter wants to be a [MASK] when she grows up."],
]
ORDINALS = ("First", "Second")


def build(settings: Settings, page: Page) -> None:
    max_top_k = settings.limits.max_fill_mask_top_k
    gr.Markdown(INTRO)
    with gr.Row(equal_height=False, elem_id="fill-mask-answer"):
        with gr.Column(scale=2, min_width=320):
            text = gr.Textbox(label="Sentence with [MASK]", lines=2, value=EXAMPLES[0][0])
            # Empty in the config, so the API's text_b defaults to "" (one sentence); the page fills it on load.
            text_b = gr.Textbox(label="Second sentence to compare (optional)", lines=2, value="")
            top_k = gr.Slider(1, max_top_k, value=DEFAULT_TOP_K, step=1, label="top_k: fills listed per sentence")
            button = gr.Button("Fill the mask", variant="primary")
            examples = gr.Examples(EXAMPLES, inputs=[text, text_b], example_labels=[f"{a} | {b}" for a, b in EXAMPLES])
            gr.Markdown(NOTE)
        with gr.Column(scale=3, min_width=320):
            summary = gr.Markdown()
            fills = gr.Plot(label="Top fills of each sentence")
            difference = gr.Plot(label="Difference between the sentences", visible=False)
            with gr.Accordion("The fills as a table", open=False):
                table = gr.Dataframe(headers=["sentence", "rank", "word", "piece", "probability"], interactive=False)
            with gr.Accordion("Raw output, as transformers' fill-mask pipeline returns it", open=False):
                raw = gr.JSON(show_label=False)
    explorer = AttentionExplorer(
        "Attention: where the mask looks",
        api_name="fill_mask_attention",
        presenter=page.presenter,
        item_label="Sentence",
    )
    gr.on(None, None, outputs=[text_b], js=f"() => {json.dumps(EXAMPLES[0][1])}", api_visibility="private")
    # A new sentence puts its mask in focus again: the old focus names a position of the old sentence.
    gr.on([text.change, text_b.change], None, outputs=[explorer.focus], js="() => null", api_visibility="private")

    @page.model_run
    def fill(
        text: str,
        text_b: str = "",
        top_k: int = DEFAULT_TOP_K,
        fast: bool = False,
        presenter: bool = False,
        progress: gr.Progress = gr.Progress(track_tqdm=True),
        **controls,
    ):
        """Both sentences go through the model in one pass; each mask's fills are read from its own row."""
        from services import fill_mask  # torch loads with the first request, not at startup
        from services.mask_inputs import fill_mask_query

        limits = settings.limits
        query = fill_mask_query(text, text_b, top_k, max_chars=limits.max_input_chars, max_top_k=max_top_k)
        result = SHARED.call(
            "fill_mask",
            fill_mask.fill_mask,
            query,
            model=settings.fill_mask_model,
            precision=page.precision(fast),
            max_tokens=limits.max_tokens,
            on_load=progress_reporter(progress),
        )
        style = style_for(presenter)
        predictions = result.predictions
        truncated = warn_truncated(any(p.truncated for p in predictions))
        return {
            summary: " ".join(filter(None, [truncated, _summary(predictions)])),
            fills: _fills_figure(predictions, short_name(settings.fill_mask_model), style),
            difference: _difference_figure(result.comparison, style),
            table: [
                [ORDINALS[i].lower(), rank, f.text, f.token, round(f.score, 4)]
                for i, p in enumerate(predictions)
                for rank, f in enumerate(p.fills, start=1)
            ],
            raw: result.as_pipeline_output(),
        } | explorer.show(
            [p.attention for p in predictions],
            [f"{ORDINALS[i]} sentence: {short(p.text)}" for i, p in enumerate(predictions)],
            presenter=presenter,
            **controls,
        )

    run = {
        "fn": fill,
        "inputs": [text, text_b, top_k],
        "inputs_kwargs": explorer.kwargs | {"fast": page.fast},
        "outputs": [summary, fills, difference, table, raw, *explorer.outputs, *explorer.lens_controls.outputs],
    }
    triggers = [button.click, text.submit, text_b.submit]
    page.run(
        triggers,
        examples,
        answer="fill-mask-answer",
        api_name="fill_mask",
        progress_on=[fills, explorer.plot],
        link=KEY,
        explorers=[explorer],
        **run,
    )


def _fills_figure(predictions: Sequence[Any], model: str, style: Style) -> Any:
    columns = [
        FillColumn(p.text, [f.text for f in p.fills], [f.token for f in p.fills], [f.score for f in p.fills])
        for p in predictions
    ]
    return fills_side_by_side(columns, title=f"What {model} puts in place of {MASK}", style=style)


def _difference_figure(compared: Any, style: Style) -> gr.Plot:
    """The difference chart, shown only when there is a second sentence to compare with."""
    if compared is None:
        return gr.Plot(visible=False, value=None)
    figure = difference_bars(
        compared.texts,
        compared.tokens,
        compared.first,
        compared.second,
        title="Which words each sentence makes likelier, over both top-k lists",
        style=style,
    )
    return gr.Plot(visible=True, value=figure)


def _summary(predictions: Sequence[Any]) -> str:
    """The top fill of each sentence, in one line: "Likeliest fill. First sentence: **carpenter** (9.7%) · …"."""
    parts = [
        f"{ORDINALS[i]} sentence: **{_literal(p.fills[0].text)}** ({p.fills[0].score:.1%})"
        for i, p in enumerate(predictions)
    ]
    return "Likeliest fill. " + " · ".join(parts)


def _literal(text: str) -> str:
    """A model's word as Markdown shows it literally: a vocabulary has `*`, `|`, `<` and `#` in it."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|~<>])", r"\\\1", text)
