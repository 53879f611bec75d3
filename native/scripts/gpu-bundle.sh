#!/usr/bin/env bash
# gpu-bundle.sh: gpu-check's programs built here and packed with the libraries they need, for a
# GPU machine that has an NVIDIA driver but no oneDNN, no protobuf and no network (a rented cloud
# GPU, a lab machine): copy the repository and the bundle over and run
#   native/scripts/gpu-check.sh --bundle build/gpu-bundle.tar.gz
# there, in a checkout of the same commit (gpu-check reads the ONNX and training cases from it).
#
#   native/scripts/gpu-bundle.sh [--arch 90-real] [--build DIR] [--skip-build] [--out FILE] [--without-data]
#
# --arch: the CUDA architectures (default CMake's list in native/CMakeLists.txt; one, e.g.
# 90-real for an H100, makes the bundle smaller). --skip-build packs an existing build (--build,
# default build/gpu-bundle). The bundle holds the seven programs gpu-check runs, the shared
# libraries they load beyond the C and C++ runtimes (oneDNN, protobuf, the ONNX protobuf
# library, OpenCL's loader; libgomp in extra/, used only where the GPU machine lacks it), ONNX's
# node test cases that onnx_node_tests.sh runs (generated with python3-onnx when missing) and
# Fashion-MNIST when gpu-check would find it here (--without-data leaves out both data sets: ctest's
# gpu_check_emulated packs its build so, as gpu-check --emulate needs neither). The GPU machine's C library must be at least
# as new as this machine's (Debian 12: glibc 2.36).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ARCH="" BUILD=$ROOT/build/gpu-bundle OUTFILE=$ROOT/build/gpu-bundle.tar.gz SKIP_BUILD=0 WITH_DATA=1
while [ $# -gt 0 ]; do
  case $1 in
    --arch) ARCH=$2; shift ;;
    --build) BUILD=$(cd "$2" && pwd); shift ;;
    --skip-build) SKIP_BUILD=1 ;;
    --out) OUTFILE=$2; shift ;;
    --without-data) WITH_DATA=0 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu-bundle: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
PROGRAMS=(seed_cnn onnx_test bench_train tests/test_cuda_emu tests/test_cuda_ops tests/test_train_cases tests/test_cuda_recurrent)

if [ $SKIP_BUILD = 0 ]; then
  cmake -S "$ROOT/native" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSTRATA_BUILD_TESTS=ON \
    ${ARCH:+-DCMAKE_CUDA_ARCHITECTURES=$ARCH}
  cmake --build "$BUILD" -j"$(nproc)" --target $(for p in "${PROGRAMS[@]}"; do basename "$p"; done)
fi

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/build/tests" "$STAGE/lib" "$STAGE/extra"
for p in "${PROGRAMS[@]}"; do
  [ -x "$BUILD/$p" ] || { echo "gpu-bundle: $BUILD/$p is missing (build it, or drop --skip-build)" >&2; exit 1; }
  cp "$BUILD/$p" "$STAGE/build/$p"
  strip "$STAGE/build/$p"
done

# the libraries: everything ldd resolves except the C and C++ runtimes every Linux has
ldd "$BUILD/seed_cnn" "$BUILD/tests/test_cuda_ops" | awk '$2 == "=>" { print $1, $3 }' | sort -u |
  while read -r name path; do
    [ "$path" = "not" ] && { echo "gpu-bundle: $name is not found here" >&2; exit 1; }
    case $name in
      libc.so*|libm.so*|libdl.so*|librt.so*|libpthread.so*|libstdc++.so*|libgcc_s.so*|libz.so*|ld-linux*) ;;
      libgomp.so*) cp -L "$path" "$STAGE/extra/" ;;
      *) cp -L "$path" "$STAGE/lib/" ;;
    esac
  done

# ONNX's node tests: generate (onnx_node_tests.sh does, on its first run) and keep the cases it runs
NODE=$ROOT/build/onnx-node-tests
[ $WITH_DATA = 1 ] || NODE=""
if [ -n "$NODE" ] && [ ! -d "$NODE/node" ]; then "$ROOT/native/tests/onnx_node_tests.sh" "$BUILD" "$NODE" > /dev/null || true; fi
if [ -n "$NODE" ] && [ -d "$NODE/node" ]; then
  mkdir -p "$STAGE/build/onnx-node-tests/node"
  # (ls fails on the patterns that match no case of this onnx version)
  (cd "$NODE/node" && { ls -d $(cat "$ROOT/native/tests/onnx_node_cases.txt") 2> /dev/null || true; } | grep -v expanded |
    xargs -I{} cp -r {} "$STAGE/build/onnx-node-tests/node/")
elif [ -n "$NODE" ]; then
  echo "(no ONNX node tests: python3-onnx is missing here; gpu-check will generate them where it finds it)"
fi

for dir in "$ROOT/native/scripts/fashion-mnist" /usr/share/datasets/fashion-mnist; do
  [ $WITH_DATA = 1 ] || break
  if [ -f "$dir/train-images-idx3-ubyte.gz" ]; then mkdir -p "$STAGE/fashion-mnist" && cp "$dir"/*-ubyte.gz "$STAGE/fashion-mnist/"; break; fi
done

mkdir -p "$(dirname "$OUTFILE")"
tar -C "$STAGE" -czf "$OUTFILE.partial" . && mv "$OUTFILE.partial" "$OUTFILE"
echo "gpu-bundle: $OUTFILE ($(du -h "$OUTFILE" | cut -f1)): $(ls "$STAGE/lib" | tr '\n' ' ')"
