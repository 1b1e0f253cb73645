// Folds an inference BatchNormalization into the layer before it:
//   Conv(X, W, B) -> BatchNormalization           => ingot.FusedConv(X, W * s, (B - mean) * s + bias)
//   ConvTranspose(X, W, B) -> BatchNormalization  => ConvTranspose with the same folding
//   MatMul / Gemm (2-D output) -> BatchNormalization => ingot.FusedMatMul(X, W * s, (b - mean) * s + bias)
// with s = scale / sqrt(var + epsilon) per output channel.
#include <cmath>

#include "passes/fusion.h"
#include "passes/pass.h"

namespace ingot::passes {
namespace {

using namespace fusion;  // NOLINT(google-build-using-namespace)

// s and t of y = s * x + t per channel, when bn is an inference BatchNormalization with constant
// parameters of `channels` values over x's axis 1.
bool bn_affine(const ir::Node& bn, int64_t channels, std::vector<double>* s, std::vector<double>* t) {
  if (bn.attr_int("training_mode", 0) != 0 || bn.inputs.size() != 5) return false;
  for (size_t i = 1; i < bn.outputs.size(); ++i)
    if (bn.outputs[i] && (!bn.outputs[i]->consumers.empty())) return false;
  std::vector<double> p[4];
  for (int i = 0; i < 4; ++i) {
    const Tensor* c = const_of(bn.inputs[1 + i]);
    if (!c || c->numel() != channels || c->rank() != 1) return false;
    p[i] = to_doubles(*c);
  }
  const double eps = bn.attr_float("epsilon", 1e-5f);
  s->resize(static_cast<size_t>(channels));
  t->resize(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) {
    (*s)[c] = p[0][c] / std::sqrt(p[3][c] + eps);
    (*t)[c] = p[1][c] - p[2][c] * (*s)[c];
  }
  return true;
}

// The bias after the fold: b * s + t (b = 0 when absent).
std::vector<double> folded_bias(const std::vector<double>* b, const std::vector<double>& s,
                                const std::vector<double>& t) {
  std::vector<double> out(t);
  if (b)
    for (size_t c = 0; c < out.size(); ++c) out[c] += (*b)[c] * s[c];
  return out;
}

bool fold(ir::Graph& g, ir::Node* layer, std::unordered_set<const ir::Node*>& gone) {
  ir::Node* bn = sole_consumer(g, layer->outputs.empty() ? nullptr : layer->outputs[0]);
  if (!is_op(bn, "BatchNormalization") || bn->inputs[0] != layer->outputs[0] || !is_float(bn->outputs[0]))
    return false;
  Rewrite rw(g);
  const bool conv = is_op(layer, "Conv"), deconv = is_op(layer, "ConvTranspose");
  if (conv || deconv) {
    const Tensor* w = const_of(layer->inputs.size() > 1 ? layer->inputs[1] : nullptr);
    if (!w || w->rank() < 3) return false;
    const int64_t group = layer->attr_int("group", 1);
    // Conv W is [M, C/group, k...]; ConvTranspose W is [C, M/group, k...].
    const int64_t m = conv ? w->dim(0) : w->dim(1) * group;
    const Tensor* b = layer->has_input(2) ? const_of(layer->inputs[2]) : nullptr;
    if (layer->has_input(2) && (!b || b->numel() != m)) return false;
    std::vector<double> s, t;
    if (group < 1 || !bn_affine(*bn, m, &s, &t)) return false;
    std::vector<double> wv = to_doubles(*w);
    const int64_t per_row = w->numel() / w->dim(0), inner = w->numel() / (w->dim(0) * w->dim(1));
    for (int64_t i = 0; i < w->numel(); ++i) {
      int64_t channel = i / per_row;
      if (deconv) {
        const int64_t in_c = i / per_row, j = (i / inner) % w->dim(1);
        channel = in_c / (w->dim(0) / group) * w->dim(1) + j;
      }
      wv[i] *= s[channel];
    }
    const std::vector<double> bv = b ? to_doubles(*b) : std::vector<double>{};
    ir::Value* nw = rw.add_constant(layer->name + "_bn_weight", from_doubles(w->dtype(), w->dims(), wv));
    ir::Value* nb = rw.add_constant(layer->name + "_bn_bias",
                                    from_doubles(w->dtype(), {m}, folded_bias(b ? &bv : nullptr, s, t)));
    ir::Node* n = conv ? rw.add_node("FusedConv", kDomain, layer->name, {layer->inputs[0], nw, nb},
                                     {bn->outputs[0]}, kDomainVersion)
                       : rw.add_node("ConvTranspose", "", layer->name, {layer->inputs[0], nw, nb},
                                     {bn->outputs[0]}, layer->opset);
    n->attrs = layer->attrs;
    if (conv) {
      set_fused_from(*n, {*layer, *bn});
      set_activation(*n, {});
    }
    rw.remove({layer, bn}, &gone);
    return true;
  }
  // A dense layer: BatchNormalization's channel axis 1 is the columns only for a 2-D output.
  auto d = as_dense(*layer);
  const ir::Value* y = layer->outputs[0];
  if (!d || !y->type.has_shape || y->type.shape.size() != 2) return false;
  const int64_t n_cols = d->w.dim(1);
  std::vector<double> s, t;
  if (!bn_affine(*bn, n_cols, &s, &t)) return false;
  std::vector<double> wv = to_doubles(d->w);
  for (size_t i = 0; i < wv.size(); ++i) wv[i] *= s[i % static_cast<size_t>(n_cols)];
  const DType dt = d->w.dtype();
  ir::Value* nw = rw.add_constant(layer->name + "_bn_weight", from_doubles(dt, d->w.dims(), wv));
  ir::Value* nb = rw.add_constant(
      layer->name + "_bn_bias", from_doubles(dt, {n_cols}, folded_bias(d->bias ? &*d->bias : nullptr, s, t)));
  ir::Node* n =
      rw.add_node("FusedMatMul", kDomain, layer->name, {d->x, nw, nb}, {bn->outputs[0]}, kDomainVersion);
  set_fused_from(*n, {*layer, *bn});
  set_activation(*n, {});
  rw.remove({layer, bn}, &gone);
  return true;
}

}  // namespace

Expected<bool> fuse_conv_batchnorm(ir::Graph& graph, const PassOptions&) {
  bool changed = false;
  std::unordered_set<const ir::Node*> gone;
  for (ir::Node* n : snapshot(graph)) {
    if (gone.count(n)) continue;
    const bool candidate =
        is_op(n, "Conv") || is_op(n, "ConvTranspose") || is_op(n, "MatMul") || is_op(n, "Gemm");
    if (candidate && fold(graph, n, gone)) changed = true;
  }
  return finish(graph, changed);
}

}  // namespace ingot::passes
