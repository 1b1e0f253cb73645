// The compiled plan: what the builder produces and the runtime executes. An ordered list of layers
// (op, attributes, tactic, input/output tensor ids), a tensor table (dtype, shape, arena offset) and
// the weights. It is written into engine files (engine_file.h) and read back from them.
//
// Layers keep their attributes in ir::Attribute form, because the reference tactics read them through
// the op definitions; the runtime never sees a Graph (If/Loop/Scan bodies excepted: those layers keep
// their subgraph and exist only in engines built in memory, which cannot be saved).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ingot/engine.h"
#include "ingot/tensor.h"
#include "ir/graph.h"

namespace ingot::engine {

enum class TensorKind : uint8_t { kInput = 0, kOutput = 1, kWeight = 2, kActivation = 3 };
const char* tensor_kind_name(TensorKind k);

struct PlanTensor {
  std::string name;
  DType dtype = DType::kUndefined;
  TensorKind kind = TensorKind::kActivation;
  bool rank_known = true;
  Dims dims;                             // -1 where only known at run time
  std::vector<std::string> dim_symbols;  // per dim, "" when unnamed
  int64_t max_bytes = -1;                // size under the profile's max shapes; -1 unknown
  int64_t arena_offset = -1;             // planned place in the context's arena; -1 allocated when produced
  int32_t alias_of = -1;  // a view of this tensor's memory (Reshape, Flatten ...): shares its place
  Tensor weight;          // kWeight: the value (maps into the engine file when loaded)
};

struct PlanLayer {
  std::string name;
  std::string domain;
  std::string op_type;
  int opset = 0;
  std::map<std::string, ir::Attribute> attrs;
  std::vector<int32_t> inputs;   // -1 for an omitted optional input
  std::vector<int32_t> outputs;  // -1 for an omitted optional output
  std::string tactic = "reference";
  std::string precision = "fp32";  // "fp32", "fp16", "bf16", "int8"
  std::string precision_note;      // why the layer runs in another precision than the one asked for
  std::vector<std::string> fused;  // the model's nodes this layer stands for, "Op:name"
  int32_t in_place_input = -1;     // output 0 overwrites this input's memory (elementwise layers)
  // In-memory engines only: the layer runs subgraphs (If/Loop/Scan) which read these enclosing values.
  bool has_subgraph = false;
  std::vector<std::pair<const ir::Value*, int32_t>> outer_reads;
};

// Attributes of an int8 layer, for its tactic: the scale of input 0 (x ≈ scale * q) and whether it is
// quantized to u8 (it is never negative) rather than s8.
inline constexpr const char* kQuantScaleAttr = "quant_x_scale";
inline constexpr const char* kQuantUnsignedAttr = "quant_x_unsigned";
// Activations kept quantized between int8 layers (the cpu backend's int8 plan pass): the tensor is u8 in
// NHWC order (its dims stay NCHW), x ≈ scale * (q - zp) with zp 0 where the tensor is never negative
// ("unsigned") and 128 otherwise; or, where the tensor's dtype says s8 (a signed one on a CPU with VNNI),
// x ≈ scale * q. The layers that read and write it say so: kQuantXInt8Attr (1: X arrives
// so, at kQuantScaleAttr), Y's and the residual Z's scale and signedness. The cuda backend's pass
// (keep_int8_activations) keeps s8 only, channels-last, at the scale in the attributes (unsigned 0).
inline constexpr const char* kQuantXInt8Attr = "quant_x_int8";
inline constexpr const char* kQuantYScaleAttr = "quant_y_scale";
inline constexpr const char* kQuantYUnsignedAttr = "quant_y_unsigned";
inline constexpr const char* kQuantZScaleAttr = "quant_z_scale";
inline constexpr const char* kQuantZUnsignedAttr = "quant_z_unsigned";
// The calibrated scale of an int8 layer's residual Z (FusedConv input 3), for the int8 plan pass when no
// layer reads that tensor as its X.
inline constexpr const char* kQuantZCalibScaleAttr = "quant_z_calib_scale";
inline constexpr const char* kQuantZCalibUnsignedAttr = "quant_z_calib_unsigned";
// Zero points (u8 terms, 0..255) other than the defaults (0 unsigned, 128 signed): Q/DQ models' own.
// One per scale attribute above, named after it.
inline std::string zero_point_attr(const char* scale_attr) { return std::string(scale_attr) + "_zero_point"; }

// Per dynamic input, the range of shapes the engine accepts (trtexec's --min/opt/maxShapes).
struct ProfileEntry {
  std::string input;
  Dims min, opt, max;
};

struct Plan {
  std::string source;
  std::string platform;       // the fingerprint of the machine it was built for
  std::string ingot_version;  // the ingot that built it
  std::vector<PlanTensor> tensors;
  std::vector<PlanLayer> layers;
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;
  std::vector<ProfileEntry> profile;
  AccuracyReport accuracy;  // what an --accuracy-budget build measured
  int64_t arena_bytes = 0;
  int64_t naive_bytes = 0;  // the sum of every planned activation's size: what allocating each alone costs
  // Keeps subgraphs (in-memory engines only) and the mapped engine file alive.
  std::vector<std::shared_ptr<const void>> keep_alive;
};

// Whether an attribute can be written into an engine file (graphs and type protos cannot).
bool attribute_serializable(const ir::Attribute& a);

}  // namespace ingot::engine
