// Normalization kernels: pure functions over row-major buffers. Statistics are computed in Acc
// (float, or double for double tensors) with a two-pass mean/variance, which stays accurate when
// the mean is large compared with the spread. Scale/bias/mean/var vectors arrive already converted
// to Acc by the caller: they are small (per channel or per normalized row) and their dtype may
// differ from X's (BatchNormalization's T1/T2, RMSNormalization's V).
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "ingot/dtype.h"

namespace ingot::ref {

template <typename T>
using NormAcc = std::conditional_t<std::is_same_v<T, double>, double, float>;

// Each of `rows` rows of n contiguous elements: y = (x - mean) / sqrt(var + eps) * scale + bias,
// scale/bias of length n (nullptr: 1 / 0). With `rms`, mean is taken as 0 and var is mean(x^2)
// (RMSNormalization). mean_out / inv_std_out (per row, may be nullptr) receive the statistics.
template <typename T, typename Acc, typename TY = T>
void normalize_rows(const T* x, TY* y, int64_t rows, int64_t n, Acc eps, const Acc* scale, const Acc* bias,
                    bool rms, Acc* mean_out, Acc* inv_std_out) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * n;
    TY* yr = y + r * n;
    Acc mean = 0;
    if (!rms) {
      for (int64_t k = 0; k < n; ++k) mean += static_cast<Acc>(xr[k]);
      mean /= static_cast<Acc>(n);
    }
    Acc var = 0;
    for (int64_t k = 0; k < n; ++k) {
      const Acc d = static_cast<Acc>(xr[k]) - mean;
      var += d * d;
    }
    var /= static_cast<Acc>(n);
    const Acc inv_std = Acc(1) / std::sqrt(var + eps);
    for (int64_t k = 0; k < n; ++k) {
      Acc v = (static_cast<Acc>(xr[k]) - mean) * inv_std;
      if (scale) v *= scale[k];
      if (bias) v += bias[k];
      yr[k] = static_cast<TY>(v);
    }
    if (mean_out) mean_out[r] = mean;
    if (inv_std_out) inv_std_out[r] = inv_std;
  }
}

// X is [batch, C, spatial]; channels are split into `groups` groups of C / groups consecutive
// channels, each (batch, group) normalized on its own, then scaled per channel:
// y = (x - mean) / sqrt(var + eps) * scale[c] + bias[c]. InstanceNormalization is groups == C.
template <typename T, typename Acc>
void group_norm(const T* x, T* y, int64_t batch, int64_t C, int64_t spatial, int64_t groups, Acc eps,
                const Acc* scale, const Acc* bias) {
  const int64_t cg = C / groups;
  const int64_t n = cg * spatial;
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t base = (b * C + g * cg) * spatial;
      const T* xg = x + base;
      T* yg = y + base;
      Acc mean = 0;
      for (int64_t k = 0; k < n; ++k) mean += static_cast<Acc>(xg[k]);
      mean /= static_cast<Acc>(n);
      Acc var = 0;
      for (int64_t k = 0; k < n; ++k) {
        const Acc d = static_cast<Acc>(xg[k]) - mean;
        var += d * d;
      }
      var /= static_cast<Acc>(n);
      const Acc inv_std = Acc(1) / std::sqrt(var + eps);
      for (int64_t c = 0; c < cg; ++c) {
        const Acc s = scale[g * cg + c] * inv_std, t = bias[g * cg + c];
        for (int64_t k = 0; k < spatial; ++k) {
          const int64_t i = c * spatial + k;
          yg[i] = static_cast<T>((static_cast<Acc>(xg[i]) - mean) * s + t);
        }
      }
    }
  }
}

// Per-channel mean and (population) variance of X [batch, C, spatial] over batch and spatial.
template <typename T, typename Acc>
void channel_moments(const T* x, int64_t batch, int64_t C, int64_t spatial, Acc* mean, Acc* var) {
  const Acc count = static_cast<Acc>(batch * spatial);
  for (int64_t c = 0; c < C; ++c) {
    Acc s = 0;
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t k = 0; k < spatial; ++k) s += static_cast<Acc>(x[(b * C + c) * spatial + k]);
    const Acc m = s / count;
    Acc v = 0;
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t k = 0; k < spatial; ++k) {
        const Acc d = static_cast<Acc>(x[(b * C + c) * spatial + k]) - m;
        v += d * d;
      }
    mean[c] = m;
    var[c] = v / count;
  }
}

// y = (x - mean[c]) / sqrt(var[c] + eps) * scale[c] + bias[c] over X [batch, C, spatial].
template <typename T, typename Acc>
void batch_norm(const T* x, T* y, int64_t batch, int64_t C, int64_t spatial, Acc eps, const Acc* scale,
                const Acc* bias, const Acc* mean, const Acc* var) {
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t c = 0; c < C; ++c) {
      const Acc s = scale[c] / std::sqrt(var[c] + eps), m = mean[c], t = bias[c];
      const int64_t base = (b * C + c) * spatial;
      for (int64_t k = 0; k < spatial; ++k)
        y[base + k] = static_cast<T>((static_cast<Acc>(x[base + k]) - m) * s + t);
    }
  }
}

// X seen as [outer, n, inner]: y = x / (sum over the n axis of |x|^p)^(1/p), p 1 or 2.
template <typename T, typename Acc>
void lp_norm(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, int p) {
  std::vector<Acc> norm(static_cast<size_t>(inner));
  for (int64_t o = 0; o < outer; ++o) {
    const T* xo = x + o * n * inner;
    T* yo = y + o * n * inner;
    for (int64_t i = 0; i < inner; ++i) norm[i] = 0;
    for (int64_t k = 0; k < n; ++k)
      for (int64_t i = 0; i < inner; ++i) {
        const Acc v = static_cast<Acc>(xo[k * inner + i]);
        norm[i] += p == 1 ? std::abs(v) : v * v;
      }
    if (p == 2)
      for (int64_t i = 0; i < inner; ++i) norm[i] = std::sqrt(norm[i]);
    for (int64_t k = 0; k < n; ++k)
      for (int64_t i = 0; i < inner; ++i)
        yo[k * inner + i] = static_cast<T>(static_cast<Acc>(xo[k * inner + i]) / norm[i]);
  }
}

// LRN over X [batch, C, spatial]: y = x / (bias + alpha / size * sum of x^2 over the channel
// window [c - floor((size-1)/2), c + ceil((size-1)/2)])^beta.
template <typename T, typename Acc>
void lrn(const T* x, T* y, int64_t batch, int64_t C, int64_t spatial, int64_t size, Acc alpha, Acc beta,
         Acc bias) {
  const int64_t before = (size - 1) / 2, after = size - 1 - before;
  std::vector<Acc> sq(static_cast<size_t>(spatial));
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t c = 0; c < C; ++c) {
      for (int64_t k = 0; k < spatial; ++k) sq[k] = 0;
      const int64_t lo = c - before < 0 ? 0 : c - before, hi = c + after >= C ? C - 1 : c + after;
      for (int64_t cc = lo; cc <= hi; ++cc) {
        const T* xc = x + (b * C + cc) * spatial;
        for (int64_t k = 0; k < spatial; ++k) sq[k] += static_cast<Acc>(xc[k]) * static_cast<Acc>(xc[k]);
      }
      const int64_t base = (b * C + c) * spatial;
      for (int64_t k = 0; k < spatial; ++k) {
        y[base + k] =
            static_cast<T>(static_cast<Acc>(x[base + k]) / std::pow(bias + alpha / size * sq[k], beta));
      }
    }
  }
}

// Calls f(i, g) for every element index i of a row-major tensor of `dims`, with g the index of its
// group: the linear index over the dims where `reduced` is false.
template <typename F>
void for_each_grouped(const std::vector<int64_t>& dims, const std::vector<bool>& reduced, F&& f) {
  const size_t r = dims.size();
  std::vector<int64_t> gstride(r, 0);
  int64_t acc = 1, n = 1;
  for (size_t d = r; d-- > 0;) {
    if (!reduced[d]) {
      gstride[d] = acc;
      acc *= dims[d];
    }
    n *= dims[d];
  }
  if (n == 0) return;
  std::vector<int64_t> idx(r, 0);
  int64_t g = 0;
  for (int64_t i = 0; i < n; ++i) {
    f(i, g);
    for (size_t d = r; d-- > 0;) {
      ++idx[d];
      g += gstride[d];
      if (idx[d] < dims[d]) break;
      g -= gstride[d] * dims[d];
      idx[d] = 0;
    }
  }
}

// MeanVarianceNormalization: y = (x - mean) / (sqrt(var) + 1e-9), statistics over the dims marked
// `reduced`.
template <typename T, typename Acc>
void mean_variance_norm(const T* x, T* y, const std::vector<int64_t>& dims,
                        const std::vector<bool>& reduced) {
  int64_t groups = 1, count = 1;
  for (size_t d = 0; d < dims.size(); ++d) (reduced[d] ? count : groups) *= dims[d];
  std::vector<Acc> mean(static_cast<size_t>(groups), 0), var(static_cast<size_t>(groups), 0);
  for_each_grouped(dims, reduced, [&](int64_t i, int64_t g) { mean[g] += static_cast<Acc>(x[i]); });
  for (auto& m : mean) m /= static_cast<Acc>(count);
  for_each_grouped(dims, reduced, [&](int64_t i, int64_t g) {
    const Acc d = static_cast<Acc>(x[i]) - mean[g];
    var[g] += d * d;
  });
  for (auto& v : var) v = std::sqrt(v / static_cast<Acc>(count)) + static_cast<Acc>(1e-9);
  for_each_grouped(dims, reduced, [&](int64_t i, int64_t g) {
    y[i] = static_cast<T>((static_cast<Acc>(x[i]) - mean[g]) / var[g]);
  });
}

}  // namespace ingot::ref
