// What the oneDNN convolution tactics (fp32 in onednn_conv.cc, int8 in onednn_int8.cc) share.
#pragma once

#include "backends/cpu/onednn_common.h"

namespace ingot::backends::cpu {

bool is_conv(const engine::PlanLayer& l);  // Conv or ingot.FusedConv

// One convolution's shapes in oneDNN's terms (dilation d is oneDNN's d - 1).
struct ConvGeometry {
  Dims y;
  dnnl::memory::dims weights;  // [G, O/G, I/G, k...] when grouped, else W's dims
  dnnl::memory::dims strides, dilates, pad_l, pad_r;
};
// The int8 tactics' weight range [-q, q]: 127 with VNNI, else 63 (onednn_int8.cc says why).
int int8_weight_qmax();
// How an int8 activation kept between convolutions (plan.h) is stored, from its calibration: kU8 when
// unsigned or with a Q/DQ model's own zero point; a signed one kI8 (zero point 0) with VNNI, else kU8
// with zero point 128 (onednn_int8.cc says why).
DType int8_activation_dtype(bool is_unsigned, int64_t zero_point);

Expected<ConvGeometry> conv_geometry(const ir::Node& node, const Dims& x, const Dims& w);

// Whether a static-shape cpu.onednn.conv layer, with the layouts its attributes give it, gets oneDNN's
// reference implementation (what it falls back to where no optimized one takes those layouts).
bool conv_runs_reference_impl(const LayerDesc& d);

}  // namespace ingot::backends::cpu
