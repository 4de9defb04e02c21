"""Text generation that streams its text, then shows the causal attention of what it wrote.

Shaped like a pipeline: `preprocess` encodes the prompt (its end kept, with room for the new
tokens), `forward` runs `generate` in a worker thread and hands back a typed `Generated`,
`postprocess` decodes it and assembles the attention of the whole text.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from transformers import StoppingCriteriaList, TextIteratorStreamer, set_seed

from services import gpu
from services.attention_maps import AttentionMaps, Step, TopTokens, stack_attentions
from services.config import short_name
from services.encoding import Encoded, encode, token_limit
from services.inputs import GenerationOptions
from services.lenses.knockout import knocked_out
from services.models import MODELS, LoadedModel, ProgressCallback
from services.recipe import NONE, KnockOut, Recipe
from services.run_guard import RunGuard, guarding
from services.stopping import StopWhen
from services.tokens import readable_pieces, token_axis

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
    out_of_time: bool = False


@dataclass
class Generated:
    """What one `generate` call in the worker thread left: the ids, each step's attentions, the cache for
    one more step, and each step's next-token candidates; or the error it raised."""

    ids: torch.Tensor | None = None
    attentions: tuple[Any, ...] = ()
    cache: Any = None
    top: tuple[TopTokens, ...] = ()
    error: Exception | None = None


def stream(
    prompt: str,
    options: GenerationOptions,
    *,
    model: str,
    precision: str = "fp32",
    max_seconds: float | None = None,
    max_tokens: int | None = None,
    on_load: ProgressCallback | None = None,
    knock_out: KnockOut = NONE,
) -> Iterator[GenerationUpdate]:
    """Generate `options.num_sequences` continuations one after another, streaming each.

    The prompt keeps its last tokens, as many as leave room for the new ones within the model's
    context or `max_tokens`, whichever is smaller.
    `max_seconds` bounds the CPU time of the whole run, shared by the sequences: generation stops writing
    when it is up (a model layer past it and its grace stops the run, see services.run_guard). When the
    caller stops reading (Stop pressed, visitor gone), the worker stops at its next token.
    `knock_out` names heads to generate without.
    """
    MODELS.get("causal-lm", model, precision=precision, on_load=on_load)  # here, in the server, with progress
    yield from compute(
        prompt,
        options,
        model=model,
        precision=precision,
        max_seconds=max_seconds,
        max_tokens=max_tokens,
        knock_out=knock_out,
    )


@gpu.run(gpu.decoding)
def compute(
    prompt: str,
    options: GenerationOptions,
    *,
    model: str,
    precision: str,
    max_seconds: float | None,
    max_tokens: int | None,
    knock_out: KnockOut,
) -> Iterator[GenerationUpdate]:
    """`stream` once its model is loaded: on a GPU when one is lent (services.gpu), streaming from there."""
    loaded = MODELS.get("causal-lm", model, precision=precision)
    encoded = preprocess(loaded, prompt, options, max_tokens=max_tokens)
    truncated = encoded.truncated[0]
    if options.seed is not None:  # without one, sampling draws anew
        set_seed(options.seed)
    finished: list[GeneratedSequence] = []
    # One budget for every sequence; the worker's layers take turns on the CPU under it (services.turns).
    guard = RunGuard(max_seconds)
    for _ in range(options.num_sequences):
        streamer = TextIteratorStreamer(loaded.tokenizer, skip_prompt=True, skip_special_tokens=True)
        stop = threading.Event()
        generated = Generated()
        worker = threading.Thread(
            target=_guarded,
            args=(guard, forward, loaded, encoded, options, streamer, generated),
            kwargs={"stop": stop, "guard": guard, "knock_out": knock_out},
        )
        worker.start()
        partial, read = "", False
        try:
            for piece in streamer:
                partial += piece
                texts = (*tuple(s.generated_text for s in finished), prompt + partial)
                yield GenerationUpdate(texts=texts, prompt_truncated=truncated)
            read = True
        finally:  # also when the reader is closed early: free the CPU for the next visitor
            stop.set()
            if not read:
                guard.cancel()  # a worker waiting for its turn on the CPU stops too
            worker.join()
        if generated.error is not None:
            raise generated.error
        finished.append(postprocess(loaded, prompt, encoded, generated, options=options, knock_out=knock_out))
        if guard.out_of_time():
            break
    yield GenerationUpdate(
        texts=tuple(s.generated_text for s in finished),
        done=True,
        sequences=tuple(finished),
        prompt_truncated=truncated,
        out_of_time=guard.out_of_time(),
    )


def _guarded(run: RunGuard, target, *args, **kwargs) -> None:
    """`target` in this thread under `run`'s guard: its layers take turns on the CPU."""
    with guarding(run):
        target(*args, **kwargs)


def generate(
    prompt: str,
    options: GenerationOptions,
    *,
    model: str,
    precision: str = "fp32",
    max_tokens: int | None = None,
    knock_out: KnockOut = NONE,
) -> GenerationUpdate:
    """The final update of `stream`, for callers that do not stream."""
    *_, last = stream(prompt, options, model=model, precision=precision, max_tokens=max_tokens, knock_out=knock_out)
    return last


def preprocess(loaded: LoadedModel, prompt: str, options: GenerationOptions, *, max_tokens: int | None) -> Encoded:
    """The prompt's last tokens: as many as leave room for the new ones (that is what the continuation follows)."""
    room = max(1, token_limit(loaded, max_tokens) - options.max_new_tokens)
    return encode(loaded, [prompt], max_tokens=room, keep_end=True)


def forward(
    loaded: LoadedModel,
    encoded: Encoded,
    options: GenerationOptions,
    streamer: TextIteratorStreamer,
    generated: Generated,
    *,
    stop: threading.Event,
    guard: RunGuard | None = None,
    knock_out: KnockOut = NONE,
) -> None:
    """Run `generate` (in a worker thread) into `generated`; always end the stream so the reader never hangs."""
    sampling = (
        {"temperature": options.temperature, "top_p": options.top_p, "top_k": options.top_k}
        if options.do_sample
        else {}
    )
    tokenizer = loaded.tokenizer
    try:
        # Knocked out here, in the worker thread: the heads are scoped to the thread that runs the model.
        with torch.inference_mode(), knocked_out(loaded.model, knock_out):
            output = loaded.model.generate(
                **encoded.batch,
                max_new_tokens=options.max_new_tokens,
                do_sample=options.do_sample,
                pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
                streamer=streamer,
                stopping_criteria=StoppingCriteriaList([StopWhen(event=stop, guard=guard)]),
                # Raw logits and the warped scores sampling drew from, for the step-by-step view.
                output_logits=True,
                output_scores=True,
                # Each step's attention, so the heatmap is this run's own, with no second pass.
                output_attentions=True,
                return_dict_in_generate=True,
                **sampling,
            )
        generated.ids = output.sequences[0]
        generated.attentions = output.attentions
        generated.cache = output.past_key_values
        chosen = output.sequences[0, -len(output.logits) :]
        generated.top = tuple(
            _top_tokens(tokenizer, logits[0], scores[0], int(token))
            for logits, scores, token in zip(output.logits, output.scores, chosen, strict=True)
        )
    except Exception as error:  # re-raised in the caller's thread
        generated.error = error
        streamer.end()


def _top_tokens(tokenizer, logits: torch.Tensor, scores: torch.Tensor, chosen: int) -> TopTokens:
    """The TOP_K most likely next tokens under the raw logits, plus the chosen one if it is not among them."""
    before = torch.softmax(logits.float(), dim=-1)
    after = torch.softmax(scores.float(), dim=-1)  # -inf (filtered out) becomes 0
    ids = torch.topk(before, TOP_K).indices.tolist()
    if chosen not in ids:
        ids.append(chosen)
    tokens = tuple(tokenizer.convert_ids_to_tokens(ids))
    return TopTokens(
        tokens=tokens,
        texts=readable_pieces(tokenizer, tokens),
        before=tuple(before[ids].tolist()),
        after=tuple(after[ids].tolist()),
        chosen=ids.index(chosen),
    )


def postprocess(
    loaded: LoadedModel,
    prompt: str,
    encoded: Encoded,
    generated: Generated,
    *,
    options: GenerationOptions | None = None,
    knock_out: KnockOut = NONE,
) -> GeneratedSequence:
    """Decode like the text-generation pipeline, and assemble the causal attention of the whole text
    from the rows `generate` computed at each step."""
    ids = generated.ids
    prompt_length = encoded.length
    continuation = loaded.tokenizer.decode(ids[prompt_length:], skip_special_tokens=True)
    axis = token_axis(loaded.tokenizer, ids.tolist())
    # Step t (from 0) wrote token prompt_length + t; the query whose output chose it is the token before.
    steps = tuple(
        Step(
            query=prompt_length + t - 1,
            token=axis.tokens[prompt_length + t],
            text=axis.texts[prompt_length + t],
            top=top,
        )
        for t, top in enumerate(generated.top)
    )
    return GeneratedSequence(
        generated_text=prompt + continuation,
        new_tokens=len(ids) - prompt_length,
        attention=AttentionMaps(
            title=f"Causal self-attention of {short_name(loaded.source)}",
            query=axis,
            key=axis,
            weights=_causal_weights(loaded, generated, knock_out),
            facts=loaded.facts,
            steps=steps,
            recipe=Recipe(
                task="generation",
                model=loaded.source,
                kind=loaded.kind,
                precision=loaded.precision,
                ids=(axis.ids,),
                answer=prompt_length,
                options=tuple(dataclasses.asdict(options or GenerationOptions()).items()),
                knock_out=knock_out,
            ),
        ),
    )


def _causal_weights(loaded: LoadedModel, generated: Generated, knock_out: KnockOut = NONE) -> np.ndarray:
    """[layers, heads, T, T] from generate's own steps: the prompt's rows from the first pass, one row per
    later step, and the last token's row from one more cached step (it was written, never read)."""
    ids = generated.ids
    total = len(ids)
    with torch.inference_mode(), knocked_out(loaded.model, knock_out):
        last = loaded.model(ids[-1:].unsqueeze(0), past_key_values=generated.cache, output_attentions=True)
    blocks = [stack_attentions(step) for step in (*generated.attentions, last.attentions)]
    weights = np.zeros((*blocks[0].shape[:2], total, total), dtype=np.float32)
    row = 0
    for block in blocks:
        queries, keys = block.shape[-2:]
        weights[:, :, row : row + queries, :keys] = block
        row += queries
    return weights
