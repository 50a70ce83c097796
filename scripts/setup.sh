#!/usr/bin/env bash
# Sets normfield up on a fresh Debian 12 machine: installs the Debian packages it needs (only the
# missing ones; idempotent), configures and builds into ./build. Run as root or with sudo available.
# CUDA kernels are compiled too when nvcc is found (/usr/local/cuda/bin/nvcc or on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(build-essential cmake ninja-build ccache git pkg-config
          libtorch-dev libopenblas0-openmp nlohmann-json3-dev libcli11-dev libstb-dev libgtest-dev
          libtinyobjloader-dev libopen3d-dev libimgui-dev libglfw3-dev libglew-dev xvfb xauth
          gnuplot-nox python3-torch libzip-dev libembree-dev libnanoflann-dev)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cuda_flags=()
NVCC=$(command -v nvcc || true)
[ -z "$NVCC" ] && [ -x /usr/local/cuda/bin/nvcc ] && NVCC=/usr/local/cuda/bin/nvcc
if [ -n "$NVCC" ]; then
  cuda_flags=(-DNORMFIELD_CUDA=ON -DCMAKE_CUDA_COMPILER="$NVCC" -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCHS:-90}")
else
  cuda_flags=(-DNORMFIELD_CUDA=OFF)
fi
cmake -G Ninja -S . -B build -DCMAKE_BUILD_TYPE=Release "${cuda_flags[@]}"
cmake --build build -j"$(nproc)"
echo "setup: built build/normfield$( [ -x build/normfield-viewer ] && echo ' and build/normfield-viewer')"
