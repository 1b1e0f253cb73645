#include "kernels/reference/fused_epilogue.h"

#include <type_traits>

#include "kernels/reference/activations.h"

namespace ingot::ref {
namespace {

template <typename T>
using Wide = std::conditional_t<std::is_same_v<T, double>, double, float>;

template <typename T>
T add(T a, T b) {
  return static_cast<T>(static_cast<Wide<T>>(a) + static_cast<Wide<T>>(b));
}

}  // namespace

template <typename T>
void fused_epilogue(T* y, int64_t outer, int64_t channels, int64_t inner, const T* bias, const T* z,
                    const EpilogueParams& p) {
  const int64_t n = outer * channels * inner;
  if (bias) {
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t c = 0; c < channels; ++c) {
        T* row = y + (o * channels + c) * inner;
        for (int64_t i = 0; i < inner; ++i) row[i] = add(row[i], bias[c]);
      }
  }
  if (z)
    for (int64_t i = 0; i < n; ++i) y[i] = add(y[i], z[i]);
  ActivationParams ap;
  ap.alpha = p.alpha;
  ap.beta = p.beta;
  switch (p.activation) {
    case EpilogueActivation::kNone:
      return;
    case EpilogueActivation::kClip:
      clip(y, y, n, static_cast<T>(p.alpha), static_cast<T>(p.beta));
      return;
    case EpilogueActivation::kRelu:
      return activation(Activation::kRelu, ap, y, y, n);
    case EpilogueActivation::kLeakyRelu:
      return activation(Activation::kLeakyRelu, ap, y, y, n);
    case EpilogueActivation::kSigmoid:
      return activation(Activation::kSigmoid, ap, y, y, n);
    case EpilogueActivation::kHardSigmoid:
      return activation(Activation::kHardSigmoid, ap, y, y, n);
    case EpilogueActivation::kHardSwish:
      return activation(Activation::kHardSwish, ap, y, y, n);
    case EpilogueActivation::kSilu:
      ap.alpha = 1;
      return activation(Activation::kSwish, ap, y, y, n);
    case EpilogueActivation::kGelu:
      return activation(Activation::kGelu, ap, y, y, n);
    case EpilogueActivation::kGeluTanh:
      return activation(Activation::kGeluTanh, ap, y, y, n);
    case EpilogueActivation::kTanh:
      return activation(Activation::kTanh, ap, y, y, n);
  }
}

template void fused_epilogue<float>(float*, int64_t, int64_t, int64_t, const float*, const float*,
                                    const EpilogueParams&);
template void fused_epilogue<double>(double*, int64_t, int64_t, int64_t, const double*, const double*,
                                     const EpilogueParams&);
template void fused_epilogue<Float16>(Float16*, int64_t, int64_t, int64_t, const Float16*, const Float16*,
                                      const EpilogueParams&);
template void fused_epilogue<BFloat16>(BFloat16*, int64_t, int64_t, int64_t, const BFloat16*, const BFloat16*,
                                       const EpilogueParams&);

}  // namespace ingot::ref
