// ONNX protobuf -> ingot IR. The only folder that sees protobuf/ONNX headers.
#pragma once

#include <memory>
#include <string>

#include "core/value.h"
#include "ingot/status.h"
#include "ir/graph.h"

namespace ingot::onnx_import {

struct Model {
  std::unique_ptr<ir::Graph> graph;
  int64_t ir_version = 0;
  std::string producer;
  std::map<std::string, int> opsets;
  // Names of the main graph's inputs as the file lists them, initializers with defaults included.
  std::vector<std::string> declared_inputs;
};

// Parses and normalises a model: initializers and Constant nodes become constant values, each node is
// rewritten to its canonical (newest-opset) form, nodes are sorted, and every unsupported op is listed
// in one error. External data is read relative to the model's folder and may not leave it.
Expected<Model> import_file(const std::string& path);
// `base_dir` resolves external data ("" refuses any); `label` names the source in errors.
Expected<Model> import_bytes(const std::string& bytes, const std::string& base_dir, const std::string& label);

// A serialized TensorProto / SequenceProto / OptionalProto file (ONNX test data). `type` selects
// which message the file holds.
Expected<RtValue> read_value_file(const std::string& path, const ir::ValueType& type);

}  // namespace ingot::onnx_import
