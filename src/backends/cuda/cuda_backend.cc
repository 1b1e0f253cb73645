// The CUDA device backend: builds a plan for the GPU (a CUDA tactic per layer, tuned with CUDA events),
// uploads an engine's weights once, and runs it in execution contexts that each own a CUDA stream, a
// device arena laid out by the memory planner, pinned staging buffers and, when it has run once, a CUDA
// graph of its layers that later runs replay.
#include <cuda_fp16.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/kernels.h"
#include "backends/device.h"

namespace ingot::backends::cuda {

using engine::Plan;
using engine::PlanLayer;
using engine::PlanTensor;
using engine::TensorKind;

Status cuda_status(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return Status::Ok();
  return internal_error(std::string("CUDA error ") + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) +
                        ") in " + what);
}
Status cudnn_status(cudnnStatus_t e, const char* what) {
  if (e == CUDNN_STATUS_SUCCESS) return Status::Ok();
  return internal_error(std::string("cuDNN error ") + cudnnGetErrorString(e) + " in " + what);
}
Status cublas_status(cublasStatus_t e, const char* what) {
  if (e == CUBLAS_STATUS_SUCCESS) return Status::Ok();
  return internal_error("cuBLASLt error " + std::to_string(static_cast<int>(e)) + " in " + what);
}

namespace {

std::vector<CudaTactic>& registry() {
  static std::vector<CudaTactic> r;
  return r;
}

const ir::Attribute* find_attr(const PlanLayer& l, const std::string& n) {
  auto it = l.attrs.find(n);
  return it == l.attrs.end() ? nullptr : &it->second;
}

}  // namespace

CudaTacticRegistrar::CudaTacticRegistrar(const CudaTactic& t) { registry().push_back(t); }
const std::vector<CudaTactic>& cuda_tactics() { return registry(); }
const CudaTactic* find_cuda_tactic(const std::string& id) {
  for (const CudaTactic& t : registry())
    if (id == t.id) return &t;
  return nullptr;
}

int64_t LayerBuild::attr_int(const std::string& n, int64_t d) const {
  const ir::Attribute* a = find_attr(layer, n);
  return a ? a->i : d;
}
float LayerBuild::attr_float(const std::string& n, float d) const {
  const ir::Attribute* a = find_attr(layer, n);
  return a ? a->f : d;
}
std::string LayerBuild::attr_string(const std::string& n, const std::string& d) const {
  const ir::Attribute* a = find_attr(layer, n);
  return a ? a->s : d;
}
std::vector<int64_t> LayerBuild::attr_ints(const std::string& n) const {
  const ir::Attribute* a = find_attr(layer, n);
  return a ? a->ints : std::vector<int64_t>{};
}

double median_ms(cudaStream_t s, int repeats, const std::function<Status()>& fn) {
  cudaEvent_t a, b;
  if (cudaEventCreate(&a) != cudaSuccess) return -1;
  if (cudaEventCreate(&b) != cudaSuccess) return -1;
  std::vector<double> t;
  bool ok = fn().ok() && cudaStreamSynchronize(s) == cudaSuccess;
  for (int r = 0; ok && r < repeats; ++r) {
    cudaEventRecord(a, s);
    ok = fn().ok();
    cudaEventRecord(b, s);
    ok = ok && cudaEventSynchronize(b) == cudaSuccess;
    float ms = 0;
    cudaEventElapsedTime(&ms, a, b);
    t.push_back(ms);
  }
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  cudaGetLastError();  // a failed candidate leaves no sticky launch error behind
  if (!ok || t.empty()) return -1;
  std::nth_element(t.begin(), t.begin() + t.size() / 2, t.end());
  return t[t.size() / 2];
}

namespace {

// ---- device memory that frees itself ----

struct DeviceFree {
  void operator()(void* p) const { cudaFree(p); }
};
struct HostFree {
  void operator()(void* p) const { cudaFreeHost(p); }
};
using DeviceBuffer = std::unique_ptr<void, DeviceFree>;
using PinnedBuffer = std::unique_ptr<void, HostFree>;

Expected<DeviceBuffer> device_alloc(size_t bytes) {
  void* p = nullptr;
  if (bytes == 0) bytes = 1;
  INGOT_CUDA_OK(cudaMalloc(&p, bytes));
  return DeviceBuffer(p);
}
Expected<PinnedBuffer> pinned_alloc(size_t bytes) {
  void* p = nullptr;
  if (bytes == 0) bytes = 1;
  INGOT_CUDA_OK(cudaHostAlloc(&p, bytes, cudaHostAllocDefault));
  return PinnedBuffer(p);
}

std::string no_gpu_reason() {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  cudaGetLastError();
  if (e != cudaSuccess) return std::string("no CUDA GPU (") + cudaGetErrorString(e) + ")";
  if (n == 0) return "no CUDA GPU";
  return "";
}

std::string fingerprint() {
  if (!no_gpu_reason().empty()) return "cuda; no GPU";
  int dev = 0, driver = 0;
  cudaGetDevice(&dev);
  cudaDeviceProp p{};
  cudaGetDeviceProperties(&p, dev);
  cudaDriverGetVersion(&driver);
  char buf[384];
  std::snprintf(buf, sizeof buf, "cuda; %s; sm_%d%d; driver %d; cudnn %zu; cublasLt %zu", p.name, p.major,
                p.minor, driver, cudnnGetVersion(), cublasLtGetVersion());
  return buf;
}

// The storage type of a tensor on the device.
// --fp16, --best (fp16 is the fastest float precision the CUDA backend has), or --int8 (the layers that do
// not run in int8 run in fp16, as with trtexec's --int8 --fp16).
bool uses_fp16(const BuildConfig& config) {
  return config.precision == "fp16" || config.precision == "best" || config.precision == "int8";
}

DType storage(DType t, bool fp16) { return fp16 && t == DType::kF32 ? DType::kF16 : t; }
size_t storage_bytes(const PlanTensor& t, bool fp16) {
  int64_t n = 1;
  for (int64_t d : t.dims) n *= d;
  return static_cast<size_t>(n) * dtype_size(storage(t.dtype, fp16));
}

struct HandlesOwner {
  Handles h;
  static Expected<std::unique_ptr<HandlesOwner>> create() {
    auto o = std::make_unique<HandlesOwner>();
    INGOT_CUDNN_OK(cudnnCreate(&o->h.cudnn));
    INGOT_CUBLAS_OK(cublasLtCreate(&o->h.lt));
    return o;
  }
  ~HandlesOwner() {
    if (h.cudnn) cudnnDestroy(h.cudnn);
    if (h.lt) cublasLtDestroy(h.lt);
  }
};

// Uploads a host tensor in its storage type (FP32 weights become FP16 in an --fp16 engine).
Expected<DeviceBuffer> upload(const Tensor& t, bool fp16, cudaStream_t s) {
  const bool convert = fp16 && t.dtype() == DType::kF32;
  INGOT_ASSIGN_OR_RETURN(DeviceBuffer d, device_alloc(convert ? t.numel() * 2 : t.nbytes()));
  if (!convert) {
    INGOT_CUDA_OK(cudaMemcpyAsync(d.get(), t.raw(), t.nbytes(), cudaMemcpyHostToDevice, s));
    INGOT_CUDA_OK(cudaStreamSynchronize(s));
    return d;
  }
  INGOT_ASSIGN_OR_RETURN(DeviceBuffer tmp, device_alloc(t.nbytes()));
  INGOT_CUDA_OK(cudaMemcpyAsync(tmp.get(), t.raw(), t.nbytes(), cudaMemcpyHostToDevice, s));
  kernels::cast_f32_to_f16(static_cast<const float*>(tmp.get()), d.get(), t.numel(), s);
  INGOT_CUDA_LAUNCHED();
  INGOT_CUDA_OK(cudaStreamSynchronize(s));
  return d;
}

bool plan_is_fp16(const Plan& plan) {
  for (const PlanLayer& l : plan.layers)
    if (l.precision == "fp16" || l.precision == "int8") return true;
  return false;
}

// Weights of the whole plan on the device, per tensor id.
struct DeviceWeights {
  std::vector<DeviceBuffer> buffers;
  std::vector<DevTensor> tensors;
};

Expected<DeviceWeights> upload_weights(const Plan& plan, bool fp16, cudaStream_t s) {
  DeviceWeights w;
  w.buffers.resize(plan.tensors.size());
  w.tensors.resize(plan.tensors.size());
  for (size_t i = 0; i < plan.tensors.size(); ++i) {
    const PlanTensor& t = plan.tensors[i];
    if (t.kind != TensorKind::kWeight || t.dtype == DType::kString) continue;
    INGOT_ASSIGN_OR_RETURN(w.buffers[i], upload(t.weight, fp16, s));
    w.tensors[i] = DevTensor{storage(t.dtype, fp16), t.dims, w.buffers[i].get()};
  }
  return w;
}

LayerBuild make_build(const Plan& plan, const PlanLayer& layer, bool fp16, const Handles* h,
                      const DeviceWeights& w) {
  LayerBuild b{layer, plan.tensors};
  b.fp16 = fp16;
  b.handles = h;
  for (int32_t id : layer.inputs) b.weights.push_back(id >= 0 ? w.tensors[id] : DevTensor{});
  const ir::Attribute* c = find_attr(layer, "cuda_choice");
  b.choice = c ? c->i : -1;
  return b;
}

// ---- the engine and its contexts ----

class CudaEngine;

class CudaContext : public DeviceContext {
 public:
  CudaContext(std::shared_ptr<const CudaEngine> engine) : engine_(std::move(engine)) {}
  ~CudaContext() override;
  Status init();
  Expected<std::map<std::string, Tensor>> run(const std::map<std::string, Tensor>& inputs) override;
  Status run_compute_only() override;
  DeviceTiming last_timing() const override { return timing_; }

 private:
  Status enqueue_layers();
  Status compute();
  Status trace_layer(const PlanLayer& layer, const std::vector<DevTensor>& outs);
  // INGOT_CUDA_TRACE=1: every layer's outputs are checked after it runs (no CUDA graph then).
  bool trace_ = env_on("INGOT_CUDA_TRACE");
  // INGOT_CUDA_PROFILE=1: every layer is timed with CUDA events (no CUDA graph then); the totals per layer
  // and per op are printed when the context ends.
  bool profile_ = env_on("INGOT_CUDA_PROFILE");
  std::vector<cudaEvent_t> marks_;
  std::vector<double> layer_ms_;
  int profiled_runs_ = 0;
  Status collect_profile();
  void print_profile() const;

  std::shared_ptr<const CudaEngine> engine_;
  cudaStream_t stream_ = nullptr;
  cudaEvent_t ev_[4] = {};
  DeviceBuffer arena_, workspace_;
  std::vector<DeviceBuffer> own_;       // tensors outside the arena (inputs, unplanned)
  std::vector<DevTensor> tensors_;      // per tensor id
  std::vector<DeviceBuffer> staging_;   // per plan input, then output: its FP32 NCHW device copy
  std::vector<DeviceBuffer> nhwc_tmp_;  // fp16 engines, per channels-last input: FP16 NCHW before transposing
  bool staged_in(size_t i) const;
  std::vector<PinnedBuffer> pinned_in_, pinned_out_;
  cudaGraphExec_t graph_ = nullptr;
  int runs_ = 0;
  bool ran_ = false;
  DeviceTiming timing_;
};

class CudaEngine : public DeviceEngine, public std::enable_shared_from_this<CudaEngine> {
 public:
  static Expected<std::shared_ptr<CudaEngine>> load(const Plan& plan) {
    const std::string why = no_gpu_reason();
    if (!why.empty()) return unsupported("this engine runs on a CUDA GPU, and this machine has " + why);
    auto e = std::shared_ptr<CudaEngine>(new CudaEngine(plan));
    INGOT_RETURN_IF_ERROR(e->prepare());
    return e;
  }
  ~CudaEngine() override {
    layers_.clear();
    weights_ = DeviceWeights{};
    handles_.reset();
    if (stream_) cudaStreamDestroy(stream_);
  }
  Expected<std::unique_ptr<DeviceContext>> create_context() const override {
    auto c = std::make_unique<CudaContext>(shared_from_this());
    INGOT_RETURN_IF_ERROR(c->init());
    return std::unique_ptr<DeviceContext>(std::move(c));
  }

  const Plan& plan;
  bool fp16 = false;
  std::unique_ptr<HandlesOwner> handles_;
  DeviceWeights weights_;
  std::vector<std::unique_ptr<CudaLayer>> layers_;
  std::vector<int32_t> roots_;
  std::vector<bool> input_nhwc_;  // per plan input: kept channels-last on the device
  size_t workspace_bytes_ = 0;

 private:
  explicit CudaEngine(const Plan& p) : plan(p) {}
  Status prepare() {
    fp16 = plan_is_fp16(plan);
    INGOT_CUDA_OK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    INGOT_ASSIGN_OR_RETURN(handles_, HandlesOwner::create());
    INGOT_ASSIGN_OR_RETURN(weights_, upload_weights(plan, fp16, stream_));
    roots_.resize(plan.tensors.size());
    for (size_t i = 0; i < plan.tensors.size(); ++i) {
      int32_t r = static_cast<int32_t>(i);
      while (plan.tensors[r].alias_of >= 0) r = plan.tensors[r].alias_of;
      roots_[i] = r;
    }
    input_nhwc_.assign(plan.inputs.size(), false);
    for (const PlanLayer& layer : plan.layers) {
      auto a = layer.attrs.find("cuda_nhwc");
      if (a == layer.attrs.end()) continue;
      for (size_t k = 0; k < layer.inputs.size() && k < a->second.ints.size(); ++k)
        for (size_t i = 0; i < plan.inputs.size(); ++i)
          if (a->second.ints[k] && layer.inputs[k] == plan.inputs[i]) input_nhwc_[i] = true;
    }
    for (const PlanLayer& layer : plan.layers) {
      const CudaTactic* t = find_cuda_tactic(layer.tactic);
      if (!t) {
        return invalid_argument("layer '" + layer.name + "' uses tactic '" + layer.tactic +
                                "', which this ingot does not have: rebuild the engine on this machine");
      }
      LayerBuild b = make_build(plan, layer, fp16, &handles_->h, weights_);
      const std::string why = t->supports(b);
      if (!why.empty())
        return invalid_argument("layer '" + layer.name + "': tactic " + layer.tactic + ": " + why);
      auto k = t->prepare(b);
      if (!k.ok()) return k.status().with_context("layer '" + layer.name + "'");
      workspace_bytes_ = std::max(workspace_bytes_, (*k)->workspace_bytes());
      layers_.push_back(std::move(*k));
    }
    return Status::Ok();
  }
  cudaStream_t stream_ = nullptr;
};

Status CudaContext::collect_profile() {
  INGOT_CUDA_OK(cudaEventSynchronize(marks_.back()));
  for (size_t k = 0; k + 1 < marks_.size(); ++k) {
    float ms = 0;
    INGOT_CUDA_OK(cudaEventElapsedTime(&ms, marks_[k], marks_[k + 1]));
    layer_ms_[k] += ms;
  }
  ++profiled_runs_;
  return Status::Ok();
}

void CudaContext::print_profile() const {
  const Plan& plan = engine_->plan;
  const double runs = std::max(1, profiled_runs_);
  std::map<std::string, std::pair<double, int>> by_op;
  double total = 0;
  std::vector<size_t> order(layer_ms_.size());
  for (size_t k = 0; k < order.size(); ++k) {
    order[k] = k;
    auto& e = by_op[plan.layers[k].op_type + " " + plan.layers[k].tactic];
    e.first += layer_ms_[k] / runs;
    ++e.second;
    total += layer_ms_[k] / runs;
  }
  std::fprintf(stderr, "profile: %d runs, %.4f ms per run in layers\n", profiled_runs_, total);
  for (const auto& [op, t] : by_op)
    std::fprintf(stderr, "  %-48s %4d layers %9.4f ms %5.1f%%\n", op.c_str(), t.second, t.first,
                 100 * t.first / total);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return layer_ms_[a] > layer_ms_[b]; });
  for (size_t i = 0; i < std::min<size_t>(15, order.size()); ++i)
    std::fprintf(stderr, "  top %-60s %9.4f ms\n", plan.layers[order[i]].name.c_str(),
                 layer_ms_[order[i]] / runs);
}

CudaContext::~CudaContext() {
  if (stream_) cudaStreamSynchronize(stream_);
  if (profile_ && profiled_runs_) print_profile();
  for (cudaEvent_t e : marks_) cudaEventDestroy(e);
  if (graph_) cudaGraphExecDestroy(graph_);
  for (cudaEvent_t e : ev_)
    if (e) cudaEventDestroy(e);
  if (stream_) cudaStreamDestroy(stream_);
}

Status CudaContext::init() {
  const Plan& plan = engine_->plan;
  const bool fp16 = engine_->fp16;
  INGOT_CUDA_OK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  for (cudaEvent_t& e : ev_) INGOT_CUDA_OK(cudaEventCreate(&e));
  // One cudaMalloc for the planned activations (offsets are planned for FP32; FP16 fits in them).
  INGOT_ASSIGN_OR_RETURN(arena_, device_alloc(static_cast<size_t>(plan.arena_bytes)));
  INGOT_ASSIGN_OR_RETURN(workspace_, device_alloc(engine_->workspace_bytes_));
  tensors_.resize(plan.tensors.size());
  own_.resize(plan.tensors.size());
  for (size_t i = 0; i < plan.tensors.size(); ++i) {
    const PlanTensor& t = plan.tensors[i];
    if (t.kind == TensorKind::kWeight) {
      tensors_[i] = engine_->weights_.tensors[i];
      continue;
    }
    const PlanTensor& root = plan.tensors[engine_->roots_[i]];
    DevTensor d{storage(t.dtype, fp16), t.dims, nullptr};
    if (root.arena_offset >= 0) {
      d.ptr = static_cast<uint8_t*>(arena_.get()) + root.arena_offset;
    } else if (engine_->roots_[i] != static_cast<int32_t>(i)) {
      d.ptr = nullptr;  // filled below, once the root has memory
    } else {
      INGOT_ASSIGN_OR_RETURN(own_[i], device_alloc(storage_bytes(t, fp16)));
      d.ptr = own_[i].get();
    }
    tensors_[i] = d;
  }
  for (size_t i = 0; i < plan.tensors.size(); ++i)
    if (!tensors_[i].ptr && plan.tensors[i].kind != TensorKind::kWeight)
      tensors_[i].ptr = tensors_[engine_->roots_[i]].ptr;
  auto f32_bytes = [&](int32_t id) { return storage_bytes(plan.tensors[id], false); };
  for (int32_t id : plan.inputs) {
    INGOT_ASSIGN_OR_RETURN(PinnedBuffer p, pinned_alloc(f32_bytes(id)));
    pinned_in_.push_back(std::move(p));
  }
  for (int32_t id : plan.outputs) {
    INGOT_ASSIGN_OR_RETURN(PinnedBuffer p, pinned_alloc(f32_bytes(id)));
    pinned_out_.push_back(std::move(p));
  }
  for (int32_t id : plan.inputs) {
    INGOT_ASSIGN_OR_RETURN(DeviceBuffer b, device_alloc(f32_bytes(id)));
    staging_.push_back(std::move(b));
  }
  for (int32_t id : plan.outputs) {
    INGOT_ASSIGN_OR_RETURN(DeviceBuffer b, device_alloc(f32_bytes(id)));
    staging_.push_back(std::move(b));
  }
  nhwc_tmp_.resize(plan.inputs.size());
  for (size_t i = 0; i < plan.inputs.size(); ++i)
    if (fp16 && engine_->input_nhwc_[i]) {
      INGOT_ASSIGN_OR_RETURN(nhwc_tmp_[i], device_alloc(f32_bytes(plan.inputs[i])));
    }
  return Status::Ok();
}

// Inputs copied to their FP32 staging buffer first: cast to FP16 and / or transposed to NHWC on the device.
bool CudaContext::staged_in(size_t i) const {
  const PlanTensor& t = engine_->plan.tensors[engine_->plan.inputs[i]];
  return t.dtype == DType::kF32 && (engine_->fp16 || engine_->input_nhwc_[i]);
}

bool graphs_enabled() {
  const char* e = std::getenv("INGOT_CUDA_GRAPHS");
  return !(e && std::string(e) == "0");
}

// The layers (and, in fp16 engines, the input/output casts): what a CUDA graph captures.
Status CudaContext::enqueue_layers() {
  const Plan& plan = engine_->plan;
  const bool fp16 = engine_->fp16;
  for (size_t i = 0; i < plan.inputs.size(); ++i) {
    if (!staged_in(i)) continue;
    const DevTensor& d = tensors_[plan.inputs[i]];
    if (!engine_->input_nhwc_[i]) {
      kernels::cast_f32_to_f16(static_cast<const float*>(staging_[i].get()), d.ptr, d.numel(), stream_);
      INGOT_CUDA_LAUNCHED();
      continue;
    }
    const void* src = staging_[i].get();
    if (fp16) {
      kernels::cast_f32_to_f16(static_cast<const float*>(src), nhwc_tmp_[i].get(), d.numel(), stream_);
      INGOT_CUDA_LAUNCHED();
      src = nhwc_tmp_[i].get();
    }
    // NCHW -> NHWC: output (n, h, w, c) reads c * H * W + h * W + w of its image.
    const Dims& x = d.dims;
    kernels::Strided m;
    m.rank = 4;
    const int64_t dims[4] = {x[0], x[2], x[3], x[1]}, strides[4] = {x[1] * x[2] * x[3], x[3], 1, x[2] * x[3]};
    for (int k = 0; k < 4; ++k) m.dims[k] = dims[k], m.strides[k] = strides[k];
    kernels::strided_copy(dtype_size(d.dtype), d.ptr, src, m, stream_);
    INGOT_CUDA_LAUNCHED();
  }
  Launch l;
  l.stream = stream_;
  l.handles = &engine_->handles_->h;
  l.workspace = workspace_.get();
  l.workspace_bytes = engine_->workspace_bytes_;
  if (profile_ && marks_.empty()) {
    marks_.resize(plan.layers.size() + 1);
    for (cudaEvent_t& e : marks_) INGOT_CUDA_OK(cudaEventCreate(&e));
    layer_ms_.assign(plan.layers.size(), 0.0);
  }
  for (size_t k = 0; k < plan.layers.size(); ++k) {
    const PlanLayer& layer = plan.layers[k];
    if (profile_) INGOT_CUDA_OK(cudaEventRecord(marks_[k], stream_));
    l.in.clear();
    l.out.clear();
    for (int32_t id : layer.inputs) l.in.push_back(id >= 0 ? tensors_[id] : DevTensor{});
    for (int32_t id : layer.outputs) l.out.push_back(id >= 0 ? tensors_[id] : DevTensor{});
    Status st = engine_->layers_[k]->enqueue(l);
    if (!st.ok()) return st.with_context("layer '" + layer.name + "' (" + layer.tactic + ")");
    if (trace_) INGOT_RETURN_IF_ERROR(trace_layer(layer, l.out));
  }
  if (profile_) INGOT_CUDA_OK(cudaEventRecord(marks_[plan.layers.size()], stream_));
  if (fp16) {
    for (size_t i = 0; i < plan.outputs.size(); ++i) {
      const DevTensor& d = tensors_[plan.outputs[i]];
      if (plan.tensors[plan.outputs[i]].dtype != DType::kF32) continue;
      kernels::cast_f16_to_f32(d.ptr, static_cast<float*>(staging_[plan.inputs.size() + i].get()), d.numel(),
                               stream_);
      INGOT_CUDA_LAUNCHED();
    }
  }
  return Status::Ok();
}

// Prints, per output of the layer, the mean and largest magnitude and the count of non-finite values.
Status CudaContext::trace_layer(const PlanLayer& layer, const std::vector<DevTensor>& outs) {
  INGOT_CUDA_OK(cudaStreamSynchronize(stream_));
  for (const DevTensor& d : outs) {
    if (!d.ptr || (d.dtype != DType::kF32 && d.dtype != DType::kF16)) continue;
    const int64_t n = d.numel();
    std::vector<float> host(static_cast<size_t>(n));
    if (d.half()) {
      DeviceBuffer tmp;
      INGOT_ASSIGN_OR_RETURN(tmp, device_alloc(static_cast<size_t>(n) * 4));
      kernels::cast_f16_to_f32(d.ptr, static_cast<float*>(tmp.get()), n, stream_);
      INGOT_CUDA_OK(cudaMemcpyAsync(host.data(), tmp.get(), n * 4, cudaMemcpyDeviceToHost, stream_));
    } else {
      INGOT_CUDA_OK(cudaMemcpyAsync(host.data(), d.ptr, n * 4, cudaMemcpyDeviceToHost, stream_));
    }
    INGOT_CUDA_OK(cudaStreamSynchronize(stream_));
    double sum = 0, mx = 0;
    int64_t bad = 0;
    for (float v : host) {
      if (!std::isfinite(v)) {
        ++bad;
        continue;
      }
      sum += std::fabs(v);
      mx = std::max(mx, static_cast<double>(std::fabs(v)));
    }
    std::fprintf(stderr, "trace %s (%s, %s): mean|x| %.4g max|x| %.4g non-finite %lld\n", layer.name.c_str(),
                 layer.op_type.c_str(), layer.tactic.c_str(), n ? sum / n : 0.0, mx,
                 static_cast<long long>(bad));
  }
  return Status::Ok();
}

// The first run enqueues the layers one by one (errors name the layer); later runs replay a CUDA graph
// captured from the second (shapes are static in CUDA engines).
Status CudaContext::compute() {
  ++runs_;
  if (graph_) return cuda_status(cudaGraphLaunch(graph_, stream_), "cudaGraphLaunch");
  if (runs_ < 2 || !graphs_enabled() || trace_ || profile_) return enqueue_layers();
  INGOT_CUDA_OK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal));
  Status st = enqueue_layers();
  cudaGraph_t g = nullptr;
  const cudaError_t end = cudaStreamEndCapture(stream_, &g);
  if (!st.ok()) {
    if (g) cudaGraphDestroy(g);
    return st;
  }
  INGOT_CUDA_OK(end);
  const cudaError_t inst = cudaGraphInstantiate(&graph_, g, 0);
  cudaGraphDestroy(g);
  INGOT_CUDA_OK(inst);
  return cuda_status(cudaGraphLaunch(graph_, stream_), "cudaGraphLaunch");
}

Expected<std::map<std::string, Tensor>> CudaContext::run(const std::map<std::string, Tensor>& inputs) {
  const Plan& plan = engine_->plan;
  const bool fp16 = engine_->fp16;
  INGOT_CUDA_OK(cudaEventRecord(ev_[0], stream_));
  for (size_t i = 0; i < plan.inputs.size(); ++i) {
    const PlanTensor& t = plan.tensors[plan.inputs[i]];
    const Tensor& host = inputs.at(t.name);
    std::memcpy(pinned_in_[i].get(), host.raw(), host.nbytes());
    void* dst = staged_in(i) ? staging_[i].get() : tensors_[plan.inputs[i]].ptr;
    INGOT_CUDA_OK(cudaMemcpyAsync(dst, pinned_in_[i].get(), host.nbytes(), cudaMemcpyHostToDevice, stream_));
  }
  INGOT_CUDA_OK(cudaEventRecord(ev_[1], stream_));
  INGOT_RETURN_IF_ERROR(compute());
  INGOT_CUDA_OK(cudaEventRecord(ev_[2], stream_));
  for (size_t i = 0; i < plan.outputs.size(); ++i) {
    const PlanTensor& t = plan.tensors[plan.outputs[i]];
    const void* src = fp16 && t.dtype == DType::kF32 ? staging_[plan.inputs.size() + i].get()
                                                     : tensors_[plan.outputs[i]].ptr;
    INGOT_CUDA_OK(
        cudaMemcpyAsync(pinned_out_[i].get(), src, storage_bytes(t, false), cudaMemcpyDeviceToHost, stream_));
  }
  INGOT_CUDA_OK(cudaEventRecord(ev_[3], stream_));
  INGOT_CUDA_OK(cudaEventSynchronize(ev_[3]));
  if (profile_ && runs_ > 1) INGOT_RETURN_IF_ERROR(collect_profile());
  float a = 0, b = 0, c = 0;
  cudaEventElapsedTime(&a, ev_[0], ev_[1]);
  cudaEventElapsedTime(&b, ev_[1], ev_[2]);
  cudaEventElapsedTime(&c, ev_[2], ev_[3]);
  timing_ = DeviceTiming{true, a, b, c};
  std::map<std::string, Tensor> out;
  for (size_t i = 0; i < plan.outputs.size(); ++i) {
    const PlanTensor& t = plan.tensors[plan.outputs[i]];
    INGOT_ASSIGN_OR_RETURN(Tensor host, Tensor::create(t.dtype, t.dims));
    std::memcpy(host.raw(), pinned_out_[i].get(), host.nbytes());
    out[t.name] = std::move(host);
  }
  ran_ = true;
  return out;
}

Status CudaContext::run_compute_only() {
  if (!ran_) return invalid_argument("run_device_only: call run() once first (it uploads the inputs)");
  INGOT_CUDA_OK(cudaEventRecord(ev_[1], stream_));
  INGOT_RETURN_IF_ERROR(compute());
  INGOT_CUDA_OK(cudaEventRecord(ev_[2], stream_));
  INGOT_CUDA_OK(cudaEventSynchronize(ev_[2]));
  if (profile_) INGOT_RETURN_IF_ERROR(collect_profile());
  float b = 0;
  cudaEventElapsedTime(&b, ev_[1], ev_[2]);
  timing_ = DeviceTiming{true, 0, b, 0};
  return Status::Ok();
}

// ---- build: a tactic per layer, tuned on the GPU ----

Status select_tactics(Plan& plan, const BuildConfig& config, bool own_kernels = true);
Expected<double> time_plan(const Plan& plan);

// --int8: channels-last, the activations between int8 convolutions kept int8 (keep_int8_activations), then a
// tactic per layer; the int8 layers compete with the fp16 tactics where their tensors are float. Layers asked
// for int8 that end on an fp16 tactic say why (PlanLayer::precision_note).
Status select_int8(Plan& plan, const BuildConfig& config) {
  assign_layouts(plan);
  // cuDNN may refuse a graph that int8_conv_supports accepted: then again without the tensors kept int8
  // through max pooling, then with none kept (every int8 convolution converting its own tensors).
  const Plan unkept = plan;
  Status st = Status::Ok();
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (attempt > 0) plan = unkept;
    const int kept =
        attempt == 2 ? 0 : keep_int8_activations(plan, /*fp16=*/true, /*through_pools=*/attempt == 0);
    st = select_tactics(plan, config);
    if (st.ok() || (attempt == 2 || kept == 0)) break;
    std::fprintf(stderr, "warning: %s; building again with fewer tensors kept int8\n", st.message().c_str());
  }
  INGOT_RETURN_IF_ERROR(st);
  const CudaTactic* int8_conv = find_cuda_tactic(kInt8ConvTactic);
  for (PlanLayer& l : plan.layers) {
    if (l.precision != "int8" || l.tactic == kInt8ConvTactic) continue;
    LayerBuild b{l, plan.tensors};
    b.fp16 = true;
    const std::string why = int8_conv ? int8_conv->supports(b) : "-";
    l.precision = "fp16";
    l.precision_note = why == "-" ? "the CUDA backend has no int8 kernel for " + l.op_type + ": runs in fp16"
                       : why.empty()
                           ? "the fp16 convolution was faster (or cuDNN built no int8 plan): runs in fp16"
                           : "int8 convolution: " + why + ": runs in fp16";
  }
  return Status::Ok();
}

Status select(Plan& plan, const BuildConfig& config) {
  for (const PlanTensor& t : plan.tensors) {
    if (t.kind == TensorKind::kWeight) continue;
    bool known = t.rank_known;
    for (int64_t d : t.dims) known &= d >= 0;
    if (!known) {
      return unsupported("tensor '" + t.name +
                         "' has a shape known only at run time: the CUDA backend needs static shapes (give "
                         "--shapes NAME:DIMS for each dynamic input)");
    }
    if (t.dtype == DType::kF64 || t.dtype == DType::kString)
      return unsupported(std::string("tensor '") + t.name + "' is " + dtype_name(t.dtype) +
                         ", which the CUDA backend does not run");
  }
  if (config.precision == "bf16")
    return unsupported(
        "--device cuda runs fp32 (tf32), fp16 and int8 engines; bf16 is not implemented on it yet");
  if (!config.layer_precision.empty())
    return unsupported("--device cuda: per-layer precision (--layer-precision) is not implemented on it yet");
  const bool fp16 = uses_fp16(config);
  const bool int8 = config.precision == "int8";
  for (PlanLayer& layer : plan.layers)
    layer.precision = int8 && layer.precision == "int8" ? "int8" : fp16 ? "fp16" : "tf32";
  if (int8) return select_int8(plan, config);
  if (env_on("INGOT_CUDA_NCHW")) return select_tactics(plan, config);
  // Channels-last where it applies, but only when the whole network runs faster so: cuDNN's NHWC kernels
  // win on large batches of dense convolutions and can lose on small ones and on depthwise convolutions.
  Plan nchw = plan;  // weights are shared, not copied
  assign_layouts(plan);
  if (env_on("INGOT_CUDA_NHWC")) return select_tactics(plan, config);  // channels-last, untimed (tests)
  bool any_nhwc = false;
  for (const PlanLayer& l : plan.layers) any_nhwc |= l.attrs.count("cuda_nhwc") > 0;
  Plan nhwc_cudnn = plan;
  INGOT_RETURN_IF_ERROR(select_tactics(plan, config));
  if (!any_nhwc || config.opt_level < 1) return Status::Ok();
  INGOT_RETURN_IF_ERROR(select_tactics(nchw, config));
  INGOT_ASSIGN_OR_RETURN(double t_nhwc, time_plan(plan));
  INGOT_ASSIGN_OR_RETURN(double t_nchw, time_plan(nchw));
  // Layers timed one by one can mislead where a kernel's neighbours share the L2 cache with it: ingot's own
  // channels-last kernels win a layer alone and can lose in the whole network (mobilenet_v2's depthwise
  // layers at batch 32). So the network is also timed with cuDNN alone, and the fastest of the three kept.
  bool any_own = false;
  for (const PlanLayer& l : plan.layers) {
    auto c = l.attrs.find("cuda_choice");
    any_own |= c != l.attrs.end() && own_kernel_choice(c->second.i);
  }
  double t_cudnn = -1;
  if (any_own) {
    INGOT_RETURN_IF_ERROR(select_tactics(nhwc_cudnn, config, /*own_kernels=*/false));
    INGOT_ASSIGN_OR_RETURN(t_cudnn, time_plan(nhwc_cudnn));
  }
  if (env_on("INGOT_LOG_TUNING"))
    std::fprintf(stderr, "tune layout: NHWC %.4f ms, NCHW %.4f ms, NHWC without ingot's kernels %.4f ms\n",
                 t_nhwc, t_nchw, t_cudnn);
  if (t_cudnn >= 0 && t_cudnn < t_nhwc && t_cudnn < t_nchw)
    plan = std::move(nhwc_cudnn);
  else if (t_nchw < t_nhwc)
    plan = std::move(nchw);
  return Status::Ok();
}

// The GPU time of one run of the whole plan (median of CUDA-graph replays on random inputs).
Expected<double> time_plan(const Plan& plan) {
  INGOT_ASSIGN_OR_RETURN(auto engine, CudaEngine::load(plan));
  INGOT_ASSIGN_OR_RETURN(auto ctx, engine->create_context());
  std::map<std::string, Tensor> feeds;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (int32_t id : plan.inputs) {
    const PlanTensor& t = plan.tensors[id];
    INGOT_ASSIGN_OR_RETURN(Tensor x, Tensor::create(t.dtype, t.dims));
    if (t.dtype == DType::kF32)
      for (int64_t k = 0; k < x.numel(); ++k) x.data<float>()[k] = u(rng);
    feeds[t.name] = std::move(x);
  }
  INGOT_RETURN_IF_ERROR(ctx->run(feeds).status());
  std::vector<double> ms;
  for (int r = 0; r < 23; ++r) {
    INGOT_RETURN_IF_ERROR(ctx->run_compute_only());
    if (r >= 3) ms.push_back(ctx->last_timing().compute_ms);
  }
  std::nth_element(ms.begin(), ms.begin() + ms.size() / 2, ms.end());
  return ms[ms.size() / 2];
}

// A tactic for every layer, tuned on the GPU.
Status select_tactics(Plan& plan, const BuildConfig& config, bool own_kernels) {
  const bool fp16 = uses_fp16(config);
  std::map<std::string, std::vector<std::string>> missing;  // op -> layers

  cudaStream_t s = nullptr;
  INGOT_CUDA_OK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  std::unique_ptr<CUstream_st, void (*)(CUstream_st*)> stream_guard(
      s, [](CUstream_st* p) { cudaStreamDestroy(p); });
  INGOT_ASSIGN_OR_RETURN(auto handles, HandlesOwner::create());
  INGOT_ASSIGN_OR_RETURN(DeviceWeights weights, upload_weights(plan, fp16, s));
  std::mt19937 rng(0x5eed);
  for (PlanLayer& layer : plan.layers) {
    LayerBuild b = make_build(plan, layer, fp16, &handles->h, weights);
    b.choice = -1;
    // Every tactic that runs the layer; with several, each is prepared (timing its own candidates) and the
    // prepared layers are timed against each other.
    std::vector<const CudaTactic*> supporting;
    std::string reasons;
    for (const CudaTactic& t : cuda_tactics()) {
      const std::string why = t.supports(b);
      if (why.empty()) {
        supporting.push_back(&t);
        if (config.opt_level < 1) break;  // heuristics only: the first in registration order
      } else if (why != "-") {
        reasons += std::string(reasons.empty() ? "" : "; ") + t.id + ": " + why;
      }
    }
    if (supporting.empty()) {
      missing[layer.op_type + (reasons.empty() ? "" : " (" + reasons + ")")].push_back(layer.name);
      continue;
    }
    // Random inputs and scratch outputs on the device, for tactics that time candidates.
    std::vector<DeviceBuffer> scratch;
    Launch tl;
    tl.stream = s;
    tl.handles = &handles->h;
    for (size_t i = 0; i < layer.inputs.size(); ++i) {
      if (layer.inputs[i] < 0) {
        tl.in.push_back({});
        continue;
      }
      if (b.weights[i].ptr) {
        tl.in.push_back(b.weights[i]);
        continue;
      }
      const PlanTensor& t = plan.tensors[layer.inputs[i]];
      Tensor host;
      if (t.dtype == DType::kF32) {
        INGOT_ASSIGN_OR_RETURN(host, Tensor::create(t.dtype, t.dims));
        std::uniform_real_distribution<float> u(-1.f, 1.f);
        for (int64_t k = 0; k < host.numel(); ++k) host.data<float>()[k] = u(rng);
        INGOT_ASSIGN_OR_RETURN(DeviceBuffer d, upload(host, fp16, s));
        tl.in.push_back(DevTensor{storage(t.dtype, fp16), t.dims, d.get()});
        scratch.push_back(std::move(d));
      } else {
        INGOT_ASSIGN_OR_RETURN(DeviceBuffer d, device_alloc(storage_bytes(t, fp16)));
        INGOT_CUDA_OK(cudaMemsetAsync(d.get(), 0, storage_bytes(t, fp16), s));
        tl.in.push_back(DevTensor{storage(t.dtype, fp16), t.dims, d.get()});
        scratch.push_back(std::move(d));
      }
    }
    for (int32_t id : layer.outputs) {
      if (id < 0) {
        tl.out.push_back({});
        continue;
      }
      const PlanTensor& t = plan.tensors[id];
      INGOT_ASSIGN_OR_RETURN(DeviceBuffer d, device_alloc(storage_bytes(t, fp16)));
      tl.out.push_back(DevTensor{storage(t.dtype, fp16), t.dims, d.get()});
      scratch.push_back(std::move(d));
    }
    b.tune = config.opt_level >= 1;
    b.opt_level = config.opt_level;
    b.own_kernels = own_kernels;
    b.tuning = &tl;
    const CudaTactic* chosen = nullptr;
    int64_t chosen_choice = -1;
    double best_ms = -1;
    Status first_error = Status::Ok();
    for (const CudaTactic* t : supporting) {
      b.choice = -1;
      auto k = t->prepare(b);
      if (!k.ok()) {
        if (first_error.ok())
          first_error = k.status().with_context("layer '" + layer.name + "' (" + t->id + ")");
        continue;
      }
      double ms = 0;
      if (supporting.size() > 1) {
        const size_t ws = (*k)->workspace_bytes();
        DeviceBuffer wsb;
        if (ws) {
          INGOT_ASSIGN_OR_RETURN(wsb, device_alloc(ws));
        }
        Launch l = tl;
        l.workspace = wsb.get();
        l.workspace_bytes = ws;
        ms = median_ms(s, 5, [&] { return (*k)->enqueue(l); });
        if (env_on("INGOT_LOG_TUNING"))
          std::fprintf(stderr, "tune %s: tactic %s %.4f ms\n", layer.name.c_str(), t->id, ms);
        if (ms < 0) continue;
      }
      if (!chosen || ms < best_ms) {
        chosen = t;
        chosen_choice = b.choice;
        best_ms = ms;
      }
    }
    if (!chosen) return first_error;
    layer.tactic = chosen->id;
    b.choice = chosen_choice;
    if (b.choice >= 0) {
      ir::Attribute a;
      a.kind = ir::Attribute::Kind::kInt;
      a.i = b.choice;
      layer.attrs["cuda_choice"] = a;
    }
    INGOT_CUDA_OK(cudaStreamSynchronize(s));
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& [op, names] : missing) {
      list += (list.empty() ? "" : ", ") + op + " [" + names.front() +
              (names.size() > 1 ? " and " + std::to_string(names.size() - 1) + " more" : "") + "]";
    }
    return unsupported("the CUDA backend has no tactic for: " + list);
  }
  return Status::Ok();
}

Expected<std::shared_ptr<DeviceEngine>> load(const Plan& plan) {
  INGOT_ASSIGN_OR_RETURN(auto e, CudaEngine::load(plan));
  return std::shared_ptr<DeviceEngine>(std::move(e));
}

const DeviceBackendRegistrar kRegisterCuda(DeviceBackend{"cuda", no_gpu_reason, fingerprint, select, load});

}  // namespace
}  // namespace ingot::backends::cuda
