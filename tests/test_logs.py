"""The app's and the download script's logging: this project's lines at INFO, every line once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_each_line_prints_once_and_libraries_only_from_warning():
    """In a fresh interpreter: pytest's own handlers on the root logger would hide a doubled line."""
    probe = (
        "import logging\n"
        "from services.logs import configure_logging\n"
        "configure_logging(line_format='%(name)s: %(message)s')\n"
        "logging.getLogger('huggingface_hub.file_download').warning('hub warns')\n"
        "logging.getLogger('services.models').info('services informs')\n"
        "logging.getLogger('components.errors').info('components inform')\n"
        "logging.getLogger('httpx').info('HTTP Request: GET http://127.0.0.1/')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stderr.splitlines()
    assert sum("hub warns" in line for line in lines) == 1, done.stderr
    assert "services.models: services informs" in lines and "components.errors: components inform" in lines
    assert "HTTP Request" not in done.stderr
