"""Run in a fresh process: load saved bench models with the app's `load_model`, report RSS as JSON.

`python -m bench.probe distilbert` loads one model; `python -m bench.probe all` imports the app
first (as a deployment does) and loads all five. A fresh process per probe keeps one model's
memory, or the allocator's leftovers, from counting towards another's.
"""

from __future__ import annotations

import gc
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def rss_bytes() -> int:
    """Resident set size of this process, from /proc, after a garbage collection."""
    gc.collect()
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main(argv: list[str]) -> int:
    what = argv[0] if argv else "all"
    if what == "all":
        import app  # noqa: F401  (torch, transformers and gradio, as the deployed process holds them)
    import torch

    from bench.configs import SPECS
    from bench.context import CACHE
    from bench.models import saved_folder
    from services.models import load_model

    keys = list(SPECS) if what == "all" else [what]
    report = {"before": rss_bytes()}
    loaded = [load_model(SPECS[key].kind, str(saved_folder(CACHE, key))) for key in keys]
    report["after"] = rss_bytes()
    with torch.inference_mode():  # one short run each, as a first request: every layer read, the embedding in part
        for item in loaded:
            inputs = dict(item.tokenizer("The animal didn't cross the street", return_tensors="pt"))
            if item.kind in ("causal-lm", "seq2seq-lm"):
                item.model.generate(**inputs, max_new_tokens=2, do_sample=False, num_beams=1)
            else:
                item.model(**inputs, output_attentions=True)
    report["used"] = rss_bytes()
    with torch.inference_mode():  # read every weight once: pages the loader mapped but did not read yet
        for tensor in (t for item in loaded for t in item.model.state_dict().values()):
            tensor.float().sum()
    report["touched"] = rss_bytes()
    report["weights"] = sum(p.numel() * p.element_size() for item in loaded for p in item.model.parameters())
    sys.stdout.write(json.dumps(report) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
