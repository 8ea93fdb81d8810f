#!/bin/sh
# Install the tools tests/deploy drives for real, if missing: nginx (the shipped site file
# checked by `nginx -t` and run in front of the service), promtool (Debian's prometheus
# package: the scrape config and alert rules) and the sqlite3 shell (online backups).
# Without them those tests skip. Needs root or sudo; used by CI. The tests run their own
# nginx and promtool; the packages' services (where an init system starts them) are not used.
set -eu

missing=""
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$missing nginx-light"
command -v promtool >/dev/null 2>&1 || missing="$missing prometheus"
command -v sqlite3 >/dev/null 2>&1 || missing="$missing sqlite3"
if [ -z "$missing" ]; then
    echo "deploy tools already installed: nginx, promtool, sqlite3"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "install_deploy_tools.sh: run as root (or install sudo) to apt-get install$missing" >&2
    exit 1
fi

$SUDO apt-get update
# shellcheck disable=SC2086 # one word per package
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $missing
