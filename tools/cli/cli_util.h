// Shared pieces of the `ingot` subcommands.
#pragma once

#include <CLI/CLI.hpp>

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include <memory>
#include <random>

#include "ingot/engine.h"
#include "ingot/status.h"
#include "ingot/tensor.h"

namespace ingot::cli {

// Exit codes: 0 success, 1 a user error (bad model, bad input), 2 a usage error.
constexpr int kExitOk = 0;
constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

// Prints "ingot: <message>" on stderr and returns the exit code for the status.
int report(const Status& st);

// "name:1x3x224x224" (several separated by commas or given repeatedly) -> map.
Expected<std::map<std::string, Dims>> parse_shapes(const std::vector<std::string>& specs,
                                                   const std::string& flag);
// "name=file.npy" -> (name, path).
Expected<std::pair<std::string, std::string>> parse_binding(const std::string& spec, const std::string& flag);
// Output file name: characters outside [A-Za-z0-9._-] become '_'.
std::string sanitize_file_name(const std::string& name);

struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

// The options that say how to build an engine from ONNX (build, and run/bench/inspect on .onnx files).
struct BuildOptions {
  std::vector<std::string> shapes, min_shapes, opt_shapes, max_shapes;
  std::vector<std::string> disabled_passes;
  std::vector<std::string> dump_ir_after;
  int opt_level = 1;
  std::string timing_cache;
  std::string device = "cpu";
  int threads =
      0;  // CPU threads for tuning and running; 0: OpenMP's default (OMP_NUM_THREADS, else all cores)
  // Precision (issue 6): --fp16 / --bf16 / --int8 / --best, per-layer overrides, INT8 calibration.
  bool fp16 = false, bf16 = false, int8 = false, best = false;
  std::vector<std::string> layer_precision;  // NAME:PRECISION
  std::string calib_dir, calib_method = "entropy", calib_cache;
  double calib_percentile = 99.99;
  double accuracy_budget = 0;  // --accuracy-budget X (0: none)
};
void add_build_options(CLI::App* app, BuildOptions& opt);
Expected<BuildConfig> to_build_config(const BuildOptions& opt);
// Loads an engine file, or builds an engine from an ONNX file (`extra_shapes` fix dims from given inputs).
Expected<std::shared_ptr<Engine>> open_engine(const std::string& path, const BuildOptions& opt,
                                              const std::map<std::string, Dims>& extra_shapes = {});
bool is_engine_file(const std::string& path);
// The tensors of `--input NAME=FILE.npy` options, by name (a name given twice: the last file).
Expected<std::map<std::string, Tensor>> read_input_files(const std::vector<std::string>& specs);
// Each tensor's dims, by name (what open_engine takes to fix dynamic dims).
std::map<std::string, Dims> dims_of(const std::map<std::string, Tensor>& tensors);
// What an --accuracy-budget build measured, a few lines (nothing for other engines).
void print_accuracy_report(const AccuracyReport& report, std::ostream& os);

// Seeded random inputs for every input not in `feeds`: floats in [-1, 1), integers in [0, 10), bools.
// Dynamic dims take the profile's opt shape, else 1.
Status fill_random_inputs(const Engine& engine, uint64_t seed, std::map<std::string, Tensor>& feeds);

Command add_run_command(CLI::App& parent);
Command add_build_command(CLI::App& parent);
Command add_inspect_command(CLI::App& parent);
Command add_bench_command(CLI::App& parent);
Command add_simplify_command(CLI::App& parent);
Command add_compare_command(CLI::App& parent);
Command add_quantize_command(CLI::App& parent);

}  // namespace ingot::cli
