// `ingot run MODEL.onnx`: run once, write each output as .npy; random inputs where none are given.
#include <filesystem>
#include <iostream>
#include <random>

#include "cli_util.h"
#include "core/dispatch.h"
#include "core/npy.h"
#include "ingot/engine.h"

namespace ingot::cli {
namespace {

struct RunOptions {
  std::string model;
  std::vector<std::string> inputs;
  BuildOptions build;
  std::string output_dir = ".";
  uint64_t seed = 0;
  bool seed_given = false;
};

int run_command(const RunOptions& opt) {
  auto files = read_input_files(opt.inputs);
  if (!files.ok()) return report(files.status());
  std::map<std::string, Tensor> feeds = std::move(*files);
  // Shapes of given inputs also fix the model's dynamic dims for inference.
  auto engine = open_engine(opt.model, opt.build, dims_of(feeds));
  if (!engine.ok()) return report(engine.status());
  for (const auto& [name, _] : feeds) {
    bool known = false;
    for (const auto& in : (*engine)->inputs()) known |= in.name == name;
    if (!known) {
      std::string names;
      for (const auto& in : (*engine)->inputs()) names += (names.empty() ? "" : ", ") + in.name;
      return report(invalid_argument("--input names '" + name +
                                     "', which is not a model input (inputs: " + names + ")"));
    }
  }
  const uint64_t seed = opt.seed_given ? opt.seed : std::random_device{}();
  bool random_needed = false;
  for (const TensorInfo& info : (*engine)->inputs()) random_needed |= !feeds.count(info.name);
  if (random_needed) std::cout << "random inputs with seed " << seed << "\n";
  Status filled = fill_random_inputs(**engine, seed, feeds);
  if (!filled.ok()) return report(filled);
  auto ctx = (*engine)->create_context();
  auto outputs = ctx->run(feeds);
  if (!outputs.ok()) return report(outputs.status().with_context(opt.model));
  std::error_code ec;
  std::filesystem::create_directories(opt.output_dir, ec);
  if (ec) return report(invalid_argument("--output-dir " + opt.output_dir + ": " + ec.message()));
  for (const TensorInfo& info : (*engine)->outputs()) {
    const Tensor& t = outputs->at(info.name);
    const std::string path =
        (std::filesystem::path(opt.output_dir) / (sanitize_file_name(info.name) + ".npy")).string();
    Status st = write_npy(path, t);
    if (!st.ok()) return report(st);
    std::cout << info.name << ": " << dtype_name(t.dtype()) << " " << dims_to_string(t.dims()) << " -> "
              << path << "\n";
  }
  return kExitOk;
}

}  // namespace

Command add_run_command(CLI::App& parent) {
  auto opt = std::make_shared<RunOptions>();
  CLI::App* app = parent.add_subcommand("run", "Run a model once and write each output as NAME.npy");
  app->add_option("model", opt->model, "engine file (.ingot) or ONNX model")->required();
  app->add_option("--input,-i", opt->inputs, "NAME=FILE.npy; inputs not given get seeded random values");
  add_build_options(app, opt->build);
  app->add_option("--output-dir,-o", opt->output_dir, "folder for the outputs (created if missing)");
  app->add_option("--seed", opt->seed, "seed for random inputs")->each([opt](const std::string&) {
    opt->seed_given = true;
  });
  return {app, [opt] { return run_command(*opt); }};
}

}  // namespace ingot::cli
