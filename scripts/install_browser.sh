#!/usr/bin/env bash
# Install Debian's Chromium for the docs-site browser test (tests/test_browser.py), once.
# The test drives Chromium headless over the DevTools protocol on a pipe, so no chromedriver is needed.
# Idempotent: does nothing when /usr/bin/chromium is already there. Needs root (or sudo) and apt-get.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "install_browser.sh: apt-get not found; install Chromium with your system's package manager" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "install_browser.sh: run as root (or install sudo) to apt-get install chromium" >&2; exit 1; fi
fi
start=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
echo "installed $(/usr/bin/chromium --version) in $(( $(date +%s) - start ))s"
