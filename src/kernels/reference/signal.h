// Signal processing: discrete Fourier transform over one axis (complex numbers as a trailing pair of
// reals, as ONNX writes them), STFT framing, and the window / mel filter-bank generators.
#pragma once

#include <cstdint>
#include <vector>

namespace ingot::ref {

// x is [outer, len, inner, comps] with comps 1 (real) or 2 (complex); y is [outer, out_len, inner, 2].
// Bin k of y = sum over t < min(len, n) of x[t] * exp(-+2 pi i t k / n) for k < out_len (<= n):
// the input is zero-padded or truncated to n. `inverse` flips the sign and divides by n.
// Twiddles and sums are in double.
void dft(const double* x, int64_t outer, int64_t len, int64_t inner, int comps, int64_t n, int64_t out_len,
         bool inverse, double* y);

enum class WindowKind { kHann, kHamming, kBlackman };

// Window of `size` points; periodic windows use N = size, symmetric ones N = size - 1.
std::vector<double> window(WindowKind kind, int64_t size, bool periodic);

// MelWeightMatrix: [dft_length / 2 + 1, num_mel_bins] triangular filters between the two edges,
// with the integer bin placement of the ONNX reference.
std::vector<double> mel_weight_matrix(int64_t num_mel_bins, int64_t dft_length, int64_t sample_rate,
                                      double lower_edge_hertz, double upper_edge_hertz);

}  // namespace ingot::ref
