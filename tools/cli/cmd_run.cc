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
  std::vector<std::string> shapes;
  std::string output_dir = ".";
  uint64_t seed = 0;
  bool seed_given = false;
};

// Random values for a tensor of `info`'s dtype: floats in [-1, 1), integers in [0, 10), bools.
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
  if (!handled) return unsupported("cannot make random data for input '" + info.name + "' of type " + dtype_name(info.dtype));
  return t;
}

int run_command(const RunOptions& opt) {
  auto shapes = parse_shapes(opt.shapes, "--shapes");
  if (!shapes.ok()) return report(shapes.status());
  std::map<std::string, std::string> files;
  for (const auto& spec : opt.inputs) {
    auto b = parse_binding(spec, "--input");
    if (!b.ok()) return report(b.status());
    files[b->first] = b->second;
  }
  // Shapes of given inputs also fix the model's dynamic dims for inference.
  std::map<std::string, Tensor> feeds;
  for (const auto& [name, path] : files) {
    auto t = read_npy(path);
    if (!t.ok()) return report(t.status().with_context("--input " + name));
    feeds[name] = std::move(*t);
  }
  BuildConfig config;
  config.shapes = *shapes;
  for (const auto& [name, t] : feeds)
    if (!config.shapes.count(name)) config.shapes[name] = t.dims();
  auto engine = Engine::from_onnx_file(opt.model, config);
  if (!engine.ok()) return report(engine.status());
  for (const auto& [name, _] : feeds) {
    bool known = false;
    for (const auto& in : (*engine)->inputs()) known |= in.name == name;
    if (!known) {
      std::string names;
      for (const auto& in : (*engine)->inputs()) names += (names.empty() ? "" : ", ") + in.name;
      return report(invalid_argument("--input names '" + name + "', which is not a model input (inputs: " + names + ")"));
    }
  }
  const uint64_t seed = opt.seed_given ? opt.seed : std::random_device{}();
  std::mt19937_64 rng(seed);
  bool printed_seed = false;
  for (const TensorInfo& info : (*engine)->inputs()) {
    if (feeds.count(info.name)) continue;
    if (!printed_seed) {
      std::cout << "random inputs with seed " << seed << "\n";
      printed_seed = true;
    }
    if (!info.rank_known) return report(invalid_argument("input '" + info.name + "' has no known rank; give it with --shapes or --input"));
    Dims dims = info.dims;
    for (int64_t& d : dims)
      if (d < 0) d = 1;  // symbolic dims default to 1 unless --shapes says otherwise
    auto t = random_tensor(info, dims, rng);
    if (!t.ok()) return report(t.status());
    feeds[info.name] = std::move(*t);
  }
  auto ctx = (*engine)->create_context();
  auto outputs = ctx->run(feeds);
  if (!outputs.ok()) return report(outputs.status().with_context(opt.model));
  std::error_code ec;
  std::filesystem::create_directories(opt.output_dir, ec);
  if (ec) return report(invalid_argument("--output-dir " + opt.output_dir + ": " + ec.message()));
  for (const TensorInfo& info : (*engine)->outputs()) {
    const Tensor& t = outputs->at(info.name);
    const std::string path = (std::filesystem::path(opt.output_dir) / (sanitize_file_name(info.name) + ".npy")).string();
    Status st = write_npy(path, t);
    if (!st.ok()) return report(st);
    std::cout << info.name << ": " << dtype_name(t.dtype()) << " " << dims_to_string(t.dims()) << " -> " << path << "\n";
  }
  return kExitOk;
}

}  // namespace

Command add_run_command(CLI::App& parent) {
  auto opt = std::make_shared<RunOptions>();
  CLI::App* app = parent.add_subcommand("run", "Run a model once and write each output as NAME.npy");
  app->add_option("model", opt->model, "ONNX model file")->required();
  app->add_option("--input,-i", opt->inputs, "NAME=FILE.npy; inputs not given get seeded random values");
  app->add_option("--shapes", opt->shapes, "NAME:DIMS (e.g. input:1x3x224x224) for dynamic inputs; default 1");
  app->add_option("--output-dir,-o", opt->output_dir, "folder for the outputs (created if missing)");
  app->add_option("--seed", opt->seed, "seed for random inputs")->each([opt](const std::string&) { opt->seed_given = true; });
  return {app, [opt] { return run_command(*opt); }};
}

}  // namespace ingot::cli
