// `ingot inspect M.ingot|MODEL.onnx`: the layers after fusion (op, fused nodes, precision, tactic,
// shapes), the memory plan and the profile. On ONNX files the engine is built in memory; an unsupported
// op is reported with its node.
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli_util.h"
#include "core/atomic_file.h"
#include "ingot/inspect.h"

namespace ingot::cli {
namespace {

struct InspectOptions {
  std::string model;
  BuildOptions build;
  std::string json;
};

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

std::string mib(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

std::string info_text(const TensorInfo& t) {
  std::string s = t.name + ": " + dtype_name(t.dtype) + "[";
  if (!t.rank_known) return s + "?]";
  for (size_t i = 0; i < t.dims.size(); ++i)
    s += (i ? "," : "") +
         (t.dims[i] >= 0 ? std::to_string(t.dims[i]) : (t.dim_names[i].empty() ? "?" : t.dim_names[i]));
  return s + "]";
}

int inspect_command(const InspectOptions& opt) {
  auto engine = open_engine(opt.model, opt.build);
  if (!engine.ok()) return report(engine.status());
  const Engine& e = **engine;
  const auto layers = e.layers();
  const MemoryInfo m = e.memory();
  const auto profile = e.profile();
  const std::string text = inspect_json(e);
  if (!opt.json.empty()) {
    if (opt.json == "-") {
      std::cout << text;
      return kExitOk;
    }
    Status st = write_file_atomically(opt.json, {text});
    if (!st.ok()) return report(st);
  }
  const nlohmann::json j = nlohmann::json::parse(text);
  std::cout << "engine of " << e.source() << " (ingot " << e.built_by() << ")\n"
            << "platform: " << e.platform() << "\n";
  for (const TensorInfo& t : e.inputs()) {
    std::cout << "input  " << info_text(t);
    auto r = profile.find(t.name);
    if (r != profile.end()) {
      std::cout << "  profile min " << dims_to_string(r->second.min) << " opt "
                << dims_to_string(r->second.opt) << " max " << dims_to_string(r->second.max);
    }
    std::cout << "\n";
  }
  for (const TensorInfo& t : e.outputs()) std::cout << "output " << info_text(t) << "\n";
  std::cout << layers.size() << " layers, " << j["reorders"] << " layout reorders per run:\n";
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerInfo& l = layers[i];
    std::cout << "  [" << i << "] " << l.name << "  " << l.op << "  " << l.precision << "  " << l.tactic
              << (l.in_place ? "  in-place" : "")
              << (l.reorders ? "  " + std::to_string(l.reorders) + " reorder(s)" : "") << "\n";
    if (!l.precision_note.empty()) std::cout << "      precision: " << l.precision_note << "\n";
    if (l.fused.size() > 1) std::cout << "      fused: " << join(l.fused, " + ") << "\n";
    std::cout << "      " << join(l.inputs, ", ") << " -> " << join(l.outputs, ", ") << "\n";
  }
  if (j.contains("int8")) {
    const nlohmann::json& q = j["int8"];
    std::cout << "int8: " << q["layers"] << " layers; " << q["int8_activations"]
              << " activations kept u8 between them; reorders: " << q["quantize"]
              << " quantize (f32 -> u8) and " << q["dequantize"]
              << " dequantize (back to f32) at the edges of int8 regions\n";
  }
  print_accuracy_report(e.accuracy(), std::cout);
  const double pct =
      m.naive_bytes ? 100.0 * static_cast<double>(m.arena_bytes) / static_cast<double>(m.naive_bytes) : 0;
  char pct_s[32];
  std::snprintf(pct_s, sizeof pct_s, "%.1f%%", pct);
  std::cout << "memory: arena " << mib(m.arena_bytes) << " (" << m.arena_bytes << " bytes) vs naive sum "
            << mib(m.naive_bytes) << " (" << m.naive_bytes << " bytes): " << pct_s << "; weights "
            << mib(m.weight_bytes) << "; " << m.planned_tensors << " activations planned, "
            << m.dynamic_tensors << " allocated at run time\n";
  return kExitOk;
}

}  // namespace

Command add_inspect_command(CLI::App& parent) {
  auto opt = std::make_shared<InspectOptions>();
  CLI::App* app = parent.add_subcommand("inspect", "Show an engine's layers, memory plan and profile");
  app->add_option("model", opt->model, "engine file (.ingot) or ONNX model (built in memory)")->required();
  app->add_option("--json", opt->json, "also write the report as JSON to FILE ('-': only JSON, on stdout)");
  add_build_options(app, opt->build);
  return {app, [opt] { return inspect_command(*opt); }};
}

}  // namespace ingot::cli
