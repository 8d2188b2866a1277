#!/bin/sh
# The main job end to end on the embedded default: builds cwexport, starts the
# local fake AWS with its demo accounts (127.0.0.1 only), and runs the demo
# config against it.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh

build=${CWX_BUILD_DIR:-build/release}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target cwexport
bin="$build/cli/cwexport"

echo "== cwexport validate -c configs/demo.yaml"
"$bin" validate -c configs/demo.yaml
echo "== cwexport plan --offline -c configs/demo.yaml"
"$bin" plan --offline -c configs/demo.yaml | tail -n 12
