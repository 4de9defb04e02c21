"""What a lens hands the explorer: one `Drawing` of a run for a `View`, and the `Lens` shape itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import plotly.graph_objects as go

from components.explorer.view import View
from services.attention_maps import AttentionMaps


@dataclass(frozen=True)
class Drawing:
    """Everything the explorer shows for one view of a run."""

    focus_choices: list[tuple[str, str]]
    focus: str
    step: int | None
    main: go.Figure
    matrix: np.ndarray  # [rows, cols]: the whole matrix behind `main`, unwindowed
    row_labels: tuple[str, ...]
    col_labels: tuple[str, ...]
    focus_figure: go.Figure
    sentence: str
    top_figure: go.Figure | None


class Lens(Protocol):
    """A way of looking at a run. A lens that runs the model again computes only when asked (`compute`, on a
    model event, its result kept by key for the run); `draw` draws what was computed, and never runs a model."""

    name: str  # the View's `lens` value
    label: str  # what a visitor reads
    note: str  # what the lens can and cannot tell, in the UI

    def key(self, view: View) -> tuple: ...  # what a result depends on beyond the run (a knock-out's heads)

    def compute(self, maps: AttentionMaps, view: View, limits: Any) -> Any: ...  # None: nothing to compute

    def draw(self, maps: AttentionMaps, view: View) -> Drawing: ...
