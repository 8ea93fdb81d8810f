#!/bin/sh
# Install Debian's Chromium for the browser tests (tests/browser), if it is missing.
# Playwright drives this system browser through executable_path, so `playwright install`
# (which downloads its own browsers) is never needed. Needs root or sudo; used by CI.
set -eu

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
    echo "chromium already installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "install_browser.sh: run as root (or install sudo) to apt-get install chromium" >&2
    exit 1
fi

$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y chromium
"$CHROMIUM" --version
