#include "kernels/reference/signal.h"

#include <cmath>

namespace ingot::ref {

void dft(const double* x, int64_t outer, int64_t len, int64_t inner, int comps, int64_t n, int64_t out_len,
         bool inverse, double* y) {
  // Twiddle j is exp(-+2 pi i j / n); bin k at time t uses j = t k mod n, which keeps the angle exact.
  std::vector<double> wr(static_cast<size_t>(n)), wi(static_cast<size_t>(n));
  const double sign = inverse ? 1.0 : -1.0;
  for (int64_t j = 0; j < n; ++j) {
    const double a = 2.0 * M_PI * static_cast<double>(j) / static_cast<double>(n);
    wr[j] = std::cos(a);
    wi[j] = sign * std::sin(a);
  }
  const int64_t used = len < n ? len : n;
  const double norm = inverse ? 1.0 / static_cast<double>(n) : 1.0;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t in = 0; in < inner; ++in) {
      const double* xs = x + (o * len * inner + in) * comps;
      for (int64_t k = 0; k < out_len; ++k) {
        double re = 0, im = 0;
        int64_t j = 0;  // t * k mod n, advanced by k each step
        for (int64_t t = 0; t < used; ++t) {
          const double* v = xs + t * inner * comps;
          const double xr = v[0], xi = comps == 2 ? v[1] : 0.0;
          re += xr * wr[j] - xi * wi[j];
          im += xr * wi[j] + xi * wr[j];
          j += k;
          if (j >= n) j %= n;
        }
        double* out = y + ((o * out_len + k) * inner + in) * 2;
        out[0] = re * norm;
        out[1] = im * norm;
      }
    }
  }
}

std::vector<double> window(WindowKind kind, int64_t size, bool periodic) {
  std::vector<double> w(static_cast<size_t>(size < 0 ? 0 : size));
  const double N = static_cast<double>(periodic ? size : size - 1);
  for (int64_t i = 0; i < size; ++i) {
    const double a = 2.0 * M_PI * static_cast<double>(i) / N;
    switch (kind) {
      case WindowKind::kHann:
        w[i] = 0.5 - 0.5 * std::cos(a);
        break;
      case WindowKind::kHamming:
        w[i] = 25.0 / 46.0 - (1.0 - 25.0 / 46.0) * std::cos(a);
        break;
      case WindowKind::kBlackman:
        w[i] = 0.42 - 0.5 * std::cos(a) + 0.08 * std::cos(2.0 * a);
        break;
    }
  }
  return w;
}

std::vector<double> mel_weight_matrix(int64_t num_mel_bins, int64_t dft_length, int64_t sample_rate,
                                      double lower_edge_hertz, double upper_edge_hertz) {
  const int64_t spectrogram_bins = dft_length / 2 + 1;
  std::vector<double> out(static_cast<size_t>(spectrogram_bins * num_mel_bins), 0.0);
  // The reference computes the mel edges in float32 (its inputs' type), the rest in double.
  const float low_mel = 2595.0f * std::log10(1.0f + static_cast<float>(lower_edge_hertz) / 700.0f);
  const float high_mel = 2595.0f * std::log10(1.0f + static_cast<float>(upper_edge_hertz) / 700.0f);
  const float mel_step = (high_mel - low_mel) / static_cast<float>(num_mel_bins + 2);
  std::vector<int64_t> bins(static_cast<size_t>(num_mel_bins + 2));
  for (int64_t i = 0; i < num_mel_bins + 2; ++i) {
    const double mel = static_cast<double>(i) * static_cast<double>(mel_step) + static_cast<double>(low_mel);
    const double hz = 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0);
    bins[i] = static_cast<int64_t>(
        std::floor(static_cast<double>(dft_length + 1) * hz / static_cast<double>(sample_rate)));
  }
  auto at = [&](int64_t j, int64_t i) -> double* {
    return j >= 0 && j < spectrogram_bins ? &out[j * num_mel_bins + i] : nullptr;
  };
  for (int64_t i = 0; i < num_mel_bins; ++i) {
    const int64_t lo = bins[i], center = bins[i + 1], hi = bins[i + 2];
    const int64_t low_to_center = center - lo;
    if (low_to_center == 0) {
      if (double* p = at(center, i)) *p = 1;
    } else {
      for (int64_t j = lo; j <= center; ++j)
        if (double* p = at(j, i)) *p = static_cast<double>(j - lo) / static_cast<double>(low_to_center);
    }
    const int64_t center_to_high = hi - center;
    if (center_to_high > 0) {
      for (int64_t j = center; j < hi; ++j)
        if (double* p = at(j, i)) *p = static_cast<double>(hi - j) / static_cast<double>(center_to_high);
    }
  }
  return out;
}

}  // namespace ingot::ref
