"""Translation tab: an encoder-decoder model, with the alignment its cross-attention draws."""

from __future__ import annotations

import gradio as gr

from components.errors import progress_reporter, warn_truncated
from components.explorer import AttentionExplorer
from components.explorer.lens_controls import knock_out_heads
from components.page import Page
from services import inputs
from services.config import Settings
from services.recipe import KnockOut
from services.shared_results import SHARED

KEY = "translation"  # the tab's id, and its name in links (?tab=translation)

INTRO = """
**Encoder-decoder model.** The encoder reads the English sentence (self-attention, both directions);
the decoder writes the translation token by token, and its **cross-attention** looks back at the
English tokens: each row of that heatmap is a target token, each column a source token, so it reads
like a word alignment. Turn on **Merge words** to align words rather than pieces, and move the
**decoding step** slider to follow the decoder one token at a time.
A language's model loads the first time you choose it.
"""


def build(settings: Settings, page: Page) -> None:
    languages = list(settings.translation_models)
    examples = [["You like this house", languages[0]], ["I am a student", languages[-1]]]
    gr.Markdown(INTRO)
    with gr.Row(equal_height=False, elem_id="translate-answer"):
        with gr.Column(scale=2, min_width=320):
            text = gr.Textbox(label="English text", lines=2, value=examples[0][0])
            language = gr.Dropdown(choices=languages, value=languages[0], label="Target language")
            num_beams = gr.Slider(
                1,
                settings.limits.max_beams,
                value=1,
                step=1,
                label="num_beams",
                info="1 = greedy: the most likely token at each step. More beams keep several candidates; slower.",
            )
            button = gr.Button("Translate", variant="primary")
        with gr.Column(scale=3, min_width=320):
            example_list = gr.Examples(
                examples, inputs=[text, language], example_labels=[f"{e[0]} → {e[1]}" for e in examples]
            )
            note = gr.Markdown()
            output = gr.Textbox(label="Translation", lines=2)
            with gr.Accordion("Raw output, as transformers' (former) translation pipeline returned it", open=False):
                raw = gr.JSON(show_label=False)
    cross = AttentionExplorer(
        "Cross-attention: target tokens × source tokens", api_name="translate_cross_attention", presenter=page.presenter
    )
    with gr.Accordion("The encoder reading the English source: its self-attention", open=False):
        encoder = AttentionExplorer(
            "Encoder self-attention over the source",
            api_name="translate_encoder_attention",
            presenter=page.presenter,
            prefix="encoder_",
        )

    @page.model_run
    def translate(
        text: str,
        target_language: str,
        num_beams: float = 1,
        fast: bool = False,
        presenter: bool = False,
        progress: gr.Progress = gr.Progress(track_tqdm=True),
        **controls,
    ):
        limits = settings.limits
        from services import translation  # torch loads with the first request, not at startup

        result = SHARED.call(
            "translation",
            translation.translate,
            inputs.clean_text(text, max_chars=limits.max_input_chars),
            target_language,
            models=settings.translation_models,
            num_beams=inputs.beams(num_beams, max_beams=limits.max_beams),
            max_new_tokens=limits.max_translation_tokens,
            precision=page.precision(fast),
            max_tokens=limits.max_tokens,
            on_load=progress_reporter(progress),
            knock_out=KnockOut(attention=knock_out_heads(controls, "encoder_"), cross=knock_out_heads(controls)),
        )
        return (
            {note: warn_truncated(result.truncated), output: result.translation_text, raw: result.as_pipeline_output()}
            | cross.show([result.cross_attention], presenter=presenter, **controls)
            | encoder.show([result.encoder_attention], presenter=presenter, **controls)
        )

    run = {
        "fn": translate,
        "inputs": [text, language, num_beams],
        "inputs_kwargs": cross.kwargs | encoder.kwargs | {"fast": page.fast},
        "outputs": [
            note,
            output,
            raw,
            *cross.outputs,
            *encoder.outputs,
            *cross.lens_controls.outputs,
            *encoder.lens_controls.outputs,
        ],
    }
    page.run(
        [button.click, text.submit],
        example_list,
        answer="translate-answer",
        api_name="translate",
        progress_on=[output, cross.plot],
        link=KEY,
        explorers=[cross, encoder],
        **run,
    )
