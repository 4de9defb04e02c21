"""A plot in a closed accordion, drawn only while the accordion is open.

A run sends what is on screen. A closed panel's figure is not built then: the run keeps the figure's
arguments (a few numbers) in the session, and the figure is built when the visitor opens the panel, or
on every run while it stays open. Building a Plotly figure costs about as much as a small model's
forward pass on 2 vCPU, so a closed panel drawn on every run made the answer slower for nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from components.errors import user_errors
from components.plots import style_for
from components.session_state import KEEP

NOTHING_YET = "Run the tab first: this panel shows the last run."


class LazyPlot:
    """An accordion holding one gr.Plot, built by `draw(style=..., **arguments)` only while open."""

    def __init__(self, label: str, draw: Callable[..., Any], *, api_name: str, presenter: gr.Checkbox) -> None:
        self.draw = draw
        with gr.Accordion(label, open=False) as self.accordion:
            self.plot = gr.Plot(show_label=False)
        self.arguments = gr.State(None, delete_callback=KEEP)  # the last run's arguments of `draw`; None before a run
        self.opened = gr.State(False, delete_callback=KEEP)  # whether the visitor has the accordion open
        self.accordion.expand(
            user_errors(self._open),
            inputs=[self.arguments, presenter],
            outputs=[self.opened, self.plot],
            api_name=api_name,
        )
        self.accordion.collapse(lambda: False, outputs=self.opened, api_visibility="private", queue=False)

    @property
    def outputs(self) -> list[Any]:
        """What a run event lists among its outputs."""
        return [self.arguments, self.plot]

    def show(self, opened: bool, *, presenter: bool, **arguments: Any) -> dict[Any, Any]:
        """A run's values: its arguments, and the figure when the panel is open (else nothing is drawn)."""
        figure = self.draw(style=style_for(presenter), **arguments) if opened else None
        return {self.arguments: arguments, self.plot: figure}

    def _open(self, arguments: dict[str, Any] | None, presenter: bool = False) -> tuple[bool, Any]:
        if arguments is None:
            gr.Info(NOTHING_YET)
            return True, None
        return True, self.draw(style=style_for(presenter), **arguments)
