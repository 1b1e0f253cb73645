// `ingot quantize MODEL.onnx --calib DIR -o MODEL.qdq.onnx`: the calibrated model as Q/DQ ONNX.
#include <iostream>

#include "cli_util.h"
#include "core/threading.h"
#include "ingot/quantize.h"

namespace ingot::cli {
namespace {

struct QuantizeCliOptions {
  std::string model;
  std::string output;
  BuildOptions build;
};

int quantize_command(QuantizeCliOptions opt) {
  if (opt.build.fp16 || opt.build.bf16 || opt.build.best)
    return report(Status(StatusCode::kUsage, "quantize writes int8: --fp16, --bf16 and --best do not apply"));
  opt.build.int8 = true;
  auto cfg = to_build_config(opt.build);
  if (!cfg.ok()) return report(cfg.status());
  if (opt.build.threads > 0) set_num_threads(opt.build.threads);
  auto r = quantize_onnx_file(opt.model, opt.output, *cfg);
  if (!r.ok()) return report(r.status());
  std::cout << "wrote " << opt.output << ": " << r->activations << " activations and " << r->weights
            << " weights quantized (QuantizeLinear/DequantizeLinear)\n";
  return kExitOk;
}

}  // namespace

Command add_quantize_command(CLI::App& parent) {
  auto opt = std::make_shared<QuantizeCliOptions>();
  CLI::App* app = parent.add_subcommand("quantize", "Write the INT8-calibrated model as Q/DQ ONNX");
  app->add_option("model", opt->model, "ONNX model file")->required();
  app->add_option("-o,--output", opt->output, "Q/DQ ONNX model to write (written whole or not at all)")
      ->required();
  add_build_options(app, opt->build);
  return {app, [opt] { return quantize_command(*opt); }};
}

}  // namespace ingot::cli
