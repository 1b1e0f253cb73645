// Plain matrix-product kernels: pure functions over row-major buffers and sizes.
#pragma once

#include <cstdint>
#include <type_traits>
#include <vector>

#include "ingot/dtype.h"

namespace ingot::ref {

// The type products are summed in: float for the half types (as every peer does), uint64_t for
// integers (arithmetic modulo 2^64, so sums and products wrap as two's complement, as onnxruntime's do,
// instead of overflowing, which is undefined for signed types; the final narrowing keeps the low bits),
// T otherwise.
template <typename T>
using MatAcc = std::conditional_t<std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>, float,
                                  std::conditional_t<std::is_integral_v<T>, uint64_t, T>>;

// y[j] += a * x[j]. Blocks of a fixed 8 and the restrict parameters let GCC vectorize this at -O2,
// whose cost model skips loops with an unknown trip count or a runtime alias check.
template <typename Acc, typename T>
void matmul_axpy(Acc* __restrict y, Acc a, const T* __restrict x, int64_t n) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8)
    for (int u = 0; u < 8; ++u) y[j + u] += a * static_cast<Acc>(x[j + u]);
  for (; j < n; ++j) y[j] += a * static_cast<Acc>(x[j]);
}

// Y[M,N] = alpha * op(A) op(B) + beta * C, where op(A) is [M,K] (A stored [K,M] when trans_a) and
// op(B) is [K,N] (B stored [N,K] when trans_b). C is optional (nullptr) and read at
// C[i * c_row_stride + j * c_col_stride], so a stride of 0 broadcasts a row, column or scalar.
// Rows of Y are accumulated in MatAcc<T> in i-k-j order, which streams contiguous rows of B and
// lets the compiler vectorize the inner loop; a transposed B is copied to [K,N] first (a dot-product
// order would be a serial float reduction, several times slower, and K*N copies are cheap next
// to M*N*K products).
template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, MatAcc<T> alpha, const T* A,
          const T* B, MatAcc<T> beta, const T* C, int64_t c_row_stride, int64_t c_col_stride, T* Y) {
  using Acc = MatAcc<T>;
  std::vector<T> bt;
  if (trans_b) {
    bt.resize(static_cast<size_t>(K * N));
    for (int64_t j = 0; j < N; ++j)
      for (int64_t k = 0; k < K; ++k) bt[k * N + j] = B[j * K + k];
    B = bt.data();
  }
  std::vector<Acc> row(static_cast<size_t>(N));
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) row[j] = 0;
    for (int64_t k = 0; k < K; ++k) {
      matmul_axpy(row.data(), static_cast<Acc>(trans_a ? A[k * M + i] : A[i * K + k]), B + k * N, N);
    }
    T* y = Y + i * N;
    if (C != nullptr) {
      const T* c = C + i * c_row_stride;
      for (int64_t j = 0; j < N; ++j) {
        y[j] = static_cast<T>(alpha * row[j] + beta * static_cast<Acc>(c[j * c_col_stride]));
      }
    } else {
      for (int64_t j = 0; j < N; ++j) y[j] = static_cast<T>(alpha * row[j]);
    }
  }
}

// Y[M,N] (int32) = (A - a_zero) (B - b_zero) for 8-bit A [M,K] and B [K,N]. a_zero is indexed by
// row (a_zero_stride 0 for a per-tensor zero point), b_zero by column.
template <typename TA, typename TB>
void matmul_integer(int64_t M, int64_t N, int64_t K, const TA* A, const TA* a_zero, int64_t a_zero_stride,
                    const TB* B, const TB* b_zero, int64_t b_zero_stride, int32_t* Y) {
  std::vector<int32_t> row(static_cast<size_t>(N));
  for (int64_t i = 0; i < M; ++i) {
    for (int64_t j = 0; j < N; ++j) row[j] = 0;
    const int32_t za = a_zero ? static_cast<int32_t>(a_zero[i * a_zero_stride]) : 0;
    for (int64_t k = 0; k < K; ++k) {
      const int32_t a = static_cast<int32_t>(A[i * K + k]) - za;
      const TB* b = B + k * N;
      for (int64_t j = 0; j < N; ++j) {
        const int32_t zb = b_zero ? static_cast<int32_t>(b_zero[j * b_zero_stride]) : 0;
        row[j] += a * (static_cast<int32_t>(b[j]) - zb);
      }
    }
    for (int64_t j = 0; j < N; ++j) Y[i * N + j] = row[j];
  }
}

}  // namespace ingot::ref
