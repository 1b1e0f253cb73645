#include "backends/timing_cache.h"

#include <xxhash.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/atomic_file.h"
#include "core/platform.h"

namespace ingot::backends {
namespace {

constexpr const char* kFormat = "ingot-timing-cache";
// 2: CPU layers timed also in their engine layout (TimingLayout); choices timed the old way are not reused.
constexpr int kVersion = 2;

void append_dims(std::string& s, const Dims& d) {
  s += '[';
  for (size_t i = 0; i < d.size(); ++i) s += (i ? "," : "") + std::to_string(d[i]);
  s += ']';
}

// Attribute values as text; tensors and graphs by their size only (layers with subgraphs are not timed).
void append_attr(std::string& s, const ir::Attribute& a) {
  using K = ir::Attribute::Kind;
  switch (a.kind) {
    case K::kFloat: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.9g", a.f);
      s += buf;
      break;
    }
    case K::kInt:
      s += std::to_string(a.i);
      break;
    case K::kString:
      s += '"' + a.s + '"';
      break;
    case K::kInts:
      for (int64_t v : a.ints) s += std::to_string(v) + ",";
      break;
    case K::kFloats:
      for (float v : a.floats) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.9g,", v);
        s += buf;
      }
      break;
    case K::kStrings:
      for (const std::string& v : a.strings) s += '"' + v + "\",";
      break;
    case K::kTensor:
      s += "tensor";
      append_dims(s, a.t.dims());
      break;
    default:
      s += "kind" + std::to_string(static_cast<int>(a.kind));
      break;
  }
}

void append_tensor(std::string& s, const engine::PlanTensor& t) {
  s += dtype_name(t.dtype);
  if (t.rank_known)
    append_dims(s, t.dims);
  else
    s += "[?]";
  if (t.kind == engine::TensorKind::kWeight) s += "w";
}

}  // namespace

std::string TimingCache::key(const LayerDesc& desc, const std::vector<const Tactic*>& candidates,
                             int threads) {
  const engine::PlanLayer& l = desc.layer;
  std::string s = cpu_fingerprint() + "|threads " + std::to_string(threads) + "|" + l.domain + "." +
                  l.op_type + "/" + std::to_string(l.opset) + "|";
  for (const auto& [name, a] : l.attrs) {
    s += name + "=";
    append_attr(s, a);
    s += ";";
  }
  s += "|in";
  for (size_t i = 0; i < l.inputs.size(); ++i) {
    s += " ";
    if (const engine::PlanTensor* t = desc.input(i)) append_tensor(s, *t);
  }
  s += "|out";
  for (size_t i = 0; i < l.outputs.size(); ++i) {
    s += " ";
    if (const engine::PlanTensor* t = desc.output(i)) append_tensor(s, *t);
  }
  s += "|tactics";
  for (const Tactic* t : candidates) s += std::string(" ") + t->id;
  // The full text is long (attributes, every candidate); its 128-bit hash names the entry.
  const XXH128_hash_t h = XXH3_128bits(s.data(), s.size());
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return buf;
}

const TimingCache::Entry* TimingCache::find(const std::string& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

void TimingCache::put(const std::string& key, Entry e) { entries_[key] = std::move(e); }

TimingCache TimingCache::load(const std::string& path) {
  TimingCache c;
  std::ifstream f(path, std::ios::binary);
  if (!f) return c;  // no cache yet
  std::stringstream ss;
  ss << f.rdbuf();
  auto warn = [&](const std::string& why) {
    c.entries_.clear();
    c.warning_ = "timing cache " + path + " " + why + ": ignored, it will be rewritten";
    std::fprintf(stderr, "ingot: warning: %s\n", c.warning_.c_str());
    return c;
  };
  if (f.bad()) return warn("could not be read");
  const nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return warn("is not valid JSON");
  if (!j.is_object() || j.value("format", "") != kFormat || !j.contains("version") ||
      !j["version"].is_number_integer() || !j.contains("entries") || !j["entries"].is_object()) {
    return warn("is not an ingot timing cache");
  }
  if (j["version"].get<int>() != kVersion) return warn("has format version " + j["version"].dump());
  for (const auto& [key, e] : j["entries"].items()) {
    if (!e.is_object() || !e.contains("tactic") || !e["tactic"].is_string() || !e.contains("ms") ||
        !e["ms"].is_number())
      return warn("has a malformed entry '" + key + "'");
    Entry entry;
    entry.tactic = e["tactic"].get<std::string>();
    entry.ms = e["ms"].get<double>();
    if (e.contains("layer") && e["layer"].is_string()) entry.layer = e["layer"].get<std::string>();
    c.entries_[key] = std::move(entry);
  }
  return c;
}

Status TimingCache::save(const std::string& path) const {
  nlohmann::json entries = nlohmann::json::object();
  for (const auto& [key, e] : entries_)
    entries[key] = {{"tactic", e.tactic}, {"ms", e.ms}, {"layer", e.layer}};
  const nlohmann::json j = {{"format", kFormat}, {"version", kVersion}, {"entries", std::move(entries)}};
  return write_file_atomically(path, {j.dump(1) + "\n"});
}

}  // namespace ingot::backends
