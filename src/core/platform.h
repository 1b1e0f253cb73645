// What this machine is, for engines: the CPU's name and the instruction-set features ingot's kernels
// may use, detected at run time (never assumed at compile time).
#pragma once

#include <string>

namespace ingot {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;  // not in cpu_feature_list(): every CPU with AVX2 has it
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vl = false;
  bool avx512dq = false;
  bool avx512vnni = false;
  bool avx512bf16 = false;
  bool avx512fp16 = false;
  bool amx = false;
};

const CpuFeatures& cpu_features();
// "Intel(R) Xeon(R) Platinum 8480+" (the CPUID brand string), or the architecture name elsewhere.
const std::string& cpu_name();
// "avx2 fma avx512f ..." in a fixed order.
std::string cpu_feature_list();
// The platform an engine is tuned for: backend, CPU name and features. Engines record it and refuse
// to load where it differs.
std::string cpu_fingerprint();

// Loads the backend of `device` ("cuda": libingot_cuda.so, beside libingot), once; its static initialisers
// register it. Returns "" when it loaded (or was tried before and loaded), else why not.
std::string load_device_plugin(const std::string& device);

// Fingerprints of other devices ("cuda"), registered by their backends when loaded.
using DeviceFingerprintFn = std::string (*)();
void register_device_fingerprint(const std::string& device, DeviceFingerprintFn fn);
// The fingerprint of `device` on this machine ("cpu" is cpu_fingerprint()); "" when this ingot has no
// backend for it. A fingerprint starts with its device name and "; ".
std::string device_fingerprint(const std::string& device);
// The device a fingerprint is for: its text up to the first ';'.
std::string fingerprint_device(const std::string& fingerprint);

}  // namespace ingot
