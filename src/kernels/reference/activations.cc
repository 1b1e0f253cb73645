#include "kernels/reference/activations.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "kernels/reference/unary_math.h"

namespace ingot::ref {
namespace {

// Both branches keep exp's argument non-positive, so large |x| neither overflows nor loses the tail.
template <typename C>
C sigmoid(C v) {
  if (v >= 0) return C(1) / (C(1) + std::exp(-v));
  const C e = std::exp(v);
  return e / (C(1) + e);
}

// log(1 + exp(x)) without overflow for large x.
template <typename C>
C softplus(C v) {
  return v > 0 ? v + std::log1p(std::exp(-v)) : std::log1p(std::exp(v));
}

// x * gate(x) where the gate vanishes: the limit 0, not inf * 0 = NaN, at x = -inf (Gelu, Mish, Swish ...).
template <typename C>
C gated(C v, C gate) {
  return gate == 0 ? C(0) : v * gate;
}

template <typename T>
void float_activation(Activation op, const ActivationParams& p, const T* x, T* y, int64_t n) {
  using C = MathType<T>;
  const C alpha = static_cast<C>(p.alpha);
  const C beta = static_cast<C>(p.beta);
  const C gamma = static_cast<C>(p.gamma);
  switch (op) {
    case Activation::kRelu:
      map_math(x, y, n, [](C v) { return v > 0 ? v : C(0); });
      return;
    case Activation::kSigmoid:
      map_math(x, y, n, [](C v) { return sigmoid(v); });
      return;
    case Activation::kTanh:
      map_math(x, y, n, [](C v) { return std::tanh(v); });
      return;
    case Activation::kLeakyRelu:
      map_math(x, y, n, [=](C v) { return v < 0 ? alpha * v : v; });
      return;
    case Activation::kElu:
      map_math(x, y, n, [=](C v) { return v < 0 ? alpha * std::expm1(v) : v; });
      return;
    case Activation::kSelu:
      // alpha * expm1(x) is ONNX's alpha * exp(x) - alpha without the cancellation near 0.
      map_math(x, y, n, [=](C v) { return v <= 0 ? gamma * alpha * std::expm1(v) : gamma * v; });
      return;
    case Activation::kCelu:
      map_math(x, y, n,
               [=](C v) { return std::max(C(0), v) + std::min(C(0), alpha * std::expm1(v / alpha)); });
      return;
    case Activation::kHardSigmoid:
      map_math(x, y, n, [=](C v) { return std::clamp(alpha * v + beta, C(0), C(1)); });
      return;
    case Activation::kHardSwish:
      map_math(x, y, n, [](C v) { return gated(v, std::clamp(v / C(6) + C(0.5), C(0), C(1))); });
      return;
    case Activation::kSoftplus:
      map_math(x, y, n, [](C v) { return softplus(v); });
      return;
    case Activation::kSoftsign:
      map_math(x, y, n,
               [](C v) { return std::isinf(v) ? std::copysign(C(1), v) : v / (C(1) + std::fabs(v)); });
      return;
    case Activation::kMish:
      map_math(x, y, n, [](C v) { return gated(v, std::tanh(softplus(v))); });
      return;
    case Activation::kGelu: {
      const C inv_sqrt2 = static_cast<C>(0.70710678118654752440);
      // erfc(-t) = 1 + erf(t) without the cancellation for negative t.
      map_math(x, y, n, [=](C v) { return gated(v, C(0.5) * std::erfc(-v * inv_sqrt2)); });
      return;
    }
    case Activation::kGeluTanh: {
      const C k = static_cast<C>(0.79788456080286535588);  // sqrt(2 / pi)
      map_math(x, y, n,
               [=](C v) { return gated(v, C(0.5) * (C(1) + std::tanh(k * (v + C(0.044715) * v * v * v)))); });
      return;
    }
    case Activation::kThresholdedRelu:
      map_math(x, y, n, [=](C v) { return v > alpha ? v : C(0); });
      return;
    case Activation::kShrink:
      map_math(x, y, n, [=](C v) { return v < -alpha ? v + beta : (v > alpha ? v - beta : C(0)); });
      return;
    case Activation::kSwish:
      map_math(x, y, n, [=](C v) { return gated(v, sigmoid(alpha * v)); });
      return;
  }
}

template <typename T>
T truncate_to(double d) {
  if (std::isnan(d)) return T(0);
  d = std::clamp(std::trunc(d), static_cast<double>(std::numeric_limits<T>::lowest()),
                 static_cast<double>(std::numeric_limits<T>::max()));
  return static_cast<T>(d);
}

template <typename T>
void integer_activation(Activation op, const ActivationParams& p, const T* x, T* y, int64_t n) {
  if (op == Activation::kRelu) {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0 ? x[i] : T(0);
  } else if (op == Activation::kShrink) {
    const double lambd = p.alpha, bias = p.beta;
    for (int64_t i = 0; i < n; ++i) {
      const double v = static_cast<double>(x[i]);
      y[i] = v < -lambd ? truncate_to<T>(v + bias) : (v > lambd ? truncate_to<T>(v - bias) : T(0));
    }
  }
}

}  // namespace

template <typename T>
void activation(Activation op, const ActivationParams& p, const T* x, T* y, int64_t n) {
  if constexpr (std::is_integral_v<T>) {
    integer_activation(op, p, x, y, n);
  } else {
    float_activation(op, p, x, y, n);
  }
}

template <typename T>
void clip(const T* x, T* y, int64_t n, T lo, T hi) {
  using C = MathType<T>;
  const C l = static_cast<C>(lo), h = static_cast<C>(hi);
  map_math(x, y, n, [=](C v) { return std::min(std::max(v, l), h); });
}

#define INGOT_ACTIVATION(T)                                                                \
  template void activation<T>(Activation, const ActivationParams&, const T*, T*, int64_t); \
  template void clip<T>(const T*, T*, int64_t, T, T);

INGOT_ACTIVATION(float)
INGOT_ACTIVATION(double)
INGOT_ACTIVATION(Float16)
INGOT_ACTIVATION(BFloat16)
INGOT_ACTIVATION(int8_t)
INGOT_ACTIVATION(int16_t)
INGOT_ACTIVATION(int32_t)
INGOT_ACTIVATION(int64_t)
INGOT_ACTIVATION(uint8_t)
INGOT_ACTIVATION(uint16_t)
INGOT_ACTIVATION(uint32_t)
INGOT_ACTIVATION(uint64_t)

}  // namespace ingot::ref
