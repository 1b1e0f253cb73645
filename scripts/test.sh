#!/usr/bin/env bash
# Runs every test: C++ unit tests (ctest), the ONNX conformance suite with its ratchet, and the
# Python op, CLI and model tests (pytest). Run scripts/setup.sh first.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0

echo "== ONNX backend conformance (ratchet: tests/conformance/baseline.txt) =="
data=$(.venv/bin/python -c "import onnx, os; print(os.path.join(os.path.dirname(onnx.__file__), 'backend/test/data'))")
build/bin/ingot_conformance --data "$data" --results build/conformance-results.txt \
  --baseline tests/conformance/baseline.txt || status=1

echo "== C++ unit tests =="
ctest --test-dir build --output-on-failure -j"$(nproc)" || status=1

echo "== Python op, CLI and model tests =="
.venv/bin/python -m pytest -q -p no:cacheprovider tests/python tests/models || status=1

exit $status
