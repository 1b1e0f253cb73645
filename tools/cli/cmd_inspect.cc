// `ingot inspect M.ingot|MODEL.onnx`: the layers after fusion (op, fused nodes, precision, tactic,
// shapes), the memory plan and the profile. On ONNX files the engine is built in memory; an unsupported
// op is reported with its node.
#include <iostream>
#include <set>

#include <nlohmann/json.hpp>

#include "cli_util.h"
#include "core/atomic_file.h"

namespace ingot::cli {
namespace {

// The int8 layers' region edges: where an int8 layer reads a float X (its input is quantized, a reorder)
// or writes a float Y (its output is dequantized); the rest of their activations are handed over as u8.
struct Int8Edges {
  int layers = 0, quantize = 0, dequantize = 0, activations = 0;
};
std::string tensor_dtype(const std::string& io) {  // "name: dtype[dims]"
  const size_t colon = io.rfind(": ");
  const size_t bracket = io.find('[', colon);
  return colon == std::string::npos ? "" : io.substr(colon + 2, bracket - colon - 2);
}
Int8Edges int8_edges(const std::vector<LayerInfo>& layers) {
  Int8Edges e;
  std::set<std::string> u8;
  for (const LayerInfo& l : layers) {
    if (l.precision != "int8") continue;
    ++e.layers;
    if (!l.inputs.empty() && tensor_dtype(l.inputs[0]) == "float32") ++e.quantize;
    if (!l.outputs.empty() && tensor_dtype(l.outputs[0]) == "float32") ++e.dequantize;
    for (const std::string& t : l.outputs)
      if (tensor_dtype(t) == "uint8") u8.insert(t);
  }
  e.activations = static_cast<int>(u8.size());
  return e;
}

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
  nlohmann::json j;
  j["source"] = e.source();
  j["platform"] = e.platform();
  j["ingot_version"] = e.built_by();
  for (const TensorInfo& t : e.inputs()) {
    nlohmann::json in = {{"name", t.name}, {"dtype", dtype_name(t.dtype)}, {"dims", t.dims}};
    auto r = profile.find(t.name);
    if (r != profile.end())
      in["profile"] = {{"min", r->second.min}, {"opt", r->second.opt}, {"max", r->second.max}};
    j["inputs"].push_back(in);
  }
  for (const TensorInfo& t : e.outputs())
    j["outputs"].push_back({{"name", t.name}, {"dtype", dtype_name(t.dtype)}, {"dims", t.dims}});
  j["layers"] = nlohmann::json::array();
  for (const LayerInfo& l : layers) {
    j["layers"].push_back({{"name", l.name},
                           {"op", l.op},
                           {"fused", l.fused},
                           {"precision", l.precision},
                           {"precision_note", l.precision_note},
                           {"tactic", l.tactic},
                           {"inputs", l.inputs},
                           {"outputs", l.outputs},
                           {"in_place", l.in_place},
                           {"reorders", l.reorders}});
  }
  int total_reorders = 0;
  for (const LayerInfo& l : layers) total_reorders += l.reorders;
  j["reorders"] = total_reorders;
  const Int8Edges q = int8_edges(layers);
  if (q.layers > 0) {
    j["int8"] = {{"layers", q.layers},
                 {"quantize", q.quantize},
                 {"dequantize", q.dequantize},
                 {"int8_activations", q.activations}};
  }
  const AccuracyReport acc = e.accuracy();
  if (acc.measured) {
    nlohmann::json kept = nlohmann::json::array();
    for (const auto& [name, s] : acc.kept) kept.push_back({{"name", name}, {"sensitivity", s}});
    j["accuracy"] = {{"budget", acc.budget},
                     {"error_before", acc.error_before},
                     {"error", acc.error},
                     {"batches", acc.batches},
                     {"kept", kept}};
  }
  j["memory"] = {{"arena_bytes", m.arena_bytes},
                 {"naive_bytes", m.naive_bytes},
                 {"weight_bytes", m.weight_bytes},
                 {"planned_tensors", m.planned_tensors},
                 {"dynamic_tensors", m.dynamic_tensors}};
  if (!opt.json.empty()) {
    const std::string text = j.dump(2) + "\n";
    if (opt.json == "-") {
      std::cout << text;
      return kExitOk;
    }
    Status st = write_file_atomically(opt.json, {text});
    if (!st.ok()) return report(st);
  }
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
  int reorders = 0;
  for (const LayerInfo& l : layers) reorders += l.reorders;
  std::cout << layers.size() << " layers, " << reorders << " layout reorders per run:\n";
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerInfo& l = layers[i];
    std::cout << "  [" << i << "] " << l.name << "  " << l.op << "  " << l.precision << "  " << l.tactic
              << (l.in_place ? "  in-place" : "")
              << (l.reorders ? "  " + std::to_string(l.reorders) + " reorder(s)" : "") << "\n";
    if (!l.precision_note.empty()) std::cout << "      precision: " << l.precision_note << "\n";
    if (l.fused.size() > 1) std::cout << "      fused: " << join(l.fused, " + ") << "\n";
    std::cout << "      " << join(l.inputs, ", ") << " -> " << join(l.outputs, ", ") << "\n";
  }
  if (q.layers > 0) {
    std::cout << "int8: " << q.layers << " layers; " << q.activations
              << " activations kept u8 between them; reorders: " << q.quantize << " quantize (f32 -> u8) and "
              << q.dequantize << " dequantize (back to f32) at the edges of int8 regions\n";
  }
  print_accuracy_report(acc, std::cout);
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
