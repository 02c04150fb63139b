#!/usr/bin/env bash
# Chromium + its WebDriver from the Debian packages, for the web app's browser test (tests/ui/test_browser.py).
# Idempotent: does nothing when both are installed. Needs root (CI runs as root) or sudo.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "install_browser.sh: Chromium is missing; install the Debian packages chromium and chromium-driver as root" >&2
    exit 1
  fi
fi
echo "install_browser.sh: installing chromium and chromium-driver (Debian packages)" >&2
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver
