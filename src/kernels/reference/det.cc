#include "kernels/reference/det.h"

#include <cmath>
#include <utility>
#include <vector>

namespace ingot::ref {

void det(const double* x, int64_t batch, int64_t n, double* y) {
  std::vector<double> a(static_cast<size_t>(n * n));
  for (int64_t b = 0; b < batch; ++b) {
    a.assign(x + b * n * n, x + (b + 1) * n * n);
    double d = 1;
    for (int64_t k = 0; k < n && d != 0; ++k) {
      int64_t p = k;
      for (int64_t i = k + 1; i < n; ++i) {
        if (std::abs(a[i * n + k]) > std::abs(a[p * n + k])) p = i;
      }
      if (a[p * n + k] == 0) {
        d = 0;
        break;
      }
      if (p != k) {
        for (int64_t j = 0; j < n; ++j) std::swap(a[k * n + j], a[p * n + j]);
        d = -d;
      }
      const double pivot = a[k * n + k];
      d *= pivot;
      for (int64_t i = k + 1; i < n; ++i) {
        const double f = a[i * n + k] / pivot;
        if (f == 0) continue;
        for (int64_t j = k + 1; j < n; ++j) a[i * n + j] -= f * a[k * n + j];
      }
    }
    y[b] = d;
  }
}

}  // namespace ingot::ref
