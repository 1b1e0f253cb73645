// NegativeLogLikelihoodLoss over log-probabilities seen as [n, c, d] (d = product of the spatial dims)
// with targets [n, d]. SoftmaxCrossEntropyLoss is a log-softmax over c followed by this.
#pragma once

#include <cstdint>

namespace ingot::ref {

enum class LossReduction { kNone, kSum, kMean };

struct NllParams {
  int64_t n = 0, c = 0, d = 0;
  bool has_ignore_index = false;
  int64_t ignore_index = 0;
  LossReduction reduction = LossReduction::kMean;
};

// out holds n*d losses for kNone, else one scalar. Element (i, k) loses -w[t] * logp[i, t, k] with
// t = target[i, k] (w = 1 without weights); ignored targets lose 0 and weigh 0. kMean divides the sum by
// the summed weights (the count of non-ignored targets without weights). Returns -1, or the flat index of
// the first target that is neither ignored nor in [0, c) (out is then unspecified).
template <typename T, typename I>
int64_t nll_loss(const T* logp, const I* target, const T* weight, const NllParams& p, T* out) {
  // Sums run in double: a mean over many float losses should not drift with the element count.
  double total = 0, total_weight = 0;
  for (int64_t i = 0; i < p.n; ++i) {
    for (int64_t k = 0; k < p.d; ++k) {
      const int64_t pos = i * p.d + k;
      const int64_t t = static_cast<int64_t>(target[pos]);
      double loss = 0, w = 0;
      if (!(p.has_ignore_index && t == p.ignore_index)) {
        if (t < 0 || t >= p.c) return pos;
        w = weight ? static_cast<double>(weight[t]) : 1.0;
        loss = -w * static_cast<double>(logp[(i * p.c + t) * p.d + k]);
      }
      if (p.reduction == LossReduction::kNone) {
        out[pos] = static_cast<T>(loss);
      } else {
        total += loss;
        total_weight += w;
      }
    }
  }
  if (p.reduction == LossReduction::kSum) out[0] = static_cast<T>(total);
  // 0/0 (everything ignored) gives NaN, as the ONNX reference does.
  if (p.reduction == LossReduction::kMean) out[0] = static_cast<T>(total / total_weight);
  return -1;
}

}  // namespace ingot::ref
