"""Exports: figure payloads for gr.Plot, the SVG button's script, and the CSV/JSON/HTML files."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from plotly.offline import get_plotlyjs_version

from components.explorer.export import (
    EXPORTS,
    PAYLOAD_BUDGET,
    matrix_csv,
    matrix_json,
    plot_payload,
    rows_within_budget,
    svg_download_js,
    write_exports,
)
from components.explorer.figures import attention_heatmap
from tests.figures import figure_dict, heatmap_matrices

WEIRD = ["a,b", 'say "hi"', "two\nlines", "<script>alert(1)</script>", "🙂", " leading space", "Ġthe"]


def weights(rows: int, cols: int, seed: int = 0) -> np.ndarray:
    matrix = np.random.default_rng(seed).random((rows, cols)).astype(np.float32)
    return matrix / matrix.sum(axis=1, keepdims=True)


def small_figure():
    return attention_heatmap(weights(2, 3), ["a", "b"], ["x", "y", "z"], title="t")


# plot_payload


def test_payload_carries_the_toolbar_config_for_slide_sized_pngs():
    payload = plot_payload(small_figure(), filename="layer 3 / head 2")
    assert payload.type == "plotly"
    data = json.loads(payload.plot)
    assert data["config"] == {
        "displaylogo": False,
        "toImageButtonOptions": {"format": "png", "filename": "layer_3_head_2", "scale": 3},
    }
    assert data["layout"]["title"]["text"] == "t"


def test_payload_keeps_the_weights_and_raw_meta():
    matrix = weights(2, 2)
    labels = ["</script>", "<s>"]
    payload = plot_payload(attention_heatmap(matrix, labels, labels, title="t"), filename="x")
    [z] = heatmap_matrices(payload.plot)
    np.testing.assert_array_equal(z, matrix)
    assert figure_dict(payload.plot)["data"][0]["z"]["dtype"] == "f4"
    assert json.loads(payload.plot)["layout"]["meta"]["row_labels"] == labels
    assert "</" not in payload.plot  # still safe to inline in a page


def test_gr_plot_passes_a_payload_from_a_handler_through_unchanged():
    payload = plot_payload(small_figure(), filename="x")
    assert gr.Plot().postprocess(payload) is payload


def test_payload_of_a_heatmap_window_fits_the_1_mb_budget_and_a_full_512_does_not():
    # The caller windows query rows so each response stays under ~1 MB. float32 weights cost 16/3 bytes each as
    # base64, so 512 keys allow about 350 rows: 400 x 512 is already 1.09 MB of weights alone.
    labels = [f"token{i:03d}" for i in range(512)]
    rows = rows_within_budget(512)
    assert 300 <= rows < 400
    window = plot_payload(attention_heatmap(weights(rows, 512), labels[:rows], labels, title="t"), filename="x")
    assert len(window.plot) < PAYLOAD_BUDGET
    full = plot_payload(attention_heatmap(weights(512, 512), labels, labels, title="t"), filename="x")
    assert len(full.plot) > PAYLOAD_BUDGET
    assert PAYLOAD_BUDGET < 400 * 512 * 4 * 4 / 3


def test_payload_drops_plotlys_slash_escapes_from_the_base64_weights():
    figure = attention_heatmap(weights(64, 64), [str(i) for i in range(64)], [str(i) for i in range(64)], title="t")
    plotly_json = figure.to_json()
    payload = plot_payload(figure, filename="x").plot
    assert "\\u002f" in plotly_json and "\\u002f" not in payload
    assert len(payload) < len(plotly_json)


# svg_download_js


def test_svg_script_targets_the_plot_toolbar_and_restores_png():
    script = svg_download_js('attention "plot"')
    assert script.startswith("() => {") and script.endswith("}")
    assert 'document.getElementById("attention \\"plot\\"")' in script  # the id is a JS string literal
    assert '.modebar-btn[data-title^="Download plot"]' in script
    assert script.index('"svg"') < script.index("click()") < script.index('"png"')


NODE_HARNESS = """
const clicks = [];
const options = {format: "png", filename: "f", scale: 3};
const button = {click() { clicks.push(options.format); }};
const plot = {_context: {toImageButtonOptions: options}, querySelector: () => button};
const present = {querySelector: () => plot};
let root = null;
globalThis.document = {getElementById: () => root};
const run = %s;
run();
root = present;
run();
console.log(JSON.stringify({clicks, format: options.format}));
"""


@pytest.mark.slow  # node in a subprocess
@pytest.mark.skipif(shutil.which("node") is None, reason="needs node")
def test_svg_script_clicks_in_svg_format_and_does_nothing_without_a_plot():
    out = subprocess.run(
        ["node", "-e", NODE_HARNESS % svg_download_js("p")], capture_output=True, text=True, check=True, timeout=30
    )
    assert json.loads(out.stdout) == {"clicks": ["svg"], "format": "png"}


# matrix_csv / matrix_json


def read_csv(text: str) -> tuple[list[str], list[str], np.ndarray]:
    header, *rows = csv.reader(io.StringIO(text))
    matrix = np.array([[float(v) for v in row[1:]] for row in rows], dtype=np.float32)
    return [row[0] for row in rows], header[1:], matrix


def test_csv_round_trips_weights_exactly_and_labels_raw():
    matrix = weights(len(WEIRD), len(WEIRD))
    matrix[0, 0] = np.float32(1e-9)
    text = matrix_csv(matrix, WEIRD, WEIRD)
    assert text.startswith("query \\ key,")
    rows, columns, back = read_csv(text)
    assert rows == columns == WEIRD
    np.testing.assert_array_equal(back, matrix)
    assert back.dtype == np.float32


def test_json_round_trips_weights_exactly_with_its_info():
    matrix = weights(3, len(WEIRD))
    text = matrix_json(matrix, WEIRD[:3], WEIRD, model="bert-base", layer=3, head=None, switches={"window": True})
    data = json.loads(text)
    assert (data["rows"], data["columns"]) == (WEIRD[:3], WEIRD)
    np.testing.assert_array_equal(np.array(data["weights"], dtype=np.float32), matrix)
    assert (data["model"], data["layer"], data["head"], data["switches"]) == ("bert-base", 3, None, {"window": True})


def test_json_writes_nan_as_null_and_refuses_info_that_would_overwrite_the_data():
    matrix = np.array([[np.nan, 0.5]], dtype=np.float32)
    assert json.loads(matrix_json(matrix, ["q"], ["a", "b"]))["weights"] == [[None, 0.5]]
    with pytest.raises(ValueError, match="weights"):
        matrix_json(matrix, ["q"], ["a", "b"], weights=1)
    with pytest.raises(ValueError, match="does not match"):
        matrix_csv(matrix, ["q", "r"], ["a", "b"])


# write_exports


def test_write_exports_creates_csv_json_and_an_offline_html(tmp_path: Path):
    matrix = weights(len(WEIRD), len(WEIRD))
    figure = attention_heatmap(matrix, WEIRD, WEIRD, title="t")
    paths = write_exports(figure, matrix, WEIRD, WEIRD, stem="../bert layer 3/head:2", info={"model": "bert"})
    folder = Path(paths[0]).parent
    try:
        assert [Path(p).name for p in paths] == [
            "bert_layer_3_head_2.csv",
            "bert_layer_3_head_2.json",
            "bert_layer_3_head_2.html",
            "plotly.min.js",
        ]
        assert folder.parent == EXPORTS
        assert all(Path(p).parent == folder for p in paths[:3])
        rows, _, back = read_csv(Path(paths[0]).read_text(encoding="utf-8"))
        assert rows == WEIRD
        np.testing.assert_array_equal(back, matrix)
        assert json.loads(Path(paths[1]).read_text(encoding="utf-8"))["model"] == "bert"
        html = Path(paths[2]).read_text(encoding="utf-8")
        # The library, once, beside the page: downloaded together, they open offline.
        assert 'src="plotly.min.js"' in html and len(html) < 100_000
        assert f"plotly.js v{get_plotlyjs_version()}" in Path(paths[3]).read_text(encoding="utf-8")
        assert '<script src="https://cdn' not in html
        assert '"displaylogo": false' in html and '"scale": 3' in html
    finally:
        shutil.rmtree(folder)


def test_every_export_goes_to_a_fresh_folder():
    matrix = weights(2, 3)
    first = write_exports(small_figure(), matrix, ["a", "b"], ["x", "y", "z"], stem="", info={})
    second = write_exports(small_figure(), matrix, ["a", "b"], ["x", "y", "z"], stem="", info={})
    try:
        assert Path(first[0]).parent != Path(second[0]).parent
        assert Path(first[0]).name == "attention.csv"
    finally:
        shutil.rmtree(Path(first[0]).parent)
        shutil.rmtree(Path(second[0]).parent)
