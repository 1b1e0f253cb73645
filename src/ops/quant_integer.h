// Integer convolution for QLinearConv: geometry checks and the int32 accumulation of
// (x - x_zero) * (w - w_zero).
#pragma once

#include <vector>

#include "ingot/status.h"
#include "ingot/tensor.h"
#include "ir/graph.h"

namespace ingot::ops {

// Output shape of an integer conv from X [N, C, spatial...] and W [M, C / group, kernel...] (symbolic;
// unknown dims propagate). Checks channels, group and the window attributes.
Expected<ir::SymShape> integer_conv_shape(const ir::Node& node, const ir::SymShape& x, const ir::SymShape& w);

// acc = conv(x - x_zero, w - w_zero[m]) in int32, x and w 8-bit; w_zero has one entry per output channel.
// Returns the output dims.
Expected<Dims> integer_conv(const ir::Node& node, const Tensor& x, int32_t x_zero, const Tensor& w,
                            const std::vector<int32_t>& w_zero, std::vector<int32_t>* acc);

}  // namespace ingot::ops
