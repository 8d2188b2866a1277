#!/bin/sh
# Installs the Debian packages cwexport needs to build, test and run its fake AWS.
# Idempotent: installs only what is missing. Works as root and through sudo.
set -eu

PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev
libuv1-dev libcurl4-openssl-dev libssl-dev libyaml-dev libcjson-dev libexpat1-dev
libcmocka-dev tzdata ca-certificates openssl time
python3 python3-botocore python3-pytest awscli chromium
mandoc systemd python3-prometheus-client"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
# Node.js and npm run the Step Functions checks (tests/sfn) and the browser
# test of the HTML report (tests/browser); any install of
# them will do (some ship npm inside their nodejs package).
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
