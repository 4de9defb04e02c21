"""The lenses the explorer draws a run through, by name, like transformers' SUPPORTED_TASKS.

A lens turns one run's `AttentionMaps` and a parsed `View` into a `Drawing` (components/explorer/
drawing.py): the main figure, the matrix behind it (for export), the focus bars and sentence, and the
step's candidates. Adding a lens is one module in this package with a `LENS` object, plus its entry
in `LENSES` below.
"""

from __future__ import annotations

from components.explorer.drawing import Drawing, Lens
from components.explorer.lenses import attention, attribution, head_importance, knock_out, logit_lens
from components.explorer.view import View
from services.attention_maps import AttentionMaps

LENSES: dict[str, Lens] = {
    lens.name: lens
    for lens in (attention.LENS, attribution.LENS, knock_out.LENS, head_importance.LENS, logit_lens.LENS)
}


def draw(maps: AttentionMaps, view: View) -> Drawing:
    """`view` of `maps`, through the lens the view names."""
    return LENSES[view.lens].draw(maps, view)
