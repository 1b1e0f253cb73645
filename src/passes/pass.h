// Graph passes: a named function over the IR with its metadata. The ordered list lives in pipeline.cc.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "ingot/status.h"
#include "ir/graph.h"

namespace ingot::passes {

struct PassOptions {
  // Build-time constant folding evaluates nodes whose outputs hold at most this many elements.
  int64_t fold_max_elements = int64_t{1} << 22;
};

struct Pass {
  const char* name;
  const char* description;
  bool changes_numerics;  // runs only when asked for
  // Returns whether the graph changed.
  Expected<bool> (*run)(ir::Graph& graph, const PassOptions& options);
};

struct PipelineOptions {
  PassOptions pass_options;
  std::set<std::string> disabled;       // --disable-pass NAME
  std::set<std::string> dump_ir_after;  // --dump-ir-after NAME ("all" for every pass)
  bool verify = false;                  // verify the IR after every pass (on by default in debug builds)
  std::ostream* dump_to = nullptr;
};

// The simplify pipeline (what onnxsim does), in order.
const std::vector<Pass>& simplify_passes();
// Layer fusion (Conv+BN, bias/residual/activation epilogues, GELU, HardSwish, LayerNorm, attention,
// horizontal merging), in order; expects a simplified graph with inferred shapes.
const std::vector<Pass>& fusion_passes();
// What the engine builder runs: simplify_passes(), then fusion_passes(), then a cleanup.
std::vector<Pass> build_passes();
Status run_pipeline(ir::Graph& graph, const std::vector<Pass>& passes, const PipelineOptions& options);
// Structural checks: every input produced before use, no dangling values, names unique.
Status verify_graph(const ir::Graph& graph);
// Human-readable dump of the graph.
std::string print_graph(const ir::Graph& graph);

// The passes.
Expected<bool> eliminate_noops(ir::Graph& graph, const PassOptions& options);
Expected<bool> fold_constants(ir::Graph& graph, const PassOptions& options);
Expected<bool> eliminate_dead_code(ir::Graph& graph, const PassOptions& options);
Expected<bool> eliminate_common_subexpressions(ir::Graph& graph, const PassOptions& options);
Expected<bool> infer_shapes_pass(ir::Graph& graph, const PassOptions& options);
Expected<bool> fold_qdq(ir::Graph& graph, const PassOptions& options);
Expected<bool> fuse_conv_batchnorm(ir::Graph& graph, const PassOptions& options);
Expected<bool> fuse_gelu(ir::Graph& graph, const PassOptions& options);
Expected<bool> fuse_hardswish(ir::Graph& graph, const PassOptions& options);
Expected<bool> fuse_layer_norm(ir::Graph& graph, const PassOptions& options);
Expected<bool> fuse_attention(ir::Graph& graph, const PassOptions& options);
Expected<bool> fold_attention_views(ir::Graph& graph, const PassOptions& options);
Expected<bool> fuse_epilogue(ir::Graph& graph, const PassOptions& options);
Expected<bool> fuse_epilogue_after_views(ir::Graph& graph, const PassOptions& options);
Expected<bool> fuse_horizontal(ir::Graph& graph, const PassOptions& options);

}  // namespace ingot::passes
