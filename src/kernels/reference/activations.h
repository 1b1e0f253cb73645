// Activation kernels (Relu, Sigmoid, Gelu, HardSwish ...) and Clip: pure functions over pointers and counts.
#pragma once

#include <cstdint>

#include "ingot/dtype.h"

namespace ingot::ref {

enum class Activation {
  kRelu,             // max(x, 0)
  kSigmoid,          // 1 / (1 + exp(-x))
  kTanh,             //
  kLeakyRelu,        // x < 0 ? alpha * x : x
  kElu,              // x < 0 ? alpha * (exp(x) - 1) : x
  kSelu,             // gamma * (x <= 0 ? alpha * (exp(x) - 1) : x)
  kCelu,             // max(0, x) + min(0, alpha * (exp(x / alpha) - 1))
  kHardSigmoid,      // clamp(alpha * x + beta, 0, 1)
  kHardSwish,        // x * clamp(x / 6 + 1/2, 0, 1)
  kSoftplus,         // log(1 + exp(x))
  kSoftsign,         // x / (1 + |x|)
  kMish,             // x * tanh(softplus(x))
  kGelu,             // x / 2 * (1 + erf(x / sqrt(2)))
  kGeluTanh,         // x / 2 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3)))
  kThresholdedRelu,  // x > alpha ? x : 0
  kShrink,           // x < -alpha ? x + beta : (x > alpha ? x - beta : 0)   (alpha = lambd, beta = bias)
  kSwish,            // x * sigmoid(alpha * x)
};

struct ActivationParams {
  float alpha = 0;
  float beta = 0;
  float gamma = 0;
};

// y = op(x) over n elements. T is any float type (float, double, Float16, BFloat16; 16-bit floats
// compute in float) or, for kRelu and kShrink, any integer type (Shrink computes in double and
// truncates back). Other (op, T) pairs leave y untouched.
template <typename T>
void activation(Activation op, const ActivationParams& p, const T* x, T* y, int64_t n);

// y = min(max(x, lo), hi): with lo > hi every element becomes hi, and NaN stays NaN.
template <typename T>
void clip(const T* x, T* y, int64_t n, T lo, T hi);

}  // namespace ingot::ref
