"""Text generation tab: a decoder-only model writes on, one token at a time, streamed."""

from __future__ import annotations

import gradio as gr

from components.errors import progress_reporter
from components.explorer import AttentionExplorer
from components.explorer.lens_controls import knock_out_heads
from components.page import Page
from services import inputs
from services.config import Settings
from services.recipe import KnockOut
from services.run_guard import GRACE_SECONDS
from services.shared_results import SHARED, key_of

KEY = "generation"  # the tab's id, and its name in links (?tab=generation)

INTRO = """
**Decoder-only model.** The model predicts the next token from the ones before it, appends it, and
repeats. Its attention is *causal*: a token can only look left, so the heatmap is a triangle.
With sampling off, it always picks the most likely token (greedy decoding) and the text is repeatable.
Its byte-level tokenizer marks a leading space with `Ġ` and a newline with `Ċ`.
Move the **decoding step** slider to replay the generation: which tokens each step attended to, and
the model's next-token probabilities before and after temperature, top-k and top-p.
"""

EXAMPLES = [["So today, I just feel like"], ["The animal didn't cross the street because it was too tired"]]

SEPARATOR = "\n\n――――――――――\n\n"


def build(settings: Settings, page: Page) -> None:
    limits = settings.limits
    defaults = inputs.GenerationOptions()
    gr.Markdown(INTRO)
    with gr.Row(equal_height=False, elem_id="generate-answer"):
        with gr.Column(scale=2, min_width=320):
            prompt = gr.Textbox(label="Prompt", lines=2, value=EXAMPLES[0][0])
            max_new_tokens = gr.Slider(
                1, limits.max_new_tokens, value=defaults.max_new_tokens, step=1, label="max_new_tokens"
            )
            with gr.Accordion("Decoding settings: greedy or sampled", open=False):
                do_sample = gr.Checkbox(label="do_sample: sample instead of greedy decoding", value=defaults.do_sample)
                temperature = gr.Slider(0.05, 2.0, value=defaults.temperature, step=0.05, label="temperature")
                top_p = gr.Slider(0.05, 1.0, value=defaults.top_p, step=0.05, label="top_p")
                top_k = gr.Slider(0, 200, value=defaults.top_k, step=1, label="top_k (0 = off)")
                seed = gr.Number(
                    value=defaults.seed,
                    precision=0,
                    label="seed",
                    info="With a seed, sampling repeats its text; empty: a new draw each time.",
                )
                num_sequences = gr.Slider(1, limits.max_sequences, value=1, step=1, label="number of sequences")
            with gr.Row():
                button = gr.Button("Generate", variant="primary")
                stop = gr.Button("Stop")
        with gr.Column(scale=3, min_width=320):
            examples = gr.Examples(EXAMPLES, inputs=[prompt])
            output = gr.Textbox(label="Generated text", lines=4)
            with gr.Accordion("Raw output, as transformers' text-generation pipeline returns it", open=False):
                raw = gr.JSON(show_label=False)
    explorer = AttentionExplorer(
        "Causal self-attention over prompt + generated tokens",
        api_name="generate_attention",
        presenter=page.presenter,
        item_label="Sequence",
    )

    @page.model_run
    def generate(
        prompt: str,
        max_new_tokens: float,
        do_sample: bool,
        temperature: float,
        top_p: float,
        top_k: float,
        seed: float,
        num_sequences: float = 1,
        fast: bool = False,
        presenter: bool = False,
        progress: gr.Progress = gr.Progress(track_tqdm=True),
        **controls,
    ):
        options = inputs.generation_options(
            max_new_tokens=max_new_tokens,
            do_sample=do_sample,
            temperature=temperature,
            top_p=top_p,
            top_k=top_k,
            seed=seed,
            num_sequences=num_sequences,
            max_tokens_limit=limits.max_new_tokens,
            max_sequences=limits.max_sequences,
        )
        text = inputs.clean_text(prompt, what="prompt", max_chars=limits.max_input_chars)
        from services import generation  # torch loads with the first request, not at startup

        run = {
            "model": settings.generation_model,
            "precision": page.precision(fast),
            "max_seconds": limits.max_run_seconds,
            "max_tokens": limits.max_tokens,
            "knock_out": KnockOut(knock_out_heads(controls)),
        }
        # Greedy, or sampled from a seed: visitors asking the same share one run (services.shared_results);
        # a shared run answers with its final update at once. Waiting for another visitor's identical run
        # is bounded by what that run may take.
        key = key_of("generation", text, options, **run) if options.deterministic else None
        updates = SHARED.stream(
            key,
            lambda: generation.stream(text, options, on_load=progress_reporter(progress), **run),
            keep=lambda update: update.done and not update.out_of_time,
            wait_seconds=limits.max_run_seconds + GRACE_SECONDS,
        )
        for update in updates:
            if update.prompt_truncated and update.done:
                gr.Warning(
                    f"The prompt was cut from the left: with the new tokens it must fit in the model's context "
                    f"and this Space's limit of {limits.max_tokens} tokens."
                )
            if update.out_of_time:
                gr.Warning(f"Generation stopped after {limits.max_run_seconds:.0f} s, this Space's limit per request.")
            if not update.done:
                yield {output: SEPARATOR.join(update.texts)}
                continue
            yield {
                output: SEPARATOR.join(update.texts),
                raw: [{"generated_text": s.generated_text} for s in update.sequences],
            } | explorer.show(
                [s.attention for s in update.sequences],
                [f"Sequence {i + 1}" for i in range(len(update.sequences))],
                presenter=presenter,
                **controls,
            )

    run = {
        "fn": generate,
        "inputs": [prompt, max_new_tokens, do_sample, temperature, top_p, top_k, seed, num_sequences],
        "inputs_kwargs": explorer.kwargs | {"fast": page.fast},
        "outputs": [output, raw, *explorer.outputs, *explorer.lens_controls.outputs],
    }
    events = page.run(
        [button.click, prompt.submit],
        examples,
        answer="generate-answer",
        api_name="generate",
        progress_on=[output, explorer.plot],
        link=KEY,
        explorers=[explorer],
        **run,
    )
    stop.click(None, cancels=events)
