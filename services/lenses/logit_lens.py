"""The logit lens: at each generation step, what each layer would have predicted.

Layer l's hidden state at the query position that chose the token goes through the model's final
norm and its LM head, as the last layer's does. transformers hands back the last layer's hidden state
already normalised, so the norm is applied to every layer but the last: applied twice, the last
layer's prediction would no longer be the model's own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from services import gpu
from services.lenses import replay
from services.lenses.knockout import knocked_out
from services.recipe import Recipe
from services.tokens import readable_pieces, readable_tokens

NORMS = ("norm", "ln_f", "final_layernorm", "norm_f")  # the final norm's name in Llama, GPT-2, Phi, Mamba-style


@dataclass(frozen=True)
class LogitLens:
    """For each step (a written token) and layer: the layer's most likely next token and its probability.

    tokens: the written tokens, one per step. top: [layers][steps] token strings. top_prob and chosen_prob:
    float32 [layers, steps], the top token's probability and the written token's. texts, top_texts: the
    same tokens as a person reads them (the JSON keeps the tokenizer's own pieces).
    """

    tokens: tuple[str, ...]
    top: tuple[tuple[str, ...], ...]
    top_prob: np.ndarray
    chosen_prob: np.ndarray
    texts: tuple[str, ...] = ()
    top_texts: tuple[tuple[str, ...], ...] = ()

    @property
    def layers(self) -> int:
        return self.top_prob.shape[0]

    def as_json(self) -> dict[str, object]:
        steps = [
            {
                "token": token,
                "per_layer": [
                    {"token": self.top[layer][step], "prob": float(self.top_prob[layer, step])}
                    for layer in range(self.layers)
                ],
            }
            for step, token in enumerate(self.tokens)
        ]
        return {"layers": self.layers, "steps": steps}


@gpu.run(gpu.one_pass)
def logit_lens(recipe: Recipe) -> LogitLens:
    """One teacher-forced pass over the text with every layer's hidden state; the lens reads each step's query."""
    loaded = replay.load(recipe)
    model, tokenizer = loaded.model, loaded.tokenizer
    ids, prompt = recipe.ids[0], recipe.answer
    written = torch.tensor(ids[prompt:], device=loaded.device)
    with torch.no_grad(), knocked_out(model, recipe.knock_out):
        outputs = model(torch.tensor([ids[:-1]], device=loaded.device), output_hidden_states=True, logits_to_keep=1)
        hidden = outputs.hidden_states[1:]  # [layers] of [1, tokens, hidden]; the embeddings are not a layer
        norm, head = final_norm(model), model.get_output_embeddings()
        tops, top_prob, chosen_prob = [], [], []
        for layer, states in enumerate(tqdm(hidden, desc="Reading each layer")):
            queries = states[0, prompt - 1 :]  # the query that chose each written token
            if layer < len(hidden) - 1:
                queries = norm(queries)
            probabilities = torch.softmax(head(queries).float(), dim=-1)
            best = probabilities.max(dim=-1)
            tops.append(tuple(tokenizer.convert_ids_to_tokens(best.indices.tolist())))
            top_prob.append(best.values.cpu().numpy())
            chosen_prob.append(probabilities.gather(-1, written.unsqueeze(-1)).squeeze(-1).cpu().numpy())
    tokens = tuple(tokenizer.convert_ids_to_tokens(list(ids[prompt:])))
    return LogitLens(
        tokens=tokens,
        texts=readable_tokens(tokenizer, tokens),
        top=tuple(tops),
        top_texts=tuple(readable_pieces(tokenizer, row) for row in tops),
        top_prob=np.asarray(top_prob, dtype=np.float32),
        chosen_prob=np.asarray(chosen_prob, dtype=np.float32),
    )


def final_norm(model: torch.nn.Module) -> torch.nn.Module:
    """The norm the model applies to its last layer before the LM head."""
    base = model.base_model
    for name in NORMS:
        norm = getattr(base, name, None)
        if isinstance(norm, torch.nn.Module):
            return norm
    raise RuntimeError(f"{type(model).__name__} has no final norm this lens knows ({', '.join(NORMS)}).")
