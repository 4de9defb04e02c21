"""Full-size random models of the app's defaults: built on demand, served to the app, freed after use.

Each is `AutoModelFor….from_config(published config, attn_implementation="eager")` under
`torch.manual_seed(0)`, in eval mode: the same shapes and the same code path as the app's
`services.models.load_model`, with random weights (latency does not depend on their values).
"""

from __future__ import annotations

import gc
import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
import transformers
from transformers import AutoConfig, GenerationConfig

from bench import vocab
from bench.configs import SPECS, ModelSpec
from services.models import MODEL_CLASSES, MODELS, LoadedModel

logger = logging.getLogger(__name__)

SPEC_FILE = "bench-spec.json"


def build_model(spec: ModelSpec) -> Any:
    """The random model of `spec`, as the app would load it (eager attention, eval mode)."""
    fields = dict(spec.config)
    config = AutoConfig.for_model(fields.pop("model_type"), **fields)
    torch.manual_seed(0)
    model = getattr(transformers, MODEL_CLASSES[spec.kind]).from_config(config, attn_implementation="eager")
    if spec.generation is not None:
        model.generation_config = GenerationConfig(**spec.generation)
    return model.eval()


class ModelStore:
    """The bench's models by key ("distilbert", "bart", "smollm2", "marian", "bert").

    A model is built the first time a section asks for it and registered in the app's model
    cache under `spec.source`, so the app's services and endpoints run on it; `keep_only`
    drops the ones no later section needs, so at most the five defaults (~4 GB) are held.
    """

    def __init__(self, cache: Path) -> None:
        self.cache = cache
        self._loaded: dict[str, LoadedModel] = {}
        self._tokenizers: dict[str, Any] = {}

    def get(self, key: str) -> LoadedModel:
        if key not in self._loaded:
            spec = SPECS[key]
            logger.info("building %s (random weights, %s config)", spec.source, spec.hub_id)
            loaded = LoadedModel(
                source=spec.source, kind=spec.kind, model=build_model(spec), tokenizer=self.tokenizer(key)
            )
            self._loaded[key] = MODELS.add(loaded)
        return self._loaded[key]

    def tokenizer(self, key: str) -> Any:
        if key not in self._tokenizers:
            self._tokenizers[key] = vocab.build(key, self.cache)
        return self._tokenizers[key]

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
        """A folder with the model and tokenizer saved, for runs that load from disk (cold start).

        Saved once under the cache and reused while the spec is unchanged: the random weights
        are seeded, so every run loads the same model.
        """
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
