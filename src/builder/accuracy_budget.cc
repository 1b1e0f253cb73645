// --accuracy-budget (DESIGN.md, "Precision"): an INT8 build that keeps its most sensitive layers in fp32
// until the outputs are within the budget on the calibration data.
//
//  1. the FP32 model's outputs on up to kMaxBatches calibration batches are the reference;
//  2. every int8 layer's sensitivity is the outputs' error with that layer alone in int8;
//  3. the fewest most-sensitive layers kept in fp32 that bring the error within the budget are found by
//     bisection over their count (the error falls as more are kept, though not strictly);
//  4. the engine is built with them kept, tuned as asked, and its error measured again; should tuning have
//     picked kernels that round differently enough to leave the budget, one more layer is kept.
// Steps 1-3 build at --opt-level 0 (no timing), with the scales of one calibration.
#include <unistd.h>
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "builder/builder.h"
#include "builder/precision.h"
#include "ingot/compare.h"

namespace ingot::builder {
namespace {

constexpr size_t kMaxBatches = 8;

struct Evaluation {
  std::vector<std::string> inputs;
  std::vector<std::map<std::string, Tensor>> batches;
  std::vector<std::map<std::string, Tensor>> reference;  // the FP32 outputs, per batch
};

// The worst max relative error over the floating-point outputs and the batches.
Expected<double> error_of(const Engine& engine, const Evaluation& ev, const std::string& label) {
  auto context = engine.create_context();
  double worst = 0;
  for (size_t b = 0; b < ev.batches.size(); ++b) {
    auto out = context->run(ev.batches[b]);
    if (!out.ok())
      return out.status().with_context(label + ": --accuracy-budget, batch " + std::to_string(b));
    for (const auto& [name, ref] : ev.reference[b]) {
      INGOT_ASSIGN_OR_RETURN(ErrorStats e, compare_outputs(name, out->at(name), ref));
      if (!std::isfinite(e.max_rel)) return 1e30;
      worst = std::max(worst, e.max_rel);
    }
  }
  return worst;
}

void progress(bool on, const std::string& what, size_t done, size_t total) {
  if (!on) return;
  std::fprintf(stderr, "\raccuracy budget: %s %zu/%zu", what.c_str(), done, total);
  if (done == total) std::fprintf(stderr, "\n");
}

}  // namespace

Expected<engine::Plan> build_within_accuracy_budget(const ImportFn& import, const BuildConfig& config,
                                                    const std::string& label,
                                                    const EngineFromPlanFn& make_engine) {
  const double budget = config.accuracy_budget;
  auto usage = [&](const std::string& why) { return Status(StatusCode::kUsage, label + ": " + why); };
  if (!std::isfinite(budget) || budget <= 0) return usage("--accuracy-budget must be a positive number");
  if (config.precision != "int8" && config.precision != "best")
    return usage("--accuracy-budget is for --int8 and --best builds");
  if (!config.calibration.calibrator)
    return usage("--accuracy-budget measures the error on calibration data: give it with --calib");
  if (config.device != "cpu")
    return usage("--accuracy-budget: --device " + config.device + " has no int8 layers");
  if (!make_engine) return internal_error(label + ": --accuracy-budget needs the runtime");

  BuildConfig base = config;
  base.accuracy_budget = 0;
  BuildConfig quick = base;  // the measuring builds: no timing, no IR dumps, no progress bars
  quick.opt_level = 0;
  quick.timing_cache.clear();
  quick.dump_ir_after.clear();
  quick.progress = false;
  const bool show = config.progress && isatty(STDERR_FILENO);

  auto engine_for = [&](const BuildConfig& cfg, ScaleMemo* memo) -> Expected<std::shared_ptr<Engine>> {
    INGOT_ASSIGN_OR_RETURN(engine::Plan plan, build_plan(import, cfg, label, make_engine, memo));
    return make_engine(std::move(plan));
  };

  // 1. The reference.
  BuildConfig fp32 = quick;
  fp32.precision = "fp32";
  fp32.layer_precision.clear();
  fp32.calibration = CalibrationConfig{};
  INGOT_ASSIGN_OR_RETURN(std::shared_ptr<Engine> reference, engine_for(fp32, nullptr));
  Evaluation ev;
  for (const TensorInfo& t : reference->inputs()) ev.inputs.push_back(t.name);
  Calibrator& data = *config.calibration.calibrator;
  const size_t n_batches = std::min(data.num_batches(), kMaxBatches);
  if (n_batches == 0) return invalid_argument(label + ": the calibration data has no batches");
  auto ref_context = reference->create_context();
  for (size_t b = 0; b < n_batches; ++b) {
    INGOT_ASSIGN_OR_RETURN(auto batch, data.batch(b, ev.inputs));
    auto out = ref_context->run(batch);
    if (!out.ok())
      return out.status().with_context(label + ": --accuracy-budget, batch " + std::to_string(b));
    std::map<std::string, Tensor> floats;
    for (auto& [name, t] : *out)
      if (dtype_is_float(t.dtype())) floats[name] = t;
    if (floats.empty())
      return invalid_argument(label + ": --accuracy-budget needs a floating-point output to measure");
    ev.batches.push_back(std::move(batch));
    ev.reference.push_back(std::move(floats));
  }

  // 2. Every layer as asked (this calibrates, once), then each int8 layer alone.
  ScaleMemo memo;
  INGOT_ASSIGN_OR_RETURN(engine::Plan all, build_plan(import, quick, label, make_engine, &memo));
  std::vector<std::string> int8_layers;
  for (const engine::PlanLayer& l : all.layers)
    if (l.precision == "int8") int8_layers.push_back(l.name);
  INGOT_ASSIGN_OR_RETURN(std::shared_ptr<Engine> all_engine, make_engine(std::move(all)));
  INGOT_ASSIGN_OR_RETURN(const double error_before, error_of(*all_engine, ev, label));
  all_engine.reset();

  std::vector<std::pair<std::string, double>> sensitivity;
  if (error_before > budget) {
    for (size_t i = 0; i < int8_layers.size(); ++i) {
      progress(show, "layer sensitivity", i, int8_layers.size());
      BuildConfig alone = quick;
      alone.precision = "fp32";
      alone.layer_precision = {{int8_layers[i], "int8"}};
      INGOT_ASSIGN_OR_RETURN(auto e, engine_for(alone, &memo));
      INGOT_ASSIGN_OR_RETURN(const double err, error_of(*e, ev, label));
      sensitivity.emplace_back(int8_layers[i], err);
    }
    progress(show, "layer sensitivity", int8_layers.size(), int8_layers.size());
    std::stable_sort(sensitivity.begin(), sensitivity.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
  }

  // 3. The fewest layers to keep: error(k) with the k most sensitive in fp32.
  auto keeping = [&](const BuildConfig& from, size_t k) {
    BuildConfig cfg = from;
    for (size_t i = 0; i < k; ++i) cfg.layer_precision[sensitivity[i].first] = "fp32";
    return cfg;
  };
  size_t lo = 0, hi = sensitivity.size();  // error(lo) > budget (or lo == 0), error(hi) within it
  while (hi - lo > 1) {
    const size_t mid = (lo + hi) / 2;
    INGOT_ASSIGN_OR_RETURN(auto e, engine_for(keeping(quick, mid), &memo));
    INGOT_ASSIGN_OR_RETURN(const double err, error_of(*e, ev, label));
    (err <= budget ? hi : lo) = mid;
  }
  size_t keep = error_before > budget ? hi : 0;

  // 4. The engine, as asked, and its error.
  for (;;) {
    INGOT_ASSIGN_OR_RETURN(engine::Plan plan,
                           build_plan(import, keeping(base, keep), label, make_engine, &memo));
    INGOT_ASSIGN_OR_RETURN(auto e, make_engine(plan));
    INGOT_ASSIGN_OR_RETURN(const double err, error_of(*e, ev, label));
    if (err > budget && keep < sensitivity.size()) {
      ++keep;
      continue;
    }
    AccuracyReport& report = plan.accuracy;
    report.measured = true;
    report.budget = budget;
    report.error_before = error_before;
    report.error = err;
    report.batches = static_cast<int>(ev.batches.size());
    report.kept.assign(sensitivity.begin(), sensitivity.begin() + static_cast<std::ptrdiff_t>(keep));
    for (const auto& [name, s] : report.kept) {
      char note[160];
      std::snprintf(note, sizeof note,
                    "kept in fp32 by --accuracy-budget %g: alone in int8 it moves the outputs by %.3g",
                    budget, s);
      for (engine::PlanLayer& l : plan.layers)
        if (l.name == name) l.precision_note = note;
    }
    return plan;
  }
}

}  // namespace ingot::builder
