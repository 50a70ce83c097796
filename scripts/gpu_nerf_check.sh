#!/usr/bin/env bash
# GPU check of the NeRF task (issue 6): builds normfield with CUDA (unless $BUILD/normfield exists),
# then trains the full-size mip-NeRF configs (8 x 256, 128 + 128 samples, 4096 rays/step) with and
# without CN on lego_200 for $ITERS steps, reports ms/iter, peak GPU memory, PSNR/SSIM on 4 test
# views, and copies results + one comparison PNG per model to $OUT (8 files at most).
#
# Needs, carried with the working tree (the device machine has no stb and no ../shared):
#   .deps/stb/stb_image.h, .deps/stb/stb_image_write.h   (cp /usr/include/stb/stb_image*.h .deps/stb/)
#   .gpudata/lego_200                                     (cp -r ../shared/data/nerf_synthetic/lego_200 .gpudata/)
# Usage (device tool, repo root):  bash scripts/gpu_nerf_check.sh     [ITERS=300 SCENE=... BUILD=...]
set -u
OUT=${OUT:?set OUT to an output folder}
SCENE=${SCENE:-.gpudata/lego_200}
ITERS=${ITERS:-300}
B=${BUILD:-/tmp/bn}
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
t0=$(date +%s)
if [ ! -x "$B/normfield" ]; then
  TP=$(python3 -c "import torch;print(torch.utils.cmake_prefix_path)")
  cmake -G Ninja -S . -B "$B" -DCMAKE_PREFIX_PATH="$TP" -DCMAKE_BUILD_TYPE=Release -DNORMFIELD_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES=90 -DNORMFIELD_GUI=OFF -DNORMFIELD_OPEN3D=OFF -DNORMFIELD_TESTS=OFF \
    -DNORMFIELD_STB_DIR="$PWD/.deps" > "$OUT/cmake.log" 2>&1 || { tail -n 30 "$OUT/cmake.log"; exit 1; }
  cmake --build "$B" --target normfield -j16 > "$OUT/build.log" 2>&1 || { grep -E "error" "$OUT/build.log" | head -n 30; exit 1; }
  echo "build $(( $(date +%s) - t0 )) s"
fi
for c in mipnerf mipnerf_cn; do
  run=/tmp/nerf-gpu-run/$c
  (while sleep 1; do nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits; done) > /tmp/nerf-mem-$c.log &
  mon=$!
  t1=$(date +%s)
  timeout 280 "$B/normfield" nerf train --scene "$SCENE" --config "$c" --device cuda --iters "$ITERS" --log-every 50 \
    --checkpoint-every 0 --max-views 4 --out "$run" > "$OUT/$c.log" 2>&1
  rc=$?
  kill "$mon" 2>/dev/null
  echo "== $c: rc=$rc, $(( $(date +%s) - t1 )) s, peak GPU memory $(sort -n /tmp/nerf-mem-$c.log | tail -n 1) MiB"
  grep -E "step (50|$ITERS)/|PSNR|error" "$OUT/$c.log" | tail -n 4
  cp "$run/results.json" "$OUT/$c.json" 2>/dev/null
  cp "$run/compare_000.png" "$OUT/${c}_compare.png" 2>/dev/null
done
echo "total $(( $(date +%s) - t0 )) s"
