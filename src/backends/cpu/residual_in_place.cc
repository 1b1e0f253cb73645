// A CPU plan pass: a convolution that adds a residual Z (ingot.FusedConv's input 3) writes its output over Z
// where Z dies there, as ONNX Runtime's fused Conv+Add does. oneDNN's sum post-op accumulates into the
// destination, so without this the tactic first copies Z there (a full pass over the output: 0.1-0.2 ms
// for resnet50's 56x56x256 blocks at 2 threads); ingot's blocked convolutions read Z and write Y element by
// element and need no copy either way, but the arena is smaller.
//
// Only for the tactics below, whose kernels read every Z element before writing the Y element at its place
// (or copy Z elsewhere first), and only where Z and Y are in the same layout (an in-place reorder between
// plain and blocked would overwrite Z before it is read).

#include "backends/cpu/onednn_common.h"
#include "backends/cpu/onednn_conv.h"
#include "backends/tactic.h"

namespace ingot::backends::cpu {
namespace {

constexpr const char* kInPlaceTactics[] = {
    kConvTactic,
    kConvPlainTactic,
    "cpu.ingot.winograd.avx512",
    "cpu.ingot.winograd.avx2",
    "cpu.ingot.conv_gemm.avx512",
    "cpu.ingot.conv_gemm.avx2",
};

bool in_place_tactic(const std::string& id) {
  for (const char* t : kInPlaceTactics)
    if (id == t) return true;
  return false;
}

std::string layout_of(const engine::PlanLayer& l, const char* attr) {
  const auto it = l.attrs.find(attr);
  return it == l.attrs.end() ? std::string() : it->second.s;
}

Status residual_in_place(engine::Plan& plan) {
  const TensorUses uses = tensor_uses(plan);
  for (size_t i = 0; i < plan.layers.size(); ++i) {
    engine::PlanLayer& layer = plan.layers[i];
    if (!is_conv(layer) || layer.domain.empty() || layer.inputs.size() < 4 || layer.outputs.empty() ||
        layer.in_place_input >= 0 || !in_place_tactic(layer.tactic))
      continue;
    const int32_t z = layer.inputs[3], y = layer.outputs[0];
    if (z < 0 || y < 0 || layer.inputs[0] == z) continue;
    const engine::PlanTensor &tz = plan.tensors[z], &ty = plan.tensors[y];
    if (tz.kind != engine::TensorKind::kActivation || ty.kind != engine::TensorKind::kActivation ||
        uses.fixed[z] || uses.fixed[y] || tz.dtype != ty.dtype || tz.dims != ty.dims || tz.max_bytes < 0 ||
        tz.max_bytes != ty.max_bytes)
      continue;
    if (layout_of(layer, kZLayout) != layout_of(layer, kDstLayout)) continue;
    // This layer is Z's last reader (layers are in execution order).
    bool last = true;
    for (const auto& [l, _] : uses.readers[z]) last = last && l <= static_cast<int>(i);
    if (!last) continue;
    plan.tensors[y].alias_of = z;
    layer.in_place_input = 3;
  }
  return Status::Ok();
}

}  // namespace

// After the layouts, the int8 regions and the weight packing have settled tactics and layouts.
INGOT_REGISTER_PLAN_PASS(cpu_residual_in_place, residual_in_place, 200);

}  // namespace ingot::backends::cpu
