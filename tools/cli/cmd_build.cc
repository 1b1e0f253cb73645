// `ingot build MODEL.onnx -o M.ingot`: import, simplify, fuse, plan memory and write the engine file.
#include <chrono>
#include <iostream>

#include "cli_util.h"
#include "core/threading.h"

namespace ingot::cli {
namespace {

struct BuildCliOptions {
  std::string model;
  std::string output;
  BuildOptions build;
};

std::string mib(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

int build_command(const BuildCliOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  auto cfg = to_build_config(opt.build);
  if (!cfg.ok()) return report(cfg.status());
  if (opt.build.threads > 0) set_num_threads(opt.build.threads);
  auto engine = Engine::from_onnx_file(opt.model, *cfg);
  if (!engine.ok()) return report(engine.status());
  Status st = (*engine)->save(opt.output);
  if (!st.ok()) return report(st);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const MemoryInfo m = (*engine)->memory();
  std::cout << "built " << opt.output << " from " << opt.model << " in " << secs
            << " s: " << (*engine)->layers().size() << " layers, arena " << mib(m.arena_bytes)
            << " (naive sum " << mib(m.naive_bytes) << "), weights " << mib(m.weight_bytes) << "\n";
  print_accuracy_report((*engine)->accuracy(), std::cout);
  return kExitOk;
}

}  // namespace

Command add_build_command(CLI::App& parent) {
  auto opt = std::make_shared<BuildCliOptions>();
  CLI::App* app = parent.add_subcommand("build", "Build an engine file from an ONNX model");
  app->add_option("model", opt->model, "ONNX model file")->required();
  app->add_option("-o,--output", opt->output, "engine file to write (written whole or not at all)")
      ->required();
  add_build_options(app, opt->build);
  return {app, [opt] { return build_command(*opt); }};
}

}  // namespace ingot::cli
