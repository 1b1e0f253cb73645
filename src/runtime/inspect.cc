#include "ingot/inspect.h"

#include <set>

#include <nlohmann/json.hpp>

namespace ingot {
namespace {

std::string tensor_dtype(const std::string& io) {  // "name: dtype[dims]"
  const size_t colon = io.rfind(": ");
  const size_t bracket = io.find('[', colon);
  return colon == std::string::npos ? "" : io.substr(colon + 2, bracket - colon - 2);
}

// The int8 layers' region edges: where an int8 layer reads a float X (its input is quantized, a reorder)
// or writes a float Y (its output is dequantized); the rest of their activations are handed over as u8 or s8.
nlohmann::json int8_edges(const std::vector<LayerInfo>& layers) {
  int count = 0, quantize = 0, dequantize = 0;
  std::set<std::string> kept;
  for (const LayerInfo& l : layers) {
    if (l.precision != "int8") continue;
    ++count;
    if (!l.inputs.empty() && tensor_dtype(l.inputs[0]) == "float32") ++quantize;
    if (!l.outputs.empty() && tensor_dtype(l.outputs[0]) == "float32") ++dequantize;
    for (const std::string& t : l.outputs)
      if (tensor_dtype(t) == "uint8" || tensor_dtype(t) == "int8") kept.insert(t);
  }
  if (count == 0) return nullptr;
  return {{"layers", count},
          {"quantize", quantize},
          {"dequantize", dequantize},
          {"int8_activations", static_cast<int>(kept.size())}};
}

}  // namespace

std::string inspect_json(const Engine& e) {
  const auto layers = e.layers();
  const MemoryInfo m = e.memory();
  const auto profile = e.profile();
  nlohmann::json j;
  j["source"] = e.source();
  j["platform"] = e.platform();
  j["ingot_version"] = e.built_by();
  j["inputs"] = nlohmann::json::array();
  for (const TensorInfo& t : e.inputs()) {
    nlohmann::json in = {{"name", t.name}, {"dtype", dtype_name(t.dtype)}, {"dims", t.dims}};
    auto r = profile.find(t.name);
    if (r != profile.end())
      in["profile"] = {{"min", r->second.min}, {"opt", r->second.opt}, {"max", r->second.max}};
    j["inputs"].push_back(in);
  }
  j["outputs"] = nlohmann::json::array();
  for (const TensorInfo& t : e.outputs())
    j["outputs"].push_back({{"name", t.name}, {"dtype", dtype_name(t.dtype)}, {"dims", t.dims}});
  j["layers"] = nlohmann::json::array();
  int reorders = 0;
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
    reorders += l.reorders;
  }
  j["reorders"] = reorders;
  nlohmann::json int8 = int8_edges(layers);
  if (!int8.is_null()) j["int8"] = int8;
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
  return j.dump(2) + "\n";
}

}  // namespace ingot
