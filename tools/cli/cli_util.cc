#include "cli_util.h"

#include <unistd.h>

#include <cmath>
#include <iostream>
#include <set>

namespace ingot::cli {

int report(const Status& st) {
  if (st.ok()) return kExitOk;
  std::string msg = st.message();
  for (char& c : msg)
    if (c == '\n') c = ' ';
  std::cerr << "ingot: error: " << msg << "\n";
  return st.code() == StatusCode::kUsage ? kExitUsage : kExitError;
}

Expected<std::map<std::string, Dims>> parse_shapes(const std::vector<std::string>& specs,
                                                   const std::string& flag) {
  std::map<std::string, Dims> out;
  for (const std::string& joined : specs) {
    size_t start = 0;
    while (start <= joined.size()) {
      size_t comma = joined.find(',', start);
      std::string spec = joined.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      start = comma == std::string::npos ? joined.size() + 1 : comma + 1;
      if (spec.empty()) continue;
      size_t colon = spec.rfind(':');
      if (colon == std::string::npos || colon == 0) {
        return Status(StatusCode::kUsage,
                      flag + " expects NAME:DIMS such as input:1x3x224x224, got '" + spec + "'");
      }
      std::string name = spec.substr(0, colon), dims_s = spec.substr(colon + 1);
      Dims dims;
      if (dims_s != "scalar" && !dims_s.empty()) {
        size_t p = 0;
        while (p <= dims_s.size()) {
          size_t x = dims_s.find_first_of("x*", p);
          std::string d = dims_s.substr(p, x == std::string::npos ? std::string::npos : x - p);
          char* end = nullptr;
          long long v = std::strtoll(d.c_str(), &end, 10);
          if (d.empty() || *end != '\0' || v < 0 || v > (1LL << 40)) {
            return Status(StatusCode::kUsage, flag + ": bad dimension '" + d + "' in '" + spec + "'");
          }
          dims.push_back(v);
          p = x == std::string::npos ? dims_s.size() + 1 : x + 1;
        }
      }
      out[name] = dims;
    }
  }
  return out;
}

Expected<std::pair<std::string, std::string>> parse_binding(const std::string& spec,
                                                            const std::string& flag) {
  size_t eq = spec.rfind('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
    return Status(StatusCode::kUsage, flag + " expects NAME=FILE.npy, got '" + spec + "'");
  }
  return std::make_pair(spec.substr(0, eq), spec.substr(eq + 1));
}

std::string sanitize_file_name(const std::string& name) {
  std::string s = name;
  for (char& c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok) c = '_';
  }
  if (s.empty() || s == "." || s == "..") s = "_" + s;
  return s;
}

}  // namespace ingot::cli

#include <fstream>

#include "core/dispatch.h"
#include "core/npy.h"
#include "core/threading.h"

namespace ingot::cli {

void add_build_options(CLI::App* app, BuildOptions& opt) {
  app->add_option("--shapes", opt.shapes,
                  "NAME:DIMS (e.g. input:1x3x224x224): fixes a dynamic input's shape");
  app->add_option("--min-shapes", opt.min_shapes,
                  "NAME:DIMS: the smallest shape of a dynamic input (profile)");
  app->add_option("--opt-shapes", opt.opt_shapes, "NAME:DIMS: the shape to tune for (profile)");
  app->add_option("--max-shapes", opt.max_shapes,
                  "NAME:DIMS: the largest shape (profile; memory is planned for it)");
  app->add_option("--disable-pass", opt.disabled_passes, "skip a builder pass by name");
  app->add_option("--dump-ir-after", opt.dump_ir_after,
                  "print the IR after the named pass ('all' for every pass)");
  app->add_option(
         "--opt-level", opt.opt_level,
         "0: tactics chosen by heuristics, no timing; 1-3: every supporting tactic timed (default 1)")
      ->check(CLI::Range(0, 3));
  app->add_option("--timing-cache", opt.timing_cache,
                  "timing cache FILE: read when it exists (layers seen before are not timed again), then "
                  "written back with the new timings");
  app->add_option("--threads", opt.threads,
                  "CPU threads to tune and run with (default: all cores or OMP_NUM_THREADS)")
      ->check(CLI::Range(1, 1024));
  app->add_option("--device", opt.device, "cpu or cuda: the device to build for and run on (default cpu)")
      ->check(CLI::IsMember({"cpu", "cuda"}));
  // Precision.
  app->add_flag("--fp16", opt.fp16, "run Conv/MatMul/Gemm layers in fp16 where this CPU has fp16 kernels");
  app->add_flag("--bf16", opt.bf16, "run Conv/MatMul/Gemm layers in bf16 where this CPU has bf16 kernels");
  app->add_flag("--int8", opt.int8, "run Conv/MatMul/Gemm layers in int8 (needs --calib or --calib-cache)");
  app->add_flag("--best", opt.best, "the fastest precision each layer has (int8 where calibrated)");
  app->add_option("--layer-precision", opt.layer_precision,
                  "NAME:PRECISION (fp32, fp16, bf16, int8): the precision of one layer or model node");
  app->add_option("--calib", opt.calib_dir,
                  "calibration data: DIR/*.npy (one batch each) or DIR/<input name>/*.npy");
  app->add_option("--calib-method", opt.calib_method, "entropy (default), minmax, percentile or mse");
  app->add_option("--calib-percentile", opt.calib_percentile, "the percentile of --calib-method percentile")
      ->check(CLI::Range(50.0, 100.0));
  app->add_option("--calib-cache", opt.calib_cache,
                  "calibration cache: read when it exists (no data needed), written after calibrating");
  app->add_option(
      "--accuracy-budget", opt.accuracy_budget,
      "X: keep the layers the outputs are most sensitive to in fp32 until their max relative error "
      "against FP32 on the calibration data is at most X (--int8 or --best with --calib)");
}

Expected<BuildConfig> to_build_config(const BuildOptions& opt) {
  BuildConfig cfg;
  cfg.opt_level = opt.opt_level;
  cfg.timing_cache = opt.timing_cache;
  cfg.progress = isatty(STDERR_FILENO) != 0;
  cfg.device = opt.device;
  INGOT_ASSIGN_OR_RETURN(cfg.shapes, parse_shapes(opt.shapes, "--shapes"));
  INGOT_ASSIGN_OR_RETURN(auto mins, parse_shapes(opt.min_shapes, "--min-shapes"));
  INGOT_ASSIGN_OR_RETURN(auto opts, parse_shapes(opt.opt_shapes, "--opt-shapes"));
  INGOT_ASSIGN_OR_RETURN(auto maxs, parse_shapes(opt.max_shapes, "--max-shapes"));
  std::set<std::string> names;
  for (const auto* m : {&mins, &opts, &maxs})
    for (const auto& [n, _] : *m) names.insert(n);
  for (const std::string& n : names) {
    if (!mins.count(n) || !maxs.count(n)) {
      return Status(StatusCode::kUsage,
                    "input '" + n + "': a profile needs both --min-shapes and --max-shapes");
    }
    ShapeRange r{mins[n], opts.count(n) ? opts[n] : maxs[n], maxs[n]};
    cfg.profile[n] = r;
  }
  const int flags = opt.fp16 + opt.bf16 + opt.int8 + opt.best;
  if (flags > 1) return Status(StatusCode::kUsage, "give at most one of --fp16, --bf16, --int8, --best");
  cfg.precision = opt.fp16 ? "fp16" : opt.bf16 ? "bf16" : opt.int8 ? "int8" : opt.best ? "best" : "fp32";
  for (const std::string& spec : opt.layer_precision) {
    const size_t colon = spec.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size())
      return Status(StatusCode::kUsage,
                    "--layer-precision expects NAME:PRECISION such as conv1:fp32, got '" + spec + "'");
    cfg.layer_precision[spec.substr(0, colon)] = spec.substr(colon + 1);
  }
  INGOT_ASSIGN_OR_RETURN(cfg.calibration.method, parse_calibration_method(opt.calib_method));
  cfg.calibration.percentile = opt.calib_percentile;
  cfg.calibration.cache_path = opt.calib_cache;
  if (!(opt.accuracy_budget >= 0) || !std::isfinite(opt.accuracy_budget))
    return Status(StatusCode::kUsage,
                  "--accuracy-budget expects a positive number, got " + std::to_string(opt.accuracy_budget));
  cfg.accuracy_budget = opt.accuracy_budget;
  if (!opt.calib_dir.empty()) {
    INGOT_ASSIGN_OR_RETURN(cfg.calibration.calibrator, npy_dir_calibrator(opt.calib_dir));
  }
  const bool quantized = opt.int8 || opt.best;
  bool int8_layer = false;
  for (const auto& [_, p] : cfg.layer_precision) int8_layer |= p == "int8";
  if ((!opt.calib_dir.empty() || !opt.calib_cache.empty()) && !quantized && !int8_layer)
    return Status(StatusCode::kUsage, "--calib and --calib-cache are for --int8 or --best builds");
  if ((opt.int8 || int8_layer) && opt.calib_dir.empty() && opt.calib_cache.empty())
    return Status(StatusCode::kUsage, "--int8 needs calibration data (--calib DIR) or a --calib-cache");
  cfg.disabled_passes.insert(opt.disabled_passes.begin(), opt.disabled_passes.end());
  cfg.dump_ir_after.insert(opt.dump_ir_after.begin(), opt.dump_ir_after.end());
  return cfg;
}

void print_accuracy_report(const AccuracyReport& r, std::ostream& os) {
  if (!r.measured) return;
  char line[256];
  std::snprintf(
      line, sizeof line,
      "accuracy budget %g (max relative error against FP32, %d calibration batches): %.3g with every "
      "layer as asked, %.3g as built%s; %zu layer(s) kept in fp32%s\n",
      r.budget, r.batches, r.error_before, r.error, r.error <= r.budget ? "" : " (over the budget)",
      r.kept.size(), r.kept.empty() ? "" : ", most sensitive first:");
  os << line;
  for (const auto& [name, s] : r.kept) {
    std::snprintf(line, sizeof line, "  %s: %.3g alone in int8\n", name.c_str(), s);
    os << line;
  }
}

Expected<std::map<std::string, Tensor>> read_input_files(const std::vector<std::string>& specs) {
  std::map<std::string, Tensor> out;
  for (const auto& spec : specs) {
    INGOT_ASSIGN_OR_RETURN(auto b, parse_binding(spec, "--input"));
    auto t = read_npy(b.second);
    if (!t.ok()) return t.status().with_context("--input " + b.first);
    out[b.first] = std::move(*t);
  }
  return out;
}

std::map<std::string, Dims> dims_of(const std::map<std::string, Tensor>& tensors) {
  std::map<std::string, Dims> out;
  for (const auto& [name, t] : tensors) out[name] = t.dims();
  return out;
}

bool is_engine_file(const std::string& path) {
  char magic[8] = {};
  std::ifstream f(path, std::ios::binary);
  return (f.read(magic, 8) && std::string(magic, 8) == "INGOTENG") ||
         (path.size() > 6 && path.substr(path.size() - 6) == ".ingot");
}

Expected<std::shared_ptr<Engine>> open_engine(const std::string& path, const BuildOptions& opt,
                                              const std::map<std::string, Dims>& extra_shapes) {
  if (opt.threads > 0) set_num_threads(opt.threads);
  if (is_engine_file(path)) {
    const bool any = !opt.shapes.empty() || !opt.min_shapes.empty() || !opt.opt_shapes.empty() ||
                     !opt.max_shapes.empty() || !opt.disabled_passes.empty() || !opt.dump_ir_after.empty() ||
                     opt.fp16 || opt.bf16 || opt.int8 || opt.best || !opt.layer_precision.empty() ||
                     !opt.calib_dir.empty() || !opt.calib_cache.empty() || opt.accuracy_budget != 0;
    if (any)
      return Status(StatusCode::kUsage, path + " is an engine: build options apply when building from ONNX");
    return Engine::load(path);
  }
  INGOT_ASSIGN_OR_RETURN(BuildConfig cfg, to_build_config(opt));
  for (const auto& [name, dims] : extra_shapes)
    if (!cfg.shapes.count(name) && !cfg.profile.count(name)) cfg.shapes[name] = dims;
  return Engine::from_onnx_file(path, cfg);
}

namespace {

Expected<Tensor> random_tensor(const TensorInfo& info, const Dims& dims, std::mt19937_64& rng) {
  INGOT_ASSIGN_OR_RETURN(Tensor t, Tensor::create(info.dtype, dims));
  std::uniform_real_distribution<double> real(-1.0, 1.0);
  std::uniform_int_distribution<int> small(0, 9);
  if (info.dtype == DType::kBool) {
    for (int64_t i = 0; i < t.numel(); ++i) t.data<bool>()[i] = small(rng) % 2;
    return t;
  }
  bool handled = dispatch_float(info.dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    for (int64_t i = 0; i < t.numel(); ++i) t.data<T>()[i] = static_cast<T>(static_cast<float>(real(rng)));
  });
  handled = handled || dispatch_integer(info.dtype, [&](auto tag) {
              using T = typename decltype(tag)::type;
              for (int64_t i = 0; i < t.numel(); ++i) t.data<T>()[i] = static_cast<T>(small(rng));
            });
  if (!handled)
    return unsupported("cannot make random data for input '" + info.name + "' of type " +
                       dtype_name(info.dtype));
  return t;
}

}  // namespace

Status fill_random_inputs(const Engine& engine, uint64_t seed, std::map<std::string, Tensor>& feeds) {
  std::mt19937_64 rng(seed);
  const auto profile = engine.profile();
  for (const TensorInfo& info : engine.inputs()) {
    if (feeds.count(info.name)) continue;
    Dims dims = info.dims;
    auto range = profile.find(info.name);
    if (range != profile.end()) {
      dims = range->second.opt;
    } else if (!info.rank_known) {
      return invalid_argument("input '" + info.name +
                              "' has no known rank; give it with --shapes or --input");
    }
    for (int64_t& d : dims)
      if (d < 0) d = 1;  // symbolic dims default to 1 unless --shapes says otherwise
    INGOT_ASSIGN_OR_RETURN(Tensor t, random_tensor(info, dims, rng));
    feeds[info.name] = std::move(t);
  }
  return Status::Ok();
}

}  // namespace ingot::cli
