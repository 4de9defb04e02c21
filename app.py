"""Transformers Playground: try Hugging Face models in the browser and see their attention.

Importing this module builds the UI but loads no model weights; each model loads on first use.
Configure models with PLAYGROUND_* variables (see README), the server with GRADIO_SERVER_NAME/PORT.
"""

from __future__ import annotations

import gradio as gr

from components import (
    attention_tab,
    fill_mask_tab,
    generation_tab,
    lessons_tab,
    limits,
    sentiment_tab,
    tokenizers_tab,
    translation_tab,
    waiting,
    zero_shot_tab,
)
from components.explorer.lens_store import LENS_RESULTS
from components.page import LAUNCH_OPTIONS, Page
from services import gpu
from services.config import Settings
from services.logs import configure_logging
from services.models import configure_threads

TITLE = "Transformers Playground"

# Each tab is named by its task and the architecture family that does it; a link opens one by its KEY.
TABS = {
    "Lessons": lessons_tab,
    "Sentiment · encoder-only": sentiment_tab,
    # After sentiment: the same family, trained to fill a gap; the course's "bias and limitations".
    "Fill-mask · encoder-only": fill_mask_tab,
    "Zero-shot · encoder-decoder": zero_shot_tab,
    "Generation · decoder-only": generation_tab,
    "Translation · encoder-decoder": translation_tab,
    "Attention heatmap · any model": attention_tab,
    "Tokenizers · every model": tokenizers_tab,
}


def build_demo(settings: Settings | None = None) -> gr.Blocks:
    """The tabbed app; `settings` defaults to the environment's."""
    settings = settings or Settings.from_env()
    gpu.prepare()  # on ZeroGPU only: the model runs exist before launch, where the Space looks for them
    # delete_cache: every hour, drop files Gradio cached for visitors (exports) over an hour old.
    with gr.Blocks(title=TITLE, delete_cache=(3600, 3600)) as demo:
        page = Page.build(settings)
        with gr.Tabs() as tabs:
            for name, tab in TABS.items():
                with gr.Tab(name, id=tab.KEY):
                    tab.build(settings, page)
        page.links.wire(demo, tabs, {tab.KEY: name for name, tab in TABS.items()})
    demo.links = page.links  # the tabs a link may open, for tools and tests that write or follow links
    # Model runs share `workers` slots with cores // workers torch threads each: no oversubscription.
    configure_threads(settings.workers)
    limits.apply(settings)  # the process's stores and quotas (models, results, sessions, exports, links)
    LENS_RESULTS.limits = settings.limits
    # api_open=False: /gradio_api/run/<name> would run an event outside the queue, its size and its workers.
    demo.queue(default_concurrency_limit=1, max_size=settings.queue_size, api_open=False)
    waiting.tune(demo)  # each visitor's estimate from recent runs, not from a cold start
    return demo


demo = build_demo()

if __name__ == "__main__":
    configure_logging(line_format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    demo.launch(**LAUNCH_OPTIONS, **limits.launch_options())
