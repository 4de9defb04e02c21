"""Sentiment tab: an encoder-only classifier reads each line and votes POSITIVE or NEGATIVE."""

from __future__ import annotations

import functools
import html
import logging

import gradio as gr

from components.errors import TRUNCATED_NOTE, UNEXPECTED, progress_reporter, user_errors
from components.explorer import AttentionExplorer
from components.page import Page
from components.plots import class_probability_bars, short, style_for
from services.config import Settings
from services.errors import PlaygroundError
from services.text import split_lines

logger = logging.getLogger(__name__)

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
    with gr.Row():
        with gr.Column():
            text = gr.Textbox(label="Texts, one per line", lines=4, placeholder="I love food so much.")
            button = gr.Button("Classify", variant="primary")
            gr.Examples(EXAMPLES, inputs=[text])
        with gr.Column():
            note = gr.Markdown()
            table = gr.Dataframe(headers=["text", "label", "score"], label="Predictions", interactive=False)
            bars = gr.Plot(label="Class probabilities")
            raw = gr.JSON(label="Raw output, as transformers' text-classification pipeline returns it")
    explorer = AttentionExplorer(
        "Attention of the classifier", api_name="sentiment_attention", presenter=page.presenter, item_label="Text"
    )

    outputs = [note, table, bars, raw, *explorer.outputs]

    def outputs_for(predictions: list, view: dict) -> list:
        """One request's outputs, from its share of the batch's predictions."""
        labels = list(predictions[0].probabilities)
        bars_figure = class_probability_bars(
            [short(p.text) for p in predictions],
            {label: [p.probabilities[label] for p in predictions] for label in labels},
            title="Probability of each class",
            style=style_for(bool(view.get("presenter"))),
        )
        return [
            TRUNCATED_NOTE if any(p.truncated for p in predictions) else "",
            [[p.text, p.label, round(p.score, 4)] for p in predictions],
            bars_figure,
            [p.as_pipeline_output() for p in predictions],
            *explorer.show([p.attention for p in predictions], [short(p.text) for p in predictions], **view),
        ]

    def lines(text: str) -> list[str]:
        return split_lines(text, max_items=settings.limits.max_texts, max_chars=settings.limits.max_input_chars)

    def failed(error: Exception, *, alone: bool) -> list:
        """One request's outputs when it failed: its own message, the rest left as they were.

        A request alone in its batch raises instead: a plain error message, as without batching.
        """
        if alone:
            raise error
        if isinstance(error, PlaygroundError):
            message = str(error)
        else:
            logger.error("Unexpected error in one request of a sentiment batch", exc_info=error)
            message = UNEXPECTED
        return [f"**{html.escape(message, quote=False)}**", *[gr.skip()] * (len(outputs) - 1)]

    def predict(texts: list[str], precision: str, progress: gr.Progress) -> list:
        from services import sentiment  # torch loads with the first request, not at startup

        limits = settings.limits
        return sentiment.classify(
            texts,
            model=settings.sentiment_model,
            precision=precision,
            max_tokens=limits.max_tokens,
            max_attention_bytes=limits.max_attention_bytes,
            on_load=progress_reporter(progress),
        )

    @user_errors
    def classify(text: list, progress: gr.Progress = gr.Progress(track_tqdm=True), **view: list):
        """Gradio batches concurrent visitors: their lines go through the model in one forward pass."""
        requests = [{name: values[i] for name, values in view.items()} for i in range(len(text))]
        alone = len(text) == 1
        results: dict[int, list] = {}
        parsed: dict[int, list[str]] = {}
        for i, item in enumerate(text):
            try:
                parsed[i] = lines(None if item is None else str(item))  # as the Textbox's preprocessing would
            except Exception as error:  # one visitor's bad text must not fail the others
                results[i] = failed(error, alone=alone)
        by_precision: dict[str, list[int]] = {}
        for i in parsed:
            by_precision.setdefault(page.precision(requests[i].get("fast")), []).append(i)
        for precision, members in by_precision.items():
            predictions = predict([line for i in members for line in parsed[i]], precision, progress)
            for i in members:
                share, predictions = predictions[: len(parsed[i])], predictions[len(parsed[i]) :]
                try:
                    results[i] = outputs_for(share, requests[i])
                except Exception as error:  # nor one visitor's explorer settings
                    results[i] = failed(error, alone=alone)
        return [list(column) for column in zip(*(results[i] for i in range(len(text))), strict=True)]

    @user_errors
    def check(text: str) -> None:
        """Checked per visitor before batching, so a bad input gets its own error message."""
        lines(text)

    @functools.wraps(classify)
    def classify_one(text: str, progress: gr.Progress = gr.Progress(track_tqdm=True), **view):
        """The same, one request at a time (PLAYGROUND_SENTIMENT_BATCH=1)."""
        columns = classify([text], progress, **{name: [value] for name, value in view.items()})
        return [column[0] for column in columns]

    batched = settings.sentiment_batch > 1
    # Queued, with no limit: Gradio 6.31 shows no toast for a gr.Error raised in an event with queue=False.
    checked = gr.on([button.click, text.submit], check, inputs=[text], concurrency_limit=None, api_visibility="private")
    checked.success(
        classify if batched else classify_one,
        inputs=[text],
        inputs_kwargs=explorer.kwargs | {"fast": page.fast},
        **page.model_event,
        outputs=outputs,
        api_name="sentiment",
        batch=batched,
        max_batch_size=settings.sentiment_batch,
        # Gradio checks a batch's choices together and fails it whole on one visitor's "bogus" view;
        # unprocessed, each visitor's values reach `classify`, whose explorer checks them one by one.
        preprocess=False,
    )
