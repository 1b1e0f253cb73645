// TensorScatter: writes an update of `seq` steps into a cache of `max_seq` steps along one axis (KV-cache
// append). The cache is seen as [outer, max_seq, inner], the update as [outer, seq, inner]; each of the
// `batch` batch entries owns outer / batch consecutive rows and its own write index.
#pragma once

#include <cstdint>

namespace ingot::ref {

// cache already holds the past values. write_index may be nullptr (all zeros). Indices must have been
// validated (linear: 0 <= w and w + seq <= max_seq); circular wraps them modulo max_seq.
template <typename T>
void tensor_scatter(T* cache, const T* update, const int64_t* write_index, int64_t batch, int64_t outer,
                    int64_t max_seq, int64_t seq, int64_t inner, bool circular) {
  if (batch == 0 || max_seq == 0) return;
  const int64_t rows_per_batch = outer / batch;
  for (int64_t o = 0; o < outer; ++o) {
    const int64_t w = write_index ? write_index[o / rows_per_batch] : 0;
    for (int64_t s = 0; s < seq; ++s) {
      int64_t pos = w + s;
      if (circular) pos = ((pos % max_seq) + max_seq) % max_seq;
      T* dst = cache + (o * max_seq + pos) * inner;
      const T* src = update + (o * seq + s) * inner;
      for (int64_t i = 0; i < inner; ++i) dst[i] = src[i];
    }
  }
}

}  // namespace ingot::ref
