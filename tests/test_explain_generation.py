"""Each generation step's next-token distribution equals transformers computed directly: the raw
softmax of a teacher-forced pass, and the warped one that sampling drew from."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import AutoModelForCausalLM
from transformers.generation.logits_process import (
    LogitsProcessorList,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from services import generation
from services.tokens import token_axis
from tests.helpers import forward, load_direct, stacked

PROMPT = "So today, I just feel like"
GREEDY = generation.GenerationOptions(max_new_tokens=6)
SAMPLING = generation.GenerationOptions(max_new_tokens=6, do_sample=True, temperature=0.7, top_k=5, top_p=0.9, seed=1)


def warpers(options: generation.GenerationOptions) -> LogitsProcessorList:
    """The warpers `generate` applies when sampling, in its order: temperature, top-k, top-p."""
    return LogitsProcessorList(
        [
            TemperatureLogitsWarper(options.temperature),
            TopKLogitsWarper(options.top_k),
            TopPLogitsWarper(options.top_p),
        ]
    )


def check_steps(sequence: generation.GeneratedSequence, tokenizer, model, options) -> None:
    """Every step of `sequence` against one teacher-forced pass over the ids it produced."""
    maps = sequence.attention
    ids = torch.tensor([maps.query.ids])
    out = forward(model, input_ids=ids)
    logits = out.logits[0].float()
    attention = stacked(out.attentions)
    prompt_length = len(maps.query) - sequence.new_tokens
    assert [step.query for step in maps.steps] == list(range(prompt_length - 1, len(maps.query) - 1))
    for step in maps.steps:
        top = step.top
        assert top.tokens[top.chosen] == step.token == maps.query.tokens[step.query + 1]
        candidates = tokenizer.convert_tokens_to_ids(list(top.tokens))
        assert candidates[top.chosen] == maps.query.ids[step.query + 1]

        before = torch.softmax(logits[step.query], dim=-1)
        np.testing.assert_allclose(top.before, before[candidates].numpy(), atol=1e-4)
        # The first ten are the ten most likely under the raw logits, most likely first.
        np.testing.assert_allclose(top.before[: generation.TOP_K], before.topk(generation.TOP_K).values, atol=1e-4)
        if options.do_sample:
            warped = warpers(options)(ids[:, : step.query + 1], logits[step.query][None])[0]
            after = torch.softmax(warped, dim=-1)[candidates].numpy()
            np.testing.assert_allclose(top.after, after, atol=1e-4)
            assert all(a == 0 for a, e in zip(top.after, after, strict=True) if e == 0)
            assert top.after[top.chosen] > 0
            assert sum(a > 0 for a in top.after) <= options.top_k
            assert sum(top.after) == pytest.approx(1.0, abs=1e-4)
        else:
            assert top.after == pytest.approx(top.before, abs=1e-6)
            assert candidates[top.chosen] == int(before.argmax())
        # The row whose output chose the token is the direct pass's row.
        np.testing.assert_allclose(maps.weights[:, :, step.query], attention[:, :, step.query], atol=1e-4)


@pytest.mark.parametrize("options", [GREEDY, SAMPLING], ids=["greedy", "sampling"])
def test_tiny_generation_steps_equal_a_direct_pass(tiny_models, options):
    source = tiny_models["generation"]
    result = generation.generate(PROMPT, options, model=str(source))
    tokenizer, model = load_direct(AutoModelForCausalLM, source)
    [sequence] = result.sequences
    assert len(sequence.attention.steps) == sequence.new_tokens == options.max_new_tokens
    check_steps(sequence, tokenizer, model, options)


def test_several_sampled_sequences_each_have_their_own_steps(tiny_models):
    source = tiny_models["generation"]
    options = generation.GenerationOptions(max_new_tokens=5, do_sample=True, temperature=1.5, top_k=8, num_sequences=2)
    result = generation.generate(PROMPT, options, model=str(source))
    tokenizer, model = load_direct(AutoModelForCausalLM, source)
    for sequence in result.sequences:
        check_steps(sequence, tokenizer, model, options)


def test_smollm2_steps_greedy_and_sampled(smollm2_gguf_path):
    folder, name = str(smollm2_gguf_path.parent), smollm2_gguf_path.name
    tokenizer, model = load_direct(AutoModelForCausalLM, folder, gguf_file=name)
    for options in (GREEDY, SAMPLING):
        [sequence] = generation.generate(PROMPT, options, model=str(smollm2_gguf_path)).sequences
        check_steps(sequence, tokenizer, model, options)
        assert sequence.attention.facts.family == "decoder-only"
        assert sequence.attention.facts.parameters == sum(p.numel() for p in model.parameters())
    # Real byte-level BPE: "today," is one word, as the text's whitespace splits it.
    assert token_axis(tokenizer, tokenizer(PROMPT)["input_ids"]).words == tuple(PROMPT.split())
