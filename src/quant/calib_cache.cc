#include "quant/calib_cache.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/atomic_file.h"

namespace ingot::quant {
namespace {

constexpr const char* kMagic = "ingot-calibration-cache 1";

// A float in C's hex notation (or decimal), the whole of `s`.
bool parse_float(const std::string& s, float* out) {
  if (s.empty() || s.size() > 64) return false;
  errno = 0;
  char* end = nullptr;
  const float v = std::strtof(s.c_str(), &end);
  if (end != s.c_str() + s.size() || errno == ERANGE || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

std::string hex(float v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", static_cast<double>(v));
  return buf;
}

}  // namespace

Expected<CalibrationCache> parse_calibration_cache(const std::string& text, const std::string& label) {
  CalibrationCache cache;
  size_t pos = 0;
  int line_no = 0;
  auto bad = [&](const std::string& what) {
    return invalid_argument(label + ": line " + std::to_string(line_no) + ": " + what);
  };
  bool have_method = false;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_no == 1) {
      if (line != kMagic)
        return bad("not an ingot calibration cache (the first line must be '" + std::string(kMagic) + "')");
      continue;
    }
    if (line.empty()) continue;
    if (line_no == 2) {
      if (line.rfind("method ", 0) != 0) return bad("expected 'method NAME'");
      auto m = parse_calibration_method(line.substr(7));
      if (!m.ok()) return bad(m.status().message());
      cache.method = *m;
      have_method = true;
      continue;
    }
    const size_t s1 = line.find(' ');
    const size_t s2 = s1 == std::string::npos ? s1 : line.find(' ', s1 + 1);
    if (s2 == std::string::npos || s2 + 1 >= line.size()) return bad("expected 'AMAX MIN TENSOR'");
    TensorCalibration t;
    if (!parse_float(line.substr(0, s1), &t.amax) || t.amax < 0)
      return bad("bad threshold '" + line.substr(0, std::min<size_t>(s1, 64)) + "'");
    if (!parse_float(line.substr(s1 + 1, s2 - s1 - 1), &t.min))
      return bad("bad minimum '" + line.substr(s1 + 1, std::min<size_t>(s2 - s1 - 1, 64)) + "'");
    const std::string name = line.substr(s2 + 1);
    if (name.find('\r') != std::string::npos) return bad("a tensor name with a carriage return");
    if (!cache.tensors.emplace(name, t).second) return bad("tensor '" + name + "' appears twice");
  }
  if (line_no == 0) return invalid_argument(label + ": empty calibration cache");
  if (!have_method) return invalid_argument(label + ": the calibration cache has no 'method' line");
  return cache;
}

Expected<std::string> serialize_calibration_cache(const CalibrationCache& cache) {
  std::string out = std::string(kMagic) + "\nmethod " + calibration_method_name(cache.method) + "\n";
  for (const auto& [name, t] : cache.tensors) {
    if (name.empty() || name.find_first_of("\r\n") != std::string::npos)
      return invalid_argument("tensor name '" + name +
                              "' cannot go in a calibration cache (empty or a line break)");
    if (!std::isfinite(t.amax) || t.amax < 0 || !std::isfinite(t.min))
      return invalid_argument("tensor '" + name + "': threshold " + std::to_string(t.amax) +
                              " is not a finite number >= 0");
    out += hex(t.amax) + " " + hex(t.min) + " " + name + "\n";
  }
  return out;
}

Expected<CalibrationCache> read_calibration_cache(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return not_found(path + ": no such file");
  std::stringstream ss;
  ss << f.rdbuf();
  if (f.bad()) return invalid_argument(path + ": read failed");
  return parse_calibration_cache(ss.str(), path);
}

Status write_calibration_cache(const std::string& path, const CalibrationCache& cache) {
  auto text = serialize_calibration_cache(cache);
  if (!text.ok()) return text.status().with_context(path);
  return write_file_atomically(path, {*text});
}

}  // namespace ingot::quant
