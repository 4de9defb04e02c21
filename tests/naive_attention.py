"""Deliberately naive references for components/explorer/shaping.py: plain loops over tokens and words, in floats.

Nothing here calls the code under test, so a test that compares the two checks the rule, not a copy of it.
Matrices are nested lists [rows][cols] of Python floats.
"""

from __future__ import annotations

import math

from services.attention_maps import AttentionMaps
from services.tokens import TokenAxis


def token_groups(axis: TokenAxis, *, merge_words: bool, hide_special: bool) -> list[list[int]]:
    """The positions behind each displayed row or column: one token, or the consecutive pieces of one word."""
    found: list[list[int]] = []
    for i in range(len(axis.tokens)):
        if hide_special and axis.special[i]:
            continue
        if merge_words and found and axis.word_of[found[-1][-1]] == axis.word_of[i]:
            found[-1].append(i)
        else:
            found.append([i])
    return found


def group_labels(axis: TokenAxis, found: list[list[int]], *, merge_words: bool) -> list[str]:
    return [axis.words[axis.word_of[group[0]]] if merge_words else axis.texts[group[0]] for group in found]


def piece_row(raw, position: int, cols: list[list[int]], *, hide_special: bool) -> list[float]:
    """One query token's row: kept keys only, renormalised when special tokens are hidden, word pieces summed."""
    total = 0.0
    for col in cols:
        for k in col:
            total += float(raw[position][k])
    scale = 1.0
    if hide_special:
        scale = 1.0 / total if total > 0 else 0.0
    row = []
    for col in cols:
        weight = 0.0
        for k in col:
            weight += float(raw[position][k]) * scale
        row.append(weight)
    return row


def word_row(raw, positions: list[int], cols: list[list[int]], *, hide_special: bool) -> list[float]:
    """The mean of the pieces' rows, over the pieces that still attend to something."""
    live = [row for row in (piece_row(raw, p, cols, hide_special=hide_special) for p in positions) if sum(row) > 0]
    if not live:
        return [0.0] * len(cols)
    return [sum(row[c] for row in live) / len(live) for c in range(len(cols))]


def shaped_head(maps: AttentionMaps, layer: int, head: int, *, merge_words: bool, hide_special: bool):
    """One head (both 0-based) after the switches: [rows][cols]."""
    raw = maps.weights[layer][head]
    rows = token_groups(maps.query, merge_words=merge_words, hide_special=hide_special)
    cols = token_groups(maps.key, merge_words=merge_words, hide_special=hide_special)
    return [word_row(raw, group, cols, hide_special=hide_special) for group in rows]


def combine(matrices: list, head: str):
    """Elementwise mean or max over a list of same-shaped [rows][cols] (or [cols]) lists, or one head from 1."""
    if head not in ("mean", "max"):
        return matrices[int(head) - 1]
    if isinstance(matrices[0][0], list):
        return [combine([m[r] for m in matrices], head) for r in range(len(matrices[0]))]
    columns = [[m[c] for m in matrices] for c in range(len(matrices[0]))]
    return [sum(values) / len(values) if head == "mean" else max(values) for values in columns]


def shaped_view(maps: AttentionMaps, layer: int, head: str, *, merge_words: bool, hide_special: bool):
    """Every head of a 0-based layer shaped, then their mean, max or one of them: [rows][cols]."""
    heads = [
        shaped_head(maps, layer, h, merge_words=merge_words, hide_special=hide_special) for h in range(maps.num_heads)
    ]
    return combine(heads, head)


def focus(maps: AttentionMaps, positions: list[int], layer: int, head: str, *, merge_words: bool, hide_special: bool):
    """The row of the query tokens at `positions`, even hidden ones: [cols]."""
    cols = token_groups(maps.key, merge_words=merge_words, hide_special=hide_special)
    rows = [word_row(maps.weights[layer][h], positions, cols, hide_special=hide_special) for h in range(maps.num_heads)]
    return combine(rows, head)


def head_numbers(maps: AttentionMaps) -> dict[str, list[list[float]]]:
    """Entropy (bits), share on special keys, mean distance and share on the previous token, per [layer][head]."""
    named: dict[str, list[list[float]]] = {"entropy": [], "special": [], "distance": [], "previous": []}
    for layer in maps.weights:
        for name in named:
            named[name].append([])
        for head in layer:
            entropy = special = distance = previous = 0.0
            for q, row in enumerate(head):
                for k, weight in enumerate(float(w) for w in row):
                    if weight > 0:
                        entropy -= weight * math.log2(weight)
                    if maps.key.special[k]:
                        special += weight
                    distance += weight * abs(q - k)
                    if k == q - 1:
                        previous += weight
            rows = len(head)
            named["entropy"][-1].append(entropy / rows)
            named["special"][-1].append(special / rows)
            named["distance"][-1].append(distance / rows)
            named["previous"][-1].append(previous / (rows - 1) if rows > 1 else 0.0)
    return named


def block_means(matrix, size: int) -> list[list[float]]:
    """Mean of each size x size block of a [rows][cols] matrix; the last blocks may be smaller."""
    rows, cols = len(matrix), len(matrix[0])
    out = []
    for top in range(0, rows, size):
        line = []
        for left in range(0, cols, size):
            cells = [
                float(matrix[r][c])
                for r in range(top, min(top + size, rows))
                for c in range(left, min(left + size, cols))
            ]
            line.append(sum(cells) / len(cells))
        out.append(line)
    return out
