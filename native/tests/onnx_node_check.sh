#!/bin/sh
# ctest's onnx_node_tests: ONNX's node tests through onnx_node_tests.sh, passing when the cases
# that fail are exactly those onnx_node_unsupported.txt lists (exit 77, skipped, without
# python3-onnx to generate the cases).
#   native/tests/onnx_node_check.sh <build dir> <data dir> [onnx_test options]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
[ -d "$2/node" ] || /usr/bin/python3 -c "import onnx, numpy" 2> /dev/null || { echo "python3-onnx is missing: skipped"; exit 77; }
LOG=$(mktemp)
trap 'rm -f "$LOG" "$LOG.failed" "$LOG.expected"' EXIT
"$HERE/onnx_node_tests.sh" "$@" > "$LOG" 2>&1 || true
tail -n 1 "$LOG"
sed -n 's/^ERROR [^:]*\/\(test_[^/:]*\):.*/\1/p; s/^FAIL \(test_[^/]*\)\/.*/\1/p' "$LOG" | sort -u > "$LOG.failed"
grep -v '^#' "$HERE/onnx_node_unsupported.txt" | sort -u > "$LOG.expected"
if ! cmp -s "$LOG.failed" "$LOG.expected"; then
  echo "the failing cases differ from onnx_node_unsupported.txt (< fails now, > listed):"
  diff "$LOG.failed" "$LOG.expected" | grep '^[<>]' || true
  comm -23 "$LOG.failed" "$LOG.expected" | while read -r c; do grep -E "^(ERROR .*/|FAIL )$c[:/]" "$LOG" | head -n 3; done
  exit 1
fi
echo "the $(wc -l < "$LOG.expected") failing cases are the unsupported ones listed"
