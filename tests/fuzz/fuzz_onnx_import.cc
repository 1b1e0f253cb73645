// libFuzzer target: an ONNX model from untrusted bytes through import, the simplify pipeline (shape
// inference, constant folding, dead code, CSE) and export. Any error is fine as long as it is a
// Status; a crash, a sanitizer report, a hang or an internal error (a bug in ingot by definition) is
// a finding.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "ingot/tensor.h"
#include "onnx/exporter.h"
#include "onnx/importer.h"
#include "ops/control_flow.h"
#include "passes/pass.h"

namespace {

void fail_on_internal(const ingot::Status& st) {
  if (st.code() != ingot::StatusCode::kInternal) return;
  std::fprintf(stderr, "internal error on fuzzed input: %s\n", st.message().c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Bounds a fuzzed model may reach: well under libFuzzer's -rss_limit_mb, and loops short enough
  // that folding one cannot look like a hang.
  ingot::set_max_tensor_bytes(int64_t{64} << 20);
  ingot::ops::set_max_loop_iterations(1000);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  // No base folder: external data is refused, so the fuzzer never reads files.
  auto model = ingot::onnx_import::import_bytes(bytes, "", "fuzz.onnx");
  if (!model.ok()) {
    fail_on_internal(model.status());
    return 0;
  }
  ingot::passes::PipelineOptions options;
  options.verify = true;
  options.pass_options.fold_max_elements = int64_t{1} << 16;
  const ingot::Status st =
      ingot::passes::run_pipeline(*model->graph, ingot::passes::simplify_passes(), options);
  if (!st.ok()) {
    fail_on_internal(st);
    return 0;
  }
  auto exported = ingot::onnx_import::export_model(*model->graph);
  if (!exported.ok()) fail_on_internal(exported.status());
  return 0;
}
