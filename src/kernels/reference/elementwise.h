// Plain elementwise kernels: pure functions over pointers and counts.
#pragma once

#include <cstdint>

namespace ingot::ref {

// out[i] = f(in[i]) for i < n.
template <typename TI, typename TO, typename F>
void unary(const TI* in, TO* out, int64_t n, F&& f) {
  for (int64_t i = 0; i < n; ++i) out[i] = f(in[i]);
}

}  // namespace ingot::ref
