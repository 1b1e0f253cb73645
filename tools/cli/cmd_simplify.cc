// `ingot simplify IN.onnx OUT.onnx`: onnxsim's job, with --check N comparing both models on random inputs.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <random>
#include <set>

#include "cli_util.h"
#include "core/dispatch.h"
#include "ingot/engine.h"
#include "ingot/simplify.h"
#include "onnx/exporter.h"
#include "onnx/importer.h"
#include "passes/pass.h"

namespace ingot::cli {
namespace {

struct SimplifyCliOptions {
  std::string input, output;
  std::vector<std::string> input_shapes;
  std::vector<std::string> disabled;
  std::vector<std::string> dump_after;
  int check = 0;
  bool fuse = false;
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

// `--fuse`: the engine builder's pass list (build_passes: simplify, then layer fusion) with the fused
// layers written as ingot.* ops, for looking at what fusion did and for `ingot run`; other runtimes
// do not know ingot's domain. Simplify writes a temporary model, the passes after simplify run on it.
Expected<SimplifyReport> fuse_onnx_file(const SimplifyCliOptions& opt, SimplifyOptions so) {
  const std::vector<passes::Pass> all = passes::build_passes();
  const size_t n_simplify = passes::simplify_passes().size();
  passes::PipelineOptions po;
  std::set<std::string> simplify_names;
  for (size_t i = 0; i < all.size(); ++i) (i < n_simplify ? simplify_names : po.disabled).insert(all[i].name);
  std::set<std::string> fusion_names = po.disabled;
  po.disabled.clear();
  so.disabled_passes.clear();
  for (const auto& name : opt.disabled) {
    if (!simplify_names.count(name) && !fusion_names.count(name))
      return Status(StatusCode::kUsage, "--disable-pass: no pass named '" + name + "'");
    if (simplify_names.count(name)) so.disabled_passes.insert(name);
    if (fusion_names.count(name)) po.disabled.insert(name);
  }
  for (const auto& name : opt.dump_after)
    (simplify_names.count(name) ? so.dump_ir_after : po.dump_ir_after).insert(name);
  if (so.dump_ir_after.count("all")) po.dump_ir_after.insert("all");
  const std::string tmp = opt.output + ".simplified.tmp";
  auto r = simplify_onnx_file(opt.input, tmp, so);
  if (!r.ok()) return r.status();
  auto model = onnx_import::import_file(tmp);
  std::remove(tmp.c_str());
  if (!model.ok()) return model.status().with_context("reading the simplified model back");
  ir::Graph& g = *model->graph;
  INGOT_RETURN_IF_ERROR(
      passes::run_pipeline(g, {all.begin() + static_cast<std::ptrdiff_t>(n_simplify), all.end()}, po)
          .with_context(opt.input));
  r->ops_after.clear();
  r->nodes_after = 0;
  for (const auto& n : g.nodes()) {
    r->ops_after[(n->domain.empty() ? "" : n->domain + ".") + n->op_type]++;
    r->nodes_after++;
  }
  onnx_import::ExportOptions eo;
  eo.ir_version = std::max<int64_t>(model->ir_version, 7);
  INGOT_RETURN_IF_ERROR(onnx_import::export_model_file(g, opt.output, eo));
  return r;
}

int simplify_command(const SimplifyCliOptions& opt) {
  auto shapes = parse_shapes(opt.input_shapes, "--input-shape");
  if (!shapes.ok()) return report(shapes.status());
  SimplifyOptions so;
  so.input_shapes = *shapes;
  so.disabled_passes = {opt.disabled.begin(), opt.disabled.end()};
  so.dump_ir_after = {opt.dump_after.begin(), opt.dump_after.end()};
  auto r = opt.fuse ? fuse_onnx_file(opt, so) : simplify_onnx_file(opt.input, opt.output, so);
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
  // Hidden (empty group): a developer's view of the engine builder's fusion, not an ONNX for other tools.
  app->add_flag("--fuse", opt->fuse, "also run the engine builder's layer fusion (writes ingot.* ops)")
      ->group("");
  return {app, [opt] { return simplify_command(*opt); }};
}

}  // namespace ingot::cli
