#!/usr/bin/env bash
# Runs every test: C++ unit tests (ctest), the ONNX conformance suite with its ratchet, and the
# Python op, CLI, model and Python API tests (pytest), then the sanitizer stage: ASan + UBSan, ThreadSanitizer and the
# fuzzers (below; INGOT_SANITIZE_CI=0 skips it for a quick local run). Run scripts/setup.sh first.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
failed=()  # the stages that failed, repeated at the end (a CI log may show only its tail)
fail() { status=1; failed+=("$1"); }
mkdir -p build
log=build/test.log  # everything below, also on the terminal; the failing lines are repeated from it at the end
exec > >(tee "$log") 2>&1

echo "== ONNX backend conformance (ratchet: tests/conformance/baseline.txt) =="
data=$(.venv/bin/python -c "import onnx, os; print(os.path.join(os.path.dirname(onnx.__file__), 'backend/test/data'))")
build/bin/ingot_conformance --data "$data" --results build/conformance-results.txt \
  --baseline tests/conformance/baseline.txt || fail "conformance"

echo "== C++ unit tests =="
ctest --test-dir build --output-on-failure -j"$(nproc)" || fail "C++ unit tests"

echo "== Python op, CLI and model tests; the Python API (the ingot package setup.sh installed) and examples/ =="
.venv/bin/python -m pytest -q -p no:cacheprovider tests/python tests/models tests/python_api || fail "pytest"
# The CUDA op tests against the CPU reference: they skip, saying why, without a GPU (CI has none).
.venv/bin/python -m pytest -q -rs -p no:cacheprovider tests/gpu || fail "pytest tests/gpu"

# ASan + UBSan (undefined behaviour fails the run), unless INGOT_SANITIZE_CI=0: the C++ unit tests, the
# conformance suite and the Python op and CLI tests again, on the instrumented build that also holds the
# fuzz targets (build-fuzz, clang), then each fuzz target for INGOT_FUZZ_SECONDS (default 60). The model
# tests (tests/models) are left out: the reference kernels under ASan make them take too long.
if [ "${INGOT_SANITIZE_CI:-1}" = 1 ]; then
  start=$SECONDS
  echo "== Sanitizer build (build-fuzz: clang, ASan + UBSan + fuzzer instrumentation) =="
  scripts/fuzz.sh --build-only || fail "sanitizer build"
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=0}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  # The runaway-Loop test runs up to the limit: 10^7 iterations take minutes under ASan.
  export INGOT_MAX_LOOP_ITERATIONS=1000000
  echo "   built in $((SECONDS - start))s"; t=$SECONDS

  echo "== ASan + UBSan: ONNX backend conformance =="
  build-fuzz/bin/ingot_conformance --data "$data" --results build-fuzz/conformance-results.txt \
    --baseline tests/conformance/baseline.txt || fail "ASan conformance"
  echo "   $((SECONDS - t))s"; t=$SECONDS

  echo "== ASan + UBSan: C++ unit tests =="
  ctest --test-dir build-fuzz --output-on-failure -j"$(nproc)" || fail "ASan C++ unit tests"
  echo "   $((SECONDS - t))s"; t=$SECONDS

  echo "== ASan + UBSan: Python op and CLI tests =="
  INGOT_BIN=build-fuzz/bin/ingot .venv/bin/python -m pytest -q -p no:cacheprovider tests/python || fail "ASan pytest"
  echo "   $((SECONDS - t))s"; t=$SECONDS

  echo "== ThreadSanitizer: several execution contexts of one engine in several threads =="
  cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DINGOT_TSAN=ON >/dev/null &&
    cmake --build build-tsan -j"$(nproc)" --target ingot_tests ingot_soak >/dev/null &&
    TSAN_OPTIONS=halt_on_error=1 build-tsan/bin/ingot_tests --gtest_filter='Engine*:EngineFile*' &&
    TSAN_OPTIONS=halt_on_error=1 build-tsan/bin/ingot_soak examples/tiny_cnn.onnx --threads 4 --contexts 2 --seconds 10 ||
    fail "ThreadSanitizer"
  echo "   $((SECONDS - t))s"; t=$SECONDS

  echo "== Fuzzing: each target for ${INGOT_FUZZ_SECONDS:-60}s =="
  scripts/fuzz.sh "${INGOT_FUZZ_SECONDS:-60}" || fail "fuzzing"
  echo "   $((SECONDS - t))s; sanitizer stage $((SECONDS - start))s in all"
fi

if [ $status = 0 ]; then
  echo "== all stages passed =="
else
  printf '== FAILED stages: %s ==\n' "$(IFS=,; echo "${failed[*]}")"
  grep -E '^(FAILED|ERROR) |\*\*\*Failed|\[  FAILED  \]|^REGRESSION|FINDING|ThreadSanitizer:|ERROR: AddressSanitizer' "$log" |
    head -n 40 || true
fi
exit $status
