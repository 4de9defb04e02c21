"""Zero-shot tab: an NLI model judges 'premise entails hypothesis' for every candidate label."""

from __future__ import annotations

import gradio as gr

from components.errors import progress_reporter, warn_truncated
from components.explorer import AttentionExplorer
from components.explorer.lens_controls import knock_out_heads
from components.lazy_plot import LazyPlot
from components.page import Page
from components.plots import class_probability_bars, score_bars, short, style_for
from services import inputs
from services.config import Settings
from services.recipe import KnockOut
from services.shared_results import SHARED

KEY = "zero_shot"  # the tab's id, and its name in links (?tab=zero_shot)

INTRO = """
**Classification with labels you choose.** The model was trained for natural language inference:
does a *premise* entail a *hypothesis*? Each label becomes a hypothesis such as
"This example is politics.", and the entailment probability becomes that label's score.
Below the scores: what the NLI model thought of each pair (entailment, neutral, contradiction), and
its attention, for the whole pair of the winning label or from each label's hypothesis to the premise.
"""

EXAMPLES = [
    ["History isn't really a fun class", "education, politics, business", False, inputs.DEFAULT_TEMPLATE],
    ["I love food so much.", "cooking, sports, emotions", True, inputs.DEFAULT_TEMPLATE],
]


def build(settings: Settings, page: Page) -> None:
    gr.Markdown(INTRO)
    first = EXAMPLES[0]
    with gr.Row(equal_height=False, elem_id="zero-shot-answer"):
        with gr.Column(scale=2, min_width=320):
            text = gr.Textbox(label="Text", lines=2, value=first[0])
            labels = gr.Textbox(label="Candidate labels, comma-separated", value=first[1])
            with gr.Row():
                multi_label = gr.Checkbox(label="Multi-label: score each label on its own", value=first[2])
                template = gr.Textbox(label="Hypothesis template ({} is the label)", value=first[3])
            button = gr.Button("Classify", variant="primary")
            examples = gr.Examples(
                EXAMPLES,
                inputs=[text, labels, multi_label, template],
                example_labels=[f"{e[0]} → {e[1]}" + (" (multi-label)" if e[2] else "") for e in EXAMPLES],
            )
        with gr.Column(scale=3, min_width=320):
            note = gr.Markdown()
            bars = gr.Plot(label="Score of each label")
            nli = LazyPlot(
                "What the NLI model thought of each pair: entailment, neutral, contradiction",
                class_probability_bars,
                api_name="zero_shot_nli",
                presenter=page.presenter,
            )
            with gr.Accordion("Raw output, as transformers' zero-shot-classification pipeline returns it", open=False):
                raw = gr.JSON(show_label=False)
    explorer = AttentionExplorer(
        "Attention over premise and hypothesis",
        api_name="zero_shot_attention",
        presenter=page.presenter,
        item_label="Pair",
    )

    @page.model_run
    def classify(
        text: str,
        labels: str,
        multi_label: bool,
        hypothesis_template: str,
        nli_open: bool = False,
        fast: bool = False,
        presenter: bool = False,
        progress: gr.Progress = gr.Progress(track_tqdm=True),
        **controls,
    ):
        limits = settings.limits
        from services import zero_shot  # torch loads with the first request, not at startup

        result = SHARED.call(
            "zero_shot",
            zero_shot.classify,
            inputs.clean_text(text, max_chars=limits.max_input_chars),
            inputs.parse_labels(labels, max_labels=limits.max_labels, max_chars=limits.max_label_chars),
            model=settings.zero_shot_model,
            multi_label=bool(multi_label),
            hypothesis_template=inputs.check_template(hypothesis_template, max_chars=limits.max_template_chars),
            precision=page.precision(fast),
            max_tokens=limits.max_tokens,
            max_attention_bytes=limits.max_attention_bytes,
            on_load=progress_reporter(progress),
            knock_out=KnockOut(knock_out_heads(controls)),
        )
        title = "Each label on its own (multi-label)" if result.multi_label else "Labels compete (scores sum to 1)"
        classes = list(result.nli[0])
        style = style_for(presenter)
        runs = [result.attention, *result.label_attention]
        names = [f"Whole pair of the winning label '{result.labels[0]}'"]
        names += [f"'{label}': hypothesis → premise" for label in result.labels]
        return (
            {
                note: warn_truncated(result.truncated),
                bars: score_bars(result.labels, result.scores, title=title, style=style),
                raw: result.as_pipeline_output(),
            }
            | nli.show(
                nli_open,
                presenter=presenter,
                rows=[short(label) for label in result.labels],
                probabilities={name: [probs[name] for probs in result.nli] for name in classes},
                title="Each label's hypothesis: entailment, neutral or contradiction?",
            )
            | explorer.show(runs, names, presenter=presenter, **controls)
        )

    run = {
        "fn": classify,
        "inputs": [text, labels, multi_label, template],
        "inputs_kwargs": explorer.kwargs | {"fast": page.fast, "nli_open": nli.opened},
        "outputs": [note, bars, *nli.outputs, raw, *explorer.outputs, *explorer.lens_controls.outputs],
    }
    triggers = [button.click, text.submit, labels.submit]
    page.run(
        triggers,
        examples,
        answer="zero-shot-answer",
        api_name="zero_shot",
        progress_on=[bars, explorer.plot],
        link=KEY,
        explorers=[explorer],
        **run,
    )
