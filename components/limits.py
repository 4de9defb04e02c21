"""The server-wide bounds of a public Space, sized by the settings in one place.

What one visitor may take is bounded per request (the edge, components.edge), per run (the run guard,
services.run_guard), and per session: results (the run store, and the results visitors share,
services.shared_results), Gradio's session state (components.session_state), exports and deep links
(components.deep_links). These stores are one per process; `apply` sizes them, and `launch_options`
gives what Gradio only takes at launch.
"""

from __future__ import annotations

from typing import Any

from starlette.middleware import Middleware

from components.deep_links import DEEP_LINKS
from components.edge import Edge
from components.explorer.export import QUOTA
from components.explorer.run_store import RUNS
from components.session_state import LEDGER
from services import gpu
from services.config import Settings
from services.models import MODELS
from services.shared_results import SHARED
from services.turns import TURNS


def apply(settings: Settings) -> None:
    """Size the process's stores and quotas from `settings`."""
    limits = settings.limits
    TURNS.workers = settings.workers
    gpu.configure(limits)  # the GPU seconds a translation asks for on ZeroGPU
    MODELS.budget_bytes = settings.memory_budget_bytes
    budget = settings.results_budget_bytes
    # The results budget is shared: `results_shared_share` for the results every visitor may reuse, the
    # rest for the runs sessions hold. A shared result a session holds is the same object, not a copy.
    share = settings.results_shared_share if settings.shared_results else 0.0
    shared = None if budget is None else int(budget * share)
    SHARED.configure(enabled=settings.shared_results, budget_bytes=shared)
    RUNS.budget_bytes = None if budget is None else budget - shared
    RUNS.session_bytes = None if budget is None else int(budget * settings.results_session_share)
    LEDGER.budget = settings.sessions_budget_bytes
    QUOTA.per_minute = limits.max_exports_per_minute
    DEEP_LINKS.max_bytes = limits.max_deep_link_bytes
    DEEP_LINKS.quota.per_minute = limits.max_deep_links_per_minute
    DEEP_LINKS.max_age_s = settings.deep_link_days * 24 * 3600
    DEEP_LINKS.budget_bytes = settings.deep_links_budget_bytes


def launch_options(settings: Settings | None = None) -> dict[str, Any]:
    """What `demo.launch` must be given (Gradio takes these at launch, not in the Blocks): the edge that
    bounds each request, no uploads, a bounded number of sessions, and no public monitoring page."""
    settings = settings or Settings.from_env()
    return {
        "app_kwargs": {"middleware": [Middleware(Edge, settings=settings)]},
        "max_file_size": 0,  # the app needs no uploads (the edge refuses them too)
        "state_session_capacity": settings.session_capacity,
        "enable_monitoring": False,  # /monitoring would print its key to the log for anyone who asks
    }
