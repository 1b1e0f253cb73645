// cuDNN's INT8 convolutions against its FP16 ones on resnet50's convolution shapes, channels-last, at a batch
// (`cmake --build build --target ingot_int8_conv_bench`, then build/bin/ingot_int8_conv_bench [BATCH]; needs
// a GPU). Each layer is built as the operation graph the CUDA backend would give it through cuDNN's graph
// API:
//   fp16:       y16 = relu(conv(x16, w16) + bias)
//   int8->int8: y8  = relu(conv(x8, w8) * scale[k] + bias[k])   (int32 products, the requantization folded
//   in) int8->fp16: y16 = the same, stored as FP16
// and the fastest of the plans cuDNN's heuristics offer (up to 8 that build) is kept, timed with CUDA events
// over a CUDA graph of 20 runs (as the engine replays its layers).
// It prints each shape's times and the network's totals (each shape counted as often as resnet50 has it).
#include <cuda_runtime.h>
#include <cudnn_frontend.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace fe = cudnn_frontend;

namespace {

struct Shape {
  int64_t c, h, k, r, stride;
  int count;  // how often resnet50 has it
};

// resnet50 (torchvision, stride on the 3x3): input channels, input size, output channels, kernel, stride.
const Shape kResnet50[] = {
    {64, 56, 64, 1, 1, 1},    {64, 56, 64, 3, 1, 3},    {64, 56, 256, 1, 1, 4},   {256, 56, 64, 1, 1, 2},
    {256, 56, 128, 1, 1, 1},  {128, 56, 128, 3, 2, 1},  {128, 28, 512, 1, 1, 4},  {256, 56, 512, 1, 2, 1},
    {512, 28, 128, 1, 1, 3},  {128, 28, 128, 3, 1, 3},  {512, 28, 256, 1, 1, 1},  {256, 28, 256, 3, 2, 1},
    {256, 14, 1024, 1, 1, 6}, {512, 28, 1024, 1, 2, 1}, {1024, 14, 256, 1, 1, 5}, {256, 14, 256, 3, 1, 5},
    {1024, 14, 512, 1, 1, 1}, {512, 14, 512, 3, 2, 1},  {512, 7, 2048, 1, 1, 3},  {1024, 14, 2048, 1, 2, 1},
    {2048, 7, 512, 1, 1, 2},  {512, 7, 512, 3, 1, 2},
};

enum Kind { kF16, kI8I8, kI8F16 };
const char* kKindName[] = {"fp16", "int8->int8", "int8->fp16"};

#define CUDA_CHECK(e)                                                                   \
  do {                                                                                  \
    cudaError_t err = (e);                                                              \
    if (err != cudaSuccess) {                                                           \
      std::fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, cudaGetErrorString(err)); \
      std::exit(1);                                                                     \
    }                                                                                   \
  } while (0)

// The fastest plan's time in ms, or -1 where cuDNN has none for the graph.
double time_layer(cudnnHandle_t h, const Shape& s, int64_t n, Kind kind, cudaStream_t st) {
  const int64_t ho = (s.h + 2 * (s.r / 2) - s.r) / s.stride + 1;
  const std::vector<int64_t> dx{n, s.c, s.h, s.h}, dw{s.k, s.c, s.r, s.r}, dy{n, s.k, ho, ho};
  auto nhwc = [](const std::vector<int64_t>& d) {
    return std::vector<int64_t>{d[1] * d[2] * d[3], 1, d[3] * d[1], d[1]};
  };
  const bool i8 = kind != kF16;
  const fe::DataType_t in_t = i8 ? fe::DataType_t::INT8 : fe::DataType_t::HALF;
  const fe::DataType_t out_t = kind == kI8I8 ? fe::DataType_t::INT8 : fe::DataType_t::HALF;
  auto g = std::make_shared<fe::graph::Graph>();
  g->set_io_data_type(in_t)
      .set_intermediate_data_type(fe::DataType_t::FLOAT)
      .set_compute_data_type(fe::DataType_t::FLOAT);
  auto tensor = [&](const char* name, int64_t uid, std::vector<int64_t> d, std::vector<int64_t> st,
                    fe::DataType_t t) {
    return g->tensor(
        fe::graph::Tensor_attributes().set_name(name).set_uid(uid).set_dim(d).set_stride(st).set_data_type(
            t));
  };
  const int64_t pad = s.r / 2;
  auto conv = fe::graph::Conv_fprop_attributes()
                  .set_name("conv")
                  .set_padding({pad, pad})
                  .set_stride({s.stride, s.stride})
                  .set_dilation({1, 1});
  if (i8) conv.set_compute_data_type(fe::DataType_t::INT32);
  auto y = g->conv_fprop(tensor("x", 1, dx, nhwc(dx), in_t), tensor("w", 2, dw, nhwc(dw), in_t), conv);
  const std::vector<int64_t> dk{1, s.k, 1, 1}, sk{s.k, 1, s.k, s.k};
  if (i8) {
    y->set_data_type(fe::DataType_t::FLOAT);
    y = g->pointwise(y, tensor("scale", 3, dk, sk, fe::DataType_t::FLOAT),
                     fe::graph::Pointwise_attributes().set_mode(fe::PointwiseMode_t::MUL).set_name("scale"));
  }
  y = g->pointwise(y, tensor("bias", 4, dk, sk, i8 ? fe::DataType_t::FLOAT : fe::DataType_t::HALF),
                   fe::graph::Pointwise_attributes().set_mode(fe::PointwiseMode_t::ADD).set_name("bias"));
  y = g->pointwise(
      y, fe::graph::Pointwise_attributes().set_mode(fe::PointwiseMode_t::RELU_FWD).set_name("relu"));
  y->set_output(true).set_uid(5).set_dim(dy).set_stride(nhwc(dy)).set_data_type(out_t);
  if (g->validate().is_bad()) return -2;
  if (g->build_operation_graph(h).is_bad()) return -3;
  g->deselect_workspace_greater_than(int64_t{1} << 30);
  if (g->create_execution_plans({fe::HeurMode_t::A, fe::HeurMode_t::FALLBACK}).is_bad()) return -4;

  auto numel = [](const std::vector<int64_t>& d) { return d[0] * d[1] * d[2] * d[3]; };
  const size_t e = i8 ? 1 : 2;
  void *px, *pw, *py, *pscale, *pbias, *ws = nullptr;
  CUDA_CHECK(cudaMalloc(&px, numel(dx) * e));
  CUDA_CHECK(cudaMalloc(&pw, numel(dw) * e));
  CUDA_CHECK(cudaMalloc(&py, numel(dy) * (kind == kI8I8 ? 1 : 2)));
  CUDA_CHECK(cudaMalloc(&pscale, s.k * 4));
  CUDA_CHECK(cudaMalloc(&pbias, s.k * 4));
  CUDA_CHECK(cudaMemset(px, 1, numel(dx) * e));
  CUDA_CHECK(cudaMemset(pw, 1, numel(dw) * e));
  CUDA_CHECK(cudaMemset(pscale, 0, s.k * 4));
  CUDA_CHECK(cudaMemset(pbias, 0, s.k * 4));
  std::unordered_map<int64_t, void*> pack{{1, px}, {2, pw}, {4, pbias}, {5, py}};
  if (i8) pack[3] = pscale;
  cudnnSetStream(h, st);
  cudaEvent_t a, b;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  double best = -1;
  int built = 0;
  size_t ws_bytes = 0;
  for (int64_t i = 0; i < g->get_execution_plan_count() && built < 8; ++i) {
    if (g->build_plan_at_index(i).is_bad()) continue;
    ++built;
    int64_t w = 0;
    if (g->get_workspace_size_plan_at_index(i, w).is_bad()) continue;
    if (static_cast<size_t>(w) > ws_bytes) {
      if (ws) cudaFree(ws);
      CUDA_CHECK(cudaMalloc(&ws, w));
      ws_bytes = w;
    }
    bool runs = true;
    for (int k = 0; k < 3 && runs; ++k) runs = !g->execute_plan_at_index(h, pack, ws, i).is_bad();
    if (!runs) continue;
    // 20 runs captured in a CUDA graph and replayed, so that the host's launch time does not count.
    constexpr int kReps = 20;
    cudaGraph_t graph = nullptr;
    cudaGraphExec_t exec = nullptr;
    CUDA_CHECK(cudaStreamBeginCapture(st, cudaStreamCaptureModeThreadLocal));
    for (int k = 0; k < kReps && runs; ++k) runs = !g->execute_plan_at_index(h, pack, ws, i).is_bad();
    CUDA_CHECK(cudaStreamEndCapture(st, &graph));
    if (!runs || cudaGraphInstantiate(&exec, graph, 0) != cudaSuccess) {
      cudaGetLastError();
      if (graph) cudaGraphDestroy(graph);
      continue;
    }
    std::vector<float> ms;
    for (int k = 0; k < 7; ++k) {
      cudaEventRecord(a, st);
      CUDA_CHECK(cudaGraphLaunch(exec, st));
      cudaEventRecord(b, st);
      cudaEventSynchronize(b);
      float t = 0;
      cudaEventElapsedTime(&t, a, b);
      if (k > 0) ms.push_back(t / kReps);
    }
    cudaGraphExecDestroy(exec);
    cudaGraphDestroy(graph);
    if (ms.empty()) continue;
    std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
    if (best < 0 || ms[ms.size() / 2] < best) best = ms[ms.size() / 2];
  }
  CUDA_CHECK(cudaDeviceSynchronize());
  for (void* p : {px, pw, py, pscale, pbias, ws})
    if (p) cudaFree(p);
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return built ? best : -5;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t n = argc > 1 ? std::atoll(argv[1]) : 32;
  cudnnHandle_t h;
  if (cudnnCreate(&h) != CUDNN_STATUS_SUCCESS) {
    std::fprintf(stderr, "cudnnCreate failed (no GPU?)\n");
    return 1;
  }
  cudaStream_t st;
  CUDA_CHECK(cudaStreamCreate(&st));
  std::printf("resnet50 convolutions at batch %lld, NHWC; ms per layer (fastest plan)\n",
              static_cast<long long>(n));
  std::printf("%5s %5s %5s %2s %2s %3s | %9s %11s %11s\n", "C", "H", "K", "R", "S", "x", kKindName[0],
              kKindName[1], kKindName[2]);
  double total[3] = {0, 0, 0};
  for (const Shape& s : kResnet50) {
    double t[3];
    for (int k = 0; k < 3; ++k) {
      t[k] = time_layer(h, s, n, static_cast<Kind>(k), st);
      if (t[k] > 0) total[k] += t[k] * s.count;
    }
    std::printf("%5lld %5lld %5lld %2lld %2lld %3d | %9.4f %11.4f %11.4f\n", static_cast<long long>(s.c),
                static_cast<long long>(s.h), static_cast<long long>(s.k), static_cast<long long>(s.r),
                static_cast<long long>(s.stride), s.count, t[0], t[1], t[2]);
  }
  std::printf("total (the network's convolutions but the first) | %9.4f %11.4f %11.4f\n", total[0], total[1],
              total[2]);
  cudnnDestroy(h);
  return 0;
}
