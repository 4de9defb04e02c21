"""When `generate` stops early: the visitor pressed Stop, or the run's time is up (services.run_guard)."""

from __future__ import annotations

import threading

import torch
from transformers import StoppingCriteria

from services.run_guard import RunGuard


class StopWhen(StoppingCriteria):
    """Ends generation at the next token once `event` is set, or once `guard` has had its CPU time (the
    guard then says the text was cut short)."""

    def __init__(self, *, event: threading.Event | None = None, guard: RunGuard | None = None) -> None:
        self.event = event
        self.guard = guard

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs) -> torch.Tensor:
        out_of_time = self.guard is not None and self.guard.out_of_time()
        if out_of_time:
            self.guard.ran_out = True
        stop = out_of_time or (self.event is not None and self.event.is_set())
        return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)
