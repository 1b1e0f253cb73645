// ingot's public C++ API: build an engine from an ONNX model, create execution contexts, run.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

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

struct BuildConfig {
  // Input shapes fixed at build time ("input" -> {1, 3, 224, 224}); others stay dynamic.
  std::map<std::string, Dims> shapes;
};

class ExecutionContext;

class Engine : public std::enable_shared_from_this<Engine> {
 public:
  // Imports, checks and prepares an ONNX model. Errors name the file and the node or tensor.
  static Expected<std::shared_ptr<Engine>> from_onnx_file(const std::string& path, const BuildConfig& config = {});
  static Expected<std::shared_ptr<Engine>> from_onnx_bytes(const std::string& bytes, const BuildConfig& config = {});
  ~Engine();

  const std::vector<TensorInfo>& inputs() const;
  const std::vector<TensorInfo>& outputs() const;
  std::unique_ptr<ExecutionContext> create_context() const;

  struct Impl;
  static std::shared_ptr<Engine> create(std::unique_ptr<Impl> impl);

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  friend class ExecutionContext;
};

// Per-thread state over a shared Engine.
class ExecutionContext {
 public:
  explicit ExecutionContext(std::shared_ptr<const Engine> engine);
  // Runs on named inputs (every model input must be given, with the model's dtype and a shape that
  // fits its declared dims) and returns every output by name.
  Expected<std::map<std::string, Tensor>> run(const std::map<std::string, Tensor>& inputs);

 private:
  std::shared_ptr<const Engine> engine_;
};

// The library's version, "MAJOR.MINOR.PATCH".
const char* version();

}  // namespace ingot
