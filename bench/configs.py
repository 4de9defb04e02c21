"""The published configs of the app's default checkpoints, to build full-size random models from.

The Hub is unreachable here, so each checkpoint's `config.json` (and `generation_config.json`) is
written out as what differs from transformers' defaults: `DistilBertConfig()`, `BertConfig()` and
`BartConfig()` are the base checkpoints, so those add only labels (and state their vocab size);
`MarianConfig()` and `LlamaConfig()` are not opus-mt's and SmolLM2's shapes, so theirs are written out.
Latency and memory depend on shapes, not on weight values: random weights time like the real ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ModelSpec:
    """One default checkpoint: its Hub id, how the app loads it, and its published config."""

    label: str  # short, for the report
    hub_id: str
    kind: str  # a services.models.MODEL_CLASSES kind
    task: str  # the services.config task it is the default of
    config: dict[str, Any]  # model_type, vocab_size, and what differs from the config class's defaults
    generation: dict[str, Any] | None = None  # generation_config.json but the special ids, as in config

    @property
    def source(self) -> str:
        """The name the bench serves it under: marked random, so no plot passes it off as the real model."""
        return f"random/{self.hub_id.split('/')[-1]}"


SPECS: dict[str, ModelSpec] = {
    "distilbert": ModelSpec(
        label="DistilBERT-SST-2",
        hub_id="distilbert/distilbert-base-uncased-finetuned-sst-2-english",
        kind="sequence-classification",
        task="sentiment",
        config={
            "model_type": "distilbert",
            "vocab_size": 30522,
            "id2label": {0: "NEGATIVE", 1: "POSITIVE"},
            "label2id": {"NEGATIVE": 0, "POSITIVE": 1},
        },
    ),
    "bart": ModelSpec(
        label="BART-large-MNLI",
        hub_id="facebook/bart-large-mnli",
        kind="sequence-classification",
        task="zero_shot",
        config={
            "model_type": "bart",
            "vocab_size": 50265,
            "id2label": {0: "contradiction", 1: "neutral", 2: "entailment"},
            "label2id": {"contradiction": 0, "neutral": 1, "entailment": 2},
        },
    ),
    "smollm2": ModelSpec(
        label="SmolLM2-360M",
        hub_id="HuggingFaceTB/SmolLM2-360M",
        kind="causal-lm",
        task="generation",
        config={
            "model_type": "llama",
            "hidden_act": "silu",
            "hidden_size": 960,
            "intermediate_size": 2560,
            "num_hidden_layers": 32,
            "num_attention_heads": 15,
            "num_key_value_heads": 5,
            "max_position_embeddings": 8192,
            "rms_norm_eps": 1e-5,
            "rope_theta": 100000.0,
            "tie_word_embeddings": True,
            "attention_bias": False,
            "vocab_size": 49152,
            "bos_token_id": 0,
            "eos_token_id": 0,
        },
        generation={},
    ),
    "marian": ModelSpec(
        label="opus-mt-en-fr",
        hub_id="Helsinki-NLP/opus-mt-en-fr",
        kind="seq2seq-lm",
        task="translation",
        config={  # MarianConfig() already has opus-mt's eos and forced eos (0), shared embeddings, one vocab size
            "model_type": "marian",
            "activation_function": "swish",
            "d_model": 512,
            "encoder_layers": 6,
            "decoder_layers": 6,
            "encoder_attention_heads": 8,
            "decoder_attention_heads": 8,
            "encoder_ffn_dim": 2048,
            "decoder_ffn_dim": 2048,
            "max_position_embeddings": 512,
            "vocab_size": 59514,
            "scale_embedding": True,
            "bos_token_id": 0,
            "pad_token_id": 59513,
            "decoder_start_token_id": 59513,
        },
        generation={"bad_words_ids": [[59513]], "max_length": 512, "num_beams": 4, "renormalize_logits": True},
    ),
    "bert": ModelSpec(
        label="BERT-base",
        hub_id="bert-base-uncased",
        kind="encoder",
        task="attention",
        config={"model_type": "bert", "vocab_size": 30522},
    ),
}


def deployment_env(sources: dict[str, Any]) -> dict[str, str]:
    """The app's PLAYGROUND_* model variables for a deployment whose models are `sources` (key -> id or folder)."""
    env = {}
    for key, source in sources.items():
        task = SPECS[key].task
        if task == "translation":
            env["PLAYGROUND_TRANSLATION_MODELS"] = json.dumps({"French": str(source)})
        else:
            env[f"PLAYGROUND_{task.upper()}_MODEL"] = str(source)
    return env
