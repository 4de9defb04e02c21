"""Sentiment tab: an encoder-only classifier reads each line and votes POSITIVE or NEGATIVE."""

from __future__ import annotations

import gradio as gr

from components.errors import TRUNCATED_NOTE, progress_reporter
from components.explorer import AttentionExplorer
from components.explorer.lens_controls import knock_out_heads
from components.lazy_plot import LazyPlot
from components.page import Page
from components.plots import class_probability_bars, short
from services.config import Settings
from services.inputs import split_lines
from services.recipe import KnockOut
from services.shared_results import SHARED

KEY = "sentiment"  # the tab's id, and its name in links (?tab=sentiment)

INTRO = """
**Encoder-only model.** DistilBERT reads the whole sentence at once: every token can attend to every
other token, left and right. A small classifier on top of the `[CLS]` token gives the two class
probabilities. Type one text per line; each is classified in the same batch.
"""

EXAMPLES = [
    ["I'm so hungry man.\nI love food so much."],
    ["I'm so hungry man."],
    ["I love food so much."],
]


def build(settings: Settings, page: Page) -> None:
    gr.Markdown(INTRO)
    with gr.Row(equal_height=False, elem_id="sentiment-answer"):
        with gr.Column(scale=2, min_width=320):
            text = gr.Textbox(label="Texts, one per line", lines=3, value=EXAMPLES[0][0])
            button = gr.Button("Classify", variant="primary")
            examples = gr.Examples(EXAMPLES, inputs=[text])
        with gr.Column(scale=3, min_width=320):
            note = gr.Markdown()
            table = gr.Dataframe(headers=["text", "label", "score"], label="Predictions", interactive=False)
            bars = LazyPlot(
                "Class probabilities, as bars",
                class_probability_bars,
                api_name="sentiment_bars",
                presenter=page.presenter,
            )
            with gr.Accordion("Raw output, as transformers' text-classification pipeline returns it", open=False):
                raw = gr.JSON(show_label=False)
    explorer = AttentionExplorer(
        "Attention of the classifier", api_name="sentiment_attention", presenter=page.presenter, item_label="Text"
    )

    @page.model_run
    def classify(
        text: str,
        bars_open: bool = False,
        fast: bool = False,
        presenter: bool = False,
        progress: gr.Progress = gr.Progress(track_tqdm=True),
        **controls,
    ):
        """Every line of the text goes through the model in one batched forward pass."""
        from services import sentiment  # torch loads with the first request, not at startup

        limits = settings.limits
        lines = split_lines(text, max_items=limits.max_texts, max_chars=limits.max_input_chars)
        predictions = SHARED.call(
            "sentiment",
            sentiment.classify,
            lines,
            model=settings.sentiment_model,
            precision=page.precision(fast),
            max_tokens=limits.max_tokens,
            max_attention_bytes=limits.max_attention_bytes,
            on_load=progress_reporter(progress),
            knock_out=KnockOut(knock_out_heads(controls)),
        )
        classes = list(predictions[0].probabilities)
        names = [short(p.text) for p in predictions]
        return (
            {
                note: TRUNCATED_NOTE if any(p.truncated for p in predictions) else "",
                table: [[p.text, p.label, round(p.score, 4)] for p in predictions],
                raw: [p.as_pipeline_output() for p in predictions],
            }
            | bars.show(
                bars_open,
                presenter=presenter,
                rows=names,
                probabilities={label: [p.probabilities[label] for p in predictions] for label in classes},
                title="Probability of each class",
            )
            | explorer.show([p.attention for p in predictions], names, presenter=presenter, **controls)
        )

    # Not Gradio's batch=True: a batched event writes every visitor's gr.State into one session, so
    # one visitor's explorer would redraw another's text.
    run = {
        "fn": classify,
        "inputs": [text],
        "inputs_kwargs": explorer.kwargs | {"fast": page.fast, "bars_open": bars.opened},
        "outputs": [note, table, *bars.outputs, raw, *explorer.outputs, *explorer.lens_controls.outputs],
    }
    page.run(
        [button.click, text.submit],
        examples,
        answer="sentiment-answer",
        api_name="sentiment",
        progress_on=[table, explorer.plot],
        link=KEY,
        explorers=[explorer],
        **run,
    )
