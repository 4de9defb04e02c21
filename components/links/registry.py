"""The tabs a link may open, each declared by its tab's main event, and the page load that opens one.

A tab joins by naming its key where it wires its run: `page.run(..., link="translation", explorers=(...))`
(components.page). Its inputs are then known by their API parameter names, read from the event itself,
so a link and the API always agree. Opening a page with a link is Gradio's own `demo.load` with
`gr.Request.query_params`: the load selects the tab (`gr.Tabs(selected=…)`), fills its inputs and, with
`run=1`, changes a `gr.State` whose change runs the tab's event; once the run has answered, its explorer
settings are applied to it through the explorer's own parsing. Nothing is stored on the server.
"""

from __future__ import annotations

import dataclasses
import html
import inspect
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gradio as gr

from components.errors import user_errors
from components.explorer.lens_controls import compute
from components.explorer.run_store import RUNS
from components.explorer.widget import LINK_LABEL, PANEL_OUTPUTS, VIEW_OUTPUTS
from components.fair_use import model_run
from components.links.query import SETTINGS, Field, TabLinks, link_query, parse_link
from components.links.restore import restore_view, view_settings
from components.session_state import KEEP
from services.inputs import heads_text

if TYPE_CHECKING:
    from components.explorer import AttentionExplorer
    from components.page import Page

# Runs in the browser once the server made a link: the query string, as a whole URL of this very page.
ABSOLUTE_JS = "(query) => query ? new URL(query, window.location.href).href : query"


@dataclass
class _Declared:
    """One tab's link: what parsing needs, and the components the load fills."""

    links: TabLinks
    inputs: dict[str, Any]  # component by API parameter name
    explorers: Sequence[AttentionExplorer]
    trigger: gr.State  # changed by a link's load: runs the tab
    pending: gr.State  # the link's explorer settings, applied once the run has answered


class Links:
    """Every tab's link, and the load that opens one (app.py wires it after the tabs are built)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.declared: dict[str, _Declared] = {}
        self.known: list[TabLinks] = []  # every tab a link may open, once the page is wired

    def declare(
        self,
        key: str,
        run: dict[str, Any],
        explorers: Sequence[AttentionExplorer],
        event: dict[str, Any],
        *,
        api_name: str,
    ) -> Any:
        """Tab `key` may be opened by a link; `run`: its main event (`api_name`): fn, inputs, inputs_kwargs and
        outputs; `event`: the model-event options. Returns the event a link's run=1 starts (for the page)."""
        inputs = main_inputs(run, explorers, page_switches=(self.page.presenter, self.page.fast))
        fields = tuple(field_for(name, component) for name, component in inputs.items())
        prefixes = tuple(e.prefix for e in explorers)
        links = TabLinks(key=key, name=key, fields=fields, explorers=prefixes, api_name=api_name)
        # Rendered by `wire`, outside the tabs: in Gradio 6.31 a State inside a tab fires its change event when
        # the tab is first shown, which would run every tab a visitor opens.
        trigger, pending = (gr.State(value, render=False, delete_callback=KEEP) for value in (0, None))
        self.declared[key] = _Declared(links, inputs, explorers, trigger, pending)
        ran = trigger.change(**run, **event, api_visibility="private")
        if explorers:
            self._restore_after(ran, self.declared[key], event)
        self._link_buttons(self.declared[key])
        return ran

    def tabs_for(self, names: dict[str, str]) -> list[TabLinks]:
        """Every tab by key (`names`: key -> name as the page shows it); a tab that declared nothing takes no
        parameters."""
        found = []
        for key, name in names.items():
            declared = self.declared.get(key)
            links = declared.links if declared else TabLinks(key=key, name=name)
            found.append(dataclasses.replace(links, name=name))
        return found

    def wire(self, demo: gr.Blocks, tabs: gr.Tabs, names: dict[str, str]) -> None:
        """The page load that opens a link: a plain visit costs one quick call that changes nothing."""
        self.known = known = self.tabs_for(names)
        for declared in self.declared.values():
            declared.links = next(tab for tab in known if tab.key == declared.links.key)
        page = self.page
        for declared in self.declared.values():
            declared.trigger.render()
            declared.pending.render()

        def open_link(request: gr.Request) -> dict[Any, Any]:
            link = parse_link(dict(getattr(request, "query_params", {}) or {}), known)
            if link is None:
                return gr.skip()
            for message in link.shown:
                gr.Warning(html.escape(message, quote=False))
            if link.tab is None:
                return gr.skip()
            values: dict[Any, Any] = {tabs: gr.Tabs(selected=link.tab)}
            values |= {getattr(page, name): value for name, value in link.page.items()}
            declared = self.declared.get(link.tab)
            if declared is None:
                return values
            values |= {declared.inputs[name]: value for name, value in link.inputs.items()}
            if link.run:
                values |= {declared.pending: link.settings, declared.trigger: time.time_ns()}
            return values

        outputs: list[Any] = [tabs, page.presenter, page.fast]
        for declared in self.declared.values():
            outputs += [*declared.inputs.values(), declared.trigger, declared.pending]
        # Every visit calls it, so it never waits behind another visitor's (it only parses, in microseconds).
        demo.load(
            user_errors(open_link),
            outputs=outputs,
            api_visibility="private",
            show_progress="hidden",
            concurrency_limit=None,
        )

    def _restore_after(self, ran: Any, declared: _Declared, event: dict[str, Any]) -> None:
        """Once the link's run has answered: its explorer settings, each parsed as its control would be.

        A lens the settings name is computed here, so this shares the model slots, under a lens's time limit.
        """
        explorers = declared.explorers

        def restore(pending, presenter, *keys):
            values: dict[Any, Any] = {}
            pending = pending or {}
            for explorer, key in zip(explorers, keys, strict=True):
                mine = {name: pending[explorer.prefix + name] for name in SETTINGS if explorer.prefix + name in pending}
                if mine and key:
                    values |= _restored(explorer, RUNS.get(key), mine, presenter=bool(presenter))
            return values or gr.skip()

        from components.explorer.lens_store import LENS_RESULTS

        outputs = [component for explorer in explorers for component in restored_outputs(explorer)]
        ran.success(
            model_run(restore, seconds=lambda: LENS_RESULTS.limits.max_lens_seconds),
            inputs=[declared.pending, self.page.presenter, *(e.run_key for e in explorers)],
            outputs=outputs,
            api_visibility="private",
            preprocess=False,
            concurrency_id=event["concurrency_id"],
            concurrency_limit=None,
        )

    def _link_buttons(self, declared: _Declared) -> None:
        """Each explorer's "Link to this view" (or one at the tab's foot, for a tab with no explorer)."""
        explorers = declared.explorers

        def make_link(*keys, presenter=False, fast=False, **values):
            settings: dict[str, str] = {}
            for explorer, key in zip(explorers, keys, strict=True):
                if key:
                    runs = RUNS.get(key)
                    view = explorer._parse(explorer._mine(values), runs, presenter=presenter)
                    found = view_settings(view, runs[view.item], item_label=explorer.item_label)
                    settings |= {explorer.prefix + name: value for name, value in found.items()}
            switches = {name: True for name, on in (("presenter", presenter), ("fast", fast)) if on}
            inputs = {name: values[name] for name in declared.inputs}
            return gr.Textbox(value=link_query(declared.links, inputs, settings | switches), visible=True)

        kwargs = dict(declared.inputs) | {"presenter": self.page.presenter, "fast": self.page.fast}
        for explorer in explorers:
            kwargs |= explorer.kwargs
        places = [(e.link_button, e.link) for e in explorers]
        if not places:
            with gr.Row():
                places.append(
                    (
                        gr.Button("Link to this view", size="sm"),
                        gr.Textbox(label=LINK_LABEL, visible=False, buttons=["copy"], elem_classes="view-link"),
                    )
                )
        for button, box in places:
            button.click(
                user_errors(make_link),
                inputs=[e.run_key for e in explorers],
                inputs_kwargs=kwargs,
                outputs=box,
                api_visibility="private",
                preprocess=False,
            ).success(None, inputs=box, outputs=box, js=ABSOLUTE_JS)


def _restored(explorer: AttentionExplorer, runs: Sequence[Any], settings: dict[str, Any], *, presenter: bool):
    """The explorer's controls and drawing after applying `settings` (plain names) to its stored run."""
    view, problems = restore_view(
        settings, runs, prefix=explorer.prefix, presenter=presenter, item_label=explorer.item_label
    )
    for message in problems:
        gr.Warning(html.escape(message, quote=False))
    maps = runs[view.item]
    compute(maps, view)  # the lens in view, when it runs the model
    controls = {
        explorer.item: view.item,
        explorer.view: view.mode,
        explorer.layer: view.layer,
        explorer.head: view.head,
        explorer.merge_words: view.merge_words,
        explorer.hide_special: view.hide_special,
        explorer.color_scale: view.color_scale,
        explorer.lens: view.lens,
        explorer.ablate: heads_text(view.knock_out),
    }
    return controls | explorer._by_component(explorer._view_values(maps, view) | explorer._panels(maps, view))


def restored_outputs(explorer: AttentionExplorer) -> list[Any]:
    controls = [explorer.item, explorer.view, explorer.layer, explorer.head, explorer.merge_words]
    controls += [explorer.hide_special, explorer.color_scale, explorer.lens, explorer.ablate]
    return [*controls, *explorer._components((*VIEW_OUTPUTS, *PANEL_OUTPUTS))]


def main_inputs(run: dict[str, Any], explorers: Sequence[AttentionExplorer], *, page_switches) -> dict[str, Any]:
    """A main event's inputs by API parameter name, without its explorers' controls, the page's switches and
    the session's own values (gr.State, which the API does not take either): positional inputs take the
    handler's parameter names, as Gradio's API names them."""
    parameters = [p.name for p in inspect.signature(run["fn"]).parameters.values()]
    found = dict(zip(parameters, run["inputs"], strict=False))
    skipped = {id(c) for e in explorers for c in e.kwargs.values()} | {id(c) for c in page_switches}
    found |= {name: c for name, c in run.get("inputs_kwargs", {}).items() if id(c) not in skipped}
    return {name: c for name, c in found.items() if not isinstance(c, gr.State)}


def field_for(name: str, component: Any) -> Field:
    """What a link may put in `component`, as its control takes it."""
    if isinstance(component, gr.Checkbox):
        return Field(name, "switch")
    if isinstance(component, gr.Slider):
        whole = float(component.step).is_integer() and float(component.minimum).is_integer()
        return Field(name, "number", minimum=component.minimum, maximum=component.maximum, whole=whole)
    if isinstance(component, gr.Number):
        whole = component.precision == 0
        return Field(name, "number", minimum=component.minimum, maximum=component.maximum, whole=whole)
    if isinstance(component, gr.Dropdown | gr.Radio) and not getattr(component, "allow_custom_value", False):
        return Field(name, "choice", choices=tuple((str(label), value) for label, value in component.choices))
    return Field(name)
