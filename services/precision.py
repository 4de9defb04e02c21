"""Fast mode: a cheaper copy of a model, with eager attention intact.

int8 dynamic quantization stores each Linear layer's weights as int8 and quantizes activations on
the fly; bf16 halves every weight. Both run the same attention code, so the heatmaps still come
from the model that answered; scores move a little (the benchmark measures how often the top label
changes). Dynamic quantization runs on CPUs only, so on a GPU fast mode is bf16, or fp16 on a GPU
without bf16 (before Ampere, such as a T4).
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import torch

from services.models import device

logger = logging.getLogger(__name__)

PRECISIONS = ("fp32", "int8", "bf16", "auto")


def native_bf16() -> bool:
    """Whether this CPU computes bf16 in hardware (AVX512-BF16 or AMX); elsewhere bf16 is emulated and slow."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


def resolve(precision: str) -> str:
    """ "auto" is bf16 where the CPU has it (attention stays within 0.02 of fp32 on MiniLM), else int8. On a
    GPU every fast precision is "bf16": half precision (`gpu_half`), since int8 has no CUDA kernels."""
    if precision not in PRECISIONS:
        raise ValueError(f"Unknown precision {precision!r}; expected one of {PRECISIONS}.")
    if precision != "fp32" and device().type == "cuda":
        return "bf16"
    if precision == "auto":
        return "bf16" if native_bf16() else "int8"
    return precision


def convert(model: Any, precision: str) -> Any:
    """`model` in `precision`; "fp32" returns it unchanged."""
    precision = resolve(precision)
    if precision == "bf16" and model.device.type == "cuda":
        dtype = gpu_half()
        logger.info("Fast mode on %s: %s weights", model.device, dtype)
        return model.to(dtype)
    if precision == "bf16":
        return model.to(torch.bfloat16)
    if precision == "int8":
        with warnings.catch_warnings():
            # torch points to torchao for new code; the eager API is what runs on a plain CPU wheel.
            warnings.simplefilter("ignore")
            return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    return model


def gpu_half() -> torch.dtype:
    """The GPU's half precision: bf16 where it computes it (Ampere and later), else fp16 (int8 dynamic
    quantization has no CUDA kernels)."""
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def weight_bytes(model: Any) -> int:
    """Bytes held by the weights, quantized packed weights included (they are not parameters)."""

    def size(value: Any) -> int:
        if isinstance(value, torch.Tensor):  # quantized tensors report 1 byte per element
            return value.numel() * value.element_size()
        if isinstance(value, (tuple, list)):
            return sum(size(item) for item in value)
        return 0

    return sum(size(value) for value in model.state_dict().values())
