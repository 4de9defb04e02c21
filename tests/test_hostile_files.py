"""Uploads, exports and deep links are bounded: no uploads, an export written once and small, a few
exports and links a minute per session, a size per link, and old files deleted. On loopback."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from components.deep_links import DeepLinks
from components.explorer import export
from services.config import Settings
from tests.http_api import raw_call

LIMITS = Settings().limits


def test_uploads_are_refused(client):
    response = httpx.post(
        f"{client.src.rstrip('/')}/gradio_api/upload", files={"files": ("big.bin", b"0" * 2_000_000)}, timeout=60
    )
    assert response.status_code == 403 and response.json() == {"detail": "This app takes no file uploads."}
    assert client.demo.max_file_size == 0  # and Gradio itself would take none


def ran(client) -> str:
    """A new visitor's session, with a sentiment run to export."""
    session = uuid.uuid4().hex
    assert raw_call(client, "/sentiment", session, text="I love food so much.")[0] == "complete"
    return session


def export_files(client, session: str) -> list[Path]:
    """The files of an export, where the server keeps them (gradio_client would download copies)."""
    event, data = raw_call(client, "/sentiment_attention_export", session)
    if event == "error":
        raise RuntimeError(data)
    return [Path(file["path"]) for file in data[0]["value"]]


def test_an_export_is_written_once_and_shares_one_copy_of_plotly(client):
    session = ran(client)
    first, second = export_files(client, session), export_files(client, session)
    assert [p.suffix for p in first] == [".csv", ".json", ".html", ".js"]
    assert first[3] == second[3] == export.PLOTLY_JS  # one plotly.js for every HTML export
    for path in first[:3]:  # the files Gradio serves are the ones written: it made no copy in its cache
        assert path.parent.parent == export.EXPORTS, path
    assert sum(p.stat().st_size for p in first[:3]) < 200_000  # the HTML held 4.6 MB of plotly.js each time


def test_a_session_may_export_only_a_few_times_a_minute(client):
    session = ran(client)
    for _ in range(LIMITS.max_exports_per_minute):
        export_files(client, session)
    with pytest.raises(RuntimeError, match=r"Export: you have made \d+ exports in the last minute.*Please wait"):
        export_files(client, session)
    assert export_files(client, ran(client))  # another visitor still exports


def test_old_exports_are_deleted_but_plotly_stays(client):
    folder = export_files(client, ran(client))[0].parent
    export._forget_old_exports(max_age_s=-1)
    assert not folder.exists() and export.PLOTLY_JS.is_file()


def deep_link(client, session: str) -> httpx.Response:
    return httpx.get(f"{client.src.rstrip('/')}/gradio_api/deep_link", params={"session_hash": session}, timeout=30)


def test_deep_links_are_bounded_in_number_and_size(client, monkeypatch):
    visitor = Client(client.src, verbose=False)
    visitor.predict(text="I love food so much.", api_name="/sentiment")
    for _ in range(LIMITS.max_deep_links_per_minute):
        assert deep_link(client, visitor.session_hash).status_code == 200
    refused = deep_link(client, visitor.session_hash)
    assert refused.status_code == 429 and refused.json()["detail"].startswith("Link to this view: you have made")
    other = Client(client.src, verbose=False)
    other.predict(text="Rain again", api_name="/sentiment")
    from components.deep_links import DEEP_LINKS

    monkeypatch.setattr(DEEP_LINKS, "max_bytes", 1000)
    too_big = deep_link(client, other.session_hash)
    assert too_big.status_code == 413 and "more than the 1,000 a link may keep" in too_big.json()["detail"]


def test_old_deep_links_are_deleted_and_the_oldest_go_past_the_budget(tmp_path):
    folder = tmp_path / "deep_links"
    for name, age_days, size in [("old", 8, 10), ("older_big", 3, 600), ("recent", 1, 500), ("new", 0, 500)]:
        (folder / name).mkdir(parents=True)
        state = folder / name / "state.json"
        state.write_bytes(b"x" * size)
        written = time.time() - age_days * 24 * 3600
        os.utime(state, (written, written))
    DeepLinks(max_age_s=7 * 24 * 3600, budget_bytes=1200).prune(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["new", "recent"]
