// What the convolution tactics that go through cuDNN's graph API (conv_cudnn.cc, conv_int8.cc) share: the
// frontend's error check, the activation as a pointwise node, and the timed pick among a layer's candidates.
#pragma once

#include <cudnn_frontend.h>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "backends/cuda/cuda_common.h"

namespace ingot::backends::cuda {

#define INGOT_FE_OK(expr)                                                               \
  do {                                                                                  \
    auto ingot_fe_status = (expr);                                                      \
    if (ingot_fe_status.is_bad())                                                       \
      return unsupported(std::string("cuDNN graph: ") + ingot_fe_status.get_message()); \
  } while (0)

// The activation as a pointwise node of the graph; false for those the graph does not express exactly.
bool graph_activation(const kernels::FnParams& f, cudnn_frontend::graph::Pointwise_attributes* a);

// The graph checked and lowered, and the plans cuDNN's heuristics offer for it (modes A and fallback), those
// needing over 1 GiB of workspace left out.
inline Status plan_graph(cudnn_frontend::graph::Graph& g, cudnnHandle_t h) {
  INGOT_FE_OK(g.validate());
  INGOT_FE_OK(g.build_operation_graph(h));
  g.deselect_workspace_greater_than(int64_t{1} << 30);
  INGOT_FE_OK(
      g.create_execution_plans({cudnn_frontend::HeurMode_t::A, cudnn_frontend::HeurMode_t::FALLBACK}));
  return Status::Ok();
}

// Times each of `cands` on the tuning buffers (the layer's choose(h, c), enqueue, describe(c) and
// max_workspace(h, cands)) and returns the fastest; `fallback` where none ran.
template <typename L>
Expected<int64_t> fastest_candidate(L& layer, cudnnHandle_t h, const LayerBuild& b,
                                    const std::vector<int64_t>& cands, int64_t fallback) {
  void* ws = nullptr;
  const size_t ws_bytes = layer.max_workspace(h, cands);
  INGOT_CUDA_OK(cudaMalloc(&ws, std::max<size_t>(ws_bytes, 1)));
  double best = -1;
  int64_t choice = fallback;
  const bool log = env_on("INGOT_LOG_TUNING");
  for (int64_t cand : cands) {
    if (!layer.choose(h, cand).ok()) continue;
    Launch l = *b.tuning;
    l.workspace = ws;
    l.workspace_bytes = ws_bytes;
    const double ms = median_ms(l.stream, 5, [&] { return layer.enqueue(l); });
    if (log)
      std::fprintf(stderr, "tune %s: %s %.4f ms\n", b.layer.name.c_str(), layer.describe(cand).c_str(), ms);
    if (ms >= 0 && (best < 0 || ms < best)) {
      best = ms;
      choice = cand;
    }
  }
  cudaFree(ws);
  return choice;
}

// The layer's candidate: at build (b.choice < 0) the heuristics' first of layer.candidates(h, exhaustive),
// or the fastest where the build tunes, kept in b.choice; at load the one the engine kept. Then
// layer.choose(h, it).
template <typename L>
Status choose_candidate(L& layer, cudnnHandle_t h, LayerBuild& b) {
  int64_t choice = b.choice;
  if (choice < 0) {
    INGOT_ASSIGN_OR_RETURN(std::vector<int64_t> cands, layer.candidates(h, b.opt_level >= 3));
    choice = cands.front();
    if (b.tune && b.tuning && cands.size() > 1) {
      INGOT_ASSIGN_OR_RETURN(choice, fastest_candidate(layer, h, b, cands, choice));
    }
    b.choice = choice;
  }
  return layer.choose(h, choice);
}

}  // namespace ingot::backends::cuda
