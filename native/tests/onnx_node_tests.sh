#!/bin/sh
# Runs ONNX's own backend node tests (onnx/backend/test/case/node, generated locally
# by python3-onnx) for the ops Strata supports (onnx_node_cases.txt) through build/native/onnx_test.
# ctest runs it through onnx_node_check.sh (onnx_node_tests), where python3-onnx is installed.
#
#   native/tests/onnx_node_tests.sh [build dir, default build/native] [data dir, default build/onnx-node-tests]
#                                   [onnx_test options, e.g. --backend cuda --fp32]
#
# With onnx 1.12 (Debian 12): 263 of 312 cases pass on cpu; onnx_node_unsupported.txt lists the
# 49 others and why (integer, float16 and string data, sequence and optional values, ConvInteger,
# GatherElements, 3-D convolution and pooling, MaxPool's Indices output, Resize's
# tf_crop_and_resize). The "_expanded" forms, function bodies of ops Strata lacks, are left out.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-build/native}
DATA=${2:-build/onnx-node-tests}
[ $# -gt 2 ] && shift 2 || set --
if [ ! -d "$DATA/node" ]; then
  # onnx 1.12's generator still uses numpy aliases that numpy 1.24 removed
  /usr/bin/python3 - "$DATA" <<'PY'
import sys
import numpy as np
for name, value in (("float", float), ("int", int), ("bool", bool), ("complex", complex), ("object", object), ("str", str)):
    setattr(np, name, value)
from onnx.backend.test import cmd_tools
sys.argv = ["cmd_tools", "generate-data", "-o", sys.argv[1]]
cmd_tools.main()
PY
fi
cd "$DATA/node"
CASES=$(ls -d $(cat "$HERE/onnx_node_cases.txt") 2>/dev/null | grep -v expanded)
cd - > /dev/null
# exit status as onnx_test's: 1 while any selected case fails (onnx_node_cases.txt lists the cases run)
exec "$BUILD/onnx_test" "$@" $(for c in $CASES; do printf '%s ' "$DATA/node/$c"; done)
