#include "cli_util.h"

#include <iostream>

namespace ingot::cli {

int report(const Status& st) {
  if (st.ok()) return kExitOk;
  std::string msg = st.message();
  for (char& c : msg)
    if (c == '\n') c = ' ';
  std::cerr << "ingot: error: " << msg << "\n";
  return st.code() == StatusCode::kUsage ? kExitUsage : kExitError;
}

Expected<std::map<std::string, Dims>> parse_shapes(const std::vector<std::string>& specs, const std::string& flag) {
  std::map<std::string, Dims> out;
  for (const std::string& joined : specs) {
    size_t start = 0;
    while (start <= joined.size()) {
      size_t comma = joined.find(',', start);
      std::string spec = joined.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      start = comma == std::string::npos ? joined.size() + 1 : comma + 1;
      if (spec.empty()) continue;
      size_t colon = spec.rfind(':');
      if (colon == std::string::npos || colon == 0) {
        return Status(StatusCode::kUsage, flag + " expects NAME:DIMS such as input:1x3x224x224, got '" + spec + "'");
      }
      std::string name = spec.substr(0, colon), dims_s = spec.substr(colon + 1);
      Dims dims;
      if (dims_s != "scalar" && !dims_s.empty()) {
        size_t p = 0;
        while (p <= dims_s.size()) {
          size_t x = dims_s.find_first_of("x*", p);
          std::string d = dims_s.substr(p, x == std::string::npos ? std::string::npos : x - p);
          char* end = nullptr;
          long long v = std::strtoll(d.c_str(), &end, 10);
          if (d.empty() || *end != '\0' || v < 0 || v > (1LL << 40)) {
            return Status(StatusCode::kUsage, flag + ": bad dimension '" + d + "' in '" + spec + "'");
          }
          dims.push_back(v);
          p = x == std::string::npos ? dims_s.size() + 1 : x + 1;
        }
      }
      out[name] = dims;
    }
  }
  return out;
}

Expected<std::pair<std::string, std::string>> parse_binding(const std::string& spec, const std::string& flag) {
  size_t eq = spec.rfind('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
    return Status(StatusCode::kUsage, flag + " expects NAME=FILE.npy, got '" + spec + "'");
  }
  return std::make_pair(spec.substr(0, eq), spec.substr(eq + 1));
}

std::string sanitize_file_name(const std::string& name) {
  std::string s = name;
  for (char& c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) c = '_';
  }
  if (s.empty() || s == "." || s == "..") s = "_" + s;
  return s;
}

}  // namespace ingot::cli
