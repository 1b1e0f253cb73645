#include "core/platform.h"

#include <dlfcn.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <set>

#include <cstring>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define INGOT_X86 1
#endif

namespace ingot {
namespace {

#ifdef INGOT_X86
bool os_saves_zmm() {
  // XCR0 bits 1,2 (SSE, AVX) and 5,6,7 (opmask, ZMM upper halves, ZMM16-31) set by the OS.
  unsigned eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (eax & 0xe6) == 0xe6;
}
bool os_saves_ymm() {
  unsigned eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (eax & 0x6) == 0x6;
}
#endif

CpuFeatures detect() {
  CpuFeatures f;
#ifdef INGOT_X86
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = c & (1u << 27);
  const bool avx = (c & (1u << 28)) && osxsave && os_saves_ymm();
  f.fma = avx && (c & (1u << 12));
  f.f16c = avx && (c & (1u << 29));
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid_count(7, 0, a, b, c, d);
  f.avx2 = avx && (b & (1u << 5));
  const bool zmm = avx && os_saves_zmm();
  f.avx512f = zmm && (b & (1u << 16));
  f.avx512dq = f.avx512f && (b & (1u << 17));
  f.avx512bw = f.avx512f && (b & (1u << 30));
  f.avx512vl = f.avx512f && (b & (1u << 31));
  f.avx512vnni = f.avx512f && (c & (1u << 11));
  f.avx512fp16 = f.avx512f && (d & (1u << 23));
  f.amx = (d & (1u << 24)) && (d & (1u << 25));
  unsigned a1, b1, c1, d1;
  __cpuid_count(7, 1, a1, b1, c1, d1);
  f.avx512bf16 = f.avx512f && (a1 & (1u << 5));
#endif
  return f;
}

std::string detect_name() {
#ifdef INGOT_X86
  unsigned regs[12] = {};
  if (__get_cpuid_max(0x80000000, nullptr) >= 0x80000004) {
    for (unsigned i = 0; i < 3; ++i)
      __get_cpuid(0x80000002 + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2], &regs[4 * i + 3]);
    char brand[49] = {};
    std::memcpy(brand, regs, 48);
    std::string s(brand);
    const size_t first = s.find_first_not_of(' ');
    const size_t last = s.find_last_not_of(' ');
    if (first != std::string::npos) return s.substr(first, last - first + 1);
  }
  return "x86_64";
#elif defined(__aarch64__)
  return "aarch64";
#else
  return "unknown";
#endif
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

const std::string& cpu_name() {
  static const std::string n = detect_name();
  return n;
}

std::string cpu_feature_list() {
  const CpuFeatures& f = cpu_features();
  const std::vector<std::pair<const char*, bool>> all = {{"avx2", f.avx2},
                                                         {"fma", f.fma},
                                                         {"avx512f", f.avx512f},
                                                         {"avx512bw", f.avx512bw},
                                                         {"avx512vl", f.avx512vl},
                                                         {"avx512dq", f.avx512dq},
                                                         {"avx512vnni", f.avx512vnni},
                                                         {"avx512bf16", f.avx512bf16},
                                                         {"avx512fp16", f.avx512fp16},
                                                         {"amx", f.amx}};
  std::string out;
  for (const auto& [name, on] : all)
    if (on) out += (out.empty() ? "" : " ") + std::string(name);
  return out.empty() ? "baseline" : out;
}

std::string cpu_fingerprint() { return "cpu; " + cpu_name() + "; " + cpu_feature_list(); }

namespace {
std::map<std::string, DeviceFingerprintFn>& device_fingerprints() {
  static std::map<std::string, DeviceFingerprintFn> m;
  return m;
}
}  // namespace

void register_device_fingerprint(const std::string& device, DeviceFingerprintFn fn) {
  device_fingerprints()[device] = fn;
}

namespace {
std::mutex& plugin_mutex() {
  static std::mutex m;
  return m;
}
std::map<std::string, std::string>& plugin_errors() {
  static std::map<std::string, std::string> m;
  return m;
}
}  // namespace

std::string load_device_plugin(const std::string& device) {
  if (device.empty() || device == "cpu" ||
      device.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789") != std::string::npos)
    return "";
  std::lock_guard<std::mutex> lock(plugin_mutex());
  auto [it, first] = plugin_errors().try_emplace(device);
  if (!first) return it->second;
  // Beside libingot (its directory, from the address of this function), else the loader's search path.
  const std::string name = "libingot_" + device + ".so";
  std::string path = name;
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&load_device_plugin), &info) != 0 && info.dli_fname != nullptr) {
    const std::filesystem::path beside = std::filesystem::path(info.dli_fname).parent_path() / name;
    std::error_code ec;
    if (std::filesystem::exists(beside, ec)) path = beside.string();
  }
  if (dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL) == nullptr) {
    const char* why = dlerror();
    it->second = name + ": " + (why != nullptr ? why : "cannot be loaded");
  }
  return it->second;
}

std::string device_fingerprint(const std::string& device) {
  if (device == "cpu") return cpu_fingerprint();
  load_device_plugin(device);
  auto it = device_fingerprints().find(device);
  return it == device_fingerprints().end() ? "" : it->second();
}

std::string fingerprint_device(const std::string& fingerprint) {
  return fingerprint.substr(0, fingerprint.find(';'));
}

}  // namespace ingot
