#!/bin/sh
# Runs every cwexport test: installs the Debian packages it needs, builds with
# AddressSanitizer and UndefinedBehaviorSanitizer (and the release binary, whose
# optimiser warns of more), then runs ctest (cmocka unit
# tests, the fake AWS's own suite and the pytest integration tests, which start
# the fake AWS on 127.0.0.1 themselves), then the libFuzzer targets, built with
# clang in their own directory, each on its corpus and for CWX_FUZZ_SECONDS
# (default 30, 0 skips them; docs/hardening.md says why).
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh

build=${CWX_BUILD_DIR:-build/sanitize}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DASAN=ON -DUBSAN=ON >/dev/null
cmake --build "$build" -j"$(nproc)"

# The release build that scripts/demo.sh and the package use: optimisation
# brings warnings of its own (-Wformat-truncation), and -Werror makes them fatal.
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build build/release -j"$(nproc)" --target cwexport

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" "$@"

# Information, never a failure: the longest product functions and files.
sh scripts/sizes.sh 10

fuzz_seconds=${CWX_FUZZ_SECONDS:-30}
if [ "$fuzz_seconds" != 0 ]; then
    fuzz=${CWX_FUZZ_BUILD_DIR:-build/fuzz}
    CC=clang cmake -S . -B "$fuzz" -DFUZZ=ON -DCWX_FUZZ_SECONDS="$fuzz_seconds" >/dev/null
    cmake --build "$fuzz" --target fuzz -j"$(nproc)"
    ctest --test-dir "$fuzz" -L fuzz --output-on-failure -j"$(nproc)"
fi
