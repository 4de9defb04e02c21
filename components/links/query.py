"""A link's query string, parsed once against the tabs' declarations into one frozen `LinkRequest`.

`?tab=translation&text=You+like+this+house&target_language=French&run=1` opens the Translation tab with
its inputs filled and, with `run=1`, runs it. Each problem becomes a message naming the parameter, and
the rest of the link still applies. Values are checked here as far as the control alone can tell (a
number, a choice, a switch); the tab's own handler and the explorer's `parse_view` check the rest when
the tab runs, with the messages its controls give. Torch-free, and free of Gradio events: unit-testable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus, urlencode

from services.errors import InputError
from services.inputs import as_whole_number, echo, real_number

# The explorer's settings a link carries (its API names; a second explorer's are prefixed, e.g. "encoder_").
# The API's lens switches (attribution=True…) return JSON to a client; a link shows the lens instead.
SETTINGS = ("item", "view", "layer", "head", "focus", "step", "merge_words", "hide_special", "color_scale")
SETTINGS += ("lens", "ablate")
SETTING_SWITCHES = ("merge_words", "hide_special")
# The page's own switches, and what a link does.
PAGE = ("presenter", "fast")
ACTIONS = ("tab", "run")
# Parameters Gradio's page reads itself; a link may carry them and they are not ours to judge.
GRADIO_OWN = ("deep_link", "__sign", "__theme", "ui", "write_token")
# A link rides along on every request of its page (Gradio adds the page's query string to each): bounded.
MAX_VALUE_CHARS = 2_000
MAX_LINK_CHARS = 8_000
MAX_PROBLEMS = 6  # toasts shown for one link; the rest are counted in the last
TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


@dataclass(frozen=True)
class Field:
    """One input a link may set, named by its API parameter, and what its control takes.

    kind: "text", "choice" (one of `choices`, (label, value) pairs), "number" (from `minimum` to `maximum`,
    whole when `whole`) or "switch" (1/0, true/false, yes/no, on/off).
    """

    name: str
    kind: str = "text"
    choices: tuple[tuple[str, Any], ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    whole: bool = False


@dataclass(frozen=True)
class TabLinks:
    """What a link may set on one tab: its key (the Tab's id), its name, its main inputs, the prefix of each
    explorer it has ("" for the first), and its main event's API name. A tab with no inputs (Lessons) opens
    and runs nothing."""

    key: str
    name: str
    fields: tuple[Field, ...] = ()
    explorers: tuple[str, ...] = ()
    api_name: str | None = None  # the tab's main event, which a link's run=1 runs

    @property
    def runs(self) -> bool:
        return bool(self.fields)

    @property
    def settings(self) -> tuple[str, ...]:
        return tuple(prefix + name for prefix in self.explorers for name in SETTINGS)

    def takes(self) -> str:
        """The parameters this tab takes, for a message."""
        parts = [", ".join(f.name for f in self.fields)] if self.fields else []
        if self.explorers:
            prefixed = " ".join(f"(and with {p})" for p in self.explorers if p)
            parts.append(f"the explorer's {', '.join(SETTINGS)} {prefixed}".strip())
        parts.append("run" if self.runs else "nothing else")
        return "; ".join(parts)


@dataclass(frozen=True)
class LinkRequest:
    """A link, parsed: the tab to open, its inputs by API name (typed for their controls), the explorer's
    settings by API name (switches as bools, the rest as text for `parse_view`), the page's switches, whether
    to run, and what could not apply (messages naming the parameter)."""

    tab: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    page: dict[str, bool] = field(default_factory=dict)
    run: bool = False
    problems: tuple[str, ...] = ()

    @property
    def shown(self) -> tuple[str, ...]:
        """The problems as toasts: the first few, then a count of the rest."""
        if len(self.problems) <= MAX_PROBLEMS:
            return self.problems
        rest = len(self.problems) - MAX_PROBLEMS + 1
        return (*self.problems[: MAX_PROBLEMS - 1], f"…and {rest} more problems with this link.")


def parse_link(params: Mapping[str, Any], tabs: Sequence[TabLinks]) -> LinkRequest | None:
    """The link in a page's query parameters, or None when the page was opened without one."""
    ours = {str(name): value for name, value in params.items() if name not in GRADIO_OWN}
    if not ours:
        return None
    by_key = {tab.key: tab for tab in tabs}
    problems: list[str] = []
    key = ours.pop("tab", None)
    if key is None or key not in by_key:
        valid = ", ".join(by_key)
        said = "names no tab" if key is None else f"names the tab {echo(key)}, which this app does not have"
        return LinkRequest(problems=(f"This link {said}; give tab= one of: {valid}.",))
    tab = by_key[key]
    run = _switch(ours.pop("run", "0"), "run", problems)
    page = {name: _switch(ours.pop(name), name, problems) for name in PAGE if name in ours}
    page = {name: value for name, value in page.items() if value is not None}
    inputs, settings = {}, {}
    by_name = {f.name: f for f in tab.fields}
    for name, raw in ours.items():
        try:
            value = _text(raw, name)
            if name in by_name:
                inputs[name] = _value(by_name[name], value)
            elif name in tab.settings:
                settings[name] = _setting(name, value)
            else:
                raise InputError(f"The {tab.name} tab takes no parameter {echo(name)}; it takes {tab.takes()}.")
        except InputError as problem:
            problems.append(_named(name, problem))
    if settings and not run:
        problems.append("The explorer's settings in this link apply to a run: add run=1 to the link to see them.")
        settings = {}
    if run and not tab.runs:
        problems.append(f"The {tab.name} tab has nothing to run; run=1 does nothing here.")
    return LinkRequest(
        tab=key, inputs=inputs, settings=settings, page=page, run=bool(run and tab.runs), problems=tuple(problems)
    )


def link_query(tab: TabLinks, inputs: Mapping[str, Any], settings: Mapping[str, Any], *, run: bool = True) -> str:
    """The relative link (`?tab=…`) that opens `tab` with these inputs and explorer settings.

    Raises InputError when a value is too long for a link (it travels with every request of the page).
    """
    pairs: list[tuple[str, str]] = [("tab", tab.key)]
    for name, value in [*inputs.items(), *settings.items()]:
        text = _as_text(value)
        if len(text) > MAX_VALUE_CHARS:
            raise InputError(
                f"The {name} is {len(text):,} characters long; a link carries at most {MAX_VALUE_CHARS:,} of it. "
                "Shorten it to make a link."
            )
        pairs.append((name, text))
    if run and tab.runs:
        pairs.append(("run", "1"))
    query = "?" + urlencode(pairs, quote_via=quote_plus)
    if len(query) > MAX_LINK_CHARS:
        raise InputError(f"This view's link would be {len(query):,} characters; the most is {MAX_LINK_CHARS:,}.")
    return query


def _named(name: str, problem: InputError) -> str:
    return f"In the link, {echo(name)}: {problem}"


def _text(raw: Any, name: str) -> str:
    text = raw if isinstance(raw, str) else str(raw)
    if len(text) > MAX_VALUE_CHARS:
        raise InputError(f"The value is {len(text):,} characters long; a link carries at most {MAX_VALUE_CHARS:,}.")
    return text


def _switch(raw: Any, name: str, problems: list[str]) -> bool | None:
    """1/0, true/false, yes/no, on/off (any case); a problem and None otherwise."""
    try:
        return _truth(_text(raw, name))
    except InputError as problem:
        problems.append(_named(name, problem))
        return None


def _truth(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE or word in FALSE:
        return word in TRUE
    raise InputError(f"A switch is 1 or 0 (also true/false, yes/no, on/off), not {echo(text)}.")


def _value(spec: Field, text: str) -> Any:
    """A link's text as the control takes it, or InputError naming what the control allows."""
    if spec.kind == "switch":
        return _truth(text)
    if spec.kind == "number":
        number = real_number(text, spec.name)
        low = "" if spec.minimum is None else f"{spec.minimum:g}"
        high = "" if spec.maximum is None else f"{spec.maximum:g}"
        if spec.whole and as_whole_number(number) is None:
            raise InputError(f"{spec.name} must be a whole number from {low} to {high}, not {echo(text)}.")
        too_low = spec.minimum is not None and number < spec.minimum
        if too_low or (spec.maximum is not None and number > spec.maximum):
            raise InputError(f"{spec.name} must be from {low} to {high}, not {echo(text)}.")
        return int(number) if spec.whole else number
    if spec.kind == "choice":
        for label, value in spec.choices:
            if text in (label, str(value)):
                return value
        names = ", ".join(str(value) for _, value in spec.choices)
        raise InputError(f"{spec.name} must be one of: {names}; not {echo(text)}.")
    return text


def _setting(name: str, text: str) -> Any:
    """An explorer setting: its switches as bools; the rest stay text, checked against the run by parse_view."""
    if name.endswith(SETTING_SWITCHES):
        return _truth(text)
    return text


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:g}"
    return "" if value is None else str(value)
