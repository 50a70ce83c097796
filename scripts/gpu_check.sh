#!/usr/bin/env bash
# One GPU check of the whole tree (issue 13), <= 8 minutes on the GPU machine (H200, Ubuntu 24.04,
# CUDA LibTorch from its python3 torch). Steps, each named in the log; any failure stops the run
# with "FAILED in step ...", and nothing is skipped silently:
#   1 build     whole tree, CUDA on, tests on (GUI and Open3D off)
#   2 ctest     the full suite; fails if any test fails or any CUDA test skipped (or none exists)
#   3 bench     `normfield bench-step` for all 13 methods at 10x28 and 13x49 on 393 216 points
#   4 reference scripts/reference_step.py (plain PyTorch, the Norm-INR formulas) on the same GPU
#   5 nerf      `nerf train` on lego_200, full mipnerf and mipnerf_cn configs, $NERF_ITERS steps
#   6 neus      `neus train` on dtu_scan65_400x300, full neus and neus_cn configs, $NEUS_ITERS steps: ms/step
#               (when normfield lists a `neus` command, else recorded as absent)
# Results: $OUT/gpu_check.json (everything measured, with date, card, driver, torch, commit),
# $OUT/gpu_check.log (the whole console), $OUT/ctest.log, $OUT/ctest.xml (JUnit).
#
# Run it with the device tool from the repository root (docs/performance.md, "The GPU check"):
#   COMMIT=$(git rev-parse --short HEAD) bash scripts/gpu_check.sh
# Files it needs, carried with the working tree (`carry: [".deps", ".gpudata"]`; both are ignored):
#   .deps/stb/stb_image*.h, .deps/include/{nlohmann,CLI}, .deps/googletest   (scripts/gpu_check_prepare.sh)
#   .gpudata/nerf_synthetic/lego_200, .gpudata/dtu/dtu_scan65_400x300
#
# --cpu-dry-run: the same steps on this CPU machine with tiny sizes (the build in $BUILD, default
# build, configured as scripts/setup.sh does; only $TARGETS built and ctest limited to $CTEST_REGEX;
# CUDA tests are expected to skip there and are only counted), to check the script itself before
# spending device time.
set -euo pipefail

MODE=gpu
if [[ ${1:-} == --cpu-dry-run ]]; then MODE=cpu; shift; fi
[[ $# -eq 0 ]] || { echo "scripts/gpu_check.sh: unknown argument '$1' (valid: --cpu-dry-run)" >&2; exit 2; }
OUT=${OUT:?scripts/gpu_check.sh: set OUT to an output folder}
mkdir -p "$OUT"
ROOT=$(pwd)
[[ -f scripts/gpu_check.sh ]] || { echo "scripts/gpu_check.sh: run it from the repository root" >&2; exit 2; }
WORK=${WORK:-/tmp/gpu_check}
rm -rf "$WORK" && mkdir -p "$WORK"
exec > >(tee "$OUT/gpu_check.log") 2>&1

STEP=setup
T0=$(date +%s)
trap 'rc=$?; echo "FAILED in step: $STEP (rc=$rc, line $LINENO, after $(( $(date +%s) - T0 )) s)";
      echo "{\"status\": \"failed\", \"failed_step\": \"$STEP\", \"mode\": \"$MODE\"}" > "$WORK/status.json";
      python3 "$WORK/summary.py" "$WORK" "$OUT/gpu_check.json" || true' ERR
step() { STEP=$1; echo; echo "=== step $STEP ($(date -u +%H:%M:%S), +$(( $(date +%s) - T0 )) s)"; }
secs() { echo $(( $(date +%s) - $1 )); }

if [[ $MODE == gpu ]]; then
  DEVICE=cuda; POINTS=393216; ARCHS="10x28 13x49"; ITERS=${BENCH_ITERS:-20}; WARMUP=5
  NERF_ITERS=${NERF_ITERS:-300}; NERF_SCENE=${NERF_SCENE:-.gpudata/nerf_synthetic/lego_200}
  NERF_CONFIGS="mipnerf mipnerf_cn"; NERF_EXTRA=()
  B=${BUILD:-/tmp/nf-build}; JOBS=${JOBS:-16}; CTEST_REGEX=${CTEST_REGEX:-.}; PY=${PYTHON:-python3}
  export NORMFIELD_DATA=${NORMFIELD_DATA:-$ROOT/.gpudata}
else
  DEVICE=cpu; POINTS=2048; ARCHS="10x28 13x49"; ITERS=2; WARMUP=1
  NERF_ITERS=${NERF_ITERS:-4}; NERF_SCENE=${NERF_SCENE:-${NORMFIELD_DATA:-../shared/data}/nerf_synthetic/lego_200}
  NERF_CONFIGS="mipnerf mipnerf_cn"; NERF_EXTRA=(--batch 64 --n-coarse 8 --n-fine 8 --downscale 8 --max-train-frames 4)
  B=${BUILD:-build}; JOBS=${JOBS:-2}; CTEST_REGEX=${CTEST_REGEX:-NormFused}
  TARGETS=${TARGETS:-normfield fields_test_norm_fused}
  PY=${PYTHON:-/usr/bin/python3}  # Debian's python3-torch
fi
NF=${NORMFIELD_BIN:-$B/normfield}  # the CLI under test (dry run: may point at another build)
NEUS_ITERS=${NEUS_ITERS:-$NERF_ITERS}; NEUS_CONFIGS=${NEUS_CONFIGS:-neus neus_cn}
if [[ $MODE == gpu ]]; then
  # ms/step is the measure; the evaluation is cut to 2 held-out views and a 256^3 mesh grid.
  NEUS_SCENE=${NEUS_SCENE:-.gpudata/dtu/dtu_scan65_400x300}; NEUS_EXTRA=(--max-views 2 --mesh-resolution 256)
else
  NEUS_SCENE=${NEUS_SCENE:-${NORMFIELD_DATA:-../shared/data}/dtu/dtu_scan65_400x300}
  NEUS_EXTRA=(--batch 32 --max-views 0 --mesh-resolution 16)
fi

# The summary writer: merges the step files in $WORK into one JSON (also on failure).
cat > "$WORK/summary.py" <<'PY'
import glob, json, os, sys
work, out = sys.argv[1], sys.argv[2]
def load(name, default=None):
    p = os.path.join(work, name)
    return json.load(open(p)) if os.path.exists(p) else default
res = {"meta": load("meta.json", {}), "status": load("status.json", {"status": "incomplete"}),
       "build": load("build.json"), "ctest": load("ctest.json"), "bench_step": [], "reference": [],
       "nerf": [], "neus": load("neus.json")}
for p in sorted(glob.glob(os.path.join(work, "bench_*.json"))):
    res["bench_step"] += json.load(open(p))
res["reference"] = load("reference.json", [])
ref = {(r["method"], r["arch"]): r["ms_per_iter"] for r in res["reference"]}
for r in res["bench_step"]:
    k = (r["method"], r["arch"])
    if k in ref: r["reference_pytorch_ms_per_iter"], r["x_faster_than_pytorch"] = ref[k], ref[k] / r["ms_per_iter"]
for p in sorted(glob.glob(os.path.join(work, "nerf_*.json"))):
    res["nerf"].append(json.load(open(p)))
tmp = out + ".tmp"
json.dump(res, open(tmp, "w"), indent=1)
os.replace(tmp, out)
PY

step meta
if [[ $MODE == gpu ]]; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$WORK/card.txt"
  python3 -c "import torch, sys; assert torch.cuda.is_available(), 'torch sees no CUDA device'; print('torch', torch.__version__, torch.version.cuda, torch.cuda.get_device_name(0))"
else
  echo "cpu dry run: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$WORK/card.txt"
fi
COMMIT=${COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
python3 - "$WORK/meta.json" "$MODE" "$COMMIT" "$WORK/card.txt" <<'PY'
import json, sys, datetime, platform
out, mode, commit, card = sys.argv[1:5]
json.dump({"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "mode": mode,
           "commit": commit, "card": open(card).read().strip(), "host": platform.node()}, open(out, "w"), indent=1)
PY

step build
t=$(date +%s)
if [[ $MODE == gpu ]]; then
  for f in .deps/stb/stb_image.h .deps/stb/stb_image_write.h; do
    [[ -f $f ]] || { echo "missing $f: run scripts/gpu_check_prepare.sh here and carry .deps"; false; }
  done
  TP=$(python3 -c "import torch; print(torch.utils.cmake_prefix_path)")
  GT=(); [[ -d .deps/googletest ]] && GT=(-DNORMFIELD_GTEST_SRC="$ROOT/.deps/googletest")
  cmake -G Ninja -S . -B "$B" -DCMAKE_PREFIX_PATH="$TP;$ROOT/.deps" -DCMAKE_BUILD_TYPE=Release \
    -DNORMFIELD_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DNORMFIELD_GUI=OFF -DNORMFIELD_OPEN3D=OFF \
    -DNORMFIELD_TESTS=ON -DNORMFIELD_STB_DIR="$ROOT/.deps" "${GT[@]}" > "$WORK/cmake.log" 2>&1 \
    || { tail -n 40 "$WORK/cmake.log"; false; }
else
  cmake -G Ninja -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DNORMFIELD_CUDA=ON \
    -DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc -DCMAKE_CUDA_ARCHITECTURES=90 > "$WORK/cmake.log" 2>&1 \
    || { tail -n 40 "$WORK/cmake.log"; false; }
fi
cmake --build "$B" -j"$JOBS" ${TARGETS:+--target $TARGETS} > "$WORK/build.log" 2>&1 || { grep -E -A3 "error|Error" "$WORK/build.log" | head -n 60; false; }
echo "build: $(secs $t) s"
echo "{\"seconds\": $(secs $t), \"jobs\": $JOBS}" > "$WORK/build.json"

step ctest
t=$(date +%s)
ncuda=$(ctest --test-dir "$B" -N -R "$CTEST_REGEX" | grep -ciE "cuda|gpu" || true)
echo "CUDA tests listed: $ncuda"
[[ $ncuda -gt 0 ]] || { echo "no CUDA test found in the suite"; false; }
set +e
ctest --test-dir "$B" -R "$CTEST_REGEX" -j"$JOBS" --timeout 300 --output-on-failure --output-junit "$OUT/ctest.xml" \
  > "$OUT/ctest.log" 2>&1
crc=$?
set -e
tail -n 15 "$OUT/ctest.log"
cuda_skipped=$(grep -aE "\*\*\*Skipped" "$OUT/ctest.log" | grep -iE "cuda|gpu" || true)
nskip=$(grep -acE "\*\*\*Skipped" "$OUT/ctest.log" || true)
ncuda_skip=$(printf '%s' "$cuda_skipped" | grep -c . || true)
python3 - "$WORK/ctest.json" "$OUT/ctest.log" "$crc" "$ncuda" "$ncuda_skip" "$nskip" "$(secs $t)" <<'PY'
import json, re, sys
out, log, rc, ncuda, ncuda_skip, nskip, secs = sys.argv[1:8]
text = open(log).read()
m = re.search(r"(\d+)% tests passed, (\d+) tests failed out of (\d+)", text)
json.dump({"rc": int(rc), "total": int(m.group(3)) if m else None, "failed": int(m.group(2)) if m else None,
           "skipped": int(nskip), "cuda_tests": int(ncuda), "cuda_skipped": int(ncuda_skip), "seconds": int(secs)},
          open(out, "w"), indent=1)
PY
[[ $crc -eq 0 ]] || { echo "ctest failed (rc=$crc): see ctest.log"; false; }
if [[ -n $cuda_skipped ]]; then
  echo "CUDA tests skipped:"; echo "$cuda_skipped"
  [[ $MODE == cpu ]] || { echo "a CUDA test skipped on the GPU machine"; false; }
  echo "(cpu dry run: CUDA tests skip here, as expected)"
fi

step bench
for a in $ARCHS; do
  "$NF" bench-step --arch "$a" --points "$POINTS" --device "$DEVICE" --iters "$ITERS" --warmup "$WARMUP" \
    --json "$WORK/bench_$a.json"
done

step reference
"$PY" scripts/reference_step.py --device "$DEVICE" --arch "${ARCHS// /,}" --points "$POINTS" --iters "$ITERS" \
  --warmup "$WARMUP" --method relu,relu+cn,relu+gn,pe,pe+cn --json "$WORK/reference.json"

step nerf
[[ -d $NERF_SCENE ]] || { echo "no NeRF scene at $NERF_SCENE (carry .gpudata)"; false; }
for c in $NERF_CONFIGS; do
  t=$(date +%s)
  run="$WORK/nerf-$c"
  "$NF" nerf train --scene "$NERF_SCENE" --config "$c" --device "$DEVICE" --iters "$NERF_ITERS" \
    --log-every 50 --checkpoint-every 0 --max-views 4 "${NERF_EXTRA[@]}" --out "$run"
  python3 - "$run/results.json" "$WORK/nerf_$c.json" "$c" "$(secs $t)" <<'PY'
import json, sys
src, out, cfg, secs = sys.argv[1:5]
m = json.load(open(src))
json.dump({"config": cfg, "iters": m.get("iters"), "ms_per_iter": m.get("ms_per_iter"), "psnr": m.get("psnr"),
           "ssim": m.get("ssim"), "n_views": m.get("n_views"), "wall_seconds": int(secs)}, open(out, "w"), indent=1)
PY
done

step neus
# `normfield neus --help` exits 0 even without the subcommand (the top-level --help answers): look
# for it in the subcommand list instead.
if grep -qE "^  neus " <<< "$("$NF" --help)"; then
  [[ -d $NEUS_SCENE ]] || { echo "normfield has 'neus' but no scene at $NEUS_SCENE (carry it in .gpudata)"; false; }
  rows=()
  for c in $NEUS_CONFIGS; do
    run="$WORK/neus-$c"
    "$NF" neus train --scene "$NEUS_SCENE" --config "$c" --device "$DEVICE" --iters "$NEUS_ITERS" \
      --log-every 50 --checkpoint-every 0 "${NEUS_EXTRA[@]}" --out "$run"
    rows+=("$run/results.json")
  done
  python3 - "$WORK/neus.json" "${rows[@]}" <<'PY'
import json, sys
json.dump([{k: v for k, v in json.load(open(p)).items() if not isinstance(v, (list, dict))} for p in sys.argv[2:]],
          open(sys.argv[1], "w"), indent=1)
PY
else
  echo "no 'neus' command in this build: step recorded as absent"
  echo '"absent: normfield has no neus command"' > "$WORK/neus.json"
fi

STEP=done
echo "{\"status\": \"passed\", \"mode\": \"$MODE\", \"seconds\": $(secs $T0)}" > "$WORK/status.json"
python3 "$WORK/summary.py" "$WORK" "$OUT/gpu_check.json"
echo
echo "=== gpu_check $MODE: all steps passed in $(secs $T0) s; $OUT/gpu_check.json"
