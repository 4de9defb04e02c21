"""What the explorer derives from attention weights: words, hidden special tokens, head summaries, focus.

Pure numpy over `AttentionMaps`; no model is run here. Layers count from 1 and heads are "mean", "max"
or a number from 1 as a string, as a parsed `View` holds them. Two rules, stated in the UI and the README:
- **Hide special tokens**: drop their rows and columns, then renormalise each row to sum to 1.
- **Merge words**: a word's column is the *sum* over its pieces (how much attention the word gets),
  a word's row the *mean* over its pieces (how an average piece of it attends). Rows still sum to 1.
Each head is transformed first; the mean or max over heads is taken after.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from services.attention_maps import AttentionMaps
from services.errors import InputError
from services.tokens import TokenAxis


@dataclass(frozen=True)
class Shaped:
    """Weights [..., rows, cols] after the switches; `rows[i]` lists the token positions behind row i."""

    weights: np.ndarray
    row_labels: tuple[str, ...]
    col_labels: tuple[str, ...]
    rows: tuple[tuple[int, ...], ...]
    cols: tuple[tuple[int, ...], ...]


def groups(axis: TokenAxis, *, merge_words: bool, hide_special: bool) -> tuple[tuple[int, ...], ...]:
    """Token positions per displayed row or column: single tokens, or the pieces of each word."""
    kept = [i for i in range(len(axis)) if not (hide_special and axis.special[i])]
    if not merge_words:
        return tuple((i,) for i in kept)
    by_word: dict[int, list[int]] = {}
    for i in kept:
        by_word.setdefault(axis.word_of[i], []).append(i)
    return tuple(tuple(positions) for positions in by_word.values())


def labels(axis: TokenAxis, positions: Sequence[Sequence[int]], *, merge_words: bool) -> tuple[str, ...]:
    """What a visitor reads for each row or column: the word, or the token's readable text (never `Ġ`, `##`)."""
    if merge_words:
        return tuple(axis.words[axis.word_of[group[0]]] for group in positions)
    return tuple(axis.texts[group[0]] for group in positions)


def shape_columns(weights: np.ndarray, key: TokenAxis, *, merge_words: bool, hide_special: bool) -> np.ndarray:
    """[..., Q, K] -> [..., Q, K']: hide special keys (renormalising rows), then sum the pieces of each word."""
    cols = groups(key, merge_words=merge_words, hide_special=hide_special)
    kept = [i for group in cols for i in group]
    weights = weights[..., kept]
    if hide_special:
        total = weights.sum(axis=-1, keepdims=True)
        weights = np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)
    starts = np.cumsum([0] + [len(group) for group in cols[:-1]])
    return np.add.reduceat(weights, starts, axis=-1) if len(cols) else weights


def mean_rows(pieces: np.ndarray) -> np.ndarray:
    """[..., P, C] -> [..., C]: the mean of a word's piece rows, leaving out pieces with nothing left to attend to.

    A piece whose every key is hidden has an all-zero row; counting it would make the word's row sum below 1.
    """
    live = (pieces.sum(axis=-1, keepdims=True) > 0).sum(axis=-2)
    return np.divide(pieces.sum(axis=-2), live, out=np.zeros(pieces.shape[:-2] + pieces.shape[-1:]), where=live > 0)


def shape(maps: AttentionMaps, weights: np.ndarray, *, merge_words: bool, hide_special: bool) -> Shaped:
    """Apply the switches to `weights` [..., Q, K] taken from `maps` (one layer, one head, or all)."""
    rows = groups(maps.query, merge_words=merge_words, hide_special=hide_special)
    cols = groups(maps.key, merge_words=merge_words, hide_special=hide_special)
    if not rows or not cols:
        raise InputError("This input has only special tokens; turn off 'Hide special tokens' to see them.")
    columns = shape_columns(weights, maps.key, merge_words=merge_words, hide_special=hide_special)
    merged = np.stack([mean_rows(columns[..., list(group), :]) for group in rows], axis=-2)
    return Shaped(
        weights=merged.astype(np.float32),
        row_labels=labels(maps.query, rows, merge_words=merge_words),
        col_labels=labels(maps.key, cols, merge_words=merge_words),
        rows=rows,
        cols=cols,
    )


def combine_heads(heads: np.ndarray, head: str) -> np.ndarray:
    """[heads, query, key] -> [query, key]: one head (numbered from 1), or their mean or max."""
    if head == "mean":
        return heads.mean(axis=0)
    if head == "max":
        return heads.max(axis=0)
    return heads[int(head) - 1]


def layer_view(
    maps: AttentionMaps, layer: int, head: str, *, merge_words: bool, hide_special: bool
) -> tuple[Shaped, np.ndarray]:
    """The chosen layer's heads shaped [H, R, C], and the matrix [R, C] of the chosen head, mean or max."""
    shaped = shape(maps, maps.weights[layer - 1], merge_words=merge_words, hide_special=hide_special)
    return shaped, combine_heads(shaped.weights, head)


def focus_row(
    maps: AttentionMaps,
    positions: Sequence[int],
    layer: int,
    head: str,
    *,
    merge_words: bool,
    hide_special: bool,
) -> np.ndarray:
    """Where the query tokens at `positions` (one token, or a word's pieces) attend: [cols], after the switches.

    It is computed from the raw rows, so a hidden special token's row can still be shown.
    """
    heads = maps.weights[layer - 1][:, list(positions), :]
    columns = mean_rows(shape_columns(heads, maps.key, merge_words=merge_words, hide_special=hide_special))
    return combine_heads(columns, head).astype(np.float32)


def where(layer: int, head: str) -> str:
    """ "layer 5, head 3", "layer 5, averaged over heads", "layer 5, max over heads"."""
    if head == "mean":
        return f"layer {layer}, averaged over heads"
    if head == "max":
        return f"layer {layer}, max over heads"
    return f"layer {layer}, head {head}"


def focus_sentence(query_label: str, col_labels: Sequence[str], row: np.ndarray, *, layer: int, head: str) -> str:
    """A plain sentence a screen reader can read: "'it' attends most to 'animal' (0.41) in layer 5, head 3."."""
    if not np.any(row > 0):  # no columns left, or a row that attended only to hidden special tokens
        return f"'{query_label}' has no tokens left to attend to with special tokens hidden."
    best = int(np.argmax(row))
    return f"'{query_label}' attends most to '{col_labels[best]}' ({row[best]:.2f}) in {where(layer, head)}."


@dataclass(frozen=True)
class HeadSummaries:
    """One number per head, each [layers, heads], averaged over the query tokens.

    entropy: bits; 0 when a head looks at one token, log2(keys) when it spreads evenly.
    distance: mean |query position - key position|, weighted by attention (None for cross-attention).
    special: share of attention on special tokens ([CLS], [SEP], </s>, BOS): "sink" heads score high.
    previous: share of attention on the token just before (None for cross-attention).
    """

    entropy: np.ndarray
    special: np.ndarray
    distance: np.ndarray | None
    previous: np.ndarray | None

    def as_dict(self) -> dict[str, np.ndarray]:
        named = {"entropy (bits)": self.entropy, "share on special tokens": self.special}
        if self.distance is not None:
            named["mean distance (tokens)"] = self.distance
        if self.previous is not None:
            named["share on previous token"] = self.previous
        return named


def head_summaries(maps: AttentionMaps) -> HeadSummaries:
    """Summaries of every head, from the raw token-level weights; one layer at a time to bound memory."""
    special = np.asarray(maps.key.special, dtype=bool)
    q, k = maps.weights.shape[-2:]
    distances = np.abs(np.arange(q)[:, None] - np.arange(k)[None, :]).astype(np.float32)
    entropy, on_special, distance, previous = [], [], [], []
    for heads in maps.weights:
        safe = np.where(heads > 0, heads, 1.0)
        entropy.append(-(heads * np.log2(safe)).sum(axis=-1).mean(axis=-1))
        on_special.append(heads[..., special].sum(axis=-1).mean(axis=-1))
        if not maps.cross:
            distance.append((heads * distances).sum(axis=-1).mean(axis=-1))
            below = np.arange(1, q)
            previous.append(heads[:, below, below - 1].mean(axis=-1) if q > 1 else np.zeros(heads.shape[0]))
    as_array = lambda values: np.asarray(values, dtype=np.float32)  # noqa: E731
    return HeadSummaries(
        entropy=as_array(entropy),
        special=as_array(on_special),
        distance=None if maps.cross else as_array(distance),
        previous=None if maps.cross else as_array(previous),
    )


KINDS = (  # (kind, summary, strongest is the largest?, how the value reads)
    ("previous-token head", "previous", True, "{:.2f} on the previous token"),
    ("broadest", "entropy", True, "{:.1f} bits"),
    ("most focused", "entropy", False, "{:.1f} bits"),
    ("sink", "special", True, "{:.2f} on special tokens"),
)


def strongest_heads(summaries: HeadSummaries) -> str:
    """The strongest head of each kind in one sentence: "previous-token head: L2 H5 (0.91 on the previous
    token); broadest: L1 H3 (3.2 bits); most focused: L4 H1 (0.3 bits); sink: L6 H12 (0.88 on special tokens)".

    A kind is left out where it cannot be told: no previous token in cross-attention, no special keys.
    """
    parts = []
    for kind, name, largest, value in KINDS:
        values = getattr(summaries, name)
        if values is None or (name == "special" and not np.nanmax(values) > 0):
            continue
        layer, head = np.unravel_index(np.nanargmax(values) if largest else np.nanargmin(values), values.shape)
        parts.append(f"{kind}: L{layer + 1} H{head + 1} ({value.format(float(values[layer, head]))})")
    return "; ".join(parts)


def find_head(
    maps: AttentionMaps, query_rows: Sequence[int], key_cols: Sequence[int], switches: dict[str, bool]
) -> tuple[int, int, float]:
    """The head where the query tokens at `query_rows` attend most to the key tokens at `key_cols`:
    (layer from 1, head from 1, weight), with the switches applied as the heatmap applies them.

    Positions are token positions; with `merge_words`, each stands for its whole word (the shown row or
    column holding it). The weight is the query rows' mean share on those keys: "it" -> "animal".
    """
    rows = groups(maps.query, merge_words=switches["merge_words"], hide_special=False)
    cols = groups(maps.key, **switches)
    queries = sorted({p for group in rows if set(group) & set(query_rows) for p in group})
    keys = {p for group in cols if set(group) & set(key_cols) for p in group}
    if not queries or not keys:
        hidden = switches["hide_special"] and any(0 <= p < len(maps.key) and maps.key.special[p] for p in key_cols)
        raise InputError(
            "That key token is hidden by 'Hide special tokens'; untick it to find the heads that attend to it."
            if hidden and queries
            else "Pick a query token and a key token of this input."
        )
    kept = [p for group in cols for p in group]
    hide = {"hide_special": switches["hide_special"]}
    rows_shaped = mean_rows(shape_columns(maps.weights[:, :, queries, :], maps.key, merge_words=False, **hide))
    share = rows_shaped[..., [i for i, p in enumerate(kept) if p in keys]].sum(axis=-1)  # [layers, heads]
    layer, head = np.unravel_index(int(np.argmax(share)), share.shape)
    return int(layer) + 1, int(head) + 1, float(share[layer, head])


def switches_in_force(*, merge_words: bool, hide_special: bool) -> list[str]:
    """The switches as a title or an export states them: ["words merged", "special tokens hidden"]."""
    return [name for name, on in (("words merged", merge_words), ("special tokens hidden", hide_special)) if on]


def idle_switches(maps: AttentionMaps, *, merge_words: bool, hide_special: bool) -> list[str]:
    """A sentence for each switch that is on and changes nothing for this input."""
    axes = (maps.query, maps.key)
    notes = []
    if merge_words and all(len(axis.words) == len(axis) for axis in axes):
        notes.append("No word here is split into pieces, so 'Merge words' changes nothing.")
    if hide_special and not any(any(axis.special) for axis in axes):
        notes.append("This input has no special tokens, so 'Hide special tokens' changes nothing.")
    return notes


def window(rows: int, cols: int, *, around: int, max_cells: int) -> range:
    """The rows to draw at full resolution: all of them, or a block around row `around` within `max_cells`."""
    height = max(1, min(rows, max_cells // max(cols, 1)))
    start = min(max(0, around - height // 2), rows - height)
    return range(start, start + height)


def downsample(panels: np.ndarray, max_side: int) -> tuple[np.ndarray, int]:
    """Block-average [..., R, C] so that neither side exceeds `max_side`; returns the array and the block size."""
    size = max(1, -(-max(panels.shape[-2:]) // max_side))
    if size == 1:
        return panels, 1
    rows = np.arange(0, panels.shape[-2], size)
    cols = np.arange(0, panels.shape[-1], size)
    summed = np.add.reduceat(np.add.reduceat(panels, rows, axis=-2), cols, axis=-1)
    counts = np.outer(np.diff(np.append(rows, panels.shape[-2])), np.diff(np.append(cols, panels.shape[-1])))
    return (summed / counts).astype(np.float32), size


def resolve_focus(maps: AttentionMaps, focus: str | int | None, rows: Sequence[Sequence[int]]) -> int:
    """Row index of `focus`: a token position ("7"), or a token or word of the text ("it").

    None picks the run's own focus (`maps.focus`, fill-mask's mask) when shown, else the first row that
    is not a special token.
    """
    if focus is None or str(focus).strip() == "":
        own = next((i for i, group in enumerate(rows) if maps.focus in group), None)
        if own is not None:
            return own
        return next((i for i, group in enumerate(rows) if not maps.query.special[group[0]]), 0)
    text = str(focus).strip()
    if text.lstrip("#").isdigit():
        position = int(text.lstrip("#"))
        for index, group in enumerate(rows):
            if position in group:
                return index
        raise InputError(f"Token position {position} is not shown; positions go from 0 to {len(maps.query) - 1}.")
    wanted = text.casefold()
    query = maps.query
    for index, group in enumerate(rows):
        word = query.words[query.word_of[group[0]]]
        # A raw piece ("Ġtoday", "##va"), its readable text ("today", "va") or its word ("today,").
        names = {query.tokens[p].casefold() for p in group} | {query.texts[p].casefold() for p in group}
        names |= {word.casefold()}
        names |= {name.lstrip("Ġ▁#").rstrip(".,;:!?") for name in names}
        if wanted in names:
            return index
    raise InputError(f"'{text}' is not a token or word of this input; pick a token from the list.")
