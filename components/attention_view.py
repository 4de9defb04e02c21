"""The attention view every tab shares: layer and head pickers over a heatmap of one model run.

A tab's main event returns `AttentionView.show(...)`; changing the layer, head or input then
redraws from the stored result, without running the model again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import gradio as gr

from components.errors import user_errors
from components.plots import attention_heatmap, head_grid

if TYPE_CHECKING:
    from services.attention_maps import AttentionMaps

MEAN = "mean"
STATE_SECONDS = 30 * 60  # forget a visitor's attention arrays after half an hour


class AttentionView:
    """Pickers (input, layer, head) and a heatmap; optionally a grid of every head of the layer."""

    def __init__(self, label: str, *, api_name: str, grid: bool = False, item_label: str = "Input") -> None:
        self.runs = gr.State(None, time_to_live=STATE_SECONDS)
        with gr.Group():
            with gr.Row():
                self.item = gr.Dropdown(label=item_label, choices=[], visible=False, interactive=True)
                self.layer = gr.Dropdown(label="Layer", choices=[], interactive=True)
                self.head = gr.Dropdown(label="Head", choices=[("mean of heads", MEAN)], value=MEAN, interactive=True)
            self.plot = gr.Plot(label=label)
            self.grid = gr.Plot(label="Every head of this layer") if grid else None
        gr.on(
            [self.item.input, self.layer.input, self.head.input],
            user_errors(self.figures),
            inputs=[self.runs, self.item, self.layer, self.head],
            outputs=self.plots,
            api_name=api_name,
        )

    @property
    def plots(self) -> list[gr.Plot]:
        return [self.plot, self.grid] if self.grid is not None else [self.plot]

    @property
    def outputs(self) -> list[Any]:
        """What a tab's main event must list among its outputs to fill this view."""
        return [self.runs, self.item, self.layer, self.head, *self.plots]

    def show(self, runs: Sequence[AttentionMaps], names: Sequence[str] | None = None) -> list[Any]:
        """Values for `outputs`: the default view is the last layer with the heads averaged."""
        runs = list(runs)
        first = runs[0]
        names = list(names) if names else [run.title for run in runs]
        item = gr.Dropdown(choices=[(name, i) for i, name in enumerate(names)], value=0, visible=len(runs) > 1)
        layer = gr.Dropdown(choices=[(f"Layer {n}", n) for n in range(1, first.num_layers + 1)], value=first.num_layers)
        head = gr.Dropdown(
            choices=[("mean of heads", MEAN)] + [(f"Head {n}", str(n)) for n in range(1, first.num_heads + 1)],
            value=MEAN,
        )
        return [runs, item, layer, head, *self._draw(runs[0], first.num_layers, MEAN)]

    def empty(self) -> list[Any]:
        """Values for `outputs` that leave the view as it was."""
        return [gr.skip()] * len(self.outputs)

    def figures(self, runs: Sequence[AttentionMaps] | None, item: int | None, layer: int | None, head: str | None):
        """Redraw the chosen input, layer and head from the stored runs."""
        if not runs:
            raise gr.Error("Run the model first; then pick a layer and head.")
        maps = runs[int(item or 0)]
        figures = self._draw(maps, int(layer or maps.num_layers), head or MEAN)
        return figures[0] if len(figures) == 1 else tuple(figures)

    def _draw(self, maps: AttentionMaps, layer: int, head: str) -> list[Any]:
        which = "mean of heads" if head == MEAN else f"head {head}"
        figures = [
            attention_heatmap(
                maps.matrix(layer, head),
                maps.query_tokens,
                maps.key_tokens,
                title=f"{maps.title}: layer {layer}, {which}",
            )
        ]
        if self.grid is not None:
            figures.append(
                head_grid(
                    maps.weights[layer - 1], maps.query_tokens, maps.key_tokens, title=f"Layer {layer}: every head"
                )
            )
        return figures
