#!/usr/bin/env bash
# One command for an AddressSanitizer + UndefinedBehaviorSanitizer build of the libraries, the CLI
# and the unit tests (clang, CPU only) in build-asan/, then the test suite under it.
#
#   scripts/sanitize.sh [ctest -R regex]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build-asan/build.ninja ]; then
  CC=clang CXX=clang++ cmake -G Ninja -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DNORMFIELD_CUDA=OFF -DNORMFIELD_GUI=OFF -DNORMFIELD_SANITIZE=ON
fi
cmake --build build-asan -j"${JOBS:-2}" -- -l "${LOAD:-3}"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir build-asan -j"${JOBS:-2}" --output-on-failure ${1:+-R "$1"}
