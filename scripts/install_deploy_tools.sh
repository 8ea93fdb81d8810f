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

# shellcheck disable=SC2086 # one word per package
sh "$(dirname "$0")/apt_install.sh" install_deploy_tools.sh --no-install-recommends $missing
