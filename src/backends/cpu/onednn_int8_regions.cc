// The int8 plan pass: an activation that one int8 convolution writes and only int8 convolutions read
// (as X, or as the residual Z) stays quantized: u8 or s8 (int8_activation_dtype) in NHWC at the scale its
// readers were calibrated with (plan.h). The producer requantizes into it (post-ops), the readers take it as
// it is, so the f32 NCHW <-> u8 NHWC reorders happen only where an int8 region starts or ends. Each agreement
// is kept only if every layer it touches still prepares; the tensor's dtype and size change with it (the
// builder plans memory again afterwards).
#include "backends/cpu/onednn_conv.h"

namespace ingot::backends::cpu {
namespace {

using engine::PlanLayer;

constexpr const char* kConvInt8Tactic = "cpu.onednn.conv.int8";

ir::Attribute int_attr(int64_t v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kInt;
  a.i = v;
  return a;
}

Status keep_int8_activations(engine::Plan& plan) {
  const size_t n = plan.tensors.size();
  const TensorUses uses = tensor_uses(plan);
  const std::vector<int>& producer = uses.producer;
  const auto& readers = uses.readers;
  const std::vector<bool>& fixed = uses.fixed;
  auto int8_conv = [&](int l) { return plan.layers[l].tactic == kConvInt8Tactic; };
  for (size_t t = 0; t < n; ++t) {
    engine::PlanTensor& tensor = plan.tensors[t];
    if (tensor.kind != engine::TensorKind::kActivation || fixed[t] || producer[t] < 0) continue;
    if (tensor.dtype != DType::kF32 || tensor.dims.size() != 4 || !dims_static(tensor.dims)) continue;
    if (!int8_conv(producer[t]) || readers[t].empty()) continue;
    // Its scale: the one its readers were calibrated with (one tensor, one calibration).
    const ir::Attribute* scale = nullptr;
    const ir::Attribute* is_unsigned = nullptr;
    const ir::Attribute* zero = nullptr;
    bool ok = true;
    for (const auto& [l, slot] : readers[t]) {
      ok &= int8_conv(l) && (slot == 0 || slot == 3);
      if (!ok) break;
      const PlanLayer& r = plan.layers[l];
      const char* scale_attr = slot == 0 ? engine::kQuantScaleAttr : engine::kQuantZCalibScaleAttr;
      const char* unsigned_attr = slot == 0 ? engine::kQuantUnsignedAttr : engine::kQuantZCalibUnsignedAttr;
      if (r.attrs.count(scale_attr) && (!scale || slot == 0)) {
        scale = &r.attrs.at(scale_attr);
        auto u = r.attrs.find(unsigned_attr);
        is_unsigned = u == r.attrs.end() ? nullptr : &u->second;
        auto z = r.attrs.find(engine::zero_point_attr(scale_attr));
        zero = z == r.attrs.end() ? nullptr : &z->second;
      }
    }
    if (!ok || !scale) continue;
    const ir::Attribute s = *scale, u = int_attr(is_unsigned ? is_unsigned->i : 0);
    // Agree, then check that every layer involved still prepares; undo otherwise.
    std::vector<std::pair<int, std::vector<std::pair<std::string, ir::Attribute>>>> set;
    using Attrs = std::vector<std::pair<std::string, ir::Attribute>>;
    auto scale_attrs = [&](const char* scale_attr, const char* unsigned_attr) {
      Attrs a = {{scale_attr, s}, {unsigned_attr, u}};
      if (zero) a.push_back({engine::zero_point_attr(scale_attr), *zero});
      return a;
    };
    set.push_back({producer[t], scale_attrs(engine::kQuantYScaleAttr, engine::kQuantYUnsignedAttr)});
    for (const auto& [l, slot] : readers[t]) {
      if (slot == 0)
        set.push_back({l, {{engine::kQuantXInt8Attr, int_attr(1)}}});
      else
        set.push_back({l, scale_attrs(engine::kQuantZScaleAttr, engine::kQuantZUnsignedAttr)});
    }
    const engine::PlanTensor before = tensor;
    tensor.dtype = int8_activation_dtype(u.i != 0, zero ? zero->i : (u.i ? 0 : 128));
    tensor.max_bytes = tensor.dims[0] * tensor.dims[1] * tensor.dims[2] * tensor.dims[3];
    for (const auto& [l, attrs] : set)
      for (const auto& [name, value] : attrs) plan.layers[l].attrs[name] = value;
    for (const auto& [l, _] : set) {
      const Tactic* tactic = find_tactic(plan.layers[l].tactic);
      const LayerDesc desc{plan.layers[l], plan.tensors};
      ok &= tactic && tactic->supports(desc).empty() && tactic->prepare(desc).ok();
    }
    if (ok) continue;
    tensor = before;
    for (const auto& [l, attrs] : set)
      for (const auto& [name, _] : attrs) plan.layers[l].attrs.erase(name);
  }
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_PLAN_PASS(cpu_onednn_int8_regions, keep_int8_activations);

}  // namespace ingot::backends::cpu
