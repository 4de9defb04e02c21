"""Reading Plotly figure JSON back into arrays, as an API client would."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np


def decode_array(value: Any) -> np.ndarray:
    """Plotly encodes numpy arrays as {"dtype", "bdata", "shape"}; plain lists pass through."""
    if isinstance(value, dict) and "bdata" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = [int(n) for n in str(value.get("shape", len(array))).split(",")]
        return array.reshape(shape)
    return np.asarray(value, dtype=np.float32)


def figure_dict(figure: Any) -> dict:
    """A figure as a dict, from a JSON string, a gradio_client Plot value, or a dict."""
    if isinstance(figure, dict) and "plot" in figure:
        figure = figure["plot"]
    return json.loads(figure) if isinstance(figure, str) else figure


def heatmap_matrices(figure: Any) -> list[np.ndarray]:
    return [decode_array(trace["z"]) for trace in figure_dict(figure)["data"] if trace["type"] == "heatmap"]
