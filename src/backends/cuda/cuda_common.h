// The CUDA backend's shared pieces: error checks, device tensors, the layer interface and the registry
// of CUDA tactics (src/backends/cuda/README.md says how a plan runs on the GPU).
#pragma once

#include <cstdlib>
#include <string>

#include <cublasLt.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backends/cuda/kernels.h"
#include "engine/plan.h"
#include "ingot/status.h"

namespace ingot::backends::cuda {

Status cuda_status(cudaError_t e, const char* what);
Status cudnn_status(cudnnStatus_t e, const char* what);
Status cublas_status(cublasStatus_t e, const char* what);

#define INGOT_CUDA_OK(call) INGOT_RETURN_IF_ERROR(::ingot::backends::cuda::cuda_status((call), #call))
#define INGOT_CUDNN_OK(call) INGOT_RETURN_IF_ERROR(::ingot::backends::cuda::cudnn_status((call), #call))
#define INGOT_CUBLAS_OK(call) INGOT_RETURN_IF_ERROR(::ingot::backends::cuda::cublas_status((call), #call))
// After a kernel launch: the launch error, if any.
#define INGOT_CUDA_LAUNCHED() INGOT_CUDA_OK(cudaPeekAtLastError())

// A tensor in device memory. dtype is the storage type (FP16 for float tensors of an --fp16 engine).
struct DevTensor {
  DType dtype = DType::kUndefined;
  Dims dims;
  void* ptr = nullptr;
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    return n;
  }
  bool half() const { return dtype == DType::kF16; }
};

struct Handles {
  cudnnHandle_t cudnn = nullptr;
  cublasLtHandle_t lt = nullptr;
};

struct Launch {
  cudaStream_t stream = nullptr;
  const Handles* handles = nullptr;
  std::vector<DevTensor> in;  // per layer input (ptr null for an omitted one)
  std::vector<DevTensor> out;
  void* workspace = nullptr;
  size_t workspace_bytes = 0;
};

class CudaLayer {
 public:
  virtual ~CudaLayer() = default;
  virtual Status enqueue(const Launch& l) const = 0;
  virtual size_t workspace_bytes() const { return 0; }
};

// What a CUDA tactic sees when it prepares a layer.
struct LayerBuild {
  const engine::PlanLayer& layer;
  const std::vector<engine::PlanTensor>& tensors;
  bool fp16 = false;
  const Handles* handles = nullptr;
  // Weight inputs already on the device (storage type), per layer input; ptr null when not a weight.
  std::vector<DevTensor> weights;
  // Tuning (at build only): device buffers for the layer's inputs (random) and outputs, and a stream.
  // Tactics with candidates time them here and return their pick in `choice`; at load, `choice` holds
  // the pick read back from the engine (attribute "cuda_choice") and no timing happens.
  bool tune = false;
  int opt_level = 2;  // --opt-level: 3 times every candidate a tactic has, lower levels the likeliest few
  bool own_kernels =
      true;  // false: tactics leave ingot's own kernels out of their candidates where they have others
  Launch* tuning = nullptr;
  int64_t choice = -1;

  const engine::PlanTensor& in(size_t i) const { return tensors[layer.inputs[i]]; }
  const engine::PlanTensor& out(size_t i) const { return tensors[layer.outputs[i]]; }
  bool has_in(size_t i) const { return i < layer.inputs.size() && layer.inputs[i] >= 0; }
  bool is_weight(size_t i) const { return has_in(i) && in(i).kind == engine::TensorKind::kWeight; }
  int64_t attr_int(const std::string& name, int64_t dflt) const;
  float attr_float(const std::string& name, float dflt) const;
  std::string attr_string(const std::string& name, const std::string& dflt) const;
  std::vector<int64_t> attr_ints(const std::string& name) const;
  // Whether input i / output o is kept channels-last (layout.cc).
  bool nhwc_in(size_t i) const;
  bool nhwc_out(size_t o) const;
};

// The epilogue activation of an ingot.FusedConv / FusedMatMul layer (attributes activation,
// activation_alpha, activation_beta), or an error naming one ingot's kernels do not have.
Expected<kernels::FnParams> fused_activation(const LayerBuild& b);

// Whether the environment variable is set to something other than "" or "0" (the backend's switches).
inline bool env_on(const char* name) {
  const char* e = std::getenv(name);
  return e && *e && std::string(e) != "0";
}

// Whether a convolution layer's cuda_choice is one of ingot's own kernels (conv_cudnn.cc).
bool own_kernel_choice(int64_t choice);

// Marks the plan's channels-last tensors (attribute cuda_nhwc of the layers touching them).
void assign_layouts(engine::Plan& plan);

// The int8 convolution tactic (conv_int8.cc), and its plan pass: the activations that an int8 convolution
// writes and only int8 convolutions read become s8 tensors (the layers' quant_* attributes say their scales).
// With through_pools, max pooling between such layers keeps its input and output int8 too. Returns how many
// tensors it kept.
inline constexpr const char* kInt8ConvTactic = "cuda.cudnn.conv.int8";
int keep_int8_activations(engine::Plan& plan, bool fp16, bool through_pools);

struct CudaTactic {
  const char* id = "";
  // "" when the tactic runs the layer, else why not.
  std::string (*supports)(const LayerBuild& b) = nullptr;
  Expected<std::unique_ptr<CudaLayer>> (*prepare)(LayerBuild& b) = nullptr;
};

template <typename T, typename... Args>
Expected<std::unique_ptr<CudaLayer>> make_layer(Args&&... args) {
  return std::unique_ptr<CudaLayer>(std::make_unique<T>(std::forward<Args>(args)...));
}

struct CudaTacticRegistrar {
  explicit CudaTacticRegistrar(const CudaTactic& t);
};
const std::vector<CudaTactic>& cuda_tactics();
const CudaTactic* find_cuda_tactic(const std::string& id);

// Times `fn` on the stream with CUDA events: the median of `repeats` runs after one warm-up, in ms;
// negative when it failed.
double median_ms(cudaStream_t s, int repeats, const std::function<Status()>& fn);

}  // namespace ingot::backends::cuda

#define INGOT_REGISTER_CUDA_TACTIC(ID, ...)                               \
  static const ::ingot::backends::cuda::CudaTacticRegistrar INGOT_CONCAT( \
      kIngotCudaTactic_, ID)(::ingot::backends::cuda::CudaTactic{__VA_ARGS__})
