// Random generators behind RandomNormal/Uniform(+Like), Bernoulli and Multinomial. One engine per
// node execution, seeded from the node's `seed` when given, so a seeded model repeats its outputs.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace ingot::ref {

using RandomEngine = std::mt19937_64;

template <typename T>
void random_uniform(RandomEngine& rng, double low, double high, T* out, int64_t n) {
  std::uniform_real_distribution<double> dist(low, high);
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(dist(rng));
}

template <typename T>
void random_normal(RandomEngine& rng, double mean, double scale, T* out, int64_t n) {
  std::normal_distribution<double> dist(mean, scale);
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(dist(rng));
}

// out[i] = 1 with probability p[i] (clamped to [0, 1]), else 0.
template <typename P, typename T>
void bernoulli(RandomEngine& rng, const P* p, T* out, int64_t n) {
  std::uniform_real_distribution<double> dist(0.0, 1.0);
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(dist(rng) < static_cast<double>(p[i]) ? 1 : 0);
}

// For each of `batch` rows of `classes` unnormalized log-probabilities, `samples` class indices drawn
// from softmax(row).
template <typename L, typename T>
void multinomial(RandomEngine& rng, const L* logits, int64_t batch, int64_t classes, int64_t samples,
                 T* out) {
  std::vector<double> cdf(static_cast<size_t>(classes));
  std::uniform_real_distribution<double> dist(0.0, 1.0);
  for (int64_t b = 0; b < batch; ++b) {
    const L* row = logits + b * classes;
    double mx = -INFINITY;
    for (int64_t c = 0; c < classes; ++c) mx = std::max(mx, static_cast<double>(row[c]));
    double total = 0;
    for (int64_t c = 0; c < classes; ++c) {
      total += std::exp(static_cast<double>(row[c]) - mx);
      cdf[c] = total;
    }
    for (int64_t s = 0; s < samples; ++s) {
      const double u = dist(rng) * total;
      int64_t c = 0;
      while (c < classes - 1 && cdf[c] <= u) ++c;
      out[b * samples + s] = static_cast<T>(c);
    }
  }
}

}  // namespace ingot::ref
