"""Translation from English with opus-mt style seq2seq models, and the attention of the result.

transformers 5 has no translation pipeline: the model's own `generate` translates, then one
teacher-forced pass over exactly the produced ids returns the cross-attention alignment
(target tokens x source tokens) and the encoder self-attention of that translation. Shaped like a
pipeline: `preprocess` tokenises, `forward` encodes, generates and runs that pass, `postprocess`
decodes and names the tokens.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from transformers import StoppingCriteriaList

from services import gpu, run_guard
from services.attention_maps import AttentionMaps, Step, stack_attentions
from services.encoding import Encoded, encode
from services.inputs import model_for
from services.lenses.knockout import knocked_out
from services.models import MODELS, LoadedModel, ProgressCallback
from services.recipe import NONE, KnockOut, Recipe
from services.stopping import StopWhen
from services.tokens import token_axis


@dataclass(frozen=True)
class TranslationResult:
    """A translation, with the alignment and encoder attention of the ids produced."""

    source_text: str
    target_language: str
    translation_text: str
    truncated: bool
    cross_attention: AttentionMaps
    encoder_attention: AttentionMaps
    # The decoder's causal self-attention over the target (the attention tab's three architectures show it).
    decoder_attention: AttentionMaps

    def as_pipeline_output(self) -> list[dict[str, str]]:
        return [{"translation_text": self.translation_text}]


@dataclass(frozen=True)
class Translated:
    """The ids `generate` produced, and the attention pass over them."""

    produced: torch.Tensor
    encoder_attentions: Any
    cross_attentions: Any
    decoder_attentions: Any


def translate(
    text: str,
    target_language: str,
    *,
    models: Mapping[str, str],
    num_beams: int = 1,
    max_new_tokens: int = 256,
    precision: str = "fp32",
    max_tokens: int | None = None,
    on_load: ProgressCallback | None = None,
    knock_out: KnockOut = NONE,
) -> TranslationResult:
    """Translate `text` with the model configured for `target_language` (loaded on first use).

    Greedy by default (`num_beams=1`): opus-mt's own config asks for 4 beams, which costs about
    as much again per beam on a CPU for a small gain on short sentences. `knock_out` names heads
    (of the encoder, and of the decoder's cross-attention) to translate without.
    """
    model = model_for(target_language, models)
    MODELS.get("seq2seq-lm", model, precision=precision, on_load=on_load)  # here, in the server, with progress
    return compute(
        text,
        target_language,
        model=model,
        num_beams=num_beams,
        max_new_tokens=max_new_tokens,
        precision=precision,
        max_tokens=max_tokens,
        knock_out=knock_out,
    )


@gpu.run(gpu.decoding)
def compute(
    text: str,
    target_language: str,
    *,
    model: str,
    num_beams: int,
    max_new_tokens: int,
    precision: str,
    max_tokens: int | None,
    knock_out: KnockOut,
) -> TranslationResult:
    """`translate` once its model is loaded: on a GPU when one is lent (services.gpu)."""
    loaded = MODELS.get("seq2seq-lm", model, precision=precision)
    encoded = encode(loaded, [text], max_tokens=max_tokens)
    translated = forward(loaded, encoded, num_beams=num_beams, max_new_tokens=max_new_tokens, knock_out=knock_out)
    recipe = Recipe(
        task="translation",
        model=loaded.source,
        kind=loaded.kind,
        precision=loaded.precision,
        ids=(tuple(encoded.batch["input_ids"][0].tolist()),),
        answer=0,
        target_ids=tuple(translated.produced.tolist()),
        options=(("num_beams", num_beams), ("max_new_tokens", max_new_tokens)),
        knock_out=knock_out,
    )
    return postprocess(loaded, text, target_language, encoded, translated, recipe=recipe)


def forward(
    loaded: LoadedModel, encoded: Encoded, *, num_beams: int, max_new_tokens: int, knock_out: KnockOut = NONE
) -> Translated:
    """Encode, generate until done or the run's time is up (services.run_guard), and read the attention."""
    stop = StoppingCriteriaList([StopWhen(guard=run_guard.current())])
    with torch.inference_mode(), knocked_out(loaded.model, knock_out):
        # The encoder runs once: generate and the attention pass both read its output.
        encoder_outputs = loaded.model.get_encoder()(**encoded.batch, output_attentions=True)
        produced = loaded.model.generate(
            **encoded.batch,
            # A copy: for beams, generate widens the encoder output it is given in place.
            encoder_outputs=copy.copy(encoder_outputs),
            max_new_tokens=max_new_tokens,
            num_beams=num_beams,
            do_sample=False,
            stopping_criteria=stop,
        )[0]
        outputs = loaded.model(
            attention_mask=encoded.batch["attention_mask"],
            encoder_outputs=encoder_outputs,
            decoder_input_ids=produced.unsqueeze(0),
            output_attentions=True,
        )
    return Translated(
        produced=produced,
        encoder_attentions=encoder_outputs.attentions,
        cross_attentions=outputs.cross_attentions,
        decoder_attentions=outputs.decoder_attentions,
    )


def postprocess(
    loaded: LoadedModel,
    text: str,
    target_language: str,
    encoded: Encoded,
    translated: Translated,
    *,
    recipe: Recipe | None = None,
) -> TranslationResult:
    tokenizer = loaded.tokenizer
    english = encoded.axis(tokenizer, 0)
    # The decoder starts from its start token (Marian's <pad>), then reads what it wrote.
    target = token_axis(tokenizer, translated.produced.tolist(), starts_decoder=True)
    # Decoder position t reads target token t and writes token t + 1.
    steps = tuple(Step(query=t - 1, token=target.tokens[t], text=target.texts[t]) for t in range(1, len(target)))
    return TranslationResult(
        source_text=text,
        target_language=target_language,
        translation_text=tokenizer.decode(translated.produced, skip_special_tokens=True),
        truncated=encoded.truncated[0],
        cross_attention=AttentionMaps(
            title=f"Cross-attention: {target_language} tokens (rows) × English tokens (columns)",
            query=target,
            key=english,
            weights=stack_attentions(translated.cross_attentions),
            facts=loaded.facts,
            cross=True,
            steps=steps,
            recipe=recipe and dataclasses.replace(recipe, stack="cross"),
        ),
        encoder_attention=AttentionMaps(
            title="Encoder self-attention over the English source",
            query=english,
            key=english,
            weights=stack_attentions(translated.encoder_attentions),
            facts=loaded.facts,
            recipe=recipe,
        ),
        decoder_attention=AttentionMaps(
            title=f"Decoder self-attention over the {target_language} tokens",
            query=target,
            key=target,
            weights=stack_attentions(translated.decoder_attentions),
            facts=loaded.facts,
        ),
    )
