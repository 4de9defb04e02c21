"""The explorer's lens controls: a lens chooser, the heads to knock out, the API's lens switches, and their JSON.

A lens that runs the model again computes only when asked: on the tab's own run (the lens in view, and
the lenses its switches ask for), or on an event of its own when the visitor picks it afterwards,
reading the stored run's recipe. That event shares the tabs' "models" slots, so a lens never runs
beside more model runs than the Space allows; redraws only draw what was computed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import gradio as gr

from components.explorer.lens_store import LENS_RESULTS, Declined
from components.explorer.lenses import LENSES
from components.explorer.view import REQUESTS, View
from components.fair_use import model_run
from services.attention_maps import AttentionMaps
from services.errors import InputError
from services.inputs import KNOCK_OUT, heads
from services.recipe import offered

if TYPE_CHECKING:
    from components.explorer.widget import AttentionExplorer

# The JSON outputs a main event adds at the end of its outputs, by lens: asked for by the switch of the
# same name, and for a knock-out by naming heads to knock out.
JSON_OUTPUTS = ("attribution", "knock_out", "head_importance", "logit_lens")
INTRO = "Beside attention, three lenses test the answer itself. Each is computed when you choose it."
# The lenses beside attention that each explorer's runs offer, by the explorer's API name. The attention
# tab's runs have no answer to explain: it offers none, and shows no lens controls.
OFFERED_BY_EXPLORER = {
    "sentiment_attention": offered("sentiment"),
    "zero_shot_attention": offered("zero_shot"),
    "generate_attention": offered("generation"),
    "translate_cross_attention": offered("translation", "cross"),
    "translate_encoder_attention": offered("translation"),
}


class LensControls:
    """The lens row of one explorer, and the lens JSON its tab's main event returns."""

    def __init__(self, api_name: str) -> None:
        """The lens row of the explorer named `api_name`, offering its runs' lenses (none hides it)."""
        lenses = OFFERED_BY_EXPLORER.get(api_name, ())
        self.visible = visible = bool(lenses)
        with gr.Row(equal_height=True, visible=visible):
            choices = [(LENSES[name].label, name) for name in ("attention", *lenses)]
            self.lens = gr.Dropdown(choices, value="attention", label="Lens", interactive=True, scale=3)
            self.ablate = gr.Textbox(
                value="",  # an initial value makes it an optional API parameter
                label=KNOCK_OUT,
                placeholder="e.g. 1.3, 2.1, then Enter",  # the next run of the model runs without them too
                scale=2,
            )
        with gr.Accordion("What each lens can and cannot tell", open=False, visible=visible):
            gr.Markdown("\n\n".join([INTRO, *(LENSES[name].note for name in ("attention", *lenses))]))
        # Switches for API clients (`attribution=True`…): the lens results of every answer, as JSON.
        self.switches = [gr.Checkbox(value=False, visible=False, label=name) for name in REQUESTS]
        self.json = {name: gr.JSON(visible=False, label=f"{name} (JSON)") for name in JSON_OUTPUTS}

    @property
    def inputs(self) -> tuple[Any, ...]:
        """The lens chooser, the heads box, and the switches, in the order of CONTROLS' lens names."""
        return (self.lens, self.ablate, *self.switches)

    @property
    def outputs(self) -> list[Any]:
        return [self.json[name] for name in JSON_OUTPUTS]

    def show(self, runs: Sequence[AttentionMaps], view: View) -> dict[Any, Any]:
        """After a model run: the lens in view computed for the input in view, and the JSON the switches ask for."""
        if not self.visible:  # no answer to explain, and no lens outputs among the tab's
            if view.requests or view.knock_out:
                raise InputError("This tab shows attention only: it has no answer for a lens to explain.")
            return {}
        compute(runs[view.item], view)
        answers = [maps for maps in runs if maps.recipe is not None]
        values = {}
        for name in JSON_OUTPUTS:
            asked = name in view.requests or (name == "knock_out" and bool(view.knock_out))
            values[self.json[name]] = as_json(answers, name, view) if asked else None
        return values

    def wire(self, explorer: AttentionExplorer, drawn: list[Any]) -> None:
        """The lens event: compute the lens the visitor picked (or the knock-out named) for the stored run;
        `drawn`: the explorer's outputs that a redraw changes."""

        def look(key, presenter=False, progress=gr.Progress(track_tqdm=True), **controls):
            maps, view = explorer._stored(key, controls, presenter)
            lens = LENSES[view.lens]
            if lens.name != "attention" and (maps.recipe is None or lens.name not in maps.recipe.lenses):
                raise InputError(f"{lens.label.split(':')[0]} is not offered here. {lens.unavailable}")
            compute(maps, view)
            return explorer._by_component(explorer._view_values(maps, view))

        def knock_out(key, presenter=False, progress=gr.Progress(track_tqdm=True), **controls):
            controls = controls | {explorer.prefix + "lens": "knock_out"}
            return look(key, presenter, progress, **controls) | {self.lens: "knock_out"}

        def follow(key, presenter=False, progress=gr.Progress(track_tqdm=True), **controls):
            """Another input in view: its result of the lens in view, where the lens reads it."""
            if not key or (controls.get(explorer.prefix + "lens") or "attention") == "attention":
                return gr.skip()  # an empty dict is no value for the event's seven outputs
            controls = controls | {explorer.prefix + "focus": None, explorer.prefix + "step": None}
            maps, view = explorer._stored(key, controls, presenter)
            compute(maps, view)
            return explorer._by_component(explorer._view_values(maps, view))

        # The tabs' model slots: concurrency_limit None takes the group's own (the tabs set it to `workers`).
        common = {"inputs": [explorer.run_key], "inputs_kwargs": explorer.kwargs, "preprocess": False}
        common |= {"concurrency_id": "models", "concurrency_limit": None}
        self.lens.input(_lens_run(look), outputs=drawn, api_name=f"{explorer.api_name}_lens", **common)
        self.ablate.submit(_lens_run(knock_out), outputs=[*drawn, self.lens], api_visibility="private", **common)
        # A new input in view: the lens in view, for it (the explorer's own redraw shows the run meanwhile).
        # Minimal progress: with attention in view it waits for a model slot only to do nothing.
        explorer.item.input(
            _lens_run(follow), outputs=drawn, api_visibility="private", show_progress="minimal", **common
        )


def _lens_run(fn):
    """A lens handler runs the model like a tab's: under a guard of the lens's time limit, taking turns on
    the CPU, and stopping when cancelled (components.fair_use)."""
    return model_run(fn, seconds=lambda: LENS_RESULTS.limits.max_lens_seconds)


def compute(maps: AttentionMaps, view: View, name: str | None = None) -> Any:
    """Lens `name` (default: the view's) for this input, from the store or computed now; None when there is
    nothing to compute (attention, or an input the lens does not read). A failure is kept as `Declined`."""
    lens = LENSES[name or view.lens]
    if lens.name == "attention" or maps.recipe is None or lens.name not in maps.recipe.lenses:
        return None
    if lens.name == "knock_out" and not view.knock_out:
        return None
    return LENS_RESULTS.compute(maps, lens.name, lens.key(view), lambda: lens.compute(maps, view, LENS_RESULTS.limits))


def as_json(answers: Sequence[AttentionMaps], name: str, view: View) -> Any:
    """Lens `name` of every answer, as JSON: a list for sentiment (one per text) or several answers, else one.

    Asked for by an API client, a lens the run does not offer, or one over budget, is an error, not a silence.
    """
    lens = LENSES[name]
    found = []
    for maps in answers:
        if name not in maps.recipe.lenses:
            raise InputError(lens.unavailable)
        result = compute(maps, view, name)
        if isinstance(result, Declined):
            raise InputError(result.message)
        found.append(result.as_json())
    if not found:
        raise InputError(lens.unavailable)
    listed = len(found) > 1 or answers[0].recipe.task == "sentiment"
    return found if listed else found[0]


def knock_out_heads(controls: dict[str, Any], prefix: str = "") -> tuple[tuple[int, int], ...]:
    """The heads an explorer's box names, for a tab's model run (checked against the model as it loads)."""
    return heads(controls.get(prefix + "ablate"))
