"""The lenses' computations, beside attention: what moved the answer, which heads it needs, what each
layer would have said. Each module takes a run's `Recipe` (services/recipe.py), loads the very model
that answered through the model cache, and returns a frozen result of plain arrays.

- `knockout`: heads knocked out of a run (transformers' AttentionInterface, scoped to one request);
- `replay`: a recipe's inputs as tensors again, and the probability of its answer;
- `attribution`: Integrated Gradients (classifiers) and gradient × input (generation, translation), with captum;
- `ablation`: the answer with heads knocked out, beside the original; `importance`: every head alone;
- `logit_lens`: each layer's next-token prediction, through the model's final norm and LM head.
"""
