// Shared pieces of the `ingot` subcommands.
#pragma once

#include <CLI/CLI.hpp>

#include <map>
#include <string>
#include <vector>

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
Expected<std::map<std::string, Dims>> parse_shapes(const std::vector<std::string>& specs, const std::string& flag);
// "name=file.npy" -> (name, path).
Expected<std::pair<std::string, std::string>> parse_binding(const std::string& spec, const std::string& flag);
// Output file name: characters outside [A-Za-z0-9._-] become '_'.
std::string sanitize_file_name(const std::string& name);

struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

Command add_run_command(CLI::App& parent);
Command add_simplify_command(CLI::App& parent);

}  // namespace ingot::cli
