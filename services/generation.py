"""Text generation that streams its text, then shows the causal attention of what it wrote."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from transformers import TextIteratorStreamer, set_seed

from services.attention_maps import AttentionMaps, Step, TopTokens, stack_attentions
from services.config import short_name
from services.inputs import GenerationOptions, check_options  # noqa: F401  (part of this task's API)
from services.models import MODELS, LoadedModel, ProgressCallback
from services.tokens import token_axis

TOP_K = 10  # next-token candidates shown per generation step


@dataclass(frozen=True)
class GeneratedSequence:
    """One finished sequence; `generated_text` is prompt + continuation, as the pipeline gives it."""

    generated_text: str
    new_tokens: int
    attention: AttentionMaps


@dataclass(frozen=True)
class GenerationUpdate:
    """A streamed state: the texts so far, and once `done`, the finished sequences."""

    texts: tuple[str, ...]
    done: bool = False
    sequences: tuple[GeneratedSequence, ...] = ()
    prompt_truncated: bool = False


def stream(
    prompt: str,
    options: GenerationOptions,
    *,
    model: str,
    precision: str = "fp32",
    on_load: ProgressCallback | None = None,
) -> Iterator[GenerationUpdate]:
    """Generate `options.num_sequences` continuations one after another, streaming each."""
    loaded = MODELS.get("causal-lm", model, precision=precision, on_load=on_load)
    tokenizer = loaded.tokenizer
    room = max(1, loaded.max_length - options.max_new_tokens)
    inputs = tokenizer(prompt, return_tensors="pt")
    prompt_truncated = inputs["input_ids"].shape[-1] > room
    # Keep the end of a long prompt: that is what the continuation follows.
    inputs = {key: value[:, -room:].to(loaded.device) for key, value in inputs.items()}
    set_seed(options.seed)
    finished: list[GeneratedSequence] = []
    for _ in range(options.num_sequences):
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
        outcome: dict[str, object] = {}
        worker = threading.Thread(target=_generate, args=(loaded, inputs, options, streamer, outcome))
        worker.start()
        partial = ""
        for piece in streamer:
            partial += piece
            texts = (*tuple(s.generated_text for s in finished), prompt + partial)
            yield GenerationUpdate(texts=texts, prompt_truncated=prompt_truncated)
        worker.join()
        if "error" in outcome:
            raise outcome["error"]  # type: ignore[misc]
        finished.append(_finish(loaded, prompt, inputs, outcome, model))
    yield GenerationUpdate(
        texts=tuple(s.generated_text for s in finished),
        done=True,
        sequences=tuple(finished),
        prompt_truncated=prompt_truncated,
    )


def generate(prompt: str, options: GenerationOptions, *, model: str, precision: str = "fp32") -> GenerationUpdate:
    """The final update of `stream`, for callers that do not stream."""
    *_, last = stream(prompt, options, model=model, precision=precision)
    return last


def _generate(loaded: LoadedModel, inputs, options: GenerationOptions, streamer, outcome: dict) -> None:
    """Run `generate` in a worker thread; always end the stream so the reader never hangs."""
    sampling = (
        {"temperature": options.temperature, "top_p": options.top_p, "top_k": options.top_k}
        if options.do_sample
        else {}
    )
    tokenizer = loaded.tokenizer
    try:
        with torch.inference_mode():
            output = loaded.model.generate(
                **inputs,
                max_new_tokens=options.max_new_tokens,
                do_sample=options.do_sample,
                pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
                streamer=streamer,
                # Raw logits and the warped scores sampling drew from, for the step-by-step view.
                output_logits=True,
                output_scores=True,
                return_dict_in_generate=True,
                **sampling,
            )
        outcome["ids"] = output.sequences[0]
        outcome["top"] = [
            _top_tokens(tokenizer, logits[0], scores[0], int(chosen))
            for logits, scores, chosen in zip(
                output.logits, output.scores, output.sequences[0, -len(output.logits) :], strict=True
            )
        ]
    except Exception as error:  # re-raised in the caller's thread
        outcome["error"] = error
        streamer.end()


def _top_tokens(tokenizer, logits: torch.Tensor, scores: torch.Tensor, chosen: int) -> TopTokens:
    """The TOP_K most likely next tokens under the raw logits, plus the chosen one if it is not among them."""
    before = torch.softmax(logits.float(), dim=-1)
    after = torch.softmax(scores.float(), dim=-1)  # -inf (filtered out) becomes 0
    ids = torch.topk(before, TOP_K).indices.tolist()
    if chosen not in ids:
        ids.append(chosen)
    return TopTokens(
        tokens=tuple(tokenizer.convert_ids_to_tokens(ids)),
        before=tuple(before[ids].tolist()),
        after=tuple(after[ids].tolist()),
        chosen=ids.index(chosen),
    )


def _finish(loaded: LoadedModel, prompt: str, inputs, outcome: dict, model: str) -> GeneratedSequence:
    """Decode like the text-generation pipeline, and take the causal attention of the whole text
    from one teacher-forced pass over exactly the ids that were generated."""
    ids: torch.Tensor = outcome["ids"]
    prompt_length = inputs["input_ids"].shape[-1]
    continuation = loaded.tokenizer.decode(ids[prompt_length:], skip_special_tokens=True)
    with torch.inference_mode():
        outputs = loaded.model(ids.unsqueeze(0), output_attentions=True)
    axis = token_axis(loaded.tokenizer, ids.tolist())
    # Step t (from 0) wrote token prompt_length + t; the query whose output chose it is the token before.
    steps = tuple(
        Step(query=prompt_length + t - 1, token=axis.tokens[prompt_length + t], top=top)
        for t, top in enumerate(outcome["top"])
    )
    return GeneratedSequence(
        generated_text=prompt + continuation,
        new_tokens=len(ids) - prompt_length,
        attention=AttentionMaps(
            title=f"Causal self-attention of {short_name(model)}",
            query=axis,
            key=axis,
            weights=stack_attentions(outputs.attentions),
            model=loaded.facts,
            steps=steps,
        ),
    )
