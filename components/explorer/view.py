"""The explorer's controls, parsed once against a run into one frozen `View`.

Every control a visitor or an API client sets is checked here, with a message that names the
control and what is allowed; the lenses and the shaping code downstream trust a `View` as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from components.explorer import shaping
from services.attention_maps import AttentionMaps
from services.errors import InputError
from services.inputs import as_whole_number, blank, check_heads, echo, heads
from services.recipe import OFFERED, Heads

MODES = {
    "heatmap": "One head (or mean, max)",
    "heads": "Every head of a layer",
    "model": "Model view",
}
HEAD_COMBINATIONS = ("mean", "max")
COLOR_SCALES = {
    "auto": "Auto",  # fit for a mean or max of heads and with special tokens hidden; else 0 to 1
    "fixed": "0 to 1",
    "fit": "Fit to the data",
}
LENS_NAMES = ("attention", *dict.fromkeys(name for names in OFFERED.values() for name in names))
# Lenses whose results a main event also returns as JSON, asked for by a switch of the same name.
REQUESTS = ("attribution", "head_importance", "logit_lens")


@dataclass(frozen=True)
class View:
    """What to draw of one run, checked against it.

    item: which of the run's inputs, from 0. mode: the API's `view` ("heatmap", "heads", "model").
    layer: from 1. head: "mean", "max", or a head number from 1 as a string.
    focus: the query token position in focus; None picks the step's query, or the first plain token.
    step: the decoding step from 1; None when the run has no steps.
    color_scale: "auto", "fixed" (0 to 1) or "fit" (the shown weights' own range).
    lens: how to look at the run (a name in the explorer's LENSES). knock_out: the heads the "Heads to knock
    out" box names, as (layer, head) from 1, checked against the run. requests: the lenses whose results a
    main event returns as JSON (switches named after them).
    """

    item: int = 0
    mode: str = "heatmap"
    layer: int = 1
    head: str = "mean"
    focus: int | None = None
    step: int | None = None
    merge_words: bool = False
    hide_special: bool = False
    head_summaries: bool = False
    presenter: bool = False
    lens: str = "attention"
    color_scale: str = "auto"
    knock_out: Heads = ()
    requests: tuple[str, ...] = ()

    @property
    def switches(self) -> dict[str, bool]:
        return {"merge_words": self.merge_words, "hide_special": self.hide_special}

    def fits_colors(self, *, combined: bool) -> bool:
        """Whether the colour scale fits the data's range. `combined`: the picture is a mean or max of heads.

        Auto fits where 0 to 1 washes out: a mean or max of heads, and rows renormalised without their sinks.
        """
        if self.color_scale != "auto":
            return self.color_scale == "fit"
        return self.hide_special or (combined and self.head in HEAD_COMBINATIONS)


def parse_view(
    controls: Mapping[str, Any],
    runs: Sequence[AttentionMaps],
    *,
    presenter: bool = False,
    item_label: str = "Input",
    lenient: bool = False,
    focus_on_step: bool = False,
) -> View:
    """A View from the controls as Gradio or an API client sends them ("" and None mean the default).

    `lenient`, for a new run: an item, focus or step left over from an earlier run starts from its
    default instead of failing. `focus_on_step`: the slider moved, so the focus follows the step.
    """
    try:
        item = item_index(controls.get("item"), len(runs), label=item_label)
    except InputError:
        if not lenient:
            raise
        item = 0
    maps = runs[item]
    mode = controls.get("view") or "heatmap"
    if not isinstance(mode, str) or mode not in MODES:
        raise InputError(f"View must be one of {', '.join(MODES)}, not {echo(mode)}.")
    view = View(
        item=item,
        mode=mode,
        layer=_layer(controls.get("layer"), maps.num_layers),
        head=_head(controls.get("head"), maps.num_heads),
        merge_words=bool(controls.get("merge_words")),
        hide_special=bool(controls.get("hide_special")),
        head_summaries=bool(controls.get("head_summaries")),
        presenter=bool(presenter),
        color_scale=_color_scale(controls.get("color_scale")),
        lens=_lens(controls.get("lens")),
        knock_out=_knock_out(controls.get("ablate"), maps),
        requests=tuple(name for name in REQUESTS if controls.get(name)),
    )
    try:
        step = _step(controls.get("step"), maps)
        focus = _focus(controls.get("focus"), maps, view)
    except InputError:
        if not lenient:
            raise
        step, focus = _step(None, maps), None
    if focus_on_step and step is not None:
        focus = maps.steps[step - 1].query
    return replace(view, step=step, focus=focus)


def _counted(value: Any, first: int, last: int, *, wanted: str, missing: str) -> int:
    """`value` as a whole number from `first` to `last`. The messages name the control:
    `wanted` ("Layer must be a number from 1 to 6") and `missing` ("Layer {} does not exist; …")."""
    number = as_whole_number(value)
    if number is None:
        raise InputError(f"{wanted}, not {echo(value)}.")
    if not first <= number <= last:
        raise InputError(missing.format(echo(number)))
    return number


def item_index(value: Any, count: int, *, label: str = "Input") -> int:
    """Which of a run's `count` inputs to show, from 0; blank means the first. `label` names the control."""
    if blank(value):
        return 0
    wanted = f"{label} must be a number from 0 to {count - 1}"
    missing = f"{label} {{}} does not exist; this run has {label.lower()}s 0 to {count - 1}."
    return _counted(value, 0, count - 1, wanted=wanted, missing=missing)


def _layer(value: Any, layers: int) -> int:
    """Counted from 1; blank means the last layer."""
    if blank(value):
        return layers
    wanted = f"Layer must be a number from 1 to {layers}"
    return _counted(
        value, 1, layers, wanted=wanted, missing=f"Layer {{}} does not exist; this model has layers 1 to {layers}."
    )


def _head(value: Any, heads: int) -> str:
    """ "mean", "max", or a head number from 1 as a string; blank means "mean"."""
    if blank(value):
        return "mean"
    if isinstance(value, str) and value.strip().lower() in HEAD_COMBINATIONS:
        return value.strip().lower()
    wanted = f"Head must be 'mean', 'max' or a number from 1 to {heads}"
    missing = f"Head {{}} does not exist; this model has heads 1 to {heads}."
    return str(_counted(value, 1, heads, wanted=wanted, missing=missing))


def _color_scale(value: Any) -> str:
    """ "auto", "fixed" or "fit"; blank means "auto"."""
    if blank(value):
        return "auto"
    if isinstance(value, str) and value.strip().lower() in COLOR_SCALES:
        return value.strip().lower()
    raise InputError(f"Colour scale must be one of {', '.join(COLOR_SCALES)}, not {echo(value)}.")


def _lens(value: Any) -> str:
    """A lens name; blank means attention. A lens an input does not offer draws why, in place of its picture."""
    if blank(value):
        return "attention"
    if not isinstance(value, str) or value not in LENS_NAMES:
        raise InputError(f"Lens must be one of {', '.join(LENS_NAMES)}, not {echo(value)}.")
    return value


def _knock_out(value: Any, maps: AttentionMaps) -> Heads:
    """The heads box, checked against the run: its layers and heads are the ones this explorer shows."""
    return check_heads(heads(value), layers=maps.num_layers, heads_per_layer=maps.num_heads)


def _step(value: Any, maps: AttentionMaps) -> int | None:
    """Decoding step counted from 1: the first when blank, None when the run has no steps."""
    if not maps.steps:
        return None
    if blank(value):
        return 1
    last = len(maps.steps)
    wanted = f"Decoding step must be a whole number from 1 to {last}"
    return _counted(value, 1, last, wanted=wanted, missing=f"Step {{}} does not exist; this run has steps 1 to {last}.")


def _focus(value: Any, maps: AttentionMaps, view: View) -> int | None:
    """The query position a focus names: a position ("7", "#7"), or a token or word of the input ("it", "[CLS]")."""
    if blank(value):
        return None
    text = str(value).strip()
    last = len(maps.query) - 1
    digits = text.lstrip("#")
    if digits.isdigit():  # "²" is a digit to isdigit(), not to int(); so are 5,000 digits
        wanted = f"The query token in focus must be a position from 0 to {last} or a token of this input"
        missing = f"Token position {{}} does not exist; this input has positions 0 to {last}."
        number = as_whole_number(digits)
        return _counted(digits if number is not None else text, 0, last, wanted=wanted, missing=missing)
    rows = shaping.groups(maps.query, **view.switches)
    try:
        return rows[shaping.resolve_focus(maps, text, rows)][0]
    except InputError:
        hidden = _special_named(maps, text)
        if hidden is None:
            raise InputError(
                f"{echo(text)} is not a token or word of this input; pick the query token in focus from the list, "
                f"or give a position from 0 to {last}."
            ) from None
        return hidden


def _special_named(maps: AttentionMaps, text: str) -> int | None:
    """The position of the special token written `text` ("[CLS]", "</s>"), if the input has one."""
    wanted = text.casefold()
    query = maps.query
    return next((p for p, token in enumerate(query.tokens) if query.special[p] and token.casefold() == wanted), None)
