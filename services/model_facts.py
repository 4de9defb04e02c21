"""What is inside a model: the architecture facts the course teaches, read from its config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.config import short_name
from services.tokenizer_algorithm import algorithm

FAMILIES = {
    "encoder-only": "it reads the whole input at once, and every token sees every other token",
    "decoder-only": "it writes left to right, and each token sees only the tokens before it",
    "encoder-decoder": "an encoder reads the source, and a decoder writes the target while looking back at it",
}


@dataclass(frozen=True)
class ModelFacts:
    """Architecture facts of one loaded model and its tokenizer."""

    name: str
    architecture: str
    family: str
    layers: int
    decoder_layers: int
    heads: int
    hidden_size: int
    parameters: int
    vocab_size: int
    max_length: int
    tokenizer: str

    @property
    def family_note(self) -> str:
        return FAMILIES[self.family]


def model_facts(source: str, model: Any, tokenizer: Any, *, max_length: int) -> ModelFacts:
    """Read the facts from `model.config` (whose attribute maps name BERT, DistilBERT, BART alike)."""
    config = model.config
    family = _family(config)
    decoder_layers = getattr(config, "decoder_layers", 0) if family == "encoder-decoder" else 0
    return ModelFacts(
        name=short_name(source),
        architecture=type(model).__name__,
        family=family,
        layers=int(getattr(config, "num_hidden_layers", 0) or 0),
        decoder_layers=int(decoder_layers or 0),
        heads=int(getattr(config, "num_attention_heads", 0) or 0),
        hidden_size=int(getattr(config, "hidden_size", 0) or 0),
        parameters=_parameter_count(model),
        vocab_size=int(getattr(config, "vocab_size", 0) or len(tokenizer)),
        max_length=max_length,
        tokenizer=_tokenizer_kind(tokenizer),
    )


def _family(config: Any) -> str:
    """The family of the architecture, whichever head (or none) it was loaded with.

    The class name is no guide: GPT-2's causal LM is `GPT2LMHeadModel`, the attention tab loads a
    headless `LlamaModel`, and `BertLMHeadModel` stays bidirectional unless `is_decoder` is set.
    A model type with a causal-LM head and no masked-LM head can only run as a decoder.
    """
    # Imported here: the plot builders import this module through attention_maps, without transformers.
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
    )

    if getattr(config, "is_encoder_decoder", False):
        return "encoder-decoder"
    model_type = getattr(config, "model_type", "")
    causal_only = (
        model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES and model_type not in MODEL_FOR_MASKED_LM_MAPPING_NAMES
    )
    if getattr(config, "is_decoder", False) or causal_only:
        return "decoder-only"
    return "encoder-only"


def _tokenizer_kind(tokenizer: Any) -> str:
    """E.g. "WordPiece (BertTokenizer)": the algorithm, as the tokenizers tab names it, then the class."""
    return f"{algorithm(tokenizer)} ({type(tokenizer).__name__})"


def _parameter_count(model: Any) -> int:
    """Every weight, including those fast mode packed into int8 (which are no longer parameters)."""
    count = sum(p.numel() for p in model.parameters())
    for module in model.modules():
        if callable(getattr(module, "weight", None)):  # a dynamically quantized Linear
            bias = module.bias()
            count += module.weight().numel() + (bias.numel() if bias is not None else 0)
    return count
