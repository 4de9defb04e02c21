"""Deep links kept within bounds: a size per link, a few a minute per session, an age, a total on disk.

Gradio's `/gradio_api/deep_link?session_hash=…` writes the session's whole page state to
`deep_links/<hash>/state.json` in its cache, and never deletes it. The edge (components.edge) lets a
call through only when that state is within `max_bytes` and the session is within its quota; values
the app refused never stay in the state (components.session_state). Before each call, links older than
`max_age_s` go, and then the oldest beyond `budget_bytes` in all.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from components.fair_use import SessionQuota
from components.session_state import session_bytes

TOO_LARGE = (
    "Link to this view: this page holds {size:,} bytes of results, more than the {limit:,} a link may keep. "
    "Run something smaller, then make the link."
)


class DeepLinks:
    """The bounds on Gradio's deep links; app.py sets them from the settings."""

    def __init__(
        self,
        *,
        max_bytes: int | None = None,
        max_age_s: float | None = None,
        budget_bytes: int | None = None,
        per_minute: int | None = None,
    ) -> None:
        self.max_bytes = max_bytes
        self.max_age_s = max_age_s
        self.budget_bytes = budget_bytes
        self.quota = SessionQuota("Link to this view", "links", per_minute)

    def refusal(self, holder: Any, session: str | None) -> tuple[int, str] | None:
        """Why a link of `session` may not be written now (an HTTP status and a message), or None."""
        state = holder.session_data.get(session) if session else None
        if state is None:
            return None  # Gradio writes nothing for a session it does not know
        size = session_bytes(state)
        if self.max_bytes is not None and size > self.max_bytes:
            return 413, TOO_LARGE.format(size=size, limit=self.max_bytes)
        try:
            self.quota.take(session)
        except ValueError as refused:
            return 429, str(refused)
        return None

    def prune(self, folder: Path) -> None:
        """Delete the links in `folder` older than `max_age_s`, then the oldest beyond `budget_bytes`."""
        if not folder.is_dir():
            return
        links = sorted((_written(link), _bytes(link), link) for link in folder.iterdir() if link.is_dir())
        now, held = time.time(), sum(size for _, size, _ in links)
        for written, size, link in links:
            too_old = self.max_age_s is not None and now - written > self.max_age_s
            too_many = self.budget_bytes is not None and held > self.budget_bytes
            if not (too_old or too_many):
                break
            shutil.rmtree(link, ignore_errors=True)
            held -= size


def _written(folder: Path) -> float:
    """When the link was last written (Gradio rewrites the same folder for the same state)."""
    return max([path.stat().st_mtime for path in folder.iterdir()], default=folder.stat().st_mtime)


def _bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.iterdir() if path.is_file())


# The app's one set of bounds; app.py sets them from the settings.
DEEP_LINKS = DeepLinks()
