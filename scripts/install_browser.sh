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

sh "$(dirname "$0")/apt_install.sh" install_browser.sh chromium
"$CHROMIUM" --version
