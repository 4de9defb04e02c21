"""The explorer's seam for new lenses: a lens is one object in `LENSES`, and the explorer draws through it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from components.explorer import lenses
from components.explorer.drawing import Drawing
from components.explorer.view import View, parse_view
from services.attention_maps import AttentionMaps
from services.tokens import TokenAxis


@pytest.fixture
def maps() -> AttentionMaps:
    tokens = ("[CLS]", "the", "cat", "[SEP]")
    axis = TokenAxis(
        tokens=tokens, ids=(0, 1, 2, 3), special=(True, False, False, True), word_of=(0, 1, 2, 3), words=tokens
    )
    raw = np.random.default_rng(1).random((2, 3, 4, 4)).astype(np.float32)
    return AttentionMaps(title="toy", query=axis, key=axis, weights=raw / raw.sum(-1, keepdims=True))


class KeyLens:
    """A lens written as the next issues will: where each key is looked at from, instead of where a query looks."""

    name = "keys"
    label = "Keys: who looks at each token"

    def draw(self, maps: AttentionMaps, view: View) -> Drawing:
        drawing = lenses.LENSES["attention"].draw(maps, view)
        return replace(drawing, matrix=drawing.matrix.T, row_labels=drawing.col_labels, col_labels=drawing.row_labels)


def test_attention_is_the_registered_default_lens(maps):
    view = parse_view({}, [maps])
    assert view.lens == "attention"
    assert set(lenses.LENSES) == {"attention", "attribution", "knock_out", "head_importance", "logit_lens"}
    drawing = lenses.draw(maps, view)
    np.testing.assert_allclose(drawing.matrix, maps.weights[-1].mean(axis=0), atol=1e-6)


def test_a_new_lens_is_one_entry_in_the_registry(maps, monkeypatch):
    monkeypatch.setitem(lenses.LENSES, KeyLens.name, KeyLens())
    view = parse_view({"layer": 1, "head": "2"}, [maps])
    drawing = lenses.draw(maps, replace(view, lens="keys"))
    np.testing.assert_allclose(drawing.matrix, maps.weights[0, 1].T, atol=1e-6)
    assert drawing.row_labels == maps.key.tokens
