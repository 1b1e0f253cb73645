// The epilogue of a fused layer (ingot.FusedConv, ingot.FusedMatMul): per-channel bias, residual add
// and activation applied in place to the layer's output. Pure function over pointers and sizes.
#pragma once

#include <cstdint>

#include "ingot/dtype.h"

namespace ingot::ref {

enum class EpilogueActivation {
  kNone,
  kRelu,
  kLeakyRelu,  // alpha
  kClip,       // min = alpha, max = beta
  kSigmoid,
  kHardSigmoid,  // alpha, beta
  kHardSwish,
  kSilu,  // x * sigmoid(x)
  kGelu,  // erf form
  kGeluTanh,
  kTanh,
};

struct EpilogueParams {
  EpilogueActivation activation = EpilogueActivation::kNone;
  float alpha = 0, beta = 0;
};

// y viewed as [outer, channels, inner]: y = act(y + bias[c] + z), each step rounded to T as the
// separate Add / activation ops would round it. bias (channels values) and z (y's shape) may be null.
// T is float, double, Float16 or BFloat16.
template <typename T>
void fused_epilogue(T* y, int64_t outer, int64_t channels, int64_t inner, const T* bias, const T* z,
                    const EpilogueParams& p);

}  // namespace ingot::ref
