"""The attention explorer every tab shares: one component, for encoder, decoder and encoder-decoder runs.

A tab's main event lists `explorer.kwargs` as keyword inputs and `explorer.outputs` among its
outputs, and merges `explorer.show(...)` into the values it returns by component; changing any
control afterwards redraws from the stored run, without running the model again. Gradio plots
report no clicks, so the token in focus is picked from a dropdown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gradio as gr

from components.errors import user_errors
from components.explorer import head_finder, lenses, replay
from components.explorer.drawn import drawn_view
from components.explorer.export import plot_payload, svg_download_js, write_exports
from components.explorer.inside import TOKEN_HEADERS, inside_markdown, token_rows
from components.explorer.lens_controls import LensControls
from components.explorer.run_store import RUNS, forget_run
from components.explorer.summary_figure import summary_figure
from components.explorer.view import COLOR_SCALES, MODES, View, parse_view
from components.plots import style_for
from services.attention_maps import AttentionMaps

# The explorer's own controls, by API name (the last five are lens_controls.py's); a second explorer prefixes its.
CONTROLS = ("item", "view", "layer", "head", "focus", "step", "merge_words", "hide_special", "head_summaries")
CONTROLS += ("color_scale", "lens", "ablate", "attribution", "head_importance", "logit_lens")
# What a main event returns for the explorer, in the order of the API's outputs (the run key is not sent):
RUN_OUTPUTS = ("item", "layer", "head")  # the run's own choices
VIEW_OUTPUTS = ("focus", "step", "plot", "sentence", "focus_plot", "top_plot", "files")  # what a redraw changes
PANEL_OUTPUTS = ("summary", "inside", "tokens")  # the run's panels
OUTPUTS = (*RUN_OUTPUTS, *VIEW_OUTPUTS, *PANEL_OUTPUTS)

SWITCHES_NOTE = """
**Merge words** joins the pieces of a word: its column is the *sum* over its pieces (the attention the
word gets), its row the *mean* (how an average piece of it attends); rows still sum to 1.
A piece joins the word before it unless it starts one: in BERT's WordPiece a piece starting with `##`
continues a word; in byte-level BPE and SentencePiece a new word starts with `Ġ` or `▁`.
**Hide special tokens** drops `[CLS]`, `[SEP]`, `</s>`, `<s>`… and renormalises each row to sum to 1;
a special token in focus gives way to the nearest token still shown.
Many heads park attention on those tokens when they have nothing useful to attend to: a resting place
(an "attention sink"), not meaning. Colours use Viridis, a scale safe for colour-blind viewers.
**Colour scale**: *Auto* fits the colours to the weights shown for a mean or max of heads and with special
tokens hidden, where 0 to 1 looks uniform, and keeps 0 to 1 for one head so heads compare; the colour
bar states the range.
"""

LINK_LABEL = "Link to this view: it opens this tab, runs it, and shows this view (copy it for a slide)"

Values = dict[Any, Any]  # component -> value, Gradio's way of returning outputs by name


class AttentionExplorer:
    """Views, token focus, word and special-token switches, head summaries, inside facts and export."""

    def __init__(
        self, label: str, *, api_name: str, presenter: gr.Checkbox, item_label: str = "Input", prefix: str = ""
    ) -> None:
        """`prefix` names this explorer's controls apart when a tab has two (e.g. "encoder_")."""
        self.api_name = api_name
        self.prefix = prefix
        self.item_label = item_label
        elem_id = api_name.replace("_", "-")
        self.presenter = presenter
        # The session holds the key of its run; the arrays stay in the server's bounded store.
        self.run_key = gr.State(None, time_to_live=RUNS.time_to_live, delete_callback=forget_run)
        with gr.Group(elem_classes="explorer"):
            with gr.Row(equal_height=True):
                self.view = gr.Radio(
                    [(name, key) for key, name in MODES.items()], value="heatmap", label="View", scale=3
                )
                # Initial values make every control an optional API parameter ("" = the default).
                self.layer = gr.Dropdown(
                    label="Layer", choices=[], value="", allow_custom_value=True, interactive=True, scale=1
                )
                self.head = gr.Dropdown(
                    label="Head", choices=_head_choices(0), value="mean", allow_custom_value=True, scale=1
                )
                self.item = gr.Dropdown(
                    label=item_label, choices=[("", 0)], value=0, visible=False, interactive=True, scale=2
                )
            with gr.Row():
                # What each switch does is in "About the switches", below the plots.
                self.merge_words = gr.Checkbox(label="Merge sub-word pieces into words", value=False)
                self.hide_special = gr.Checkbox(label="Hide special tokens and renormalise rows", value=False)
                # A dropdown as tall as the switches beside it, so the heatmap stays where it was on the page.
                self.color_scale = gr.Dropdown(
                    [(f"Colour scale: {name.lower()}", key) for key, name in COLOR_SCALES.items()],
                    value="auto",
                    label="Colour scale",
                    show_label=False,
                    container=False,
                )
            # Above both sides: the replay moves the heatmap's row and the charts beside it together.
            self.step = replay.build(f"{elem_id}-step")
            with gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=420):
                    self.plot = gr.Plot(label=label, elem_id=elem_id)
                with gr.Column(scale=2, min_width=300):
                    self.lens_controls = LensControls(api_name)  # beside the heatmap: a lens is no lower on the page
                    self.lens, self.ablate, self.attribution, self.head_importance, self.logit_lens = (
                        self.lens_controls.inputs
                    )
                    self.focus = gr.Dropdown(
                        label="Query token in focus", choices=[], value="", allow_custom_value=True, interactive=True
                    )
                    self.sentence = gr.Textbox(label="In one sentence", interactive=False, lines=2)
                    finder = head_finder.build()
                    self.focus_plot = gr.Plot(label="Where the token in focus attends")
                    self.top_plot = gr.Plot(label="Next-token probabilities at this step", visible=False)
            with gr.Row():
                svg = gr.Button("Download the heatmap as SVG", size="sm")
                export = gr.Button("Export this matrix: CSV, JSON and interactive HTML", size="sm")
                self.link_button = gr.Button("Link to this view", size="sm")  # wired by components.links
            svg.click(None, js=svg_download_js(elem_id))
            self.files = gr.File(label="Downloads", file_count="multiple", interactive=False, visible=False)
            self.link = gr.Textbox(
                label=LINK_LABEL, visible=False, interactive=False, buttons=["copy"], elem_classes="view-link"
            )
            with gr.Accordion("About the switches", open=False):
                gr.Markdown(SWITCHES_NOTE)
            with gr.Accordion("Head summaries: every head in one number", open=False) as summaries:
                self.summary = gr.Plot(show_label=False)
                # Drawn only while open: four layers x heads heatmaps cost more than the rest of a run.
                self.head_summaries = gr.Checkbox(label="Head summaries", value=False, visible=False)
            with gr.Accordion("What is inside: tokens, ids, special tokens, mask, architecture", open=False):
                self.inside = gr.Markdown()
                self.tokens = gr.Dataframe(headers=TOKEN_HEADERS, interactive=False, max_height=400)
        self._wire(export, summaries, finder)

    @property
    def kwargs(self) -> dict[str, gr.components.Component]:
        """The controls, as keyword inputs of a tab's main event (their names become API parameters)."""
        return {self.prefix + name: getattr(self, name) for name in CONTROLS} | {"presenter": self.presenter}

    @property
    def outputs(self) -> list[Any]:
        """What a tab's main event lists among its outputs to fill the explorer."""
        return [self.run_key, *self._components(OUTPUTS)]

    def _components(self, names: Sequence[str]) -> list[Any]:
        return [getattr(self, name) for name in names]

    def _by_component(self, values: Mapping[str, Any]) -> Values:
        return {getattr(self, name): value for name, value in values.items()}

    def show(
        self, runs: Sequence[AttentionMaps], names: Sequence[str] | None = None, *, presenter: bool, **controls: Any
    ) -> Values:
        """The explorer's values after a new model run; the controls keep what the visitor chose.

        `controls` may hold every explorer's values of a tab (prefixed); this one takes its own.
        """
        runs = list(runs)
        names = list(names) if names else [run.title for run in runs]
        view = self._parse(self._mine(controls), runs, presenter=presenter, lenient=True)
        maps = runs[view.item]
        values = {
            "item": gr.Dropdown(
                choices=[(name, i) for i, name in enumerate(names)], value=view.item, visible=len(runs) > 1
            ),
            "layer": gr.Dropdown(choices=[(f"Layer {n}", n) for n in range(1, maps.num_layers + 1)], value=view.layer),
            "head": gr.Dropdown(choices=_head_choices(maps.num_heads), value=view.head),
        }
        # The lens in view is computed (left of `|`) before it is drawn (right of it).
        return {self.run_key: RUNS.put(runs), **self.lens_controls.show(runs, view)} | self._by_component(
            values | self._view_values(maps, view) | self._panels(maps, view)
        )

    def _mine(self, controls: Mapping[str, Any]) -> dict[str, Any]:
        """This explorer's control values under their plain names (a tab's event passes all its explorers')."""
        return {name: controls[self.prefix + name] for name in CONTROLS if self.prefix + name in controls}

    def _parse(self, controls: Mapping[str, Any], runs: Sequence[AttentionMaps], **options: Any) -> View:
        return parse_view(controls, runs, item_label=self.item_label, **options)

    def _view_values(self, maps: AttentionMaps, view: View) -> dict[str, Any]:
        """What a redraw changes, by output name."""
        drawn = drawn_view(maps, view, stem=self.api_name)
        steps = len(maps.steps)
        slider = {"minimum": 1, "maximum": max(steps, 2), "visible": steps > 1}
        return {
            "focus": gr.Dropdown(choices=drawn.focus_choices, value=drawn.focus),
            "step": gr.Slider(**slider) if drawn.step is None else gr.Slider(value=drawn.step, **slider),
            "plot": drawn.main,
            "sentence": drawn.sentence,
            "focus_plot": drawn.focus_figure,
            "top_plot": gr.Plot(value=drawn.top_figure, visible=True)
            if drawn.top_figure is not None
            else gr.Plot(value=None, visible=False),
            "files": gr.File(value=None, visible=False),  # an earlier export no longer matches the view
        }

    def _panels(self, maps: AttentionMaps, view: View) -> dict[str, Any]:
        return {"summary": self._summary(maps, view), "inside": inside_markdown(maps), "tokens": token_rows(maps)}

    def _summary(self, maps: AttentionMaps, view: View) -> Any:
        if not view.head_summaries:
            return gr.skip()
        figure = summary_figure(maps, style=style_for(view.presenter))
        return plot_payload(figure, filename=f"{self.api_name}_heads")

    def _stored(self, key: str | None, controls: Mapping[str, Any], presenter: bool, **options: Any):
        """The run in view, from the key the session holds, and the controls parsed against it."""
        runs = RUNS.get(key)
        view = self._parse(self._mine(controls), runs, presenter=presenter, **options)
        return runs[view.item], view

    def _wire(self, export: gr.Button, summaries: gr.Accordion, finder: gr.Dropdown) -> None:
        def redraw(key, presenter=False, **controls) -> Values:
            return self._by_component(self._view_values(*self._stored(key, controls, presenter)))

        def change_item(key, presenter=False, **controls) -> Values:
            controls = controls | {self.prefix + "focus": None, self.prefix + "step": None}
            maps, view = self._stored(key, controls, presenter)
            return self._by_component(self._view_values(maps, view) | self._panels(maps, view))

        def move_step(key, presenter=False, **controls) -> Values:
            return self._by_component(self._view_values(*self._stored(key, controls, presenter, focus_on_step=True)))

        def restyle(key, presenter=False, **controls) -> Values:
            """Presenter mode switched: redraw every figure of a run, or nothing before the first run."""
            if not key:
                return {self.plot: gr.skip()}
            maps, view = self._stored(key, controls, presenter)
            return self._by_component(self._view_values(maps, view) | self._panels(maps, view))

        def open_summaries(key, presenter=False, **controls) -> Values:
            if not key:
                return {self.head_summaries: True}
            maps, view = self._stored(key, controls | {self.prefix + "head_summaries": True}, presenter)
            return {self.head_summaries: True, self.summary: self._summary(maps, view)}

        def export_files(key, presenter=False, **controls) -> Values:
            maps, view = self._stored(key, controls, presenter)
            drawing = lenses.draw(maps, view)
            info = {"title": maps.title, "lens": view.lens, "layer": view.layer, "head": view.head, "view": view.mode}
            info |= {"merge_words": view.merge_words, "hide_special": view.hide_special}
            stem = f"{self.api_name}_layer{view.layer}"
            paths = write_exports(
                drawing.main, drawing.matrix, drawing.row_labels, drawing.col_labels, stem=stem, info=info
            )
            return {self.files: gr.File(value=paths, visible=True)}

        redrawn = self._components(VIEW_OUTPUTS)
        whole = self._components((*VIEW_OUTPUTS, *PANEL_OUTPUTS))
        controls = [self.view.input, self.layer.input, self.head.input, self.focus.input]
        controls += [self.merge_words.input, self.hide_special.input, self.color_scale.input]
        # Unprocessed: Gradio's own check of a choice quotes the whole value back and names no control;
        # `parse_view` checks every control itself, with a short message.
        common = {"inputs": [self.run_key], "inputs_kwargs": self.kwargs, "preprocess": False}
        gr.on(controls, user_errors(redraw), outputs=redrawn, api_name=self.api_name, **common)
        head_finder.wire(self, finder, common, redrawn)
        self.presenter.input(user_errors(restyle), outputs=whole, api_visibility="private", **common)
        self.item.input(user_errors(change_item), outputs=whole, api_name=f"{self.api_name}_item", **common)
        # Released, or moved by the arrow keys or the number box: only the last of a quick series redraws.
        self.step.release(user_errors(move_step), outputs=redrawn, api_name=f"{self.api_name}_step", **common)
        self.step.input(
            user_errors(move_step), outputs=redrawn, api_visibility="private", trigger_mode="always_last", **common
        )
        export.click(user_errors(export_files), outputs=self.files, api_name=f"{self.api_name}_export", **common)
        summaries.expand(
            user_errors(open_summaries),
            outputs=[self.head_summaries, self.summary],
            api_name=f"{self.api_name}_summaries",
            **common,
        )
        summaries.collapse(None, outputs=self.head_summaries, js="() => false")
        self.lens_controls.wire(self, redrawn)


def _head_choices(heads: int) -> list[tuple[str, str]]:
    """The head dropdown's choices; before a run (no heads yet) only the combinations."""
    return [("mean of heads", "mean"), ("max of heads", "max")] + [(f"Head {n}", str(n)) for n in range(1, heads + 1)]
