#!/bin/sh
# Installs the Debian/Ubuntu packages that Strata's native engine, its data and its tests need:
# the one list that the README's set-up commands and CI (.ci/run) both use. Installs only what
# is missing, so a machine that has them all needs neither root nor the network. Runs apt-get
# directly as root (a fresh container has no sudo), through sudo otherwise.
#
#   scripts/install-system-deps.sh            everything the tests need
#   scripts/install-system-deps.sh --list     print the packages, one per line
set -eu

PACKAGES="
  cmake g++ make
  libdnnl-dev
  ocl-icd-opencl-dev
  libonnx-dev libprotobuf-dev protobuf-compiler
  dataset-fashion-mnist
  python3-onnx
  python3-torch python3-torchvision python3-numpy libopenblas0-openmp
  chromium fonts-dejavu-core
  clang libomp-14-dev
"
# cmake, g++, make: build the native engine (npm ci runs cmake-js).
# libdnnl-dev: oneDNN, the engine's CPU kernels. Its CMake config runs find_package(OpenCL
#   REQUIRED) (its GPU runtime is OpenCL); libdnnl-dev only recommends ocl-icd-opencl-dev, and
#   this installs without recommends.
# libonnx-dev, libprotobuf-dev, protobuf-compiler: the engine reads ONNX graphs.
# dataset-fashion-mnist: the IDX files of the main job and of loadFashionMnist()'s default.
# python3-onnx: onnx.checker, which the tests run on every exported model.
# python3-torch, python3-torchvision, python3-numpy, libopenblas0-openmp: ONNX files that
#   Strata did not write (torchvision models) for the tests, and `strata bench`'s reference.
# chromium, fonts-dejavu-core: the app's end-to-end tests drive Debian's Chromium (Playwright's
#   own browser download needs a network the project does not assume).
# clang, libomp-14-dev: `npm test` (test/run.js native) builds the engine's threaded reductions
#   with clang under ThreadSanitizer, on LLVM's OpenMP runtime with Archer (libomp-14-dev), the
#   tool that shows TSan OpenMP's barriers; GCC's libgomp is not instrumented.

if [ "${1:-}" = "--list" ]; then
  printf '%s\n' $PACKAGES
  exit 0
fi
if [ $# -gt 0 ]; then
  echo "usage: $0 [--list]" >&2
  exit 2
fi

missing=""
for package in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing="$missing $package"
done
if [ -z "$missing" ]; then
  echo "strata: the system packages are installed"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1; then
  as_root="sudo"
else
  echo "strata: installing$missing needs root: run this script as root, or install sudo" >&2
  exit 1
fi
echo "strata: installing$missing"
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
# shellcheck disable=SC2086 # one word per package
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
