// The ordered pass lists. Each ordering constraint is commented where it is.
#include <iostream>
#include <sstream>
#include <unordered_set>

#include "passes/pass.h"

namespace ingot::passes {

const std::vector<Pass>& simplify_passes() {
  static const std::vector<Pass> kPasses = {
      // Everything below reads types and shapes, and folding needs the values shape inference propagates.
      {"infer_shapes", "type and shape inference with build-time values", false, infer_shapes_pass},
      // Before folding: removing Identity/Dropout exposes more constant subgraphs.
      {"eliminate_noops",
       "Identity, Dropout, same-type Cast, same-shape Reshape/Expand, identity Transpose, zero Pad, full "
       "Slice",
       false, eliminate_noops},
      {"fold_constants", "evaluate nodes whose inputs are all known (size-capped)", false, fold_constants},
      // After folding: the folded nodes' producers are now dead.
      {"eliminate_dead_code", "remove nodes no output depends on", false, eliminate_dead_code},
      // After dead code: fewer candidates; before a second folding round nothing is needed.
      {"eliminate_common_subexpressions", "merge identical nodes reading identical inputs", false,
       eliminate_common_subexpressions},
      // Merged nodes may make more no-ops and dead nodes.
      {"eliminate_noops", "second round after CSE", false, eliminate_noops},
      {"eliminate_dead_code", "second round after CSE", false, eliminate_dead_code},
  };
  return kPasses;
}

const std::vector<Pass>& fusion_passes() {
  // Fusion passes change numerics by rounding only (BN folded into weights, reassociated adds), as
  // TensorRT's do, so they are not `changes_numerics` passes.
  static const std::vector<Pass> kPasses = {
      // Before every pattern: a Q -> DQ pair between two layers is a second reader of the first one's
      // output and hides the second from it. Not in simplify_passes: `ingot simplify` keeps the pairs.
      {"fold_qdq",
       "QuantizeLinear -> DequantizeLinear pairs on activations removed, their scales kept for int8 layers",
       false, fold_qdq},
      // Then: a folded BatchNormalization becomes the layer's bias, which the epilogue then extends;
      // BN must still sit right after its Conv / MatMul, before any epilogue is fused in between.
      {"fuse_conv_batchnorm",
       "fold BatchNormalization into the Conv / ConvTranspose / MatMul / Gemm before it", false,
       fuse_conv_batchnorm},
      // Before the epilogue: x feeds several nodes of these chains until they are one Gelu / HardSwish
      // node, and only then is it the single reader the epilogue fusion needs.
      {"fuse_gelu", "GELU chains (erf and tanh forms) into one Gelu", false, fuse_gelu},
      {"fuse_hardswish", "x*HardSigmoid(x) and x*Clip(x+3,0,6)/6 forms into one HardSwish", false,
       fuse_hardswish},
      // Free to move: these chains hold no constant-weight layer, and no Add right after one that the
      // epilogue fusion could take.
      {"fuse_layer_norm",
       "decomposed LayerNorm (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add) into "
       "LayerNormalization",
       false, fuse_layer_norm},
      {"fuse_attention", "MatMul(Q, K^T), scale, mask Add, Softmax, MatMul(., V) into ingot.Attention", false,
       fuse_attention},
      // After BN folding and the Gelu / HardSwish collapse: bias Add, residual Add and activation join
      // the Conv / MatMul as ingot.FusedConv / ingot.FusedMatMul.
      {"fuse_epilogue",
       "Conv / MatMul / Gemm + bias + residual Add + activation into ingot.FusedConv / FusedMatMul", false,
       fuse_epilogue},
      // After the epilogue: each branch's bias is in its layer and is concatenated; siblings with
      // different epilogues (activation, residual) are not merged.
      {"fuse_horizontal", "sibling MatMul / Gemm / 1x1 Conv layers on one input into one wider layer + Split",
       false, fuse_horizontal},
      // After fuse_attention (it reads the layers that pass made, their scales absorbed) and after
      // fuse_horizontal: the Split of a merged QKV projection is then one more copy the views read through
      // (BERT's Q, K, V read in place from the packed projection). The epilogue fusion between leaves the
      // chains alone: they start at the projection's output, which its bias Add hands to the fused layer.
      {"fold_attention_views",
       "Reshape / Transpose / Squeeze / Unsqueeze / Gather / Split chains around ingot.Attention into its "
       "strided views",
       false, fold_attention_views},
      // After the views: the attention out-projection's rows are in batch order, and only a Reshape that
      // keeps the last axis stands between it and its residual Add, which the epilogue fusion now takes.
      {"fuse_epilogue_after_views", "residual Adds that fold_attention_views left behind a Reshape", false,
       fuse_epilogue_after_views},
  };
  return kPasses;
}

std::vector<Pass> build_passes() {
  std::vector<Pass> passes = simplify_passes();
  // Fusion needs the types and shapes simplify inferred, and the constants it folded (weights behind
  // Transpose / Reshape / Cast become plain constants that the patterns accept).
  const std::vector<Pass>& fusion = fusion_passes();
  passes.insert(passes.end(), fusion.begin(), fusion.end());
  // Cleanup: the fused nodes' constants replaced the old ones, which nothing reads now; shape
  // inference over the fused layers checks that each rewrite kept the types it promised.
  passes.push_back({"eliminate_dead_code", "after fusion", false, eliminate_dead_code});
  passes.push_back({"infer_shapes", "check the fused graph's types and shapes", false, infer_shapes_pass});
  return passes;
}

Status verify_graph(const ir::Graph& graph) {
  std::unordered_set<const ir::Value*> defined(graph.inputs.begin(), graph.inputs.end());
  for (const auto& [_, v] : graph.values())
    if (v->constant && !v->producer) defined.insert(v.get());
  for (const auto& n : graph.nodes()) {
    for (const ir::Value* v : n->inputs) {
      if (!v) continue;
      if (v->owner != &graph) continue;  // from an enclosing graph
      if (!defined.count(v))
        return internal_error(n->describe() + " reads '" + v->name() + "' before it is computed");
    }
    for (const ir::Value* v : n->outputs)
      if (v) defined.insert(v);
  }
  for (const ir::Value* v : graph.outputs)
    if (v->owner == &graph && !defined.count(v))
      return internal_error("graph output '" + v->name() + "' is never computed");
  return Status::Ok();
}

std::string print_graph(const ir::Graph& graph) {
  std::ostringstream os;
  os << "graph " << graph.name << " (";
  for (size_t i = 0; i < graph.inputs.size(); ++i)
    os << (i ? ", " : "") << graph.inputs[i]->name() << ": " << graph.inputs[i]->type.to_string();
  os << ")\n";
  for (const auto& n : graph.nodes()) {
    os << "  ";
    for (size_t i = 0; i < n->outputs.size(); ++i) {
      const ir::Value* v = n->outputs[i];
      os << (i ? ", " : "") << (v ? v->name() + ": " + v->type.to_string() : "_");
    }
    os << " = " << n->op_type << "(";
    for (size_t i = 0; i < n->inputs.size(); ++i) {
      const ir::Value* v = n->inputs[i];
      os << (i ? ", " : "") << (v ? v->name() : "_") << (v && v->constant && !v->producer ? "*" : "");
    }
    os << ")  # " << n->name << "\n";
  }
  os << "  return ";
  for (size_t i = 0; i < graph.outputs.size(); ++i) os << (i ? ", " : "") << graph.outputs[i]->name();
  os << "\n";
  return os.str();
}

Status run_pipeline(ir::Graph& graph, const std::vector<Pass>& passes, const PipelineOptions& options) {
  std::ostream& out = options.dump_to ? *options.dump_to : std::cerr;
#ifndef NDEBUG
  const bool verify = true;
#else
  const bool verify = options.verify;
#endif
  for (const Pass& p : passes) {
    if (options.disabled.count(p.name)) continue;
    auto changed = p.run(graph, options.pass_options);
    if (!changed.ok()) return changed.status().with_context(std::string("pass ") + p.name);
    if (verify)
      INGOT_RETURN_IF_ERROR(verify_graph(graph).with_context(std::string("IR invalid after pass ") + p.name));
    if (options.dump_ir_after.count(p.name) || options.dump_ir_after.count("all")) {
      out << "=== IR after " << p.name << " ===\n" << print_graph(graph);
    }
  }
  return Status::Ok();
}

}  // namespace ingot::passes
