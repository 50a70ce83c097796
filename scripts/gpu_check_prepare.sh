#!/usr/bin/env bash
# Fills the two ignored folders that scripts/gpu_check.sh needs on the GPU machine (which has no
# Debian headers, no GTest and no ../shared data), from this machine's packages and data:
#   .deps/stb/stb_image*.h, .deps/include/{nlohmann,CLI}, .deps/googletest   (~6 MB)
#   .gpudata/nerf_synthetic/lego_200                                          (~5 MB)
#   .gpudata/dtu/dtu_scan65_400x300 (NeuS ms/step)                            (~9 MB)
# Then call the device tool with carry [".deps", ".gpudata"] (docs/performance.md, "The GPU check").
set -euo pipefail
[[ -f scripts/gpu_check.sh ]] || { echo "scripts/gpu_check_prepare.sh: run it from the repository root" >&2; exit 2; }
DATA=${NORMFIELD_DATA:-../shared/data}
mkdir -p .deps/stb .deps/include .gpudata/nerf_synthetic
cp /usr/include/stb/stb_image.h /usr/include/stb/stb_image_write.h .deps/stb/
rm -rf .deps/include/nlohmann .deps/include/CLI .deps/googletest
cp -r /usr/include/nlohmann /usr/include/CLI .deps/include/
cp -r /usr/src/googletest .deps/googletest
rm -rf .gpudata/nerf_synthetic/lego_200
cp -r "$DATA/nerf_synthetic/lego_200" .gpudata/nerf_synthetic/
NEUS_SCENE_SRC=${NEUS_SCENE_SRC:-$DATA/dtu/dtu_scan65_400x300}
mkdir -p .gpudata/dtu
rm -rf ".gpudata/dtu/$(basename "$NEUS_SCENE_SRC")"
cp -r "$NEUS_SCENE_SRC" .gpudata/dtu/
du -sh .deps .gpudata
total=$(du -sm .deps .gpudata | awk '{s += $1} END {print s}')
[[ $total -lt 64 ]] || { echo "scripts/gpu_check_prepare.sh: .deps + .gpudata = ${total} MiB, over the 64 MiB the device tool carries" >&2; exit 1; }
