// Reference N-D pooling (MaxPool, AveragePool, LpPool, their Global forms, MaxUnpool) over
// NC[spatial...] tensors: pure functions over pointers and sizes.
#pragma once

#include <cstdint>
#include <vector>

namespace ingot::ref {

struct PoolShape {
  int64_t batch = 0;
  int64_t channels = 0;
  std::vector<int64_t> in_spatial;
  std::vector<int64_t> out_spatial;
  std::vector<int64_t> kernel;
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<int64_t> pads_begin;
  std::vector<int64_t> pads_end;
};

// Max over the window's taps inside the input. `indices` (nullable) receives the flat input index
// of the maximum (the first one on ties), spatial part in column-major order when
// `column_major_indices` (ONNX storage_order = 1). A window with no tap in the input gives 0 / -1.
// T is float, double, int8_t or uint8_t.
template <typename T>
void max_pool(const T* x, T* y, int64_t* indices, const PoolShape& s, bool column_major_indices);

// Mean over the window's taps inside the input; with `count_include_pad` the divisor also counts
// taps in the explicit padding (never those beyond it that ceil_mode adds). T is float or double.
template <typename T>
void avg_pool(const T* x, T* y, const PoolShape& s, bool count_include_pad);

// (sum |x|^p) ^ (1/p) over the window's taps inside the input. T is float or double.
template <typename T>
void lp_pool(const T* x, T* y, const PoolShape& s, double p);

// Reductions over each whole [spatial...] plane of `planes` planes of `plane_size` elements.
template <typename T>
void global_avg_pool(const T* x, T* y, int64_t planes, int64_t plane_size);
template <typename T>
void global_max_pool(const T* x, T* y, int64_t planes, int64_t plane_size);
template <typename T>
void global_lp_pool(const T* x, T* y, int64_t planes, int64_t plane_size, double p);

// y[indices[i]] = x[i] for i < n over a zeroed y of y_numel elements (MaxUnpool). Returns false,
// leaving y partly written, when an index is outside [0, y_numel).
template <typename T>
bool max_unpool(const T* x, const int64_t* indices, int64_t n, T* y, int64_t y_numel) {
  for (int64_t i = 0; i < y_numel; ++i) y[i] = T(0);
  for (int64_t i = 0; i < n; ++i) {
    if (indices[i] < 0 || indices[i] >= y_numel) return false;
    y[indices[i]] = x[i];
  }
  return true;
}

}  // namespace ingot::ref
