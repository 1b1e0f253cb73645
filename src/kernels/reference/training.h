// Optimizer steps of the ai.onnx.preview.training domain, one tensor at a time over n elements. Math in
// double; the learning-rate schedule (which depends on the step count) is folded in by the caller.
#pragma once

#include <cmath>
#include <cstdint>

namespace ingot::ref {

// g' = norm * x + g; h' = h + g'^2; x' = x - rate * g' / (sqrt(h') + eps).
template <typename T>
void adagrad(const T* x, const T* g, const T* h, T* x_out, T* h_out, int64_t n, double rate, double norm,
             double eps) {
  for (int64_t i = 0; i < n; ++i) {
    const double gr = norm * static_cast<double>(x[i]) + static_cast<double>(g[i]);
    const double hn = static_cast<double>(h[i]) + gr * gr;
    h_out[i] = static_cast<T>(hn);
    x_out[i] = static_cast<T>(static_cast<double>(x[i]) - rate * gr / (std::sqrt(hn) + eps));
  }
}

struct AdamParams {
  double rate = 0;  // learning rate with the bias correction sqrt(1 - beta^t) / (1 - alpha^t) applied
  double alpha = 0.9, beta = 0.999, eps = 1e-6, norm = 0, norm_post = 0;
};

// g' = norm * x + g; v' = alpha v + (1 - alpha) g'; h' = beta h + (1 - beta) g'^2;
// x' = (1 - norm_post) * (x - rate * v' / (sqrt(h') + eps)).
template <typename T>
void adam(const T* x, const T* g, const T* v, const T* h, T* x_out, T* v_out, T* h_out, int64_t n,
          const AdamParams& p) {
  for (int64_t i = 0; i < n; ++i) {
    const double gr = p.norm * static_cast<double>(x[i]) + static_cast<double>(g[i]);
    const double vn = p.alpha * static_cast<double>(v[i]) + (1 - p.alpha) * gr;
    const double hn = p.beta * static_cast<double>(h[i]) + (1 - p.beta) * gr * gr;
    v_out[i] = static_cast<T>(vn);
    h_out[i] = static_cast<T>(hn);
    x_out[i] = static_cast<T>((1 - p.norm_post) *
                              (static_cast<double>(x[i]) - p.rate * vn / (std::sqrt(hn) + p.eps)));
  }
}

// g' = norm * x + g; v' = alpha v + beta g' (beta is 1 on the first step, folded in by the caller);
// standard: x' = x - rate v'; nesterov: x' = x - rate (g' + alpha v').
template <typename T>
void momentum(const T* x, const T* g, const T* v, T* x_out, T* v_out, int64_t n, double rate, double alpha,
              double beta, double norm, bool nesterov) {
  for (int64_t i = 0; i < n; ++i) {
    const double gr = norm * static_cast<double>(x[i]) + static_cast<double>(g[i]);
    const double vn = alpha * static_cast<double>(v[i]) + beta * gr;
    v_out[i] = static_cast<T>(vn);
    x_out[i] = static_cast<T>(static_cast<double>(x[i]) - rate * (nesterov ? gr + alpha * vn : vn));
  }
}

}  // namespace ingot::ref
