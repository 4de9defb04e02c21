"""Which algorithm a tokenizer cuts text with: WordPiece, BPE (byte-level or SentencePiece-style), Unigram.

A fast tokenizer says it outright: its `backend_tokenizer.model` is a WordPiece, BPE, Unigram or WordLevel
model, and its pre-tokenizer and decoder say whether it works on bytes (`Ġ`) or marks spaces as `▁`
(SentencePiece's way). A tokenizer kept in Python on a SentencePiece model (Marian) records the type in
the model file itself: its trainer spec's `model_type`, read here from the protobuf without needing
the protobuf package.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

# SentencePiece's TrainerSpec.ModelType; UNIGRAM is the proto's default when the field is absent.
SENTENCEPIECE_TYPES = {1: "Unigram", 2: "BPE", 3: "Word", 4: "Char"}
TRAINER_SPEC, MODEL_TYPE = 2, 3  # field numbers: ModelProto.trainer_spec, TrainerSpec.model_type
SENTENCEPIECE_ATTRIBUTES = ("sp_model", "current_spm", "spm_source")


@functools.lru_cache(maxsize=64)  # a tokenizer's algorithm never changes; reading a protobuf takes a while
def algorithm(tokenizer: Any) -> str:
    """ "WordPiece", "BPE (byte-level)", "BPE (SentencePiece)", "Unigram (SentencePiece)", … for `tokenizer`."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        return _fast(backend)
    processors = (getattr(tokenizer, name, None) for name in SENTENCEPIECE_ATTRIBUTES)
    processor = next((p for p in processors if hasattr(p, "serialized_model_proto")), None)
    if processor is not None:
        return f"{sentencepiece_type(processor.serialized_model_proto())} (SentencePiece)"
    return f"unknown ({type(tokenizer).__name__})"


def _fast(backend: Any) -> str:
    model = type(backend.model).__name__
    parts = " ".join(_state(getattr(backend, part, None)) for part in ("normalizer", "pre_tokenizer", "decoder"))
    byte_level = '"ByteLevel"' in parts
    sentencepiece = '"Metaspace"' in parts or "▁" in parts
    if model == "WordLevel":
        return "WordLevel (whole words)"
    if model in ("BPE", "Unigram") and (byte_level or sentencepiece):
        return f"{model} ({'byte-level' if byte_level else 'SentencePiece'})"
    return model


def _state(component: Any) -> str:
    """A tokenizers component (normalizer, pre-tokenizer, decoder) as its JSON; "" for none."""
    if component is None:
        return ""
    state = component.__getstate__()
    return state.decode("utf-8") if isinstance(state, bytes) else str(state)


def sentencepiece_type(proto: bytes) -> str:
    """The model type in a SentencePiece ModelProto: "Unigram", "BPE", "Word" or "Char"."""
    for number, value in _fields(proto):
        if number == TRAINER_SPEC and isinstance(value, bytes):
            kind = next((v for n, v in _fields(value) if n == MODEL_TYPE and isinstance(v, int)), 1)
            return SENTENCEPIECE_TYPES.get(kind, f"type {kind}")
    return SENTENCEPIECE_TYPES[1]


def _fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """The (field number, value) pairs of one protobuf message: ints for varints, bytes otherwise."""
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(data, i)
        elif wire == 2:
            size, i = _varint(data, i)
            value, i = data[i : i + size], i + size
        elif wire in (1, 5):  # fixed 64 and 32 bits
            width = 8 if wire == 1 else 4
            value, i = data[i : i + width], i + width
        else:
            raise ValueError(f"Unsupported protobuf wire type {wire}.")
        yield number, value


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[i]
        value |= (byte & 0x7F) << shift
        i, shift = i + 1, shift + 7
        if byte < 0x80:
            return value, i
