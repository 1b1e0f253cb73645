#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan, in build-fuzz) and runs each for SECONDS seconds
# (default 60), starting from its seed corpus in tests/fuzz/corpus/<target>/. Exits non-zero on the first
# finding: a crash, a sanitizer report, a leak, an input slower than 10 s or a run over the memory bound.
# The crashing input is left in build-fuzz/artifacts/<target>/. See docs/fuzzing.md.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#   scripts/fuzz.sh --build-only     builds everything in build-fuzz (tests too: scripts/test.sh runs them)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${INGOT_FUZZ_BUILD:-build-fuzz}
all_targets=(fuzz_onnx_import fuzz_npy fuzz_engine_load fuzz_calib_cache)
build_only=0
if [ "${1:-}" = --build-only ]; then
  build_only=1
  shift
fi
seconds=${1:-60}
shift || true
targets=("${@:-${all_targets[@]}}")

# -O1 with line tables: fast enough to fuzz, and sanitizer reports name file and line. Debug keeps asserts.
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DINGOT_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_C_FLAGS_DEBUG=-O1 -gline-tables-only" \
    "-DCMAKE_CXX_FLAGS_DEBUG=-O1 -gline-tables-only" >/dev/null
fi
if [ $build_only = 1 ]; then
  cmake --build "$build" -j"${INGOT_BUILD_JOBS:-$(nproc)}"
  exit 0
fi
cmake --build "$build" -j"${INGOT_BUILD_JOBS:-$(nproc)}" --target "${targets[@]}"

# Largest input each target gets: models and .npy files well past the seeds, small enough to stay fast.
declare -A max_len=([fuzz_onnx_import]=65536 [fuzz_npy]=8192 [fuzz_engine_load]=65536 [fuzz_calib_cache]=4096)
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
# oneDNN held to its AVX2 kernels: on AVX-512 CPUs, creating its brgemm convolution for some fuzzed shapes took
# over a minute under ASan (a plan of 7 KB; 0.14 s with AVX2), which the 10 s limit reports as a hang. The
# targets fuzz ingot's readers and checks, which do not depend on oneDNN's ISA.
export ONEDNN_MAX_CPU_ISA=${ONEDNN_MAX_CPU_ISA:-AVX2}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Extra seeds for the importer, not committed: the ONNX backend test models (one per op and variant)
# from the onnx package of the test venv, when there is one.
extra_seeds() {
  [ "$1" = fuzz_onnx_import ] && [ -x .venv/bin/python ] || return 0
  local node dir="$build/seeds/onnx_node"
  node=$(.venv/bin/python -c "import onnx, os; print(os.path.join(os.path.dirname(onnx.__file__), 'backend/test/data/node'))" 2>/dev/null) || return 0
  if [ ! -d "$dir" ] && [ -d "$node" ]; then
    mkdir -p "$dir"
    for m in "$node"/*/model.onnx; do cp "$m" "$dir/$(basename "$(dirname "$m")").onnx"; done
  fi
  [ -d "$dir" ] && echo "$dir"
}

status=0
for t in "${targets[@]}"; do
  work="$build/corpus/$t"       # the fuzzer's growing corpus; the committed seeds stay untouched
  artifacts="$build/artifacts/$t"
  mkdir -p "$work" "$artifacts"
  echo "== $t: ${seconds}s =="
  log="$build/$t.log"
  seeds=("tests/fuzz/corpus/$t")
  extra=$(extra_seeds "$t")
  [ -n "$extra" ] && seeds+=("$extra")
  if "$build/bin/$t" "$work" "${seeds[@]}" -max_total_time="$seconds" -max_len="${max_len[$t]:-65536}" \
      -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+.*DONE' "$log" || true
  else
    status=1
    tail -n 60 "$log"
    echo "$t: FINDING (full log $log; inputs in $artifacts/)"
  fi
done
exit $status
