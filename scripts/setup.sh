#!/usr/bin/env bash
# Installs everything ingot needs on Debian 12 (apt + a pinned Python venv for tests), builds it
# (CLI at build/bin/ingot), installs the Python package `ingot` into .venv (pip install .), and runs the
# example model.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake ninja-build pkg-config git \
  protobuf-compiler libprotobuf-dev \
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev \
  libflatbuffers-dev flatbuffers-compiler libdnnl-dev ocl-icd-opencl-dev libxxhash-dev \
  clang libclang-rt-14-dev clang-format \
  python3 python3-dev python3-venv python3-pip python3-numpy python3-torch python3-torchvision \
  >/dev/null

# (ocl-icd-opencl-dev: Debian's oneDNN CMake package asks for OpenCL, which libdnnl-dev only recommends.)

# Test-only Python tools, beside Debian's torch (which needs numpy 1.x).
if [ ! -x .venv/bin/python ]; then
  /usr/bin/python3 -m venv --system-site-packages .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt

# The Python module is built with the rest (INGOT_PYTHON, nanobind from .venv); `pip install .` then
# reuses this build folder (pyproject.toml), so it only reconfigures, relinks if needed and installs.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DINGOT_PYTHON=ON -DPython_EXECUTABLE="$PWD/.venv/bin/python"
cmake --build build -j"$(nproc)"
CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" .venv/bin/pip install -q --disable-pip-version-check --no-build-isolation .

echo "== ingot's main job on the example model (examples/tiny_cnn.onnx) =="
build/bin/ingot run examples/tiny_cnn.onnx --input input=examples/tiny_cnn.input.npy --output-dir build/example-out
