// Determinant of square matrices by LU decomposition with partial pivoting.
#pragma once

#include <cstdint>

namespace ingot::ref {

// y[b] = det of the n x n row-major matrix at x + b * n * n, for b < batch. Computed in double.
void det(const double* x, int64_t batch, int64_t n, double* y);

}  // namespace ingot::ref
