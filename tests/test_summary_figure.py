"""The head-summary figure: one layers x heads heatmap per number, each with its colour bar."""

from __future__ import annotations

import numpy as np
import pytest

from components.explorer.summary_figure import summary_heatmaps
from tests.figures import heatmap_matrices

SCRIPT = "<script>alert(1)</script>"


METRICS = ("entropy (bits)", "mean distance (tokens)", "share on special tokens", "share on previous token")


def summary_metrics(layers: int = 3, heads: int = 4) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    metrics = {name: rng.random((layers, heads)).astype(np.float32) * (k + 1) for k, name in enumerate(METRICS)}
    metrics[METRICS[0]][0, 2] = np.nan
    return metrics


def test_summary_keeps_layer_1_on_top_and_values_in_their_cells():
    metrics = summary_metrics()
    figure = summary_heatmaps(metrics, title="t")
    assert [a.text for a in figure.layout.annotations] == list(METRICS)
    for trace, z, values in zip(figure.data, heatmap_matrices(figure.to_json()), metrics.values(), strict=True):
        np.testing.assert_array_equal(z, values)  # NaN where NaN
        assert list(trace.y) == ["Layer 1", "Layer 2", "Layer 3"]
        assert list(trace.x) == ["Head 1", "Head 2", "Head 3", "Head 4"]
    assert all(figure.layout[f"yaxis{s}"].autorange == "reversed" for s in ("", "2", "3", "4"))
    entropy = figure.data[0]
    assert entropy.text[0][2] == ""  # a NaN cell stays blank
    assert entropy.text[1][3] == f"{metrics[METRICS[0]][1, 3]:.2f}"
    assert entropy.hoverongaps is False


def test_summary_gives_each_metric_its_colour_bar_beside_its_panel():
    figure = summary_heatmaps(summary_metrics(), title="t")
    for n, trace in enumerate(figure.data, start=1):
        suffix = "" if n == 1 else str(n)
        x1 = figure.layout[f"xaxis{suffix}"].domain[1]
        (y0, y1) = figure.layout[f"yaxis{suffix}"].domain
        assert x1 < trace.colorbar.x < x1 + 0.1
        assert y0 < trace.colorbar.y < y1
        assert trace.showscale is not False and trace.coloraxis is None
    assert figure.data[0].colorbar.x < figure.layout.xaxis2.domain[0]  # clear of the next panel


def test_summary_writes_cell_values_only_when_they_fit():
    assert summary_heatmaps(summary_metrics(25, 16), title="t").data[0].text is not None  # 400 cells
    assert summary_heatmaps(summary_metrics(26, 16), title="t").data[0].text is None  # 416 cells
    # 384 cells, but 32 heads make cells too narrow for legible text: the hover has the values.
    assert summary_heatmaps(summary_metrics(12, 32), title="t").data[0].text is None


def test_summary_escapes_names_and_rejects_mismatched_shapes():
    figure = summary_heatmaps({SCRIPT: np.zeros((2, 2))}, title="t")
    assert figure.layout.annotations[0].text.startswith("&lt;script&gt;")
    with pytest.raises(ValueError, match="same shape"):
        summary_heatmaps({"a": np.zeros((2, 2)), "b": np.zeros((3, 2))}, title="t")
