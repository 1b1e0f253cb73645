// Channels-last (NHWC) for the convolutional parts of a plan: cuDNN's tensor-core convolutions read and
// write NHWC natively, and NCHW makes them transpose around every layer. A 4-D float activation is kept
// NHWC when every layer that touches it can work in NHWC (convolutions, pooling, element-wise layers of
// one shape) and its group of connected tensors holds a convolution; global pooling reads NHWC and
// writes [N, C, 1, 1], the same in both layouts. Graph inputs are transposed when staged; graph outputs
// and tensors that reach any other layer stay NCHW. The result goes into the layers' attribute
// "cuda_nhwc": per input, then per output, 1 where the tensor is NHWC.
#include <numeric>
#include <set>

#include "backends/cuda/cuda_common.h"

namespace ingot::backends::cuda {
namespace {

using engine::Plan;
using engine::PlanLayer;
using engine::PlanTensor;
using engine::TensorKind;

const std::set<std::string> kElementwise = {
    "Relu", "LeakyRelu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Gelu",       "Tanh",
    "Exp",  "Log",       "Sqrt", "Neg",     "Abs",         "Erf",       "Reciprocal", "Add",
    "Sub",  "Mul",       "Div",  "Pow",     "Max",         "Min"};

struct Groups {
  std::vector<int32_t> parent;
  explicit Groups(size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  int32_t find(int32_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  }
  void join(int32_t a, int32_t b) { parent[find(a)] = find(b); }
};

}  // namespace

void assign_layouts(Plan& plan) {
  const size_t n = plan.tensors.size();
  Groups g(n);
  std::vector<bool> blocked(n, false), has_conv(n, false);
  auto activation = [&](int32_t id) { return id >= 0 && plan.tensors[id].kind != TensorKind::kWeight; };
  for (size_t i = 0; i < n; ++i) {
    const PlanTensor& t = plan.tensors[i];
    if (t.kind == TensorKind::kWeight) continue;
    if (t.kind == TensorKind::kOutput || t.dtype != DType::kF32 || t.dims.size() != 4) blocked[i] = true;
  }
  for (const PlanLayer& l : plan.layers) {
    const std::string& op = l.op_type;
    const bool conv = (l.domain.empty() && op == "Conv") || (l.domain == "ingot" && op == "FusedConv");
    const bool pool = l.domain.empty() && (op == "MaxPool" || op == "AveragePool");
    const bool global = l.domain.empty() && (op == "GlobalAveragePool" || op == "GlobalMaxPool");
    bool same_shape = l.domain.empty() && kElementwise.count(op) && !l.outputs.empty() && l.outputs[0] >= 0;
    for (int32_t id : l.inputs)
      if (same_shape && activation(id) && plan.tensors[id].dims != plan.tensors[l.outputs[0]].dims)
        same_shape = false;
    std::vector<int32_t> linked;
    if (conv || pool || same_shape) {
      for (size_t i = 0; i < l.inputs.size(); ++i)
        if (activation(l.inputs[i])) linked.push_back(l.inputs[i]);
      if (l.outputs.size() > 1)  // MaxPool's Indices
        for (int32_t id : l.inputs)
          if (activation(id)) blocked[id] = true;
      linked.push_back(l.outputs[0]);
    } else if (global && activation(l.inputs[0])) {
      linked.push_back(l.inputs[0]);  // its output is [N, C, 1, 1] in either layout
    } else {
      for (int32_t id : l.inputs)
        if (activation(id)) blocked[id] = true;
      for (int32_t id : l.outputs)
        if (id >= 0) blocked[id] = true;
      continue;
    }
    for (size_t k = 1; k < linked.size(); ++k) g.join(linked[k], linked[0]);
    if (conv) has_conv[linked[0]] = true;
  }
  std::vector<bool> group_blocked(n, false), group_conv(n, false);
  for (size_t i = 0; i < n; ++i) {
    if (plan.tensors[i].kind == TensorKind::kWeight) continue;
    const int32_t r = g.find(static_cast<int32_t>(i));
    if (blocked[i]) group_blocked[r] = true;
    if (has_conv[i]) group_conv[r] = true;
  }
  auto nhwc = [&](int32_t id) {
    if (!activation(id)) return false;
    const int32_t r = g.find(id);
    return group_conv[r] && !group_blocked[r];
  };
  for (PlanLayer& l : plan.layers) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kInts;
    bool any = false;
    for (int32_t id : l.inputs) any |= (a.ints.emplace_back(nhwc(id) ? 1 : 0) != 0);
    for (int32_t id : l.outputs) any |= (a.ints.emplace_back(nhwc(id) ? 1 : 0) != 0);
    if (any) l.attrs["cuda_nhwc"] = std::move(a);
  }
}

bool LayerBuild::nhwc_in(size_t i) const {
  const std::vector<int64_t> v = attr_ints("cuda_nhwc");
  return i < v.size() && v[i] != 0;
}
bool LayerBuild::nhwc_out(size_t o) const {
  const std::vector<int64_t> v = attr_ints("cuda_nhwc");
  const size_t k = layer.inputs.size() + o;
  return k < v.size() && v[k] != 0;
}

}  // namespace ingot::backends::cuda
