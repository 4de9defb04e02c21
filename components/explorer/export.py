"""Getting attention out of the app: figure payloads with a slide-ready toolbar, SVG download, CSV/JSON/HTML files.

Exported labels are written raw (they are data, not markup); only the figures escape them, and the CSV
neutralises a cell that a spreadsheet would run as a formula. Export files are written once, straight
into Gradio's cache (which serves them and deletes them after an hour); the HTML files share one copy
of plotly.js, and a session may export only a few times a minute.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from gradio.components.plot import PlotData
from gradio.processing_utils import get_upload_folder
from plotly.offline import get_plotlyjs

from components.fair_use import SessionQuota, session_id

# Inside Gradio's cache, so Gradio serves the files as they are instead of copying each one there.
EXPORTS = Path(get_upload_folder()) / "playground-exports"
PLOTLY_JS = EXPORTS / "plotly.js" / "plotly.min.js"  # one copy, next to which every HTML export opens
EXPORT_SECONDS = 10 * 60  # an export only needs to outlive its download
PNG_SCALE = 3  # a 900 px wide plot becomes 2700 px: sharp on a slide
PAYLOAD_BUDGET = 1_000_000  # bytes of figure JSON the app aims to send per plot
_RESERVED = ("rows", "columns", "weights")
# Characters that may only appear inside JSON strings, escaped so the text is safe inside HTML and JS.
_HTML_SAFE = (("<", "\\u003c"), (">", "\\u003e"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029"))


def safe_stem(name: str) -> str:
    """A file name stem of [A-Za-z0-9_-] only, never empty."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_")[:80] or "attention"


def toolbar_config(filename: str) -> dict:
    """Plotly config: no logo; the camera button saves a PNG at 3x, named after the view."""
    return {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": safe_stem(filename), "scale": PNG_SCALE},
    }


def plot_payload(figure: go.Figure, *, filename: str) -> PlotData:
    """The value for a gr.Plot output, carrying a toolbar config.

    Gradio's Plotly frontend parses `plot` and hands its top-level "config" to Plotly.react; a PlotData
    returned from a handler passes through `gr.Plot.postprocess` unchanged. Plotly's JSON escapes every
    "/" of the base64 weights as "\\u002f" (5-20% of a heatmap's bytes, depending on the weights);
    re-encoding drops that and keeps only the escapes that stop "</script>" from ever appearing.
    """
    data = json.loads(figure.to_json()) | {"config": toolbar_config(filename)}
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    for raw, escaped in _HTML_SAFE:
        text = text.replace(raw, escaped)
    return PlotData(type="plotly", plot=text)


def rows_within_budget(cols: int, *, budget: int = PAYLOAD_BUDGET, label_bytes: int = 64) -> int:
    """How many query rows of a [rows, cols] attention_heatmap fit in `budget` bytes of payload (an estimate).

    float32 weights travel as base64, 16/3 bytes a weight; each label costs up to `label_bytes` (category,
    meta, tick) for a row and for a column.
    """
    per_row = cols * 16 / 3 + label_bytes
    fixed = cols * label_bytes + 20_000
    return max(1, math.floor((budget - fixed) / per_row))


def svg_download_js(elem_id: str) -> str:
    """JS for `gr.Button.click(None, js=...)`: download the plot in `#elem_id` as SVG via its own toolbar.

    Plotly's camera button reads `toImageButtonOptions` when clicked, so the format is switched to SVG
    for that one click and set back to PNG. Does nothing when the plot is not drawn yet.
    """
    return (
        "() => {"
        f" const root = document.getElementById({json.dumps(elem_id)});"
        ' const plot = root && root.querySelector(".js-plotly-plot");'
        " const button = plot && plot.querySelector('.modebar-btn[data-title^=\"Download plot\"]');"
        " if (!plot || !plot._context || !button) return;"
        " const options = (plot._context.toImageButtonOptions = plot._context.toImageButtonOptions || {});"
        ' options.format = "svg";'
        ' try { button.click(); } finally { options.format = "png"; }'
        " }"
    )


def _number(value: float) -> str:
    """The shortest text that reads back as the same float32; blank for NaN."""
    return "" if math.isnan(value) else str(np.float32(value))


def _check(matrix: np.ndarray, row_labels: Sequence[str], col_labels: Sequence[str]) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    if matrix.shape != (len(row_labels), len(col_labels)):
        raise ValueError(f"Matrix of shape {matrix.shape} does not match {len(row_labels)} x {len(col_labels)} labels.")
    return matrix


def matrix_csv(matrix: np.ndarray, row_labels: Sequence[str], col_labels: Sequence[str]) -> str:
    """CSV: a header "query \\ key" + column labels, then one row per query label. matrix: [rows, cols]."""
    matrix = _check(matrix, row_labels, col_labels)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["query \\ key", *map(inert_cell, col_labels)])
    for label, row in zip(row_labels, matrix.tolist(), strict=True):
        writer.writerow([inert_cell(label), *(_number(v) for v in row)])
    return out.getvalue()


def inert_cell(label: str) -> str:
    """A label as a CSV cell no spreadsheet runs: one starting with =, +, -, @ (or a tab or carriage
    return, which some strip first) gets a leading apostrophe, as OWASP advises against formula injection."""
    return "'" + label if label.startswith(("=", "+", "-", "@", "\t", "\r")) else label


def matrix_json(matrix: np.ndarray, row_labels: Sequence[str], col_labels: Sequence[str], **info: object) -> str:
    """JSON: {"rows", "columns", "weights": [rows][cols], **info}; NaN becomes null. matrix: [rows, cols]."""
    matrix = _check(matrix, row_labels, col_labels)
    if clash := [key for key in _RESERVED if key in info]:
        raise ValueError(f"Export info may not use the keys {clash}.")
    weights = [[None if math.isnan(v) else float(_number(v)) for v in row] for row in matrix.tolist()]
    data = {"rows": list(row_labels), "columns": list(col_labels), "weights": weights, **info}
    return json.dumps(data, ensure_ascii=False, allow_nan=False, default=str)


def write_exports(
    figure: go.Figure,
    matrix: np.ndarray,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    *,
    stem: str,
    info: Mapping[str, object],
) -> list[str]:
    """Write `<stem>.csv`, `.json` and `.html` to a fresh folder in Gradio's cache; the HTML loads the one
    `plotly.min.js` beside it, so downloading both makes a page that opens offline.

    matrix: [rows, cols]. Returns the paths (the three files and plotly.min.js), for a gr.File.
    Raises InputError when the visitor's session has used its exports for this minute.
    """
    QUOTA.take(session_id())
    stem = safe_stem(stem)
    _forget_old_exports()
    EXPORTS.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=EXPORTS))
    csv_path, json_path, html_path = (folder / f"{stem}.{ext}" for ext in ("csv", "json", "html"))
    csv_path.write_text(matrix_csv(matrix, row_labels, col_labels), encoding="utf-8", newline="")
    json_path.write_text(matrix_json(matrix, row_labels, col_labels, **info), encoding="utf-8")
    figure.write_html(html_path, include_plotlyjs=PLOTLY_JS.name, full_html=True, config=toolbar_config(stem))
    return [str(csv_path), str(json_path), str(html_path), str(_plotly_js())]


def _plotly_js() -> Path:
    """The one copy of plotly.js the HTML exports load, written the first time, kept while exports go on."""
    if not PLOTLY_JS.is_file():
        PLOTLY_JS.parent.mkdir(parents=True, exist_ok=True)
        staged = PLOTLY_JS.with_suffix(f".{threading.get_ident()}.tmp")
        staged.write_text(get_plotlyjs(), encoding="utf-8")
        staged.replace(PLOTLY_JS)
    PLOTLY_JS.touch()  # Gradio's cache cleaning goes by age: in use, it stays
    return PLOTLY_JS


def _forget_old_exports(max_age_s: float = EXPORT_SECONDS) -> None:
    """Gradio serves the files from where they are; they only need to outlive the download."""
    if not EXPORTS.is_dir():
        return
    now = time.time()
    for folder in EXPORTS.iterdir():
        if folder != PLOTLY_JS.parent and now - folder.stat().st_mtime > max_age_s:
            shutil.rmtree(folder, ignore_errors=True)


# The app's one export quota; app.py sets it from the settings.
QUOTA = SessionQuota("Export", "exports")
