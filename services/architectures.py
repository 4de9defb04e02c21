"""Three architectures, one sentence: what each family's tokens may see, in its last layer.

The same text goes through an encoder (the attention tab's model), a decoder (the generation model,
reading the text, writing nothing) and an encoder-decoder (the first translation model, translating it
greedily). Each is run by its own task's service (services.attention, services.translation), so the
attention is that extraction's, not a second copy; then the last layer is averaged over heads
(`last_layer_mean`) and what the model's mask hides is blanked (`causal`). A family that fails (its
model cannot load) becomes a `Failed` panel; the others still run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from services.config import Settings, short_name
from services.errors import PlaygroundError
from services.models import ProgressCallback
from services.run_guard import RunStopped
from services.tokens import TokenAxis

logger = logging.getLogger(__name__)

ENCODER, DECODER, ENCODER_DECODER = "encoder-only", "decoder-only", "encoder-decoder"
# What each family's tokens may see: the titles say it, the masks draw it.
SEES = {
    ENCODER: "every token sees all tokens",
    DECODER: "only the tokens to its left (and itself)",
    ENCODER_DECODER: "the whole source, plus the target tokens to its left",
}
Progress = Callable[[float, str], None]  # (fraction done, what is happening)


@dataclass(frozen=True)
class Trio:
    """The three models compared, as configured: their sources, and the translation's target language."""

    encoder: str
    decoder: str
    encoder_decoder: str
    target_language: str

    @classmethod
    def of(cls, settings: Settings) -> Trio:
        """The attention tab's model, the generation model, and the first translation model."""
        language, model = next(iter(settings.translation_models.items()))
        return cls(settings.attention_model, settings.generation_model, model, language)


@dataclass(frozen=True, eq=False)
class Panel:
    """One family's last layer, heads averaged.

    matrix: float32 [query, key]; NaN where the query token may not see the key token (the model's own
    mask, which is not a weight of 0). `keys` is one sequence, or the source then the target (an
    encoder-decoder's cross-attention beside its decoder's self-attention; each half's rows sum to 1).
    """

    family: str
    model: str
    query: TokenAxis
    keys: tuple[TokenAxis, ...]
    matrix: np.ndarray
    truncated: bool = False
    translation_text: str = ""
    target_language: str = ""

    @property
    def sees(self) -> str:
        return SEES[self.family]

    @property
    def key_tokens(self) -> tuple[str, ...]:
        return tuple(token for axis in self.keys for token in axis.tokens)

    @property
    def key_texts(self) -> tuple[str, ...]:
        return tuple(text for axis in self.keys for text in axis.texts)

    @property
    def source_columns(self) -> int:
        """Columns before the divider (the source), or 0 when the keys are one sequence."""
        return len(self.keys[0]) if len(self.keys) > 1 else 0

    def as_raw_output(self) -> dict[str, object]:
        raw: dict[str, object] = {
            "family": self.family,
            "model": short_name(self.model),
            "sees": self.sees,
            "tokens": list(self.query.tokens),
            "key_tokens": list(self.key_tokens),
            # null where the token may not see: the model's mask, not a weight
            "matrix": [[None if np.isnan(w) else round(float(w), 6) for w in row] for row in self.matrix],
        }
        if self.family == ENCODER_DECODER:
            raw |= {
                "translation_text": self.translation_text,
                "target_language": self.target_language,
                "source_columns": self.source_columns,
            }
        return raw


@dataclass(frozen=True)
class Failed:
    """A family that could not run, and why, in words a visitor can act on."""

    family: str
    model: str
    message: str

    @property
    def sees(self) -> str:
        return SEES[self.family]

    def as_raw_output(self) -> dict[str, object]:
        return {"family": self.family, "model": short_name(self.model), "sees": self.sees, "error": self.message}


@dataclass(frozen=True)
class Comparison:
    """The three families' panels, in the order encoder, decoder, encoder-decoder."""

    panels: tuple[Panel | Failed, ...] = field(default=())

    @property
    def truncated(self) -> bool:
        return any(isinstance(panel, Panel) and panel.truncated for panel in self.panels)

    def as_raw_output(self) -> list[dict[str, object]]:
        return [panel.as_raw_output() for panel in self.panels]


def compare(
    text: str,
    trio: Trio,
    *,
    precision: str = "fp32",
    max_tokens: int | None = None,
    max_new_tokens: int = 64,
    on_progress: Progress | None = None,
) -> Comparison:
    """Run `text` through the three families of `trio`, one after another (each loads on first use).

    Each model reads at most `max_tokens` tokens; the translation writes at most `max_new_tokens`.
    A cancelled or overlong run stops the whole comparison (services.run_guard); any other failure of
    one family becomes its `Failed` panel.
    """
    runs: dict[str, tuple[str, str, Callable[[ProgressCallback], Panel]]] = {
        ENCODER: (
            trio.encoder,
            "reading the text…",
            lambda on_load: _encoder(text, trio.encoder, precision, max_tokens, on_load),
        ),
        DECODER: (
            trio.decoder,
            "reading the text…",
            lambda on_load: _decoder(text, trio.decoder, precision, max_tokens, on_load),
        ),
        ENCODER_DECODER: (
            trio.encoder_decoder,
            f"translating into {trio.target_language}…",
            lambda on_load: _encoder_decoder(text, trio, precision, max_tokens, max_new_tokens, on_load),
        ),
    }
    panels: list[Panel | Failed] = []
    for n, (family, (model, doing, run)) in enumerate(runs.items()):
        prefix = f"{n + 1}/{len(runs)} {family} ({short_name(model)})"

        def report(message: str, n: int = n, prefix: str = prefix) -> None:
            if on_progress is not None:
                on_progress(n / len(runs), f"{prefix}: {message}")

        report(doing)
        panels.append(_run_one(family, model, run, report))
    return Comparison(panels=tuple(panels))


def _run_one(family: str, model: str, run: Callable[[ProgressCallback], Panel], report: ProgressCallback):
    try:
        return run(report)
    except RunStopped:
        raise  # the visitor cancelled, or the request is out of time: nothing more runs
    except PlaygroundError as error:
        return Failed(family, model, str(error))
    except Exception:
        logger.exception("The %s model %s failed in the three-architectures comparison", family, model)
        return Failed(family, model, f"{short_name(model)} could not run: an unexpected error, which was logged.")


def _encoder(text: str, model: str, precision: str, max_tokens: int | None, on_load: ProgressCallback) -> Panel:
    from services import attention  # torch loads with the first request, not with the page

    result = attention.attend(
        text, model=model, kind="encoder", precision=precision, max_tokens=max_tokens, on_load=on_load
    )
    maps = result.attention
    matrix = last_layer_mean(maps.weights)
    return Panel(ENCODER, model, maps.query, (maps.key,), matrix, truncated=result.truncated)


def _decoder(text: str, model: str, precision: str, max_tokens: int | None, on_load: ProgressCallback) -> Panel:
    from services import attention

    result = attention.attend(
        text, model=model, kind="causal-lm", precision=precision, max_tokens=max_tokens, on_load=on_load
    )
    maps = result.attention
    matrix = causal(last_layer_mean(maps.weights))
    return Panel(DECODER, model, maps.query, (maps.key,), matrix, truncated=result.truncated)


def _encoder_decoder(
    text: str, trio: Trio, precision: str, max_tokens: int | None, max_new_tokens: int, on_load: ProgressCallback
) -> Panel:
    from services import translation

    result = translation.translate(
        text,
        trio.target_language,
        models={trio.target_language: trio.encoder_decoder},
        num_beams=1,
        max_new_tokens=max_new_tokens,
        precision=precision,
        max_tokens=max_tokens,
        on_load=on_load,
    )
    cross, own = result.cross_attention, result.decoder_attention
    matrix = np.hstack([last_layer_mean(cross.weights), causal(last_layer_mean(own.weights))])
    return Panel(
        ENCODER_DECODER,
        trio.encoder_decoder,
        cross.query,
        (cross.key, own.key),
        matrix,
        truncated=result.truncated,
        translation_text=result.translation_text,
        target_language=trio.target_language,
    )


def last_layer_mean(weights: np.ndarray) -> np.ndarray:
    """[layers, heads, query, key] -> the last layer averaged over heads, float32 [query, key]."""
    return np.ascontiguousarray(weights[-1].mean(axis=0), dtype=np.float32)


def causal(matrix: np.ndarray) -> np.ndarray:
    """`matrix` [n, n] with NaN above the diagonal: what a causal mask lets no token see."""
    masked = np.array(matrix, dtype=np.float32)
    masked[np.triu_indices(masked.shape[0], k=1)] = np.nan
    return masked
