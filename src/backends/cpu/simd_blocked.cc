// What ingot's SIMD convolution tactics (simd_winograd.cc, simd_depthwise.cc) share: the blocked layouts
// the layout pass agrees on, the transposes at a layer's boundary where a neighbour keeps a tensor plain,
// and the fused activation.
#include "backends/cpu/onednn_common.h"
#include "backends/cpu/simd_tactic.h"

namespace ingot::backends::cpu {

Expected<BlockedLayouts> blocked_layouts(const ir::Node& node, int64_t width) {
  const std::string want = "nChw" + std::to_string(width) + "c";
  BlockedLayouts b;
  for (auto [attr, flag] : {std::pair{kSrcLayout, &b.src}, {kDstLayout, &b.dst}, {kZLayout, &b.z}}) {
    if (!node.has_attr(attr)) continue;
    const std::string got = node.attr_string(attr, "");
    if (got != want) return unsupported(std::string(attr) + " '" + got + "' is not " + want);
    *flag = true;
  }
  return b;
}

namespace {

// oneDNN's reorder between plain NCHW and nChw<width>c (its JIT kernels; the primitive cache keeps the
// primitive from one run to the next).
Status reorder_blocked(int64_t width, const float* from, float* to, const Dims& nchw, bool to_blocked) {
  using dnnl::memory;
  try {
    const dnnl::engine& eng = onednn_engine();
    const memory::desc plain(to_dnnl_dims(nchw), memory::data_type::f32, memory::format_tag::nchw);
    const memory::desc blocked(to_dnnl_dims(nchw), memory::data_type::f32,
                               width == 16 ? memory::format_tag::nChw16c : memory::format_tag::nChw8c);
    memory src(to_blocked ? plain : blocked, eng, const_cast<float*>(from)),
        dst(to_blocked ? blocked : plain, eng, to);
    dnnl::stream s(eng);
    dnnl::reorder(src, dst).execute(s, src, dst);
    s.wait();
  } catch (const dnnl::error& e) {
    return internal_error(std::string("oneDNN reorder of ") + dims_to_string(nchw) + ": " + e.what());
  }
  return Status::Ok();
}

}  // namespace

Status block_planes(int64_t width, const float* plain, float* blocked, const Dims& nchw) {
  return reorder_blocked(width, plain, blocked, nchw, true);
}

Status unblock_planes(int64_t width, const float* blocked, float* plain, const Dims& nchw) {
  return reorder_blocked(width, blocked, plain, nchw, false);
}

Expected<SimdActivation> simd_activation(const ir::Node& node) {
  SimdActivation a;
  const std::string name = node.attr_string("activation", "");
  a.alpha = node.attr_float("activation_alpha", 0);
  a.beta = node.attr_float("activation_beta", 0);
  if (name.empty())
    a.act = kActNone;
  else if (name == "Relu")
    a.act = kActRelu;
  else if (name == "Clip")
    a.act = kActClip;
  else if (name == "Silu")
    a.act = kActSilu;
  else if (name == "Sigmoid")
    a.act = kActSigmoid;
  else
    return unsupported("activation '" + name + "' is not ReLU, Clip, SiLU or Sigmoid");
  return a;
}

}  // namespace ingot::backends::cpu
