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
#include "ingot/compare.h"

namespace ingot::cli {
namespace {

struct CompareOptions {
  std::string reference, engine;
  std::vector<std::string> inputs;
  uint64_t seed = 0;
  double atol = -1, rtol = -1;
  std::string json;
};

int compare_command(const CompareOptions& opt) {
  if (!is_engine_file(opt.engine))
    return report(Status(StatusCode::kUsage, opt.engine + " is not an engine file (ingot build writes one)"));
  if (opt.rtol >= 0 && opt.atol < 0) return report(Status(StatusCode::kUsage, "--rtol needs --atol"));
  auto files = read_input_files(opt.inputs);
  if (!files.ok()) return report(files.status());
  std::map<std::string, Tensor> feeds = std::move(*files);
  auto engine = Engine::load(opt.engine);
  if (!engine.ok()) return report(engine.status());
  Status filled = fill_random_inputs(**engine, opt.seed, feeds);
  if (!filled.ok()) return report(filled);
  auto reference = open_engine(opt.reference, BuildOptions{}, dims_of(feeds));
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
    auto stats = compare_outputs(info.name, g, r->second, opt.atol, opt.rtol);
    if (!stats.ok()) return report(stats.status());
    const ErrorStats& s = *stats;
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
