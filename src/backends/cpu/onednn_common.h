// What the oneDNN tactics share: the CPU engine, per-thread scratch memory, the fused epilogue as
// post-ops, a per-shape cache of primitives for layers whose shapes are only known at run time, and
// the checks every tactic makes on its layer.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <oneapi/dnnl/dnnl.hpp>

#include "backends/tactic.h"

namespace ingot::backends::cpu {

// The one oneDNN CPU engine of the process. Primitives created on it may run concurrently.
const dnnl::engine& onednn_engine();

// Per-thread scratch buffers (64-byte aligned, grown as needed, kept for the thread's life): a kernel
// uses `slot` 0..kScratchSlots-1 for its reordered activations and oneDNN's scratchpad (the last slot)
// during one run.
constexpr int kScratchSlots = 8;
// The slot of the SIMD gemm's A panels (SimdKernels::gemm_packed's workspace), taken inside pool tasks.
constexpr int kGemmScratchSlot = 4;
// A fifth activation buffer of the SIMD convolutions (cpu.ingot.conv_gemm's blocked residual).
constexpr int kExtraScratchSlot = 5;
// A's packed row tiles, shared by the pool's tasks of one product (run_packed_gemm, on the calling thread).
constexpr int kGemmPackedASlot = 6;
void* thread_scratch(int slot, size_t bytes);

// Gives a primitive run its scratchpad (user mode) from this thread's scratch, when it needs one.
void add_scratchpad(std::unordered_map<int, dnnl::memory>& args, const dnnl::memory::desc& md);

dnnl::memory::dims to_dnnl_dims(const Dims& d);
// The plain row-major tag of a rank (a, ab, abc ... abcdef).
dnnl::memory::format_tag plain_tag(size_t rank);
dnnl::memory::desc plain_f32_desc(const Dims& d);

// Appends the layer's `activation` (ingot.FusedConv / FusedMatMul attributes) to `ops` as eltwise
// post-ops. Returns why not when oneDNN has no exact equivalent; "" when done (or no activation).
std::string append_activation(const ir::Node& node, dnnl::post_ops& ops);

inline constexpr const char* kConvTactic = "cpu.onednn.conv";
inline constexpr const char* kConvPlainTactic = "cpu.onednn.conv.nchw";
// BF16 convolution (layers built with --bf16): X and W rounded to bfloat16, fp32 accumulation and output.
inline constexpr const char* kConvBf16Tactic = "cpu.onednn.conv.bf16";
inline constexpr const char* kPoolTactic = "cpu.onednn.pool";

// Attributes the layout pass (onednn_layouts.cc) gives a layer whose X, Y or residual Z is kept in a
// blocked layout agreed with its neighbours ("nChw8c" / "nChw16c").
inline constexpr const char* kSrcLayout = "tactic_src_layout";
inline constexpr const char* kDstLayout = "tactic_dst_layout";
inline constexpr const char* kZLayout = "tactic_z_layout";
// The layout a layout attribute names: undef when absent (plain), any for a name not known.
dnnl::memory::format_tag layout_tag(const ir::Node& node, const char* attr);
// "" when the layer's layout attributes are known names, on a static 4-D X; else why not.
std::string check_layouts(const ir::Node& node, const engine::PlanTensor& x);
// plain_f32_desc for undef, else the blocked desc of that tag.
dnnl::memory::desc f32_desc_in(const Dims& d, dnnl::memory::format_tag tag);

// Who writes and reads each tensor of a plan, for the plan passes that agree on an activation's form
// between its producer and its readers.
struct TensorUses {
  std::vector<int> producer;  // the layer whose output 0 it is; -1 none; -2 another output
  std::vector<std::vector<std::pair<int, size_t>>> readers;  // (layer, input slot)
  std::vector<bool> fixed;  // model outputs, views, viewed tensors and subgraph reads: keep their form
};
TensorUses tensor_uses(const engine::Plan& plan);

// "" when t is present, float32 and of known rank; else why not, naming `what`.
std::string check_f32(const engine::PlanTensor* t, const char* what);
bool dims_static(const Dims& d);

// "layer 'name': oneDNN: <what>" as a Status.
Status onednn_failure(const std::string& layer, const std::string& what);

// Instances (primitives and packed weights) per input shape, for layers with run-time shapes. Built
// once per shape under a lock; the instances are never freed before the kernel, so pointers stay valid.
template <typename Instance>
class ShapeCache {
 public:
  template <typename Make>
  Expected<const Instance*> get(const Dims& key, Make&& make) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second.get();
    Expected<std::unique_ptr<Instance>> made = make();
    if (!made.ok()) return made.status();
    const Instance* p = made->get();
    cache_.emplace(key, std::move(*made));
    return p;
  }

 private:
  mutable std::mutex mu_;
  mutable std::map<Dims, std::unique_ptr<Instance>> cache_;
};

}  // namespace ingot::backends::cpu
