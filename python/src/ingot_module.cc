// ingot._ingot: the Python binding of ingot's public C++ API (include/ingot/). python/ingot/__init__.py
// adds the keyword interface (build(model, **config), inspect, simplify, from_torch) on top.
//
// Arrays cross the boundary through DLPack / the buffer protocol (nanobind's ndarray): inputs on the CPU
// in C order are used where they lie (numpy arrays, torch tensors, DLPack capsules), outputs become numpy
// arrays over the engine's result tensors. The GIL is released while an engine is built, saved, loaded or
// run; one ExecutionContext serializes the threads that share it, different contexts run in parallel.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/filesystem.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/set.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/unique_ptr.h>
#include <nanobind/stl/vector.h>

#include <cstdint>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ingot/compare.h"
#include "ingot/engine.h"
#include "ingot/inspect.h"
#include "ingot/simplify.h"
#include "ingot/threading.h"

namespace nb = nanobind;
using namespace nb::literals;

namespace ingot::python {
namespace {

// Carries a Status to Python as ingot.Error, with the message the CLI prints (one line).
class Error : public std::exception {
 public:
  explicit Error(const Status& st) : message_(st.message()) {
    for (char& c : message_)
      if (c == '\n') c = ' ';
  }
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

void check(const Status& st) {
  if (!st.ok()) throw Error(st);
}

template <typename T>
T value_or_throw(Expected<T>&& e) {
  if (!e.ok()) throw Error(e.status());
  return std::move(e).value();
}

// Runs f with the GIL released (library work that touches no Python object).
template <typename F>
auto without_gil(F&& f) {
  nb::gil_scoped_release release;
  return f();
}

// The same for an f that returns Expected<T>: its value, or ingot.Error once the GIL is held again.
template <typename F>
auto value_without_gil(F&& f) {
  return value_or_throw(without_gil(std::forward<F>(f)));
}

// ---------------------------------------------------------------------------------------------------
// dtypes: ingot's (ONNX's) and DLPack's
// ---------------------------------------------------------------------------------------------------

struct DTypePair {
  DType ingot;
  nb::dlpack::dtype_code code;
  uint8_t bits;
};

constexpr DTypePair kDTypes[] = {
    {DType::kF32, nb::dlpack::dtype_code::Float, 32},     {DType::kF64, nb::dlpack::dtype_code::Float, 64},
    {DType::kF16, nb::dlpack::dtype_code::Float, 16},     {DType::kBF16, nb::dlpack::dtype_code::Bfloat, 16},
    {DType::kI8, nb::dlpack::dtype_code::Int, 8},         {DType::kI16, nb::dlpack::dtype_code::Int, 16},
    {DType::kI32, nb::dlpack::dtype_code::Int, 32},       {DType::kI64, nb::dlpack::dtype_code::Int, 64},
    {DType::kU8, nb::dlpack::dtype_code::UInt, 8},        {DType::kU16, nb::dlpack::dtype_code::UInt, 16},
    {DType::kU32, nb::dlpack::dtype_code::UInt, 32},      {DType::kU64, nb::dlpack::dtype_code::UInt, 64},
    {DType::kBool, nb::dlpack::dtype_code::Bool, 8},      {DType::kC64, nb::dlpack::dtype_code::Complex, 64},
    {DType::kC128, nb::dlpack::dtype_code::Complex, 128},
};

DType from_dlpack(nb::dlpack::dtype t) {
  if (t.lanes != 1) return DType::kUndefined;
  for (const DTypePair& p : kDTypes)
    if (static_cast<uint8_t>(p.code) == t.code && p.bits == t.bits) return p.ingot;
  return DType::kUndefined;
}

bool to_dlpack(DType d, nb::dlpack::dtype& out) {
  for (const DTypePair& p : kDTypes) {
    if (p.ingot == d) {
      out = {static_cast<uint8_t>(p.code), p.bits, 1};
      return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------
// arrays in and out
// ---------------------------------------------------------------------------------------------------

using CpuArray = nb::ndarray<nb::device::cpu, nb::c_contig>;

// A CPU array in C order (numpy, torch, anything with __dlpack__ or the buffer protocol; others are
// copied into C order by their framework first) as an ingot Tensor over the same memory. The Tensor
// keeps the array alive; the reference is dropped under the GIL.
Tensor to_tensor(const std::string& name, nb::handle value) {
  CpuArray arr;
  if (!nb::try_cast(value, arr, /*convert=*/true)) {
    const std::string type = nb::type_name(value.type()).c_str();
    throw nb::type_error(("input '" + name +
                          "': expected an array on the CPU (numpy array, torch tensor or " +
                          "DLPack capsule), got " + type)
                             .c_str());
  }
  const DType dtype = from_dlpack(arr.dtype());
  if (dtype == DType::kUndefined) {
    throw nb::type_error(("input '" + name + "': its element type has no ingot dtype").c_str());
  }
  Dims dims(arr.ndim());
  for (size_t i = 0; i < arr.ndim(); ++i) dims[i] = static_cast<int64_t>(arr.shape(i));
  auto* keep = new CpuArray(std::move(arr));
  std::shared_ptr<void> owner(keep, [](void* p) {
    nb::gil_scoped_acquire gil;
    delete static_cast<CpuArray*>(p);
  });
  return Tensor::wrap(dtype, std::move(dims), std::move(owner), keep->data());
}

// An output as a numpy array over the tensor's memory (no copy): the array owns a reference to it.
nb::object to_numpy(const std::string& name, Tensor t) {
  if (t.dtype() == DType::kString) {
    nb::list items;
    for (int64_t i = 0; i < t.numel(); ++i)
      items.append(nb::str(t.strings()[i].c_str(), t.strings()[i].size()));
    nb::object np = nb::module_::import_("numpy");
    return np.attr("array")(items, "dtype"_a = "object").attr("reshape")(nb::cast(t.dims()));
  }
  nb::dlpack::dtype dt;
  if (!to_dlpack(t.dtype(), dt)) {
    throw Error(unsupported("output '" + name + "' has type " + dtype_name(t.dtype()) +
                            ", which has no numpy dtype"));
  }
  std::vector<size_t> shape(t.dims().begin(), t.dims().end());
  auto* keep = new Tensor(std::move(t));
  nb::capsule owner(keep, [](void* p) noexcept { delete static_cast<Tensor*>(p); });
  nb::ndarray<nb::numpy> arr(keep->raw(), shape.size(), shape.data(), owner, nullptr, dt);
  return arr.cast();
}

// ---------------------------------------------------------------------------------------------------
// execution contexts
// ---------------------------------------------------------------------------------------------------

// One ExecutionContext: a context runs one request at a time, so threads sharing it take turns; each
// thread with a context of its own runs in parallel with the others.
class Context {
 public:
  explicit Context(std::shared_ptr<const Engine> engine)
      : engine_(engine), ctx_(std::make_unique<ExecutionContext>(std::move(engine))) {
    // Layer outputs read "name: float32[1,10]".
    for (const LayerInfo& l : engine_->layers())
      for (const std::string& o : l.outputs) computed_.insert(o.substr(0, o.rfind(": ")));
  }

  nb::dict run(const nb::dict& feeds) {
    std::map<std::string, Tensor> inputs;
    for (auto [key, value] : feeds) {
      if (!nb::isinstance<nb::str>(key)) {
        throw nb::type_error("inputs are given as {name: array}, with names as str");
      }
      const std::string name = nb::cast<std::string>(key);
      inputs[name] = to_tensor(name, value);
    }
    Expected<std::map<std::string, Tensor>> outputs = without_gil([&] {
      std::lock_guard<std::mutex> lock(mutex_);
      return ctx_->run(inputs);
    });
    if (outputs.ok()) {
      // The arrays returned are the caller's to write: an output that is a weight of the engine (no
      // layer computes it) or a view of an input gets memory of its own.
      for (auto& [name, t] : *outputs)
        if (!computed_.count(name) || shares_memory(t, inputs)) t = t.clone();
    }
    inputs.clear();
    std::map<std::string, Tensor> result = value_or_throw(std::move(outputs));
    nb::dict out;
    for (auto& [name, t] : result) out[nb::str(name.c_str(), name.size())] = to_numpy(name, std::move(t));
    return out;
  }

  const std::shared_ptr<const Engine>& engine() const { return engine_; }

 private:
  static bool shares_memory(const Tensor& t, const std::map<std::string, Tensor>& inputs) {
    const auto* p = static_cast<const uint8_t*>(t.raw());
    for (const auto& [_, in] : inputs) {
      const auto* q = static_cast<const uint8_t*>(in.raw());
      if (p && q && p < q + in.nbytes() && q < p + t.nbytes()) return true;
    }
    return false;
  }

  std::shared_ptr<const Engine> engine_;
  std::unique_ptr<ExecutionContext> ctx_;
  std::mutex mutex_;
  std::set<std::string> computed_;  // outputs some layer computes
};

std::vector<std::string> names_of(const std::vector<TensorInfo>& infos) {
  std::vector<std::string> names;
  for (const TensorInfo& t : infos) names.push_back(t.name);
  return names;
}

std::string dims_repr(const TensorInfo& t) {
  if (!t.rank_known) return "?";
  std::string s;
  for (size_t i = 0; i < t.dims.size(); ++i) {
    s += i ? ", " : "";
    s += t.dims[i] >= 0 ? std::to_string(t.dims[i]) : (t.dim_names[i].empty() ? "?" : t.dim_names[i]);
  }
  return s;
}

nb::dict report_dict(const SimplifyReport& r) {
  nb::dict d;
  d["nodes_before"] = r.nodes_before;
  d["nodes_after"] = r.nodes_after;
  d["ops_before"] = r.ops_before;
  d["ops_after"] = r.ops_after;
  return d;
}

SimplifyOptions simplify_options(std::map<std::string, Dims> input_shapes, std::set<std::string> disabled) {
  SimplifyOptions o;
  o.input_shapes = std::move(input_shapes);
  o.disabled_passes = std::move(disabled);
  return o;
}

// Calibration batches held in memory: what a Python ingot.Calibrator (or a list of {input: array}) gave,
// copied so that they outlive the Python objects.
class BatchCalibrator final : public Calibrator {
 public:
  explicit BatchCalibrator(std::vector<std::map<std::string, Tensor>> batches)
      : batches_(std::move(batches)) {}
  size_t num_batches() const override { return batches_.size(); }
  Expected<std::map<std::string, Tensor>> batch(size_t i, const std::vector<std::string>& inputs) override {
    std::map<std::string, Tensor> out;
    for (const std::string& name : inputs) {
      auto it = batches_.at(i).find(name);
      if (it == batches_[i].end())
        return not_found("calibration batch " + std::to_string(i) + " has no input '" + name + "'");
      out.emplace(name, it->second);
    }
    return out;
  }

 private:
  std::vector<std::map<std::string, Tensor>> batches_;
};

std::shared_ptr<Calibrator> batch_calibrator(const nb::list& batches) {
  std::vector<std::map<std::string, Tensor>> copied;
  for (nb::handle b : batches) {
    nb::dict d;
    if (!nb::try_cast(b, d)) throw nb::type_error("calibration batch: expected a dict {input name: array}");
    std::map<std::string, Tensor> batch;
    for (auto [key, value] : d) {
      const std::string name = nb::cast<std::string>(key);
      batch.emplace(name, to_tensor(name, value).clone());
    }
    copied.push_back(std::move(batch));
  }
  if (copied.empty()) throw nb::value_error("calibration data: no batches");
  return std::make_shared<BatchCalibrator>(std::move(copied));
}

}  // namespace
}  // namespace ingot::python

NB_MODULE(_ingot, m) {
  using namespace ingot;
  using ingot::python::Context;
  m.doc() = "ingot's C++ API; use the ingot package, which wraps it";

  nb::exception<ingot::python::Error>(m, "Error");

  m.def("version", &ingot::version, "The library's version, MAJOR.MINOR.PATCH");
  m.def(
      "set_num_threads", &ingot::set_num_threads, "n"_a,
      "Threads of the CPU pool for work started from the calling thread (OMP_NUM_THREADS sets the default)");
  m.def("num_threads", &ingot::num_threads, "Threads the calling thread's next parallel work gets");

  nb::class_<ShapeRange>(m, "ShapeRange", "A dynamic input's shapes: min, opt (tuned for) and max")
      .def(nb::init<>())
      .def(
          "__init__",
          [](ShapeRange* r, Dims min, Dims opt, Dims max) {
            new (r) ShapeRange{std::move(min), std::move(opt), std::move(max)};
          },
          "min"_a, "opt"_a, "max"_a)
      .def_rw("min", &ShapeRange::min)
      .def_rw("opt", &ShapeRange::opt)
      .def_rw("max", &ShapeRange::max)
      .def("__eq__", [](const ShapeRange& a, const ShapeRange& b) {
        return a.min == b.min && a.opt == b.opt && a.max == b.max;
      });

  // One def_rw per BuildConfig field: python/ingot/__init__.py turns every attribute here into a
  // keyword of ingot.build, so a new field needs only its line below.
  nb::class_<BuildConfig>(m, "BuildConfig", "How to build an engine (the options of `ingot build`)")
      .def(nb::init<>())
      .def_rw("shapes", &BuildConfig::shapes, "{input: dims}: fixes dynamic inputs (min = opt = max)")
      .def_rw("profile", &BuildConfig::profile, "{input: ShapeRange}: the optimization profile")
      .def_rw("disabled_passes", &BuildConfig::disabled_passes, "builder passes to skip, by name")
      .def_rw("dump_ir_after", &BuildConfig::dump_ir_after, "pass names (or 'all') to print the IR after")
      .def_rw("opt_level", &BuildConfig::opt_level,
              "0: tactics by heuristics; 1-3: every supporting tactic timed on this machine")
      .def_rw("device", &BuildConfig::device, "cpu (default) or cuda: the device to build for and run on")
      .def_rw("timing_cache", &BuildConfig::timing_cache,
              "timing cache file: read if it exists, written back with the new timings")
      .def_rw("progress", &BuildConfig::progress, "a progress bar on stderr while tuning")
      .def_rw("precision", &BuildConfig::precision,
              "fp32 (default), fp16, bf16, int8 or best: the precision of Conv/MatMul/Gemm layers")
      .def_rw("layer_precision", &BuildConfig::layer_precision,
              "{layer or model node name: precision}: per-layer overrides")
      .def_rw("accuracy_budget", &BuildConfig::accuracy_budget,
              "the largest max relative error against FP32 an int8 build may have on the calibration data: "
              "the most sensitive layers are kept in fp32 until it holds (0: none)")
      .def_prop_rw(
          "calib", [](const BuildConfig& c) { return c.calibration.calibrator; },
          [](BuildConfig& c, nb::handle v) {
            c.calibration.calibrator = v.is_none() ? nullptr : nb::cast<std::shared_ptr<Calibrator>>(v);
          },
          nb::for_setter(nb::arg("value").none()),
          "INT8 calibration data (ingot.build takes a folder of .npy files, an ingot.Calibrator or a list of "
          "{input: array})")
      .def_prop_rw(
          "calib_method",
          [](const BuildConfig& c) { return std::string(calibration_method_name(c.calibration.method)); },
          [](BuildConfig& c, const std::string& name) {
            c.calibration.method = ingot::python::value_or_throw(parse_calibration_method(name));
          },
          "entropy (default), minmax, percentile or mse")
      .def_prop_rw(
          "calib_percentile", [](const BuildConfig& c) { return c.calibration.percentile; },
          [](BuildConfig& c, double p) { c.calibration.percentile = p; },
          "the percentile of calib_method='percentile'")
      .def_prop_rw(
          "calib_cache", [](const BuildConfig& c) { return c.calibration.cache_path; },
          [](BuildConfig& c, const std::string& path) { c.calibration.cache_path = path; },
          "calibration cache file: read when it exists (no data needed), written after calibrating");

  nb::class_<Calibrator>(m, "CalibrationData", "INT8 calibration batches, as the builder reads them")
      .def_prop_ro("num_batches", &Calibrator::num_batches);
  m.def(
      "npy_dir_calibrator",
      [](const std::filesystem::path& dir) {
        return ingot::python::value_or_throw(npy_dir_calibrator(dir.string()));
      },
      "dir"_a);
  m.def("batch_calibrator", &ingot::python::batch_calibrator, "batches"_a);

  nb::class_<ErrorStats>(m, "ErrorStats", "How far an output is from its reference (ingot compare)")
      .def_ro("max_abs", &ErrorStats::max_abs)
      .def_ro("mean_abs", &ErrorStats::mean_abs)
      .def_ro("max_rel", &ErrorStats::max_rel, "max |got - ref| / max |ref|")
      .def_ro("mean_rel", &ErrorStats::mean_rel)
      .def_ro("cosine", &ErrorStats::cosine)
      .def_ro("top1", &ErrorStats::top1, "share of rows (last axis) whose argmax agrees; -1 for a scalar")
      .def_ro("failing", &ErrorStats::failing, "elements outside atol + rtol * |ref|")
      .def("__repr__", [](const ErrorStats& s) {
        return "ErrorStats(max_abs=" + std::to_string(s.max_abs) + ", max_rel=" + std::to_string(s.max_rel) +
               ", cosine=" + std::to_string(s.cosine) + ", top1=" + std::to_string(s.top1) + ")";
      });
  m.def(
      "compare_outputs",
      [](const std::string& name, nb::handle got, nb::handle ref, double atol, double rtol) {
        const Tensor g = ingot::python::to_tensor(name, got), r = ingot::python::to_tensor(name, ref);
        return ingot::python::value_or_throw(compare_outputs(name, g, r, atol, rtol));
      },
      "name"_a, "got"_a, "ref"_a, "atol"_a = -1.0, "rtol"_a = -1.0);

  nb::class_<TensorInfo>(m, "TensorInfo",
                         "A model input or output: dims[i] == -1 where known only at run time")
      .def_ro("name", &TensorInfo::name)
      .def_prop_ro("dtype", [](const TensorInfo& t) { return std::string(dtype_name(t.dtype)); })
      .def_ro("dims", &TensorInfo::dims)
      .def_ro("dim_names", &TensorInfo::dim_names)
      .def_ro("rank_known", &TensorInfo::rank_known)
      .def("__repr__", [](const TensorInfo& t) {
        return "TensorInfo(" + t.name + ": " + dtype_name(t.dtype) + "[" + ingot::python::dims_repr(t) + "])";
      });

  nb::class_<LayerInfo>(m, "LayerInfo", "One layer of a built engine, as `ingot inspect` shows it")
      .def_ro("name", &LayerInfo::name)
      .def_ro("op", &LayerInfo::op)
      .def_ro("fused", &LayerInfo::fused)
      .def_ro("precision", &LayerInfo::precision)
      .def_ro("precision_note", &LayerInfo::precision_note)
      .def_ro("reorders", &LayerInfo::reorders, "layout reorders its kernel runs at its boundaries, per run")
      .def_ro("tactic", &LayerInfo::tactic)
      .def_ro("inputs", &LayerInfo::inputs)
      .def_ro("outputs", &LayerInfo::outputs)
      .def_ro("in_place", &LayerInfo::in_place)
      .def("__repr__",
           [](const LayerInfo& l) { return "LayerInfo(" + l.name + ": " + l.op + ", " + l.tactic + ")"; });

  nb::class_<MemoryInfo>(m, "MemoryInfo", "An engine's memory plan")
      .def_ro("arena_bytes", &MemoryInfo::arena_bytes)
      .def_ro("naive_bytes", &MemoryInfo::naive_bytes)
      .def_ro("weight_bytes", &MemoryInfo::weight_bytes)
      .def_ro("planned_tensors", &MemoryInfo::planned_tensors)
      .def_ro("dynamic_tensors", &MemoryInfo::dynamic_tensors);

  nb::class_<AccuracyReport>(m, "AccuracyReport", "What an accuracy_budget build measured (Engine.accuracy)")
      .def_ro("measured", &AccuracyReport::measured, "False for engines built without a budget")
      .def_ro("budget", &AccuracyReport::budget)
      .def_ro("error_before", &AccuracyReport::error_before, "max relative error with every layer as asked")
      .def_ro("error", &AccuracyReport::error, "max relative error of the engine as built")
      .def_ro("batches", &AccuracyReport::batches, "calibration batches measured")
      .def_ro("kept", &AccuracyReport::kept, "[(layer, sensitivity)]: kept in fp32, most sensitive first");

  nb::class_<Context>(m, "ExecutionContext",
                      "Per-thread state over an engine (its own activation arena); run() takes {name: array}")
      .def("run", &Context::run, "inputs"_a,
           "Runs on every model input by name; returns {output name: numpy array}. The GIL is released "
           "while it runs.")
      .def_prop_ro("engine", [](const Context& c) { return std::const_pointer_cast<Engine>(c.engine()); });

  nb::class_<Engine>(m, "Engine", "A built engine: build it with ingot.build, or load a file with ingot.load")
      .def(
          "save",
          [](const Engine& e, const std::filesystem::path& path) {
            ingot::python::check(ingot::python::without_gil([&] { return e.save(path.string()); }));
          },
          "path"_a, "Writes the engine file atomically")
      .def_prop_ro("inputs", &Engine::inputs)
      .def_prop_ro("outputs", &Engine::outputs)
      .def_prop_ro("input_names", [](const Engine& e) { return ingot::python::names_of(e.inputs()); })
      .def_prop_ro("output_names", [](const Engine& e) { return ingot::python::names_of(e.outputs()); })
      .def(
          "create_context", [](const Engine& e) { return std::make_unique<Context>(e.shared_from_this()); },
          "A new execution context (one per thread runs in parallel)")
      .def_prop_ro("layers", &Engine::layers)
      .def_prop_ro("memory", &Engine::memory)
      .def_prop_ro("profile", &Engine::profile)
      .def_prop_ro("source", &Engine::source)
      .def_prop_ro("accuracy", &Engine::accuracy)
      .def_prop_ro("platform", &Engine::platform)
      .def_prop_ro("built_by", &Engine::built_by)
      .def("__repr__", [](const Engine& e) {
        return "<ingot.Engine of " + e.source() + ": " + std::to_string(e.inputs().size()) + " inputs, " +
               std::to_string(e.outputs().size()) + " outputs>";
      });

  m.def("inspect_json", &ingot::inspect_json, "engine"_a, "`ingot inspect --json -` of an engine");
  m.def(
      "build_file",
      [](const std::filesystem::path& path, const BuildConfig& config) {
        return ingot::python::value_without_gil(
            [&] { return Engine::from_onnx_file(path.string(), config); });
      },
      "path"_a, "config"_a);
  m.def(
      "build_bytes",
      [](nb::bytes model, const BuildConfig& config) {
        const std::string bytes(model.c_str(), model.size());
        return ingot::python::value_without_gil([&] { return Engine::from_onnx_bytes(bytes, config); });
      },
      "model"_a, "config"_a);
  m.def(
      "load",
      [](const std::filesystem::path& path) {
        return ingot::python::value_without_gil([&] { return Engine::load(path.string()); });
      },
      "path"_a, "Loads an engine file written by Engine.save (built on this machine by this ingot version)");

  m.def(
      "simplify_file",
      [](const std::filesystem::path& in_path, const std::filesystem::path& out_path,
         std::map<std::string, Dims> input_shapes, std::set<std::string> disabled) {
        const SimplifyOptions o =
            ingot::python::simplify_options(std::move(input_shapes), std::move(disabled));
        return ingot::python::report_dict(ingot::python::value_without_gil(
            [&] { return simplify_onnx_file(in_path.string(), out_path.string(), o); }));
      },
      "in_path"_a, "out_path"_a, "input_shapes"_a, "disabled_passes"_a);
  m.def(
      "simplify_bytes",
      [](nb::bytes model, std::map<std::string, Dims> input_shapes, std::set<std::string> disabled) {
        const SimplifyOptions o =
            ingot::python::simplify_options(std::move(input_shapes), std::move(disabled));
        const std::string bytes(model.c_str(), model.size());
        SimplifiedModel s = ingot::python::value_without_gil([&] { return simplify_onnx_bytes(bytes, o); });
        return nb::make_tuple(nb::bytes(s.onnx.data(), s.onnx.size()), ingot::python::report_dict(s.report));
      },
      "model"_a, "input_shapes"_a, "disabled_passes"_a);
  m.def("simplify_pass_names", &ingot::simplify_pass_names);

  // For the tests: the address an input's data has once converted as run() converts it, to check that
  // arrays are used where they lie.
  m.def("_input_address", [](nb::handle value) {
    ingot::Tensor t = ingot::python::to_tensor("x", value);
    return reinterpret_cast<uintptr_t>(t.raw());
  });
}
