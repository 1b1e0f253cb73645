// What flows along a graph edge at run time: a tensor, a sequence of tensors, or an empty optional.
#pragma once

#include <vector>

#include "ingot/tensor.h"

namespace ingot {

struct RtValue {
  enum class Kind { kTensor, kSequence, kNone };
  Kind kind = Kind::kTensor;
  Tensor tensor;                 // kTensor
  std::vector<Tensor> sequence;  // kSequence
  DType elem_dtype = DType::kUndefined;  // element type of an empty sequence or of a none optional

  RtValue() = default;
  RtValue(Tensor t) : kind(Kind::kTensor), tensor(std::move(t)) {}  // NOLINT(google-explicit-constructor)
  static RtValue make_sequence(std::vector<Tensor> items, DType elem) {
    RtValue v;
    v.kind = Kind::kSequence;
    v.sequence = std::move(items);
    v.elem_dtype = elem;
    return v;
  }
  static RtValue none(DType elem = DType::kUndefined) {
    RtValue v;
    v.kind = Kind::kNone;
    v.elem_dtype = elem;
    return v;
  }
  bool is_tensor() const { return kind == Kind::kTensor; }
  bool is_sequence() const { return kind == Kind::kSequence; }
  bool is_none() const { return kind == Kind::kNone; }
};

}  // namespace ingot
