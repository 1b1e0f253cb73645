// Col2Im: scatters sliding-window columns back into an image, summing where windows overlap.
#pragma once

#include <cstdint>
#include <vector>

namespace ingot::ref {

struct Col2ImShape {
  int64_t batch = 0, channels = 0;
  std::vector<int64_t> image;   // spatial dims of the output
  std::vector<int64_t> block;   // kernel dims
  std::vector<int64_t> blocks;  // number of window positions per spatial dim
  std::vector<int64_t> strides, dilations, pads_begin;
};

// x is [N, C * prod(block), prod(blocks)], y [N, C, image...] (y is overwritten). T is float or double.
template <typename T>
void col2im(const T* x, T* y, const Col2ImShape& s);

}  // namespace ingot::ref
