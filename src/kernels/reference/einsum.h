// Einsum over operands described by per-label strides: pure function over pointers and sizes.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/reference/matmul.h"

namespace ingot::ref {

// Labels 0..L-1 have sizes `sizes`; the first `n_out` are the output's dims in order, the rest
// are summed over. strides[op][label] is operand op's element stride along that label: 0 where
// the operand lacks the label or broadcasts it, and the sum of the axes' strides where a label
// repeats inside one operand (a diagonal). out is row-major over the output labels.
// All label combinations are walked in row-major order, so each output element's terms are
// consecutive and summed in MatAcc<T>.
template <typename T>
void einsum(const std::vector<const T*>& operands, const std::vector<std::vector<int64_t>>& strides,
            const std::vector<int64_t>& sizes, size_t n_out, T* out) {
  using Acc = MatAcc<T>;
  const size_t L = sizes.size(), n_ops = operands.size();
  int64_t out_count = 1, inner_count = 1;
  for (size_t l = 0; l < L; ++l) (l < n_out ? out_count : inner_count) *= sizes[l];
  if (out_count == 0 || inner_count == 0) return;  // nothing to write, or every sum is empty (0)
  std::vector<int64_t> idx(L, 0), off(n_ops, 0);
  for (int64_t o = 0; o < out_count; ++o) {
    Acc sum = 0;
    for (int64_t k = 0; k < inner_count; ++k) {
      Acc p = 1;
      for (size_t i = 0; i < n_ops; ++i) p *= static_cast<Acc>(operands[i][off[i]]);
      sum += p;
      // Advance the odometer over all labels (the output labels roll over after the summed ones).
      for (size_t l = L; l-- > 0;) {
        ++idx[l];
        for (size_t i = 0; i < n_ops; ++i) off[i] += strides[i][l];
        if (idx[l] < sizes[l]) break;
        for (size_t i = 0; i < n_ops; ++i) off[i] -= strides[i][l] * sizes[l];
        idx[l] = 0;
      }
    }
    out[o] = static_cast<T>(sum);
  }
}

}  // namespace ingot::ref
