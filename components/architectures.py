"""Three architectures, one sentence: the attention tab's switch that runs its text through an encoder,
a decoder and an encoder-decoder, and shows their last layers side by side.

The panels sit in one row that wraps: three across on a wide screen, two and then one (the widest, the
encoder-decoder) at 1366 px. Grey cells are what each model's mask hides (services.architectures).
"""

from __future__ import annotations

import html
import re
from typing import Any

import gradio as gr

from components.explorer.export import plot_payload
from components.explorer.figures import color_range, masked_heatmap
from components.plots import Style, short, style_for
from services.architectures import DECODER, ENCODER, ENCODER_DECODER, Comparison, Failed, Panel, Trio
from services.config import short_name

PANEL_MIN_WIDTH = 480  # px: three panels fit in a row at 1920 px, two (then one) at 1366 px
PANEL_WIDTH = 600  # px: about what a panel gets at either size; its column labels are fitted to it

CAPTION = """**Three architectures, one sentence.** Each panel is one model's **last layer, averaged over
its heads**, over that model's own tokens: rows are the tokens that attend, columns the tokens they attend
to. **Grey cells are hidden by the model's mask**: the row's token may not see the column's.
- **Encoder-decoder:** it translated the text into {language}{translation}, and its decoder reads that
  translation: left of the line, cross-attention over the English source; right of it, self-attention
  over the {language} written so far. Each half's rows sum to 1.
- **Colours:** each panel is fitted to its own weights (its colour bar states the range), so compare the
  shapes and read the values on the bars or by hovering. A row that may see a single token gives it all
  its attention whatever the model learned, so it is left out of the fit and shows at the top colour.
- **Every layer and head** of one of these models: pick it in *Model* above; the explorer below shows it."""


def switch(trio: Trio) -> gr.Checkbox:
    """The switch, named in the API `compare_architectures` (the handler's parameter)."""
    return gr.Checkbox(
        label="Three architectures, one sentence",
        info=(
            f"Also run the text through an encoder ({short_name(trio.encoder)}), a decoder "
            f"({short_name(trio.decoder)}) and an encoder-decoder ({short_name(trio.encoder_decoder)}, "
            f"translating into {trio.target_language}), and show what each token may see."
        ),
        value=False,
    )


class ArchitecturePanels:
    """The caption, and per family a message (when it failed) and a heatmap."""

    def __init__(self) -> None:
        self.caption = gr.Markdown(visible=False, elem_id="architectures-caption")
        self.messages: dict[str, gr.Markdown] = {}
        self.plots: dict[str, gr.Plot] = {}
        with gr.Row(equal_height=False, elem_id="architectures"):
            for family in (ENCODER, DECODER, ENCODER_DECODER):
                with gr.Column(scale=1, min_width=PANEL_MIN_WIDTH):
                    self.messages[family] = gr.Markdown(visible=False)
                    self.plots[family] = gr.Plot(
                        label=f"{family.capitalize()}: last layer", visible=False, elem_id=f"architecture-{family}"
                    )

    @property
    def outputs(self) -> list[Any]:
        return [self.caption, *self.messages.values(), *self.plots.values()]

    def hidden(self) -> dict[Any, Any]:
        """The switch is off: nothing shows."""
        return {component: gr.update(visible=False, value=None) for component in self.outputs}

    def show(self, comparison: Comparison, *, presenter: bool, pair_ignored: bool = False) -> dict[Any, Any]:
        """The panels of `comparison`; `pair_ignored`: a second sentence was given, which the three do not read."""
        style = style_for(presenter)
        values: dict[Any, Any] = {}
        for panel in comparison.panels:
            message, plot = self.messages[panel.family], self.plots[panel.family]
            if isinstance(panel, Failed):
                text = f"**{panel.family.capitalize()}** could not run: {_plain(panel.message)}"
                values |= {message: gr.Markdown(text, visible=True), plot: gr.Plot(value=None, visible=False)}
                continue
            figure = _figure(panel, style)
            values |= {
                message: gr.Markdown(visible=False),
                plot: gr.Plot(plot_payload(figure, filename=f"architecture_{panel.family}"), visible=True),
            }
        values[self.caption] = gr.Markdown(_caption(comparison, pair_ignored), visible=True)
        return values


def _caption(comparison: Comparison, pair_ignored: bool) -> str:
    translated = [p for p in comparison.panels if isinstance(p, Panel) and p.family == ENCODER_DECODER]
    language = translated[0].target_language if translated else "its target language"
    written = _plain(short(translated[0].translation_text, 80)) if translated else ""
    translation = f" (“{written}”)" if translated else ""
    text = CAPTION.format(language=language, translation=translation)
    if comparison.truncated:
        text += "\n\nThe text was longer than one sentence: each model read only its first tokens."
    if pair_ignored:
        text += "\n\nThe three read the first text only; the second sentence is for the explorer's model."
    return text


def _plain(text: str) -> str:
    """`text` shown as typed in Markdown: no tag, link or emphasis from what a model wrote or a visitor typed."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|~])", r"\\\1", html.escape(text, quote=False))


def _scale(panel: Panel) -> dict[str, Any]:
    """The panel's colours fitted to its own weights, as the explorer fits a mean of heads (0 to 1 would
    wash it out). An encoder-decoder's two halves share its one colour bar, each half fitted on its own
    rows (each sums to 1), so a row that sees one target token does not stretch the range."""
    ranges = [color_range(block, fitted=True) for block in _blocks(panel)]
    return {"zmin": min(r["zmin"] for r in ranges), "zmax": max(r["zmax"] for r in ranges), "fitted": True}


def _blocks(panel: Panel) -> list[Any]:
    split = panel.source_columns
    return [panel.matrix[:, :split], panel.matrix[:, split:]] if split else [panel.matrix]


def _figure(panel: Panel, style: Style):
    title = f"{panel.family.capitalize()} · {short_name(panel.model)}: {panel.sees}"
    subtitle = "Last layer, averaged over heads; grey: hidden by the mask."
    halves = None
    if panel.family == ENCODER_DECODER:
        language = panel.target_language
        subtitle = (
            f"The decoder's last layer, heads averaged; rows: the {language} it wrote. Left of the line, "
            f"cross-attention; right, self-attention; grey: masked."
        )
        halves = (panel.source_columns, "English source", f"{language} target")
    return masked_heatmap(
        panel.matrix,
        panel.query.texts,
        panel.key_texts,
        title=title,
        subtitle=subtitle,
        halves=halves,
        style=style,
        width_px=PANEL_WIDTH,
        **_scale(panel),
    )
