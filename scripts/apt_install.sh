#!/bin/sh
# apt-get install the packages (and apt-get options) given as arguments, as root or through sudo; shared by
# install_browser.sh and install_deploy_tools.sh. Usage: apt_install.sh CALLER PACKAGE...
set -eu

caller="$1"
shift
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "$caller: run as root (or install sudo) to apt-get install $*" >&2
    exit 1
fi

$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y "$@"
