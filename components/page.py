"""The page around the tabs: its header, the three architectures at a glance, and the page-wide switches.

Presenter mode scales the whole page for a projector: a class on the document that page.css reads
(labels, help text, controls, the sentence), and the presenter style of every figure.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from components import fair_use
from components.links import Links
from services.config import Settings

INTRO = """
# Transformers Playground
Real Hugging Face models, and **inside them**: every tab shows the attention of the very run that answered.
Rows are the tokens that attend (queries), columns the tokens they attend to (keys).
When many people press at once, each request waits its turn: the answer shows your place in the queue
(`queue: 3/12`) and, once the Space has timed a request like yours, the seconds so far of those it expects
(`4.0/15.2s`).
"""


def _mask(kind: str) -> str:
    """A 5x5 picture of which tokens each token may see (rows look at columns)."""
    cells = []
    for row in range(5):
        for col in range(5):
            if kind == "encoder":
                seen = True
            elif kind == "decoder":
                seen = col <= row
            else:  # encoder-decoder: the 2 source columns always, then the target's left
                seen = col < 2 or col - 2 <= row
            cells.append(f'<i class="{"on" if seen else "off"}"></i>')
    return f'<span class="mask" aria-hidden="true">{"".join(cells)}</span>'


ARCHITECTURES = f"""
<div class="architectures">
  <div>{_mask("encoder")}<p><b>Encoder-only</b> (BERT, DistilBERT): every token sees
  <b>all</b> the others, left and right. Good at reading: sentiment, the attention tab.</p></div>
  <div>{_mask("decoder")}<p><b>Decoder-only</b> (SmolLM2, GPT): each token sees only the tokens
  <b>to its left</b>. Good at writing: text generation.</p></div>
  <div>{_mask("encoder-decoder")}<p><b>Encoder-decoder</b> (BART, Marian): the decoder sees
  <b>the whole source plus its own left</b>. Translation, and zero-shot NLI.</p></div>
</div>
"""

SCROLL_JS = "() => { document.getElementById(%s)?.scrollIntoView({behavior: 'smooth', block: 'start'}); }"
# Runs in the browser when presenter mode is switched: the class scales the page's own text (page.css).
# A lesson's link then carries presenter=1, so a projector stays in presenter mode from step to step.
PRESENTER_JS = """(on) => {
  document.documentElement.classList.toggle('presenter', !!on);
  if (window.playgroundLessonLinks) return;
  window.playgroundLessonLinks = true;
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a.lesson-link');
    if (!link) return;
    const url = new URL(link.getAttribute('href'), window.location.href);
    if (document.documentElement.classList.contains('presenter')) url.searchParams.set('presenter', '1');
    else url.searchParams.delete('presenter');
    link.setAttribute('href', url.pathname + url.search);
  }, true);
}"""
CSS = (Path(__file__).parent / "page.css").read_text(encoding="utf-8")
# What app.py passes to launch(): in Gradio 6 the page's CSS belongs to launch, not to Blocks.
LAUNCH_OPTIONS: dict[str, Any] = {"css": CSS}


@dataclass(frozen=True)
class Page:
    """The page's switches, and how model events share the CPU."""

    settings: Settings
    presenter: gr.Checkbox
    fast: gr.Checkbox
    links: Links = field(init=False)  # the tabs a link may open (components.links)

    def __post_init__(self) -> None:
        object.__setattr__(self, "links", Links(self))

    @classmethod
    def build(cls, settings: Settings) -> Page:
        gr.Markdown(INTRO, elem_classes="intro")
        with gr.Row(equal_height=True):
            gr.HTML(ARCHITECTURES, elem_classes="architectures-strip", scale=4)
            with gr.Column(scale=1, min_width=220, elem_classes="switches"):
                presenter = gr.Checkbox(label="Presenter mode: large text for a projector", value=False)
                fast = gr.Checkbox(
                    label="Fast mode: bf16 or int8 weights",
                    info="About twice as fast on a CPU; scores and attention move slightly.",
                    value=settings.fast_by_default,
                )
        presenter.change(None, inputs=presenter, js=PRESENTER_JS)
        return cls(settings=settings, presenter=presenter, fast=fast)

    @property
    def model_event(self) -> dict[str, Any]:
        """Options for an event that runs a model: `concurrent_runs` of them at once, taking turns on the
        `workers` (services.turns).

        Unprocessed, the values reach the app's own checks, which name the control and cut a long
        value; Gradio's choice and range checks echo the value whole and do not say which control.
        """
        runs = max(self.settings.concurrent_runs, self.settings.workers)
        return {"concurrency_id": "models", "concurrency_limit": runs, "preprocess": False}

    def model_run(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """A tab's model handler, holding the worker for at most the time limit of one request and stopping
        when cancelled; its failures become messages (see components.fair_use)."""
        return fair_use.model_run(fn, seconds=self.settings.limits.max_run_seconds)

    def precision(self, fast: Any) -> str:
        return self.settings.fast_precision if fast else "fp32"

    def run(
        self,
        triggers: list[Any],
        examples: gr.Examples,
        *,
        answer: str,
        api_name: str,
        progress_on: list[Any],
        link: str,
        explorers: Sequence[Any] = (),
        **event: Any,
    ) -> list[Any]:
        """The tab's model event on `triggers` (in the API as `api_name`), on a click of an example, and on a
        link that opens tab `link` with run=1 (its inputs by their API names; `explorers`' settings restored).

        While it waits and runs, Gradio's status (the place in the queue and the estimate, then the
        progress) shows on `progress_on`, the answer and its heatmap, where the visitor looks; not once
        on each of the explorer's many outputs. When an answer comes, the page scrolls the tab's answer
        (elem_id `answer`) to the top of the window: the heatmap sits right below it, so the answer and
        its picture share one screen.
        """
        scroll = SCROLL_JS % json.dumps(answer)
        model_event = self.model_event | {"show_progress": "full", "show_progress_on": progress_on}
        events = [
            gr.on(triggers, **event, **model_event, api_name=api_name),
            examples.load_input_event.then(**event, **model_event, api_visibility="private"),
            self.links.declare(link, event, explorers, model_event, api_name=api_name),
        ]
        for ran in events:
            ran.success(None, js=scroll)
        return events
