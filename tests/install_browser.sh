#!/usr/bin/env bash
# Debian's Chromium, for the browser test (tests/test_browser.py). Playwright's own browser download
# needs hosts this network cannot reach, so the test drives /usr/bin/chromium instead.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
as_root=""
if [ "$(id -u)" -ne 0 ]; then
    as_root="sudo"
fi
$as_root apt-get update -q
# fonts-liberation: Chromium only recommends it, and without it screenshots show boxes for text.
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-liberation
