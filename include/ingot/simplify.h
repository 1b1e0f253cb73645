// `ingot simplify`: what onnxsim does, natively — shape inference, constant folding, dead code,
// common subexpressions and no-op elimination — writing an ONNX model back.
#pragma once

#include <map>
#include <ostream>
#include <set>
#include <string>

#include "ingot/status.h"
#include "ingot/tensor.h"

namespace ingot {

struct SimplifyOptions {
  std::map<std::string, Dims> input_shapes;  // fixes dynamic inputs (onnxsim's --overwrite-input-shape)
  std::set<std::string> disabled_passes;     // by pass name
  std::set<std::string> dump_ir_after;       // pass names, or "all"
  std::ostream* dump_to = nullptr;           // default stderr
  int64_t fold_max_elements = int64_t{1} << 22;
};

struct SimplifyReport {
  std::map<std::string, int64_t> ops_before;  // op type -> count
  std::map<std::string, int64_t> ops_after;
  int64_t nodes_before = 0;
  int64_t nodes_after = 0;
};

// Reads `in_path`, simplifies, writes `out_path` atomically (nothing is written on failure).
Expected<SimplifyReport> simplify_onnx_file(const std::string& in_path, const std::string& out_path,
                                            const SimplifyOptions& options = {});
// The same on a serialized model: returns the simplified model's bytes. External data is refused (a
// model in memory has no folder); errors name the model "<memory>".
struct SimplifiedModel {
  std::string onnx;
  SimplifyReport report;
};
Expected<SimplifiedModel> simplify_onnx_bytes(const std::string& bytes, const SimplifyOptions& options = {});
// Names and descriptions of the simplify passes, in pipeline order.
std::vector<std::pair<std::string, std::string>> simplify_pass_names();

}  // namespace ingot
