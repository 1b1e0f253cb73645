// `ingot simplify IN.onnx OUT.onnx`: onnxsim's job, with --check N comparing both models on random inputs.
#include <cmath>
#include <iostream>
#include <random>
#include <set>

#include "cli_util.h"
#include "core/dispatch.h"
#include "ingot/engine.h"
#include "ingot/simplify.h"

namespace ingot::cli {
namespace {

struct SimplifyCliOptions {
  std::string input, output;
  std::vector<std::string> input_shapes;
  std::vector<std::string> disabled;
  std::vector<std::string> dump_after;
  int check = 0;
};

// Largest |a - b| / max(|b|, 1e-6) over an output, or -1 when shapes or dtypes differ.
double relative_error(const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype() || a.dims() != b.dims()) return -1;
  double max_diff = 0, max_ref = 0;
  if (a.dtype() == DType::kString) {
    for (int64_t i = 0; i < a.numel(); ++i)
      if (a.strings()[i] != b.strings()[i]) return -1;
    return 0;
  }
  for (int64_t i = 0; i < a.numel(); ++i) {
    double x = a.get_f64(i), y = b.get_f64(i);
    if (std::isnan(x) && std::isnan(y)) continue;
    max_diff = std::max(max_diff, std::fabs(x - y));
    max_ref = std::max(max_ref, std::fabs(y));
  }
  return max_diff / std::max(max_ref, 1e-6);
}

int check_models(const SimplifyCliOptions& opt, const std::map<std::string, Dims>& shapes) {
  BuildConfig cfg;
  cfg.shapes = shapes;
  auto original = Engine::from_onnx_file(opt.input, cfg);
  if (!original.ok()) return report(original.status());
  auto simplified = Engine::from_onnx_file(opt.output, cfg);
  if (!simplified.ok()) return report(simplified.status().with_context("checking the simplified model"));
  std::mt19937_64 rng(0);
  std::uniform_real_distribution<double> real(-1, 1);
  double worst = 0;
  for (int iter = 0; iter < opt.check; ++iter) {
    std::map<std::string, Tensor> feeds;
    for (const TensorInfo& info : (*original)->inputs()) {
      Dims dims = info.dims;
      for (int64_t& d : dims)
        if (d < 0) d = 1;
      auto t = Tensor::create(info.dtype, dims);
      if (!t.ok()) return report(t.status());
      dispatch_float(info.dtype, [&](auto tag) {
        using T = typename decltype(tag)::type;
        for (int64_t i = 0; i < t->numel(); ++i)
          t->template data<T>()[i] = static_cast<T>(static_cast<float>(real(rng)));
      });
      dispatch_integer(info.dtype, [&](auto tag) {
        using T = typename decltype(tag)::type;
        for (int64_t i = 0; i < t->numel(); ++i) t->template data<T>()[i] = static_cast<T>(rng() % 10);
      });
      feeds[info.name] = *t;
    }
    auto a = (*original)->create_context()->run(feeds);
    if (!a.ok()) return report(a.status().with_context(opt.input));
    auto b = (*simplified)->create_context()->run(feeds);
    if (!b.ok()) return report(b.status().with_context(opt.output));
    for (const auto& [name, t] : *a) {
      auto it = b->find(name);
      if (it == b->end())
        return report(invalid_argument("--check: the simplified model lost output '" + name + "'"));
      double e = relative_error(it->second, t);
      if (e < 0 || e > 1e-4) {
        return report(invalid_argument("--check: output '" + name +
                                       "' differs after simplification (relative error " + std::to_string(e) +
                                       ")"));
      }
      worst = std::max(worst, e);
    }
  }
  std::cout << "check: " << opt.check << " random input set(s), outputs agree (max relative error " << worst
            << ")\n";
  return kExitOk;
}

int simplify_command(const SimplifyCliOptions& opt) {
  auto shapes = parse_shapes(opt.input_shapes, "--input-shape");
  if (!shapes.ok()) return report(shapes.status());
  SimplifyOptions so;
  so.input_shapes = *shapes;
  so.disabled_passes = {opt.disabled.begin(), opt.disabled.end()};
  so.dump_ir_after = {opt.dump_after.begin(), opt.dump_after.end()};
  auto r = simplify_onnx_file(opt.input, opt.output, so);
  if (!r.ok()) return report(r.status());
  std::cout << "nodes: " << r->nodes_before << " -> " << r->nodes_after << "\n";
  std::set<std::string> ops;
  for (const auto& [op, _] : r->ops_before) ops.insert(op);
  for (const auto& [op, _] : r->ops_after) ops.insert(op);
  for (const auto& op : ops) {
    auto before = r->ops_before.count(op) ? r->ops_before.at(op) : 0;
    auto after = r->ops_after.count(op) ? r->ops_after.at(op) : 0;
    if (before != after) std::cout << "  " << op << ": " << before << " -> " << after << "\n";
  }
  if (opt.check > 0) return check_models(opt, *shapes);
  return kExitOk;
}

}  // namespace

Command add_simplify_command(CLI::App& parent) {
  auto opt = std::make_shared<SimplifyCliOptions>();
  CLI::App* app =
      parent.add_subcommand("simplify", "Simplify an ONNX model (shape inference, folding, dead code, CSE)");
  app->add_option("input", opt->input, "ONNX model to read")->required();
  app->add_option("output", opt->output, "ONNX model to write")->required();
  app->add_option("--input-shape", opt->input_shapes,
                  "NAME:DIMS fixing a dynamic input, e.g. input:1x3x224x224");
  app->add_option("--check", opt->check, "compare both models on N random inputs");
  std::string passes = "pass names:";
  for (const auto& [name, desc] : simplify_pass_names()) passes += " " + name;
  app->add_option("--disable-pass", opt->disabled, "switch a pass off by name (" + passes + ")");
  app->add_option("--dump-ir-after", opt->dump_after,
                  "print the IR after the named pass ('all' for every pass)");
  return {app, [opt] { return simplify_command(*opt); }};
}

}  // namespace ingot::cli
