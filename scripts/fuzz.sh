#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/fuzz_*.cpp; clang, ASan + UBSan) into build-fuzz/ and runs
# each for SECONDS seconds (default 60) on its seed corpus: fuzz/corpus/<name>/ (checked in, small)
# plus files of the matching type from $NORMFIELD_DATA when set. New inputs go to
# build-fuzz/corpus/<name>/; crashes to build-fuzz/crashes/<name>/ (turn each into a regression
# test or a file in fuzz/corpus/). Exit code 1 when any harness found a crash. One harness at a
# time, one process (no -jobs: that forks and logs to ./fuzz-N.log), at nice $NICE (default 19;
# on a machine loaded by nice-0 jobs a nice-19 fuzzer gets no CPU at all: NICE=0 is one process
# like a -j1 compile); RSS_MB (default 3072: LibTorch + ASan take ~1 GB) and TIMEOUT (seconds per
# input, default 20) go to libFuzzer; fuzz/dict/ holds token dictionaries (ply, obj, npy, npz, json).
# The log ends with the CPU seconds the fuzzer got (max_total_time is wall time).
#
#   scripts/fuzz.sh [SECONDS] [harness ...]      e.g. scripts/fuzz.sh 600 ply obj
set -uo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
shift || true
ALL=(image obj ply npy npz config blender checkpoint)
NAMES=("$@")
[ ${#NAMES[@]} -eq 0 ] && NAMES=("${ALL[@]}")

if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang CXX=clang++ cmake -G Ninja -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DNORMFIELD_CUDA=OFF -DNORMFIELD_GUI=OFF -DNORMFIELD_TESTS=OFF -DNORMFIELD_FUZZ=ON >/dev/null || exit 2
fi
targets=()
for n in "${NAMES[@]}"; do targets+=("fuzz_$n"); done
# NO_BUILD=1: run what is built (another build is running in build-fuzz/).
[ -n "${NO_BUILD:-}" ] || cmake --build build-fuzz -j"${JOBS:-1}" --target "${targets[@]}" -- -l "${LOAD:-3}" || exit 2

# Seeds: the checked-in corpus, plus real files of the reader's type.
dict_of() {
  case $1 in ply|obj|npy|npz) echo "fuzz/dict/$1.dict" ;; config|blender) echo fuzz/dict/json.dict ;; esac
}
ext_of() {
  case $1 in
    image) echo "png jpg" ;; obj) echo obj ;; ply) echo ply ;; npy) echo npy ;; npz) echo npz ;;
    config) echo json ;; blender) echo json ;; checkpoint) echo pt ;;
  esac
}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for n in "${NAMES[@]}"; do
  corpus=build-fuzz/corpus/$n crashes=build-fuzz/crashes/$n
  mkdir -p "$corpus" "$crashes"
  [ -d fuzz/corpus/$n ] && cp -n fuzz/corpus/$n/* "$corpus"/ 2>/dev/null
  if [ -n "${NORMFIELD_DATA:-}" ] && [ -d "$NORMFIELD_DATA" ]; then
    for e in $(ext_of "$n"); do
      if [ "$n" = blender ]; then pat="transforms_*.json"; else pat="*.$e"; fi
      find "$NORMFIELD_DATA" -name "$pat" -size -2M 2>/dev/null | head -20 | while read -r f; do
        cp -n "$f" "$corpus/seed_$(echo "$f" | md5sum | cut -c1-12).$e"
      done
    done
  fi
  echo "fuzz_$n: ${SECONDS_EACH}s, corpus $(ls "$corpus" | wc -l) files"
  dict=$(dict_of "$n")
  nice -n "${NICE:-19}" /usr/bin/time -f "cpu seconds: %U user %S sys, max RSS %M KB" \
    ./build-fuzz/fuzz_"$n" "$corpus" -max_total_time="$SECONDS_EACH" -max_len=65536 \
    -timeout="${TIMEOUT:-20}" -rss_limit_mb="${RSS_MB:-3072}" ${dict:+-dict=$dict} \
    -artifact_prefix="$crashes"/ -print_final_stats=1 >build-fuzz/fuzz_"$n".log 2>&1
  rc=$?
  tail -n 3 build-fuzz/fuzz_"$n".log | sed 's/^/  /'
  if [ $rc -ne 0 ]; then
    echo "  fuzz_$n FOUND A CRASH (rc $rc): $(ls "$crashes" | head -3) -- see build-fuzz/fuzz_$n.log"
    status=1
  fi
done
exit $status
