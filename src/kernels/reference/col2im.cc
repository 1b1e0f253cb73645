#include "kernels/reference/col2im.h"

#include <cstddef>

namespace ingot::ref {

template <typename T>
void col2im(const T* x, T* y, const Col2ImShape& s) {
  const size_t r = s.image.size();
  int64_t image_size = 1, kernel_size = 1, block_count = 1;
  for (size_t d = 0; d < r; ++d) {
    image_size *= s.image[d];
    kernel_size *= s.block[d];
    block_count *= s.blocks[d];
  }
  for (int64_t i = 0; i < s.batch * s.channels * image_size; ++i) y[i] = T(0);
  std::vector<int64_t> k(r), b(r);
  for (int64_t nc = 0; nc < s.batch * s.channels; ++nc) {
    T* img = y + nc * image_size;
    for (int64_t ki = 0; ki < kernel_size; ++ki) {
      // Row (nc's channel, ki) of x holds kernel tap ki of every window position.
      const T* col = x + (nc * kernel_size + ki) * block_count;
      for (int64_t rem = ki, d = static_cast<int64_t>(r) - 1; d >= 0; --d) {
        k[d] = rem % s.block[d];
        rem /= s.block[d];
      }
      for (int64_t bi = 0; bi < block_count; ++bi) {
        int64_t offset = 0;
        bool inside = true;
        for (int64_t rem = bi, d = static_cast<int64_t>(r) - 1; d >= 0; --d) {
          b[d] = rem % s.blocks[d];
          rem /= s.blocks[d];
        }
        for (size_t d = 0; d < r && inside; ++d) {
          const int64_t p = b[d] * s.strides[d] - s.pads_begin[d] + k[d] * s.dilations[d];
          inside = p >= 0 && p < s.image[d];
          offset = offset * s.image[d] + p;
        }
        if (inside) img[offset] += col[bi];
      }
    }
  }
}

template void col2im<float>(const float*, float*, const Col2ImShape&);
template void col2im<double>(const double*, double*, const Col2ImShape&);

}  // namespace ingot::ref
