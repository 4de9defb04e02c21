"""The attention explorer every tab shares: one component, for encoder, decoder and encoder-decoder runs.

A tab's main event lists `explorer.kwargs` as keyword inputs and returns `explorer.show(...)` for
`explorer.outputs`; changing any control afterwards redraws from the stored run, without running
the model again. Gradio plots report no clicks, so the token in focus is picked from a dropdown.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import gradio as gr

from components import explorer_draw as ed
from components.errors import user_errors
from components.export import plot_payload, svg_download_js, write_exports
from components.inside import TOKEN_HEADERS, inside_markdown, token_rows
from components.plots import style_for
from components.run_store import RUNS, forget_run
from services.errors import InputError

if TYPE_CHECKING:
    from services.attention_maps import AttentionMaps

# The explorer's own controls, by API name; a tab with two explorers prefixes the second's.
CONTROLS = ("item", "view", "layer", "head", "focus", "step", "merge_words", "hide_special", "head_summaries")

SWITCHES_NOTE = """
**Merge words** joins the pieces of a word: its column is the *sum* over its pieces (the attention the
word gets), its row the *mean* (how an average piece of it attends); rows still sum to 1.
A piece joins the word before it unless it starts one: in BERT's WordPiece a piece starting with `##`
continues a word; in byte-level BPE and SentencePiece a new word starts with `Ġ` or `▁`.
**Hide special tokens** drops `[CLS]`, `[SEP]`, `</s>`, `<s>`… and renormalises each row to sum to 1;
a special token in focus gives way to the nearest token still shown.
Many heads park attention on those tokens when they have nothing useful to attend to: a resting place
(an "attention sink"), not meaning. Colours use Viridis, a scale safe for colour-blind viewers.
"""


class AttentionExplorer:
    """Views, token focus, word and special-token switches, head summaries, inside facts and export."""

    def __init__(
        self,
        label: str,
        *,
        api_name: str,
        presenter: gr.Checkbox,
        item_label: str = "Input",
        prefix: str = "",
    ) -> None:
        """`prefix` names this explorer's controls apart when a tab has two (e.g. "encoder_")."""
        self.api_name = api_name
        self.prefix = prefix
        self.item_label = item_label
        elem_id = api_name.replace("_", "-")
        self.presenter = presenter
        # The session holds the key of its run; the arrays stay in the server's bounded store.
        self.run_key = gr.State(None, time_to_live=RUNS.time_to_live, delete_callback=forget_run)
        with gr.Group():
            with gr.Row():
                # Initial values make every control an optional API parameter ("" = the default).
                self.item = gr.Dropdown(label=item_label, choices=[("", 0)], value=0, visible=False, interactive=True)
                self.view = gr.Radio([(name, key) for key, name in ed.VIEWS.items()], value="heatmap", label="View")
                self.layer = gr.Dropdown(label="Layer", choices=[], value="", allow_custom_value=True, interactive=True)
                self.head = gr.Dropdown(
                    label="Head", choices=[], value="mean", allow_custom_value=True, interactive=True
                )
            with gr.Row():
                self.merge_words = gr.Checkbox(
                    label="Merge sub-word pieces into words",
                    info="A word's column sums its pieces; its row averages them.",
                    value=False,
                )
                self.hide_special = gr.Checkbox(
                    label="Hide special tokens and renormalise rows",
                    info="Heads with nothing to do park attention on [CLS], [SEP] or </s>: a sink, not meaning.",
                    value=False,
                )
            svg = gr.Button("SVG", size="sm", render=False)
            self.plot = gr.Plot(label=label, elem_id=elem_id, buttons=[svg])
            svg.click(None, js=svg_download_js(elem_id))
            with gr.Row():
                self.focus = gr.Dropdown(
                    label="Query token in focus", choices=[], value="", allow_custom_value=True, interactive=True
                )
                self.step = gr.Slider(1, 2, value=1, step=1, label="Decoding step", visible=False, interactive=True)
            self.sentence = gr.Textbox(label="In one sentence", interactive=False, lines=1)
            self.focus_plot = gr.Plot(label="Where the token in focus attends")
            self.top_plot = gr.Plot(label="Next-token probabilities at this step", visible=False)
            with gr.Accordion("About the switches", open=False):
                gr.Markdown(SWITCHES_NOTE)
            with gr.Accordion("Head summaries: every head in one number", open=False) as summaries:
                self.summary = gr.Plot(show_label=False)
                # Drawn only while open: four layers x heads heatmaps cost more than the rest of a run.
                self.head_summaries = gr.Checkbox(label="Head summaries", value=False, visible=False)
            with gr.Accordion("What is inside: tokens, ids, special tokens, mask, architecture", open=False):
                self.inside = gr.Markdown()
                self.tokens = gr.Dataframe(headers=TOKEN_HEADERS, interactive=False, max_height=400)
            with gr.Row():
                export = gr.Button("Export this matrix: CSV, JSON and interactive HTML", size="sm")
            self.files = gr.File(label="Downloads", file_count="multiple", interactive=False, visible=False)
        self._wire(export, summaries)

    @property
    def kwargs(self) -> dict[str, gr.components.Component]:
        """The controls, as keyword inputs of a tab's main event (their names become API parameters)."""
        return {self.prefix + name: getattr(self, name) for name in CONTROLS} | {"presenter": self.presenter}

    @property
    def _view_outputs(self) -> list[Any]:
        return [self.focus, self.step, self.plot, self.sentence, self.focus_plot, self.top_plot, self.files]

    @property
    def outputs(self) -> list[Any]:
        """What a tab's main event lists among its outputs to fill the explorer."""
        return [
            self.run_key,
            self.item,
            self.layer,
            self.head,
            *self._view_outputs,
            self.summary,
            self.inside,
            self.tokens,
        ]

    def show(self, runs: Sequence[AttentionMaps], names: Sequence[str] | None = None, **view: Any) -> list[Any]:
        """Values for `outputs` after a new model run; the controls keep what the visitor chose."""
        view = self._unprefixed(view)
        runs = list(runs)
        names = list(names) if names else [run.title for run in runs]
        try:
            item = ed.item_index(view.get("item"), len(runs), label=self.item_label)
        except InputError:  # left over from a run with more inputs: start this one from its first
            item = 0
        maps = runs[item]
        settings = ed.settings_from(view)
        try:
            drawing = ed.draw(maps, settings)
        except InputError:
            if settings.focus is None and settings.step is None:
                raise
            # A focus or step left over from an earlier input: start this one from its default.
            drawing = ed.draw(maps, ed.settings_from(view, focus=None, step=None))
        return [
            RUNS.put(runs),
            gr.Dropdown(choices=[(name, i) for i, name in enumerate(names)], value=item, visible=len(runs) > 1),
            gr.Dropdown(choices=[(f"Layer {n}", n) for n in range(1, maps.num_layers + 1)], value=drawing.layer),
            gr.Dropdown(choices=_head_choices(maps.num_heads), value=drawing.head),
            *self._view_values(maps, drawing),
            *self._run_values(maps, view),
        ]

    def _unprefixed(self, view: dict[str, Any]) -> dict[str, Any]:
        """This explorer's control values under their plain names (a tab's event passes all its explorers')."""
        mine = {name: view.get(self.prefix + name) for name in CONTROLS if self.prefix + name in view}
        return mine | {"presenter": view.get("presenter")}

    def empty(self) -> list[Any]:
        """Values for `outputs` that leave the explorer as it was (while a run streams)."""
        return [gr.skip()] * len(self.outputs)

    def _view_values(self, maps: AttentionMaps, drawing: ed.Drawing) -> list[Any]:
        stem = self.api_name
        steps = len(maps.steps)
        return [
            gr.Dropdown(choices=drawing.focus_choices, value=drawing.focus),
            gr.Slider(minimum=1, maximum=max(steps, 2), visible=steps > 1)
            if drawing.step is None
            else gr.Slider(minimum=1, maximum=max(steps, 2), value=drawing.step, visible=steps > 1),
            plot_payload(drawing.main, filename=stem),
            drawing.sentence,
            plot_payload(drawing.focus_figure, filename=f"{stem}_focus"),
            gr.Plot(value=plot_payload(drawing.top_figure, filename=f"{stem}_step"), visible=True)
            if drawing.top_figure is not None
            else gr.Plot(value=None, visible=False),
            gr.File(value=None, visible=False),  # an earlier export no longer matches the view
        ]

    def _run_values(self, maps: AttentionMaps, view: dict[str, Any]) -> list[Any]:
        return [self._summary(maps, view), inside_markdown(maps), token_rows(maps)]

    def _summary(self, maps: AttentionMaps, view: dict[str, Any]) -> Any:
        if not view.get("head_summaries"):
            return gr.skip()
        figure = ed.summary_figure(maps, style=style_for(bool(view.get("presenter"))))
        return plot_payload(figure, filename=f"{self.api_name}_heads")

    def _current(self, key: str | None, view: dict[str, Any]) -> AttentionMaps:
        """The run in view, from the key the session holds."""
        runs = RUNS.get(key)
        return runs[ed.item_index(view.get("item"), len(runs), label=self.item_label)]

    def _wire(self, export: gr.Button, summaries: gr.Accordion) -> None:
        def open_summaries(key, **view):
            view = self._unprefixed(view) | {"head_summaries": True}
            return [True, self._summary(self._current(key, view), view) if key else gr.skip()]

        def redrawn(key, view: dict[str, Any], *, whole_run: bool = False, **overrides: Any) -> list[Any]:
            """The view's values (and with `whole_run`, the run's panels too) for the stored run."""
            view = self._unprefixed(view)
            maps = self._current(key, view)
            drawing = ed.draw(maps, ed.settings_from(view, **overrides))
            return [*self._view_values(maps, drawing), *(self._run_values(maps, view) if whole_run else [])]

        def redraw(key, **view):
            return redrawn(key, view)

        def change_item(key, **view):
            return redrawn(key, view, whole_run=True, focus=None, step=None)

        def move_step(key, **view):
            mine = self._unprefixed(view)
            return redrawn(key, view, focus=ed.step_focus(self._current(key, mine), mine.get("step")))

        def restyle(key, **view):
            """Presenter mode switched: redraw every figure of a run, or nothing before the first run."""
            if not key:
                return [gr.skip()] * (len(self._view_outputs) + 3)
            return redrawn(key, view, whole_run=True)

        def export_files(key, **view):
            view = self._unprefixed(view)
            maps, settings = self._current(key, view), ed.settings_from(view)
            drawing = ed.draw(maps, settings)
            info = {"title": maps.title, "layer": drawing.layer, "head": drawing.head}
            info |= {"view": settings.view, "merge_words": settings.merge_words, "hide_special": settings.hide_special}
            stem = f"{self.api_name}_layer{drawing.layer}"
            paths = write_exports(
                drawing.main, drawing.matrix, drawing.row_labels, drawing.col_labels, stem=stem, info=info
            )
            return gr.File(value=paths, visible=True)

        controls = [self.view.input, self.layer.input, self.head.input, self.focus.input]
        controls += [self.merge_words.input, self.hide_special.input]
        # Unprocessed: Gradio's own check of a choice quotes the whole value back and names no control;
        # `draw` checks every control itself, with a short message.
        common = {"inputs": [self.run_key], "inputs_kwargs": self.kwargs, "preprocess": False}
        gr.on(controls, user_errors(redraw), outputs=self._view_outputs, api_name=self.api_name, **common)
        self.presenter.input(
            user_errors(restyle),
            outputs=[*self._view_outputs, self.summary, self.inside, self.tokens],
            api_visibility="private",
            **common,
        )
        self.item.input(
            user_errors(change_item),
            outputs=[*self._view_outputs, self.summary, self.inside, self.tokens],
            api_name=f"{self.api_name}_item",
            **common,
        )
        self.step.release(
            user_errors(move_step), outputs=self._view_outputs, api_name=f"{self.api_name}_step", **common
        )
        export.click(user_errors(export_files), outputs=self.files, api_name=f"{self.api_name}_export", **common)
        summaries.expand(
            user_errors(open_summaries),
            outputs=[self.head_summaries, self.summary],
            api_name=f"{self.api_name}_summaries",
            **common,
        )
        summaries.collapse(None, outputs=self.head_summaries, js="() => false")


def _head_choices(heads: int) -> list[tuple[str, str]]:
    return [("mean of heads", "mean"), ("max of heads", "max")] + [(f"Head {n}", str(n)) for n in range(1, heads + 1)]
