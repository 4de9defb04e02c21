"""Page-wide switches every tab reads: presenter mode and fast mode."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from components import fair_use
from services.config import Settings


@dataclass(frozen=True)
class Page:
    """The page's switches, and how model events share the CPU."""

    settings: Settings
    presenter: gr.Checkbox
    fast: gr.Checkbox

    @classmethod
    def build(cls, settings: Settings) -> Page:
        with gr.Row():
            presenter = gr.Checkbox(label="Presenter mode: large fonts and thick lines for a projector", value=False)
            fast = gr.Checkbox(
                label="Fast mode: bf16 or int8 weights",
                info="About twice as fast on a CPU; scores and attention can move slightly. "
                "What is shown is still the model that answered.",
                value=settings.fast_by_default,
            )
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
