#include "kernels/reference/reduce.h"

namespace ingot::ref {

ReduceLayout make_reduce_layout(const Dims& dims, const std::vector<bool>& reduced) {
  ReduceLayout l;
  std::vector<bool> flags;
  for (size_t d = 0; d < dims.size(); ++d) {
    if (reduced[d])
      l.reduce_count *= dims[d];
    else
      l.out_numel *= dims[d];
    if (dims[d] == 1) continue;
    if (!flags.empty() && flags.back() == reduced[d]) {
      l.sizes.back() *= dims[d];
    } else {
      l.sizes.push_back(dims[d]);
      flags.push_back(reduced[d]);
    }
  }
  l.out_strides.assign(l.sizes.size(), 0);
  int64_t acc = 1;
  for (size_t i = l.sizes.size(); i-- > 0;) {
    if (flags[i]) continue;
    l.out_strides[i] = acc;
    acc *= l.sizes[i];
  }
  return l;
}

}  // namespace ingot::ref
