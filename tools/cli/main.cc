// The `ingot` command: build, run, bench, inspect, simplify and compare ONNX models and engines.
#include <iostream>

#include "cli_util.h"
#include "ingot/engine.h"

int main(int argc, char** argv) {
  CLI::App app{"ingot: an inference optimizer and runtime for ONNX models"};
  app.set_version_flag("--version", std::string("ingot ") + ingot::version());
  app.require_subcommand(1);
  std::vector<ingot::cli::Command> commands;
  commands.push_back(ingot::cli::add_build_command(app));
  commands.push_back(ingot::cli::add_run_command(app));
  commands.push_back(ingot::cli::add_bench_command(app));
  commands.push_back(ingot::cli::add_inspect_command(app));
  commands.push_back(ingot::cli::add_simplify_command(app));
  commands.push_back(ingot::cli::add_compare_command(app));
  commands.push_back(ingot::cli::add_quantize_command(app));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "ingot: usage error: " << e.what() << " (see ingot --help)\n";
    return ingot::cli::kExitUsage;
  }
  for (auto& c : commands) {
    if (c.app->parsed()) {
      try {
        return c.run();
      } catch (const std::exception& e) {
        std::cerr << "ingot: internal error: " << e.what() << "\n";
        return ingot::cli::kExitError;
      }
    }
  }
  return ingot::cli::kExitUsage;
}
