#include "backends/cpu/onednn_common.h"

#include <array>
#include <cmath>
#include <cstdlib>

namespace ingot::backends::cpu {

const dnnl::engine& onednn_engine() {
  static const dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

void* thread_scratch(int slot, size_t bytes) {
  struct Buffer {
    void* p = nullptr;
    size_t size = 0;
    Buffer() = default;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    ~Buffer() { std::free(p); }
  };
  thread_local std::array<Buffer, kScratchSlots> buffers;
  Buffer& b = buffers.at(static_cast<size_t>(slot));
  if (b.size < bytes) {
    std::free(b.p);
    b.size = (bytes + 63) / 64 * 64;
    b.p = std::aligned_alloc(64, b.size);
    if (!b.p) b.size = 0;
  }
  return b.p;
}

void add_scratchpad(std::unordered_map<int, dnnl::memory>& args, const dnnl::memory::desc& md) {
  const size_t bytes = md.get_size();
  if (bytes > 0)
    args.emplace(DNNL_ARG_SCRATCHPAD,
                 dnnl::memory(md, onednn_engine(), thread_scratch(kScratchSlots - 1, bytes)));
}

dnnl::memory::dims to_dnnl_dims(const Dims& d) { return dnnl::memory::dims(d.begin(), d.end()); }

dnnl::memory::format_tag plain_tag(size_t rank) {
  using tag = dnnl::memory::format_tag;
  static const tag kTags[] = {tag::undef, tag::a, tag::ab, tag::abc, tag::abcd, tag::abcde, tag::abcdef};
  return rank < std::size(kTags) ? kTags[rank] : tag::undef;
}

dnnl::memory::desc plain_f32_desc(const Dims& d) {
  return dnnl::memory::desc(to_dnnl_dims(d), dnnl::memory::data_type::f32, plain_tag(d.size()));
}

dnnl::memory::format_tag layout_tag(const ir::Node& node, const char* attr) {
  const std::string v = node.attr_string(attr, "");
  if (v.empty()) return dnnl::memory::format_tag::undef;
  if (v == "nChw8c") return dnnl::memory::format_tag::nChw8c;
  if (v == "nChw16c") return dnnl::memory::format_tag::nChw16c;
  return dnnl::memory::format_tag::any;
}

std::string check_layouts(const ir::Node& node, const engine::PlanTensor& x) {
  for (const char* attr : {kSrcLayout, kDstLayout, kZLayout}) {
    const dnnl::memory::format_tag tag = layout_tag(node, attr);
    if (tag == dnnl::memory::format_tag::any)
      return std::string("unknown ") + attr + " '" + node.attr_string(attr, "") + "'";
    if (tag != dnnl::memory::format_tag::undef && (x.dims.size() != 4 || !dims_static(x.dims)))
      return std::string(attr) + " needs a static 4-D X";
  }
  return "";
}

dnnl::memory::desc f32_desc_in(const Dims& d, dnnl::memory::format_tag tag) {
  if (tag == dnnl::memory::format_tag::undef) return plain_f32_desc(d);
  return dnnl::memory::desc(to_dnnl_dims(d), dnnl::memory::data_type::f32, tag);
}

std::string append_activation(const ir::Node& node, dnnl::post_ops& ops) {
  using alg = dnnl::algorithm;
  const std::string act = node.attr_string("activation", "");
  const float a = node.attr_float("activation_alpha", 0), b = node.attr_float("activation_beta", 0);
  if (act.empty()) return "";
  if (act == "Relu") {
    ops.append_eltwise(1.f, alg::eltwise_relu, 0.f, 0.f);
  } else if (act == "LeakyRelu") {
    ops.append_eltwise(1.f, alg::eltwise_relu, a, 0.f);
  } else if (act == "Clip") {
    // oneDNN's clip returns alpha for x <= alpha, min(max(x, lo), hi) returns hi when lo > hi.
    if (!(a <= b)) return "Clip with min > max";
    ops.append_eltwise(1.f, alg::eltwise_clip, a, b);
  } else if (act == "Sigmoid") {
    ops.append_eltwise(1.f, alg::eltwise_logistic, 0.f, 0.f);
  } else if (act == "HardSigmoid") {
    ops.append_eltwise(1.f, alg::eltwise_linear, a, b);
    ops.append_eltwise(1.f, alg::eltwise_clip, 0.f, 1.f);
  } else if (act == "HardSwish") {
    ops.append_eltwise(1.f, alg::eltwise_hardswish, 0.f, 0.f);
  } else if (act == "Silu") {
    ops.append_eltwise(1.f, alg::eltwise_swish, 1.f, 0.f);
  } else if (act == "Gelu") {
    ops.append_eltwise(1.f, alg::eltwise_gelu_erf, 0.f, 0.f);
  } else if (act == "GeluTanh") {
    ops.append_eltwise(1.f, alg::eltwise_gelu_tanh, 0.f, 0.f);
  } else if (act == "Tanh") {
    ops.append_eltwise(1.f, alg::eltwise_tanh, 0.f, 0.f);
  } else {
    return "activation '" + act + "' has no oneDNN post-op";
  }
  return "";
}

TensorUses tensor_uses(const engine::Plan& plan) {
  const size_t n = plan.tensors.size();
  TensorUses u{std::vector<int>(n, -1), std::vector<std::vector<std::pair<int, size_t>>>(n),
               std::vector<bool>(n, false)};
  for (int32_t t : plan.outputs) u.fixed[t] = true;
  for (size_t t = 0; t < n; ++t)
    if (plan.tensors[t].alias_of >= 0) u.fixed[t] = u.fixed[plan.tensors[t].alias_of] = true;
  for (size_t l = 0; l < plan.layers.size(); ++l) {
    const engine::PlanLayer& layer = plan.layers[l];
    for (size_t i = 0; i < layer.outputs.size(); ++i)
      if (layer.outputs[i] >= 0) u.producer[layer.outputs[i]] = i == 0 ? static_cast<int>(l) : -2;
    for (size_t i = 0; i < layer.inputs.size(); ++i)
      if (layer.inputs[i] >= 0) u.readers[layer.inputs[i]].push_back({static_cast<int>(l), i});
    for (const auto& [_, t] : layer.outer_reads) u.fixed[t] = true;
  }
  return u;
}

std::string check_f32(const engine::PlanTensor* t, const char* what) {
  if (!t) return std::string(what) + " is missing";
  if (t->dtype != DType::kF32) return std::string(what) + " is " + dtype_name(t->dtype) + ", not float32";
  if (!t->rank_known) return std::string(what) + " has an unknown rank";
  return "";
}

bool dims_static(const Dims& d) {
  for (int64_t v : d)
    if (v < 0) return false;
  return true;
}

Status onednn_failure(const std::string& layer, const std::string& what) {
  return unsupported("layer '" + layer + "': oneDNN: " + what);
}

}  // namespace ingot::backends::cpu
