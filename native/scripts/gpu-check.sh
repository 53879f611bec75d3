#!/usr/bin/env bash
# gpu-check.sh: everything Strata's CUDA backend has to show on a machine with an NVIDIA GPU,
# with no Node and no network: it builds the engine with CMake, runs the C++ checks on the
# "cuda" backend, trains the seed CNN on Fashion-MNIST on the GPU and on the CPU, and times the
# seed CNN beside PyTorch eager with cuDNN on the same GPU, printing one table.
#
#   native/scripts/gpu-check.sh [--arch 90] [--data DIR] [--epochs 10] [--build DIR] [--skip-build]
#   native/scripts/gpu-check.sh --emulate [--build DIR] [--skip-build]
#   native/scripts/gpu-check.sh --bundle FILE [--emulate] [--data DIR] [--epochs 10]
#
# --arch: the CUDA architectures to build (default native: the GPU present; CMake 3.24 or
# later, else give it, e.g. 90 for an H100). --epochs: the Fashion-MNIST run's length.
# --emulate runs the same checks where there is no GPU, on "cuda-emu" (the CUDA kernels on the
# host emulation, native/cuda/emu/): small shapes, a 256-image training run compared with the
# CPU's step for step, no benchmark. ctest runs it so (gpu_check_emulated).
# --bundle runs the programs of a bundle that gpu-bundle.sh made on another machine (for a GPU
# machine without oneDNN, protobuf or network) instead of building; Fashion-MNIST comes from the
# bundle when it holds it.
#
# Needs: CMake >= 3.18, a C++17 compiler, nvcc (not for --emulate), oneDNN, the ONNX protobuf
# library (native/README.md); for the benchmark, python3 with PyTorch built for CUDA.
#
# Fashion-MNIST: the four files train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
# t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (gzipped or not) in
# native/scripts/fashion-mnist/, or in --data DIR, or in /usr/share/datasets/fashion-mnist.
# From a machine with them, before copying the repository over:
#   mkdir -p native/scripts/fashion-mnist && cp /usr/share/datasets/fashion-mnist/*.gz native/scripts/fashion-mnist/
# (or download them from https://github.com/zalandoresearch/fashion-mnist, data/fashion).
#
# Exit status: 0 when every check passed, 1 otherwise (the table says which).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/native/scripts
EMULATE=0 SKIP_BUILD=0 ARCH="" DATA="" EPOCHS=10 BUILD="" BUNDLE=""
while [ $# -gt 0 ]; do
  case $1 in
    --emulate) EMULATE=1 ;;
    --skip-build) SKIP_BUILD=1 ;;
    --arch) ARCH=$2; shift ;;
    --data) DATA=$2; shift ;;
    --epochs) EPOCHS=$2; shift ;;
    --build) BUILD=$2; shift ;;
    --bundle) BUNDLE=$2; shift ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu-check: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
BUILD=${BUILD:-$ROOT/build/gpu-check}
if [ -n "$BUNDLE" ]; then
  # the bundle's programs, with its libraries ahead of the system's (libgomp only where missing)
  [ -f "$BUNDLE" ] || { echo "gpu-check: the bundle $BUNDLE does not exist (make it with gpu-bundle.sh)" >&2; exit 2; }
  UNPACKED=$BUILD/bundle
  rm -rf "$UNPACKED" && mkdir -p "$UNPACKED" && tar -C "$UNPACKED" -xzf "$BUNDLE" ||
    { echo "gpu-check: cannot unpack the bundle $BUNDLE" >&2; exit 2; }
  ldconfig -p 2> /dev/null | grep -q 'libgomp.so.1 ' || cp "$UNPACKED"/extra/libgomp.so* "$UNPACKED/lib/" 2> /dev/null
  export LD_LIBRARY_PATH=$UNPACKED/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  BUILD=$UNPACKED/build SKIP_BUILD=1
  [ -z "$DATA" ] && [ -d "$UNPACKED/fashion-mnist" ] && DATA=$UNPACKED/fashion-mnist
fi
BACKEND=$([ $EMULATE = 1 ] && echo cuda-emu || echo cuda)
LOGS=$BUILD/gpu-check-logs
mkdir -p "$LOGS"
RESULTS=()
FAILED=0

# check NAME COMMAND...: runs it with its output in $LOGS/NAME.log; on failure prints the end.
check() {
  local name=$1 log=$LOGS/$1.log
  shift
  echo "== $name: $*"
  if "$@" > "$log" 2>&1; then
    RESULTS+=("| $name | pass | $(tail -n 1 "$log" | cut -c1-100) |")
  else
    FAILED=1
    RESULTS+=("| $name | **FAIL** | see $log |")
    tail -n 25 "$log"
  fi
}

# json_field JSON_LINE FIELD: a number from a one-line JSON object
json_field() { sed -n "s/.*\"$2\": \([-0-9.eE+]*\).*/\1/p" <<< "$1"; }

# --- the machine ---------------------------------------------------------------------------------
if [ $EMULATE = 0 ]; then
  if ! command -v nvidia-smi > /dev/null || ! nvidia-smi -L > /dev/null 2>&1; then
    echo "gpu-check: no NVIDIA GPU here (nvidia-smi finds none); run with --emulate on a machine without one" >&2
    exit 2
  fi
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  ARCH=${ARCH:-native}
fi

# --- build ---------------------------------------------------------------------------------------
if [ $SKIP_BUILD = 0 ]; then
  CUDA_FLAGS=()
  if [ -n "$ARCH" ]; then CUDA_FLAGS=(-DCMAKE_CUDA_ARCHITECTURES="$ARCH")
  elif [ $EMULATE = 1 ]; then CUDA_FLAGS=(-DSTRATA_USE_CUDA=OFF); fi  # the emulation needs no nvcc
  check build bash -c "cmake -S '$ROOT/native' -B '$BUILD' -DCMAKE_BUILD_TYPE=Release -DSTRATA_BUILD_TESTS=ON ${CUDA_FLAGS[*]} \
    && cmake --build '$BUILD' -j$(nproc)"
  [ $FAILED = 0 ] || { printf '%s\n' "${RESULTS[@]}"; exit 1; }
fi

# --- the kernels and the engine on the backend -----------------------------------------------------
CASES=$ROOT/native/tests
check emulation "$BUILD/tests/test_cuda_emu"
check ops "$BUILD/tests/test_cuda_ops" "$BACKEND"
check recurrent "$BUILD/tests/test_cuda_recurrent" "$BACKEND"
check onnx_cases_fp32 "$BUILD/onnx_test" --backend "$BACKEND" --fp32 "$CASES/onnx_cases"
check onnx_cases_tf32 "$BUILD/onnx_test" --backend "$BACKEND" --tol 5e-3 "$CASES/onnx_cases"
check train_cases "$BUILD/tests/test_train_cases" "$CASES/train_cases" "$BACKEND"
if [ $EMULATE = 0 ] && python3 -c "import onnx, numpy" 2> /dev/null; then
  # ONNX's own node tests: some use what Strata does not support (onnx_node_tests.sh), so this
  # compares with the CPU backend's count rather than requiring all to pass
  "$CASES/onnx_node_tests.sh" "$BUILD" "$BUILD/onnx-node-tests" > "$LOGS/onnx_node_cpu.log" 2>&1
  check onnx_node_tests bash -c "'$CASES/onnx_node_tests.sh' '$BUILD' '$BUILD/onnx-node-tests' --backend cuda --fp32 > '$LOGS/onnx_node_cuda.out'; \
    cpu=\$(tail -n 1 '$LOGS/onnx_node_cpu.log'); gpu=\$(tail -n 1 '$LOGS/onnx_node_cuda.out'); echo \"cpu: \$cpu\"; echo \"cuda: \$gpu\"; \
    [ \"\${cpu%% (*}\" = \"\${gpu%% (*}\" ]"
fi

# --- the seed CNN on Fashion-MNIST -------------------------------------------------------------------
FM=""
for dir in "$DATA" "$HERE/fashion-mnist" /usr/share/datasets/fashion-mnist; do
  [ -n "$dir" ] && { [ -f "$dir/train-images-idx3-ubyte.gz" ] || [ -f "$dir/train-images-idx3-ubyte" ]; } && { FM=$dir; break; }
done
if [ -n "$FM" ]; then
  mkdir -p "$BUILD/fashion-mnist"
  for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    if [ -f "$FM/$f.gz" ]; then gzip -dc "$FM/$f.gz" > "$BUILD/fashion-mnist/$f"; else cp "$FM/$f" "$BUILD/fashion-mnist/"; fi
  done
  FM=$BUILD/fashion-mnist
elif [ $EMULATE = 1 ]; then
  FM=synthetic
  echo "(no Fashion-MNIST files: the emulated training runs on synthetic images)"
else
  echo "gpu-check: Fashion-MNIST not found (see the top of this script: copy the four files to $HERE/fashion-mnist)" >&2
  FAILED=1
  RESULTS+=("| fashion_mnist | **FAIL** | the data set is missing |")
fi

# compare_training CPU_LOG GPU_LOG: the last epochs' test accuracies within 1 point (on the GPU,
# TF32 and other sums make the runs drift apart), or, emulated in FP32, the same losses
compare_training() {
  local a b
  a=$(tail -n 1 "$1") b=$(tail -n 1 "$2")
  echo "cpu:    $a"
  echo "$BACKEND: $b"
  awk -v ca="$(json_field "$a" test_accuracy)" -v ga="$(json_field "$b" test_accuracy)" \
      -v cl="$(json_field "$a" loss)" -v gl="$(json_field "$b" loss)" -v emu=$EMULATE 'BEGIN {
    d = ca - ga; if (d < 0) d = -d
    r = (cl - gl) / cl; if (r < 0) r = -r
    if (emu) ok = d <= 0.01 && r <= 1e-3; else ok = d <= 0.01
    printf "test accuracy %.4f on the cpu, %.4f here: %s\n", ca, ga, ok ? "the same" : "DIFFERENT"
    exit ok ? 0 : 1 }'
}

if [ -n "$FM" ]; then
  if [ $EMULATE = 1 ]; then TRAIN=(--epochs 1 --batch 32 --limit 256 --fp32); else TRAIN=(--epochs "$EPOCHS" --batch 128); fi
  check fashion_mnist_cpu "$BUILD/seed_cnn" fashion-mnist "$FM" --backend cpu "${TRAIN[@]}"
  check fashion_mnist_$BACKEND "$BUILD/seed_cnn" fashion-mnist "$FM" --backend "$BACKEND" "${TRAIN[@]}"
  check fashion_mnist_same_accuracy compare_training "$LOGS/fashion_mnist_cpu.log" "$LOGS/fashion_mnist_$BACKEND.log"
fi

# --- the benchmark: Strata on CUDA beside PyTorch eager + cuDNN on the same GPU ------------------------
TABLE=()
if [ $EMULATE = 0 ]; then
  TORCH=1
  python3 -c "import torch; assert torch.cuda.is_available()" 2> /dev/null || TORCH=0
  [ $TORCH = 1 ] || echo "(python3 with PyTorch for CUDA not found: the table has Strata's column only)"
  TABLE+=("| model | mode | batch | Strata CUDA (samples/s) | PyTorch eager + cuDNN (samples/s) | Strata / PyTorch |")
  TABLE+=("| --- | --- | ---: | ---: | ---: | ---: |")
  for input in "28 28 1" "64 64 3"; do
    for mode in train infer; do
      for batch in 32 128 512; do
        s=$("$BUILD/seed_cnn" throughput --backend cuda --input $input --batch $batch --mode $mode --steps 50 2>> "$LOGS/bench.log")
        sr=$(json_field "$s" samples_per_second)
        tr="" ratio=""
        if [ $TORCH = 1 ]; then
          t=$(python3 "$HERE/torch_cuda_reference.py" --input $input --batch $batch --mode $mode 2>> "$LOGS/bench.log")
          tr=$(json_field "$t" samples_per_second)
          [ -n "$sr" ] && [ -n "$tr" ] && ratio=$(awk -v a="$sr" -v b="$tr" 'BEGIN { printf "%.2fx", a / b }')
        fi
        TABLE+=("| ${input// /x} | $mode | $batch | ${sr:-failed} | ${tr:--} | ${ratio:--} |")
        [ -n "$sr" ] || FAILED=1
      done
    done
  done
fi

# --- report ------------------------------------------------------------------------------------------
echo
echo "gpu-check on $BACKEND ($([ $EMULATE = 1 ] && echo "emulated: no GPU" || nvidia-smi --query-gpu=name --format=csv,noheader | head -n 1))"
echo "| check | result | last line |"
echo "| --- | --- | --- |"
printf '%s\n' "${RESULTS[@]}"
if [ ${#TABLE[@]} -gt 0 ]; then
  echo
  echo "The seed CNN (conv 32, pool, conv 64, pool, dense 64, dropout, dense 10), TF32 on both sides,"
  echo "samples/s of training steps (forward, loss, backward, Adam, the loss read) and inference passes:"
  printf '%s\n' "${TABLE[@]}"
fi
exit $FAILED
