// `ingot compare REFERENCE.onnx ENGINE.ingot`: runs the model in FP32 (built in memory) and the engine on
// the same inputs, and prints per output how far the engine is from the reference (Polygraphy's
// comparison): max and mean absolute and relative error, cosine similarity and top-1 agreement.
#include <cmath>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli_util.h"
#include "core/atomic_file.h"
#include "core/npy.h"

namespace ingot::cli {
namespace {

struct CompareOptions {
  std::string reference, engine;
  std::vector<std::string> inputs;
  uint64_t seed = 0;
  double atol = -1, rtol = -1;
  std::string json;
};

struct Stats {
  double max_abs = 0, mean_abs = 0, max_rel = 0, mean_rel = 0, cosine = 1, top1 = -1;
  int64_t failing = 0;  // elements outside atol + rtol * |ref|
};

// Relative errors are |got - ref| / max |ref| per element (as the model tests measure), so that values
// near zero do not blow them up. top-1: rows of the last axis whose argmax agrees (outputs of rank >= 1).
Stats compare(const Tensor& got, const Tensor& ref, double atol, double rtol) {
  Stats s;
  const int64_t n = ref.numel();
  double dot = 0, ng = 0, nr = 0, ref_max = 1e-12;
  for (int64_t i = 0; i < n; ++i) ref_max = std::max(ref_max, std::fabs(ref.get_f64(i)));
  for (int64_t i = 0; i < n; ++i) {
    const double g = got.get_f64(i), r = ref.get_f64(i), d = std::fabs(g - r);
    s.max_abs = std::max(s.max_abs, d);
    s.mean_abs += d;
    s.max_rel = std::max(s.max_rel, d / ref_max);
    s.mean_rel += d / ref_max;
    dot += g * r;
    ng += g * g;
    nr += r * r;
    if (atol >= 0 && !(d <= atol + std::max(rtol, 0.0) * std::fabs(r))) ++s.failing;
  }
  if (n > 0) {
    s.mean_abs /= n;
    s.mean_rel /= n;
  }
  s.cosine = ng > 0 && nr > 0 ? dot / std::sqrt(ng * nr) : (ng == nr ? 1 : 0);
  if (ref.rank() >= 1 && ref.dim(-1) > 0) {
    const int64_t k = ref.dim(-1), rows = n / k;
    int64_t agree = 0;
    for (int64_t r = 0; r < rows; ++r) {
      int64_t ag = 0, ar = 0;
      for (int64_t j = 1; j < k; ++j) {
        if (got.get_f64(r * k + j) > got.get_f64(r * k + ag)) ag = j;
        if (ref.get_f64(r * k + j) > ref.get_f64(r * k + ar)) ar = j;
      }
      agree += ag == ar;
    }
    if (rows > 0) s.top1 = static_cast<double>(agree) / rows;
  }
  return s;
}

int compare_command(const CompareOptions& opt) {
  if (!is_engine_file(opt.engine))
    return report(Status(StatusCode::kUsage, opt.engine + " is not an engine file (ingot build writes one)"));
  if (opt.rtol >= 0 && opt.atol < 0) return report(Status(StatusCode::kUsage, "--rtol needs --atol"));
  std::map<std::string, Tensor> feeds;
  std::map<std::string, Dims> given;
  for (const auto& spec : opt.inputs) {
    auto b = parse_binding(spec, "--input");
    if (!b.ok()) return report(b.status());
    auto t = read_npy(b->second);
    if (!t.ok()) return report(t.status().with_context("--input " + b->first));
    feeds[b->first] = std::move(*t);
  }
  auto engine = Engine::load(opt.engine);
  if (!engine.ok()) return report(engine.status());
  Status filled = fill_random_inputs(**engine, opt.seed, feeds);
  if (!filled.ok()) return report(filled);
  for (const auto& [name, t] : feeds) given[name] = t.dims();
  auto reference = open_engine(opt.reference, BuildOptions{}, given);
  if (!reference.ok()) return report(reference.status());
  auto want = (*reference)->create_context()->run(feeds);
  if (!want.ok()) return report(want.status().with_context(opt.reference));
  auto got = (*engine)->create_context()->run(feeds);
  if (!got.ok()) return report(got.status().with_context(opt.engine));
  nlohmann::json j = nlohmann::json::array();
  int64_t failing = 0;
  for (const TensorInfo& info : (*engine)->outputs()) {
    auto r = want->find(info.name);
    if (r == want->end())
      return report(invalid_argument(opt.reference + " has no output '" + info.name + "'"));
    const Tensor& g = got->at(info.name);
    if (g.dims() != r->second.dims() || !dtype_is_float(g.dtype()) || !dtype_is_float(r->second.dtype())) {
      return report(invalid_argument("output '" + info.name + "': engine " + dtype_name(g.dtype()) + " " +
                                     dims_to_string(g.dims()) + " vs reference " +
                                     dtype_name(r->second.dtype()) + " " + dims_to_string(r->second.dims()) +
                                     ": not comparable"));
    }
    const Stats s = compare(g, r->second, opt.atol, opt.rtol);
    failing += s.failing;
    char line[512];
    std::snprintf(line, sizeof line,
                  "%s %s: max abs %.6g, mean abs %.6g, max rel %.6g, mean rel %.6g, cosine %.6f",
                  info.name.c_str(), dims_to_string(g.dims()).c_str(), s.max_abs, s.mean_abs, s.max_rel,
                  s.mean_rel, s.cosine);
    std::cout << line;
    if (s.top1 >= 0) std::printf(", top-1 agreement %.2f%%", 100 * s.top1);
    if (opt.atol >= 0)
      std::cout << (s.failing ? ", FAIL: " + std::to_string(s.failing) + " elements" : ", PASS");
    std::cout << std::endl;
    j.push_back({{"name", info.name},
                 {"max_abs", s.max_abs},
                 {"mean_abs", s.mean_abs},
                 {"max_rel", s.max_rel},
                 {"mean_rel", s.mean_rel},
                 {"cosine", s.cosine},
                 {"top1", s.top1},
                 {"failing", s.failing}});
  }
  if (!opt.json.empty()) {
    Status st = write_file_atomically(opt.json, {j.dump(2) + "\n"});
    if (!st.ok()) return report(st);
  }
  return failing ? kExitError : kExitOk;
}

}  // namespace

Command add_compare_command(CLI::App& parent) {
  auto opt = std::make_shared<CompareOptions>();
  CLI::App* app = parent.add_subcommand("compare", "Compare an engine's outputs with the FP32 model's");
  app->add_option("reference", opt->reference, "the ONNX model (run in FP32)")->required();
  app->add_option("engine", opt->engine, "the engine file to check")->required();
  app->add_option("--input,-i", opt->inputs, "NAME=FILE.npy; inputs not given get seeded random values");
  app->add_option("--seed", opt->seed, "seed for random inputs (default 0)");
  app->add_option("--atol", opt->atol, "fail (exit 1) where |engine - ref| > atol + rtol * |ref|")
      ->check(CLI::NonNegativeNumber);
  app->add_option("--rtol", opt->rtol, "see --atol (default 0)")->check(CLI::NonNegativeNumber);
  app->add_option("--json", opt->json, "also write the statistics as JSON to FILE");
  return {app, [opt] { return compare_command(*opt); }};
}

}  // namespace ingot::cli
