"""The "what is inside the model" panel: the tokenizer's output and the model's architecture facts."""

from __future__ import annotations

import html

from services.attention_maps import AttentionMaps
from services.tokens import TokenAxis

TOKEN_HEADERS = ["side", "position", "token", "reads as", "id", "special", "word", "attention mask"]


def inside_markdown(maps: AttentionMaps) -> str:
    """Markdown facts about the model and this input; every quoted token is escaped."""
    lines = []
    facts = maps.facts
    if facts is not None:
        layers = f"{facts.layers} layers" + (
            f" + {facts.decoder_layers} decoder layers" if facts.decoder_layers else ""
        )
        lines += [
            f"**{_escape(facts.name)}** is a `{facts.architecture}`, **{facts.family}**: {facts.family_note}.",
            f"- {layers}, {facts.heads} attention heads per layer, hidden size {facts.hidden_size}",
            f"- {facts.parameters / 1e6:,.1f} M parameters; a vocabulary of {facts.vocab_size:,} tokens; "
            f"at most {facts.max_length} tokens per input",
            f"- tokenizer: {facts.tokenizer}",
        ]
    lines.append(_axis_line("This input" if not maps.cross else "Rows (queries)", maps.query))
    if maps.cross:
        lines.append(_axis_line("Columns (keys)", maps.key))
    return "\n".join(lines)


def token_rows(maps: AttentionMaps) -> list[list[object]]:
    """One table row per token: the tokenizer's raw piece and the text it reads as, and the mask the model saw."""
    axes = [("query", maps.query), ("key", maps.key)] if maps.cross else [("input", maps.query)]
    return [
        [side, i, axis.tokens[i], axis.texts[i], axis.ids[i], _yes(axis.special[i]), axis.words[axis.word_of[i]], 1]
        for side, axis in axes
        for i in range(len(axis))
    ]


def _yes(flag: bool) -> str:
    return "yes" if flag else ""


def _axis_line(name: str, axis: TokenAxis) -> str:
    specials = sorted({axis.tokens[i] for i in range(len(axis)) if axis.special[i]})
    line = (
        f"- {name}: {len(axis)} tokens in {len(axis.words)} words; special tokens: "
        + (", ".join(f"`{_escape(t)}`" for t in specials) or "none")
        + "; attention mask 1 on every token shown"
    )
    if axis.padding:
        line += f"; in its batch it was padded with {axis.padding} pad tokens (mask 0), which the model ignores"
    return line + "."


def _escape(text: str) -> str:
    return html.escape(text).replace("`", "'")
