// ingot IR -> ONNX protobuf, for `ingot simplify` and `ingot quantize`.
#pragma once

#include <string>

#include "ingot/status.h"
#include "ir/graph.h"

namespace ingot::onnx_import {

struct ExportOptions {
  int64_t ir_version = 8;
  std::string producer_name = "ingot";
};

// Serializes `graph` (with its opset imports) as an ONNX model. Constant values read by nodes or
// returned as outputs become initializers; attributes that import moved to inputs go back to attributes.
Expected<std::string> export_model(const ir::Graph& graph, const ExportOptions& options = {});
// Writes to a temporary file in the same folder and renames it: no partial file on failure.
Status export_model_file(const ir::Graph& graph, const std::string& path, const ExportOptions& options = {});

}  // namespace ingot::onnx_import
