"""Translation from English with opus-mt style seq2seq models, and the attention of the result.

transformers 5 has no translation pipeline: the model's own `generate` translates, then one
teacher-forced pass over exactly the produced ids returns the cross-attention alignment
(target tokens x source tokens) and the encoder self-attention of that translation.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass

import torch

from services.attention_maps import AttentionMaps, Step, stack_attentions
from services.encoding import encode
from services.inputs import check_beams, model_for  # noqa: F401  (part of this task's API)
from services.models import MODELS, ProgressCallback
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

    def as_pipeline_output(self) -> list[dict[str, str]]:
        return [{"translation_text": self.translation_text}]


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
) -> TranslationResult:
    """Translate `text` with the model configured for `target_language` (loaded on first use).

    Greedy by default (`num_beams=1`): opus-mt's own config asks for 4 beams, which costs about
    as much again per beam on a CPU for a small gain on short sentences.
    """
    checkpoint = model_for(target_language, models)
    loaded = MODELS.get("seq2seq-lm", checkpoint, precision=precision, on_load=on_load)
    encoded = encode(loaded, [text], max_tokens=max_tokens)
    with torch.inference_mode():
        # The encoder runs once: generate and the attention pass both read its output.
        encoder_outputs = loaded.model.get_encoder()(**encoded.batch, output_attentions=True)
        produced = loaded.model.generate(
            **encoded.batch,
            # A copy: for beams, generate widens the encoder output it is given in place.
            encoder_outputs=copy.copy(encoder_outputs),
            max_new_tokens=max_new_tokens,
            num_beams=num_beams,
            do_sample=False,
        )[0]
        outputs = loaded.model(
            attention_mask=encoded.batch["attention_mask"],
            encoder_outputs=encoder_outputs,
            decoder_input_ids=produced.unsqueeze(0),
            output_attentions=True,
        )
    tokenizer = loaded.tokenizer
    english = encoded.axis(tokenizer, 0)
    target = token_axis(tokenizer, produced.tolist())
    # Decoder position t reads target token t and writes token t + 1.
    steps = tuple(Step(query=t - 1, token=target.tokens[t]) for t in range(1, len(target)))
    return TranslationResult(
        source_text=text,
        target_language=target_language,
        translation_text=tokenizer.decode(produced, skip_special_tokens=True),
        truncated=encoded.truncated[0],
        cross_attention=AttentionMaps(
            title=f"Cross-attention: {target_language} tokens (rows) × English tokens (columns)",
            query=target,
            key=english,
            weights=stack_attentions(outputs.cross_attentions),
            model=loaded.facts,
            cross=True,
            steps=steps,
        ),
        encoder_attention=AttentionMaps(
            title="Encoder self-attention over the English source",
            query=english,
            key=english,
            weights=stack_attentions(encoder_outputs.attentions),
            model=loaded.facts,
        ),
    )
