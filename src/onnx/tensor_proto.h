// TensorProto <-> Tensor, including external data confined to the model's folder.
#pragma once

#include <string>

#include "ingot/status.h"
#include "ingot/tensor.h"
#include "onnx/onnx-ml.pb.h"

namespace ingot::onnx_import {

// `base_dir` is the folder external data paths are relative to ("" refuses external data);
// `label` names the file in errors.
Expected<Tensor> tensor_from_proto(const onnx::TensorProto& tp, const std::string& base_dir, const std::string& label);
void tensor_to_proto(const Tensor& t, const std::string& name, onnx::TensorProto* tp);

}  // namespace ingot::onnx_import
