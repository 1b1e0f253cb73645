// ingot's public C++ API: build an engine from an ONNX model, create execution contexts, run.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "ingot/calibrator.h"
#include "ingot/status.h"
#include "ingot/tensor.h"

namespace ingot {

// A model input or output as the engine sees it; dims[i] == -1 where the size is only known at run
// time, then dim_names[i] names it ("batch") when the model does.
struct TensorInfo {
  std::string name;
  DType dtype = DType::kUndefined;
  Dims dims;
  std::vector<std::string> dim_names;
  bool rank_known = true;
};

// The range of shapes a dynamic input accepts (trtexec's --minShapes/--optShapes/--maxShapes).
struct ShapeRange {
  Dims min, opt, max;
};

struct BuildConfig {
  // Input shapes fixed at build time ("input" -> {1, 3, 224, 224}); min = opt = max.
  std::map<std::string, Dims> shapes;
  // Optimization profile: per dynamic input the shapes it will run at. Tuned at opt, memory planned
  // for max, runtime shapes outside [min, max] refused.
  std::map<std::string, ShapeRange> profile;
  std::set<std::string> disabled_passes;  // by pass name (see `ingot build --list-passes`)
  std::set<std::string> dump_ir_after;    // pass names, or "all"
  // 0: tactics chosen by heuristics, no timing; 1-3: every supporting tactic timed on this machine, with
  // more repeats and fewer candidates dropped after their warm-up at each level (3: none dropped).
  int opt_level = 1;
  // Precision of the compute layers (Conv, MatMul, Gemm and their fused forms): "fp32" (default),
  // "fp16", "bf16", "int8" or "best" (int8 where calibrated, else fp16/bf16 where the CPU has kernels,
  // else fp32). A layer with no kernel in the precision asked for falls back to a higher one, and the
  // engine says why (LayerInfo::precision_note). Inputs and outputs stay fp32.
  std::string precision = "fp32";
  // Per layer (its name, or the name of a model node it stands for): the precision it must have.
  std::map<std::string, std::string> layer_precision;
  // INT8 scales: the calibration data, method and cache (precision int8 or best).
  CalibrationConfig calibration;
  // With int8 or best and calibration data: the largest error the outputs may have against the FP32
  // model's, as `ingot compare` measures it (max relative error: |got - ref| / max |ref|, the worst output on
  // the worst of up to 8 calibration batches). The builder measures each int8 layer's sensitivity (the error
  // with that layer alone in int8), keeps the most sensitive layers in fp32 until the outputs are within the
  // budget, and says so in their precision_note and in Engine::accuracy(). 0: no budget.
  double accuracy_budget = 0;
  // A timing cache file (read if it exists, written back with the new timings): a rebuild on the same
  // machine skips the timing of every layer it has seen. Empty: none.
  std::string timing_cache;
  bool progress = false;  // a progress bar on stderr while tuning
  // "cpu" or "cuda": the device the engine is built (and tuned) for, and runs on.
  std::string device = "cpu";
};

// Where a device engine's last run spent its time (trtexec's H2D / GPU compute / D2H), milliseconds
// measured with device events. valid is false on the CPU.
struct DeviceTiming {
  bool valid = false;
  double h2d_ms = 0, compute_ms = 0, d2h_ms = 0;
};

// One layer of a built engine, as `ingot inspect` shows it.
struct LayerInfo {
  std::string name;
  std::string op;                  // "Conv", "ingot.FusedConv" ...
  std::vector<std::string> fused;  // the model's nodes it stands for ("Conv:conv1", "Relu:relu1")
  std::string precision;
  std::string precision_note;  // why the layer runs in another precision than the one asked for
  std::string tactic;
  std::vector<std::string> inputs;  // "name: float32[1,3,224,224]"
  std::vector<std::string> outputs;
  bool in_place = false;
  int reorders = 0;  // layout reorders of activations its kernel runs at its boundaries, per run
};

// What an --accuracy-budget build measured (Engine::accuracy); measured is false for other builds.
struct AccuracyReport {
  bool measured = false;
  double budget = 0;
  double error_before = 0;  // with every layer in the precision asked for
  double error = 0;         // the engine as built
  int batches = 0;          // calibration batches the errors were measured on
  // The layers kept in fp32 to meet the budget, most sensitive first, with their sensitivity (the error
  // with that layer alone in int8).
  std::vector<std::pair<std::string, double>> kept;
};

struct MemoryInfo {
  int64_t arena_bytes = 0;  // one arena per execution context
  int64_t naive_bytes = 0;  // every activation allocated on its own
  int64_t weight_bytes = 0;
  int64_t planned_tensors = 0;  // activations with a place in the arena
  int64_t dynamic_tensors = 0;  // activations allocated when produced (size unknown at build time)
};

// Time spent in one layer over the profiled runs of an execution context (`ingot bench --dump-profile`).
struct LayerTime {
  std::string name;
  std::string op;
  std::string tactic;
  double total_ms = 0;
  int64_t runs = 0;
};

class ExecutionContext;

class Engine : public std::enable_shared_from_this<Engine> {
 public:
  // Imports, simplifies, fuses and plans an ONNX model into an engine. Errors name the file and the node
  // or tensor.
  static Expected<std::shared_ptr<Engine>> from_onnx_file(const std::string& path,
                                                          const BuildConfig& config = {});
  static Expected<std::shared_ptr<Engine>> from_onnx_bytes(const std::string& bytes,
                                                           const BuildConfig& config = {});
  // Loads an engine file written by save(). The file is mapped, not copied; an engine built on another
  // platform or by another ingot version is refused.
  static Expected<std::shared_ptr<Engine>> load(const std::string& path);
  // Writes the engine file atomically (a temporary file renamed into place).
  Status save(const std::string& path) const;
  ~Engine();

  const std::vector<TensorInfo>& inputs() const;
  const std::vector<TensorInfo>& outputs() const;
  std::unique_ptr<ExecutionContext> create_context() const;

  std::vector<LayerInfo> layers() const;
  MemoryInfo memory() const;
  // Per input the optimization profile (empty when the engine has no dynamic input in it).
  std::map<std::string, ShapeRange> profile() const;
  std::string source() const;       // the model it was built from
  std::string platform() const;     // the platform fingerprint it was built (tuned) for
  std::string built_by() const;     // the ingot version that built it
  std::string device() const;       // "cpu" or "cuda"
  AccuracyReport accuracy() const;  // what an --accuracy-budget build measured

  struct Impl;
  static std::shared_ptr<Engine> create(std::unique_ptr<Impl> impl);

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  friend class ExecutionContext;
};

// Per-thread state over a shared Engine: its own activation arena. Several contexts of one engine may
// run at once in different threads.
class ExecutionContext {
 public:
  explicit ExecutionContext(std::shared_ptr<const Engine> engine);
  ~ExecutionContext();
  // Runs on named inputs (every model input must be given, with the model's dtype and a shape that
  // fits its declared dims and the engine's profile) and returns every output by name.
  Expected<std::map<std::string, Tensor>> run(const std::map<std::string, Tensor>& inputs);
  // Device engines: runs the layers again on the inputs of the last run() already on the device, with
  // no copy (bench --no-data-transfers). Fails on the CPU or before a first run().
  Status run_device_only();
  DeviceTiming last_device_timing() const;

  // Per-layer timing of the runs that follow (off by default: it reads the clock twice per layer).
  // Turning it on clears what was gathered before.
  void set_profiling(bool on);
  // Per layer, in execution order, the time gathered since profiling was turned on.
  std::vector<LayerTime> profile() const;

 private:
  std::shared_ptr<const Engine> engine_;
  struct State;
  std::unique_ptr<State> state_;
};

// The library's version, "MAJOR.MINOR.PATCH".
const char* version();

}  // namespace ingot
