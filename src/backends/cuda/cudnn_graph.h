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

}  // namespace ingot::backends::cuda
